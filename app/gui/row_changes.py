"""Turn "copy →", "delete", "exclude"… on selected rows into plan overrides
and filter patterns (pure functions: the grid calls them, tests can too)."""

from __future__ import annotations

from app.core.model import Action, Kind, PlanItem

SIMPLE = {"copy_to_right": Action.COPY_TO_RIGHT, "copy_to_left": Action.COPY_TO_LEFT,
          "none": Action.NONE}


def delete_action(item: PlanItem, target_right: bool) -> Action | None:
    """Delete where the item exists; on both sides, on the sync's target side."""
    if item.left is not None and item.right is None:
        return Action.DELETE_LEFT
    if item.right is not None and item.left is None:
        return Action.DELETE_RIGHT
    if item.left is None and item.right is None:
        return None
    return Action.DELETE_RIGHT if target_right else Action.DELETE_LEFT


def overrides_for(change: str, rows: list[tuple[int, PlanItem]], *,
                  target_right: bool = True) -> dict[int, dict[str, Action]]:
    """``{pair: {path: action}}`` for a change applied to ``rows``."""
    out: dict[int, dict[str, Action]] = {}
    for pair, item in rows:
        if change == "delete":
            action = delete_action(item, target_right)
        else:
            action = SIMPLE[change]
        if action is not None:
            out.setdefault(pair, {})[item.path] = action
    return out


def exclude_pattern(item: PlanItem) -> str:
    """An anchored .gitignore pattern naming exactly this item."""
    # Wildcards and a trailing space in a real name must match literally.
    escaped = "".join("\\" + ch if ch in "\\*?[]" else ch for ch in item.path)
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    path = "/" + escaped
    return path + "/" if item.kind is Kind.DIR else path


def exclusions_for(rows: list[tuple[int, PlanItem]]) -> tuple[list[str], dict[int, list[str]]]:
    """The patterns to add to the job, and the paths to hide per pair."""
    patterns: list[str] = []
    paths: dict[int, list[str]] = {}
    for pair, item in rows:
        pat = exclude_pattern(item)
        if pat not in patterns:
            patterns.append(pat)
        paths.setdefault(pair, []).append(item.path)
    return patterns, paths
