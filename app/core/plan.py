"""Rows + settings + the person's overrides → a :class:`PairPlan`.

Planning is pure and cheap, so the window re-plans on every override. The
safety checks that a person may consciously override (too many deletions, a
clock shift) live here; the executor sees only the plan.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass, field

from app.core.compare import PairComparison
from app.core.job import Direction, SyncSettings, Variant
from app.core.model import (COPY_TO, CREATE_DIR_ON, DELETE_ON, MOVE_ON, Action, Category, Kind,
                            PlanItem, Problem, Side, Summary)
from app.core.state import Remembered, unchanged


@dataclass(frozen=True, slots=True)
class MoveCandidate:
    """On side ``target``, the file at ``old_key`` is what the other side now
    holds at ``new_key``: renaming it there replaces a delete plus a copy."""

    target: Side
    old_key: str
    new_key: str


@dataclass
class PairPlan:
    index: int
    comparison: PairComparison
    settings: SyncSettings
    items: list[PlanItem]  # every listed path, actions set, moves merged
    summary: Summary
    refusals: list[str] = field(default_factory=list)  # overridable (--force)
    problems: list[Problem] = field(default_factory=list)

    @property
    def actionable(self) -> list[PlanItem]:
        return [i for i in self.items if i.action not in (Action.NONE, Action.CONFLICT)]


def _copy_or_create(item: PlanItem, to: Side) -> Action:
    src = item.entry(to.other)
    if src is None:
        return Action.NONE
    return CREATE_DIR_ON[to] if src.kind is Kind.DIR else COPY_TO[to]


@functools.cache
def _one_way_rule(to: Side, mirror: bool):
    """Mirror / update (``to.other`` is the source), as a function of the row
    alone: a plan decides thousands of rows with the same settings."""
    src_only = Category.LEFT_ONLY if to is Side.RIGHT else Category.RIGHT_ONLY
    tgt_only = Category.RIGHT_ONLY if to is Side.RIGHT else Category.LEFT_ONLY
    src_newer = Category.LEFT_NEWER if to is Side.RIGHT else Category.RIGHT_NEWER
    copy, create, delete = COPY_TO[to], CREATE_DIR_ON[to], DELETE_ON[to]
    from_left = to is Side.RIGHT
    none, conflict = Action.NONE, Action.CONFLICT
    different, conflicted, folder = Category.DIFFERENT, Category.CONFLICT, Kind.DIR

    def rule(item: PlanItem) -> Action:
        cat = item.category
        if cat is src_only or (mirror and cat is not tgt_only):
            # New on the source, or (mirror) newer on either side, different,
            # file vs folder: the source's version goes across.
            src = item.left if from_left else item.right
            if src is None:
                return none
            return create if src.kind is folder else copy
        if cat is tgt_only:
            return delete if mirror else none
        if cat is src_newer:
            return copy
        if cat is different or cat is conflicted:
            return conflict  # same time, other content: not "newer", so not an update
        return none
    return rule


def _custom(item: PlanItem, settings: SyncSettings) -> Action:
    d = settings.custom_direction(item.category.value)
    if d is Direction.NONE:
        return Action.NONE
    to = Side.RIGHT if d is Direction.TO_RIGHT else Side.LEFT
    if item.entry(to.other) is None:  # the source lacks it: make the target lack it too
        return DELETE_ON[to]
    return _copy_or_create(item, to)


def _two_way(item: PlanItem, key: str, state: dict[str, Remembered] | None) -> Action:
    le, re_ = item.left, item.right
    was = state.get(key) if state is not None else None
    if le is not None and re_ is not None:
        if le.kind is not re_.kind:
            item.category = Category.CONFLICT
            item.note = "a file on one side, a folder on the other"
            return Action.CONFLICT
        if was is None:
            if state is not None or item.category is Category.DIFFERENT:
                item.category = Category.CONFLICT
                item.note = ("created on both sides since the last sync" if state is not None
                             else "same time, different content")
                return Action.CONFLICT
            return COPY_TO[Side.RIGHT if item.category is Category.LEFT_NEWER else Side.LEFT]
        lc, rc = not unchanged(le, was, True), not unchanged(re_, was, False)
        if lc and rc:
            item.category = Category.CONFLICT
            item.note = "changed on both sides since the last sync"
            return Action.CONFLICT
        if lc:
            return COPY_TO[Side.RIGHT]
        if rc:
            return COPY_TO[Side.LEFT]
        if item.category is Category.DIFFERENT:
            return Action.CONFLICT
        return COPY_TO[Side.RIGHT if item.category is Category.LEFT_NEWER else Side.LEFT]
    present = Side.LEFT if le is not None else Side.RIGHT
    if was is None:  # new on this side since the last sync
        return _copy_or_create(item, present.other)
    if unchanged(item.entry(present), was, present is Side.LEFT):
        return DELETE_ON[present]  # deleted on the other side, untouched here
    item.category = Category.CONFLICT
    item.note = f"changed on the {present.value}, deleted on the {present.other.value}"
    return Action.CONFLICT


def _valid_override(item: PlanItem, action: Action) -> Action | None:
    """The override as it applies to this row, or None if it cannot apply."""
    if action in (Action.NONE, Action.CONFLICT):
        return action
    if action in (Action.COPY_TO_RIGHT, Action.COPY_TO_LEFT):
        to = Side.RIGHT if action is Action.COPY_TO_RIGHT else Side.LEFT
        return _copy_or_create(item, to) if item.entry(to.other) is not None else None
    if action in (Action.DELETE_LEFT, Action.DELETE_RIGHT):
        side = Side.LEFT if action is Action.DELETE_LEFT else Side.RIGHT
        return action if item.entry(side) is not None else None
    return None


def default_action(item: PlanItem, key: str, settings: SyncSettings,
                   state: dict[str, Remembered] | None) -> Action:
    v = settings.variant
    if v is Variant.TWO_WAY:
        return _two_way(item, key, state)
    if v is Variant.CUSTOM:
        return _custom(item, settings)
    to = Side.RIGHT if settings.direction is Direction.TO_RIGHT else Side.LEFT
    return _one_way_rule(to, v is Variant.MIRROR)(item)


def plan_pair(cmp: PairComparison, settings: SyncSettings, *,
              state: dict[str, Remembered] | None = None,
              overrides: dict[str, Action] | None = None,
              moves: list[MoveCandidate] | None = None) -> PairPlan:
    """Give every row its action and run the overridable safety checks.

    ``overrides`` maps a row's ``path`` to the action the person chose.
    """
    key = cmp.key_of
    items = cmp.items
    keyed: dict[str, PlanItem] = {}
    v = settings.variant
    one_way = None
    if v is Variant.MIRROR or v is Variant.UPDATE:
        one_way = _one_way_rule(Side.RIGHT if settings.direction is Direction.TO_RIGHT
                                else Side.LEFT, v is Variant.MIRROR)
    for item in items:
        k = key(item.path)
        keyed[k] = item
        if item.base_category is None:
            item.base_category = item.category
        else:
            item.category = item.base_category
        item.note = None
        item.from_path = None
        item.from_entry = None
        if item.category is Category.EQUAL:
            item.action = Action.NONE
            continue
        action = one_way(item) if one_way else default_action(item, k, settings, state)
        if overrides:
            chosen = overrides.get(item.path)
            if chosen is not None:
                valid = _valid_override(item, chosen)
                if valid is not None:
                    action = valid
        item.action = action

    removed: set[int] = set()
    listed: list[PlanItem] = []
    merged = _apply_moves(keyed, moves or [], removed)
    for item in items:
        if id(item) in removed:
            continue
        listed.append(merged.get(id(item), item))
    _hold_items_under_conflicts(listed, key)
    _keep_folders_that_stay(listed, key, {Side.LEFT: cmp.left.hidden,
                                          Side.RIGHT: cmp.right.hidden})

    summary = Summary()
    for item in listed:
        if item.category is not Category.EQUAL:
            summary.add(item)
    plan = PairPlan(cmp.index, cmp, settings, listed, summary, [], list(cmp.problems))
    _check_deletions(plan)
    if cmp.time_shift_hours:
        plan.refusals.append(
            f"pair {cmp.index + 1}: every differing file differs by exactly "
            f"{cmp.time_shift_hours} hour(s) (a clock or daylight-saving shift?); syncing would "
            "copy them all. Set ignore_time_shift_hours, or confirm to sync anyway.")
    return plan


def _apply_moves(keyed: dict[str, PlanItem], moves: list[MoveCandidate],
                 removed: set[int]) -> dict[int, PlanItem]:
    merged: dict[int, PlanItem] = {}
    for mv in moves:
        new, old = keyed.get(mv.new_key), keyed.get(mv.old_key)
        if new is None or old is None or id(new) in merged or id(old) in removed:
            continue
        if new.action is not COPY_TO[mv.target] or old.action is not DELETE_ON[mv.target]:
            continue
        old_entry = old.entry(mv.target)
        moved = PlanItem(new.path, new.kind, new.category, MOVE_ON[mv.target], new.left,
                         new.right, from_path=old_entry.name, from_entry=old_entry)
        merged[id(new)] = moved
        removed.add(id(old))
    return merged


def _ancestors(k: str):
    i = k.rfind("/")
    while i > 0:
        yield k[:i]
        i = k.rfind("/", 0, i)


def _hold_items_under_conflicts(items: list[PlanItem], key) -> None:
    """An item cannot go into a folder that the target holds as a file and
    that stays a file (e.g. an update leaves a file-versus-folder conflict):
    it becomes part of that conflict instead of failing half-way."""
    # Only a row that is a file on some side and has rows below it can hold
    # anything: find those first (most plans have none, and skip the walk).
    folders: set[str] = set()
    for i in items:
        k = key(i.path)
        j = k.rfind("/")
        while j > 0:
            parent = k[:j]
            if parent in folders:
                break
            folders.add(parent)
            j = k.rfind("/", 0, j)
    if not any((e := i.left) is not None and e.kind is not Kind.DIR
               or (e := i.right) is not None and e.kind is not Kind.DIR
               for i in items if key(i.path) in folders):
        return
    by_key = {key(i.path): i for i in items}
    for item in items:
        side = item.action.target_side
        if side is None or item.action is DELETE_ON[side]:
            continue
        for anc in _ancestors(key(item.path)):
            a = by_key.get(anc)
            if a is None:
                continue
            e = a.entry(side)
            if e is not None and e.kind is not Kind.DIR and a.action is not CREATE_DIR_ON[side]:
                item.action = Action.CONFLICT
                item.note = f"inside {a.path}, which is a file on the {side.value} side"
                break


def _keep_folders_that_stay(items: list[PlanItem], key, hidden: dict[Side, set[str]]) -> None:
    """A folder is deleted only when everything inside it goes too: every
    listed item, and nothing the scan left out (filtered items are never
    deleted, so neither is the folder holding them)."""
    if not any(i.kind is Kind.DIR and (i.action is Action.DELETE_LEFT
                                       or i.action is Action.DELETE_RIGHT) for i in items):
        return  # no folder to delete: nothing to keep
    blocked: dict[Side, set[str]] = {Side.LEFT: set(), Side.RIGHT: set()}
    for side in (Side.LEFT, Side.RIGHT):
        for k in hidden[side]:
            blocked[side].add(k)
            blocked[side].update(_ancestors(k))
    for item in items:
        for side in (Side.LEFT, Side.RIGHT):
            stays = blocked[side]
            e = item.entry(side)
            if e is not None and item.action is not DELETE_ON[side]:
                stays.update(_ancestors(key(e.name)))
            if item.action in (COPY_TO[side], CREATE_DIR_ON[side], MOVE_ON[side]):
                stays.update(_ancestors(key(item.path)))
    for item in items:
        for side in (Side.LEFT, Side.RIGHT):
            if item.action is DELETE_ON[side] and item.kind is Kind.DIR:
                e = item.entry(side)
                if e is not None and key(e.name) in blocked[side]:
                    item.action = Action.NONE
                    item.note = "folder kept: it holds items that stay (or that the filter hides)"


def _check_deletions(plan: PairPlan) -> None:
    limit = plan.settings.max_delete_percent
    cmp = plan.comparison
    for side in (Side.LEFT, Side.RIGHT):
        total = cmp.side(side).files
        deletes = sum(1 for i in plan.items
                      if i.action is DELETE_ON[side] and i.kind is not Kind.DIR)
        if total and deletes and deletes * 100 > limit * total:
            pct = deletes * 100 / total
            plan.refusals.append(
                f"pair {plan.index + 1}: the sync would delete {deletes} of {total} files "
                f"({pct:.0f}%) on the {side.value} side, more than max_delete_percent "
                f"({limit:g}%). Is the other folder empty, or a drive not mounted? "
                "Check the plan; confirm (--force) to delete anyway.")
