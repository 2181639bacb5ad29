"""The engine's vocabulary: entries, categories, actions, plan items.

Strings appear only at the JSON boundary (``.value`` of the enums equals the
names used by ``spec/cli.md``); inside the engine everything is an enum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple


class _Enum(Enum):
    """An enum whose members hash by identity, in C. Members are singletons
    equal only to themselves, so this agrees with equality; Enum's own hash
    is Python code, and a comparison or plan hashes a kind, action or side
    for every row."""

    __hash__ = object.__hash__


class Kind(_Enum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"


class Category(_Enum):
    EQUAL = "equal"
    LEFT_ONLY = "left_only"
    RIGHT_ONLY = "right_only"
    LEFT_NEWER = "left_newer"
    RIGHT_NEWER = "right_newer"
    DIFFERENT = "different"
    CONFLICT = "conflict"


class Action(_Enum):
    NONE = "none"
    COPY_TO_RIGHT = "copy_to_right"
    COPY_TO_LEFT = "copy_to_left"
    DELETE_LEFT = "delete_left"
    DELETE_RIGHT = "delete_right"
    MOVE_RIGHT = "move_right"
    MOVE_LEFT = "move_left"
    CREATE_DIR_RIGHT = "create_dir_right"
    CREATE_DIR_LEFT = "create_dir_left"
    CONFLICT = "conflict"

    @property
    def target_side(self) -> Side | None:
        """The side this action changes, or None for no change."""
        return _TARGET.get(self)


class Side(_Enum):
    LEFT = "left"
    RIGHT = "right"

    @property
    def other(self) -> Side:
        return Side.RIGHT if self is Side.LEFT else Side.LEFT


_TARGET = {
    Action.COPY_TO_RIGHT: Side.RIGHT,
    Action.DELETE_RIGHT: Side.RIGHT,
    Action.MOVE_RIGHT: Side.RIGHT,
    Action.CREATE_DIR_RIGHT: Side.RIGHT,
    Action.COPY_TO_LEFT: Side.LEFT,
    Action.DELETE_LEFT: Side.LEFT,
    Action.MOVE_LEFT: Side.LEFT,
    Action.CREATE_DIR_LEFT: Side.LEFT,
}

COPY_TO = {Side.RIGHT: Action.COPY_TO_RIGHT, Side.LEFT: Action.COPY_TO_LEFT}
DELETE_ON = {Side.RIGHT: Action.DELETE_RIGHT, Side.LEFT: Action.DELETE_LEFT}
MOVE_ON = {Side.RIGHT: Action.MOVE_RIGHT, Side.LEFT: Action.MOVE_LEFT}
CREATE_DIR_ON = {Side.RIGHT: Action.CREATE_DIR_RIGHT, Side.LEFT: Action.CREATE_DIR_LEFT}


class Entry(NamedTuple):
    """One item as a scan saw it (a tuple: cheap to build, pickle and compare).

    ``name`` is the item's relative path as spelled on disk ('/'-separated);
    the comparison's key for it may differ (NFC, or case-folded when one side
    is case-insensitive). ``mtime_ns`` is nanoseconds since the epoch.
    ``size`` is 0 for folders. ``link_target`` is set for ``as_link`` symlinks;
    ``mode`` holds the permission bits where the side has them.
    """

    name: str
    kind: Kind
    size: int
    mtime_ns: int
    link_target: str | None = None
    mode: int | None = None

    @property
    def mtime(self) -> float:
        return self.mtime_ns / 1e9


@dataclass(slots=True)
class PlanItem:
    """One path of a pair: what both sides hold and what the sync will do.

    ``path`` is the display path (the source side's spelling where there is
    one). ``from_path`` is set for moves (the old path on the target side).
    ``note`` carries a warning or the reason an action was withheld.
    """

    path: str
    kind: Kind
    category: Category
    action: Action
    left: Entry | None
    right: Entry | None
    from_path: str | None = None
    from_entry: Entry | None = None
    note: str | None = None
    #: The category the comparison gave, before two-way planning refined it.
    base_category: Category | None = None

    def entry(self, side: Side) -> Entry | None:
        return self.left if side is Side.LEFT else self.right


@dataclass(slots=True)
class Problem:
    """A message tied to a path (or to the whole job when ``path`` is None)."""

    path: str | None
    message: str
    warning: bool = False
    #: A notice only (nothing was left undone): never changes the exit code.
    info: bool = False


@dataclass(slots=True)
class Summary:
    copy_to_right: int = 0
    copy_to_left: int = 0
    delete_left: int = 0
    delete_right: int = 0
    move_left: int = 0
    move_right: int = 0
    conflicts: int = 0
    bytes_to_right: int = 0
    bytes_to_left: int = 0
    failed: int = 0
    skipped: int = 0
    # Not part of the JSON summary; kept for the statistics bar.
    create_dir_right: int = field(default=0, repr=False)
    create_dir_left: int = field(default=0, repr=False)

    def add(self, item: PlanItem) -> None:
        """Count one item by its action."""
        a = item.action
        if a is Action.COPY_TO_RIGHT:
            self.copy_to_right += 1
            if item.left is not None and item.left.kind is Kind.FILE:
                self.bytes_to_right += item.left.size
        elif a is Action.COPY_TO_LEFT:
            self.copy_to_left += 1
            if item.right is not None and item.right.kind is Kind.FILE:
                self.bytes_to_left += item.right.size
        elif a is Action.DELETE_LEFT:
            self.delete_left += 1
        elif a is Action.DELETE_RIGHT:
            self.delete_right += 1
        elif a is Action.MOVE_LEFT:
            self.move_left += 1
        elif a is Action.MOVE_RIGHT:
            self.move_right += 1
        elif a is Action.CONFLICT:
            self.conflicts += 1
        elif a is Action.CREATE_DIR_RIGHT:
            self.create_dir_right += 1
        elif a is Action.CREATE_DIR_LEFT:
            self.create_dir_left += 1

    def to_json(self) -> dict[str, int]:
        return {
            "copy_to_right": self.copy_to_right,
            "copy_to_left": self.copy_to_left,
            "delete_left": self.delete_left,
            "delete_right": self.delete_right,
            "move_left": self.move_left,
            "move_right": self.move_right,
            "conflicts": self.conflicts,
            "bytes_to_right": self.bytes_to_right,
            "bytes_to_left": self.bytes_to_left,
            "failed": self.failed,
            "skipped": self.skipped,
        }
