"""What a plan will do, counted for the statistics bar (no Qt: runs on the
engine loop so a million rows never cost the GUI thread anything)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.model import Action, Kind


@dataclass
class PlanStats:
    create_right: int = 0
    update_right: int = 0
    delete_right: int = 0
    bytes_right: int = 0
    create_left: int = 0
    update_left: int = 0
    delete_left: int = 0
    bytes_left: int = 0
    moves: int = 0
    conflicts: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.create_right or self.update_right or self.delete_right or self.moves
                    or self.create_left or self.update_left or self.delete_left)


def plan_stats(items_per_pair) -> PlanStats:
    """Count creates/updates/deletes per side over every pair's items."""
    s = PlanStats()
    for items in items_per_pair:
        for it in items:
            a = it.action
            if a is Action.COPY_TO_RIGHT or a is Action.CREATE_DIR_RIGHT:
                if it.right is None:
                    s.create_right += 1
                else:
                    s.update_right += 1
                if it.left is not None and it.left.kind is Kind.FILE:
                    s.bytes_right += it.left.size
            elif a is Action.COPY_TO_LEFT or a is Action.CREATE_DIR_LEFT:
                if it.left is None:
                    s.create_left += 1
                else:
                    s.update_left += 1
                if it.right is not None and it.right.kind is Kind.FILE:
                    s.bytes_left += it.right.size
            elif a is Action.DELETE_RIGHT:
                s.delete_right += 1
            elif a is Action.DELETE_LEFT:
                s.delete_left += 1
            elif a is Action.MOVE_RIGHT or a is Action.MOVE_LEFT:
                s.moves += 1
            elif a is Action.CONFLICT:
                s.conflicts += 1
    return s
