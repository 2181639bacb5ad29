"""The diff grid's model: one flat list of plan items, shown through an index.

Filtering by category/action, text search and sorting never copy the items:
they rebuild a list of row numbers (``_view``), which for a million rows is a
few hundred milliseconds of plain Python, far below what a proxy model's
per-row ``filterAcceptsRow`` calls would cost. ``data()`` formats only the
cells Qt asks for, i.e. the visible ones.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Iterable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from app.core.model import Action, Category, Kind, PlanItem
from app.core.units import human_size
from app.gui.icons import icon

COLUMNS = ("Left", "Size", "Modified", "Category", "Action", "Right", "Size", "Modified")
COL_LEFT_NAME, COL_LEFT_SIZE, COL_LEFT_TIME, COL_CATEGORY, COL_ACTION, \
    COL_RIGHT_NAME, COL_RIGHT_SIZE, COL_RIGHT_TIME = range(8)

#: Row colours, also used by the legend (the category toggles).
CATEGORY_COLORS = {
    Category.LEFT_ONLY: "#dbeafe",
    Category.RIGHT_ONLY: "#dcfce7",
    Category.LEFT_NEWER: "#e0e7ff",
    Category.RIGHT_NEWER: "#ccfbf1",
    Category.DIFFERENT: "#fef3c7",
    Category.CONFLICT: "#fecaca",
    Category.EQUAL: "#ffffff",
}
CATEGORY_LABELS = {
    Category.LEFT_ONLY: "Left only",
    Category.RIGHT_ONLY: "Right only",
    Category.LEFT_NEWER: "Left newer",
    Category.RIGHT_NEWER: "Right newer",
    Category.DIFFERENT: "Different",
    Category.CONFLICT: "Conflict",
    Category.EQUAL: "Equal",
}

#: Action toggles group the engine's actions the way a person reads them.
ACTION_GROUPS: dict[str, tuple[Action, ...]] = {
    "copy_to_right": (Action.COPY_TO_RIGHT, Action.CREATE_DIR_RIGHT),
    "copy_to_left": (Action.COPY_TO_LEFT, Action.CREATE_DIR_LEFT),
    "delete_right": (Action.DELETE_RIGHT,),
    "delete_left": (Action.DELETE_LEFT,),
    "move": (Action.MOVE_RIGHT, Action.MOVE_LEFT),
    "conflict": (Action.CONFLICT,),
    "none": (Action.NONE,),
}
ACTION_GROUP_LABELS = {
    "copy_to_right": "Copy →", "copy_to_left": "← Copy", "delete_right": "Delete right",
    "delete_left": "Delete left", "move": "Move", "conflict": "Conflict", "none": "Do nothing",
}
GROUP_OF = {a: g for g, acts in ACTION_GROUPS.items() for a in acts}

ACTION_ICONS = {
    Action.COPY_TO_RIGHT: "copy-right", Action.CREATE_DIR_RIGHT: "copy-right",
    Action.COPY_TO_LEFT: "copy-left", Action.CREATE_DIR_LEFT: "copy-left",
    Action.DELETE_RIGHT: "delete-right", Action.DELETE_LEFT: "delete-left",
    Action.MOVE_RIGHT: "move-right", Action.MOVE_LEFT: "move-left",
    Action.CONFLICT: "conflict", Action.NONE: "none",
}
ACTION_TEXT = {
    Action.COPY_TO_RIGHT: "copy →", Action.CREATE_DIR_RIGHT: "create →",
    Action.COPY_TO_LEFT: "← copy", Action.CREATE_DIR_LEFT: "← create",
    Action.DELETE_RIGHT: "delete right", Action.DELETE_LEFT: "delete left",
    Action.MOVE_RIGHT: "move right", Action.MOVE_LEFT: "move left",
    Action.CONFLICT: "conflict", Action.NONE: "—",
}


def _time_text(mtime_ns: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(mtime_ns / 1e9))


@dataclass
class ViewSpec:
    """What the person chose to see; replaced as a whole, never mutated, so
    a worker thread can read it while the GUI thread makes a new one."""

    categories: frozenset = frozenset(set(Category) - {Category.EQUAL})
    action_groups: frozenset = frozenset(ACTION_GROUPS)
    search: str = ""
    sort: tuple[int, bool] | None = (COL_LEFT_NAME, False)  # column, descending


@dataclass
class Content:
    """All items of all pairs, flattened, with their counts."""

    items: list[PlanItem] = field(default_factory=list)
    pair_of: list[int] = field(default_factory=list)
    category_counts: Counter = field(default_factory=Counter)
    action_counts: Counter = field(default_factory=Counter)
    lower: list[str] | None = None  # lower-case paths, built on the first search


def build_content(per_pair: Iterable[tuple[int, list[PlanItem]]]) -> Content:
    """Flatten and count (pure: runs on the engine loop for big plans)."""
    items: list[PlanItem] = []
    pairs: list[int] = []
    for index, plan_items in per_pair:
        items.extend(plan_items)
        pairs.extend([index] * len(plan_items))
    acts: Counter = Counter()
    for action, n in Counter(i.action for i in items).items():
        acts[GROUP_OF[action]] += n
    return Content(items, pairs, Counter(i.category for i in items), acts)


def build_view(content: Content, spec: ViewSpec) -> list[int]:
    """The row numbers to show, filtered and sorted (pure)."""
    items = content.items
    cats = spec.categories
    acts = {a for g in spec.action_groups for a in ACTION_GROUPS[g]}
    if len(cats) == len(Category) and len(acts) == len(Action):
        view = list(range(len(items)))
    else:
        view = [n for n, it in enumerate(items) if it.category in cats and it.action in acts]
    if spec.search:
        if content.lower is None:
            content.lower = [it.path.lower() for it in items]
        lower, needle = content.lower, spec.search
        view = [n for n in view if needle in lower[n]]
    if spec.sort is not None:
        view.sort(key=_sort_key(items, spec.sort[0]), reverse=spec.sort[1])
    return view


#: Rows to select again after the model was reset: the selected rows and the
#: current one, each as ``(pair, path)`` (paths stay put when actions change).
RowKeys = tuple[frozenset, tuple[int, str] | None]


def rows_of(content: Content, view: list[int], keys: RowKeys | None) -> tuple[list[int], int]:
    """Where the rows named by ``keys`` are in ``view``: (ascending rows,
    current row or -1). Pure; one pass over the view."""
    if keys is None:
        return [], -1
    wanted, current = keys
    if not wanted and current is None:
        return [], -1
    paths = {p for _pair, p in wanted}
    if current is not None:
        paths.add(current[1])
    items, pair_of = content.items, content.pair_of
    rows: list[int] = []
    current_row = -1
    for row, n in enumerate(view):
        path = items[n].path
        if path in paths:
            key = (pair_of[n], path)
            if key in wanted:
                rows.append(row)
            if key == current:
                current_row = row
    return rows, current_row


#: The selection in view rows: ``([(top, bottom), ...], current row or -1)``.
RowRanges = tuple[list[tuple[int, int]], int]


def rows_in_new_view(old_view: list[int], view: list[int],
                     picked: RowRanges | None) -> tuple[list[int], int]:
    """Where the rows selected in ``old_view`` are in ``view`` (a new view of
    the same content): (ascending rows, current row or -1). Pure; one pass."""
    if picked is None:
        return [], -1
    ranges, current = picked
    if not ranges and current < 0:
        return [], -1
    wanted: set[int] = set()
    for top, bottom in ranges:
        wanted.update(old_view[top:bottom + 1])
    current_item = old_view[current] if 0 <= current < len(old_view) else -1
    rows = [row for row, n in enumerate(view) if n in wanted]
    current_row = -1
    if current_item >= 0:
        try:
            current_row = view.index(current_item)
        except ValueError:
            pass  # filtered out
    return rows, current_row


def _sort_key(items: list[PlanItem], column: int):
    if column in (COL_LEFT_SIZE, COL_RIGHT_SIZE):
        left = column == COL_LEFT_SIZE
        return lambda n: (e.size if (e := (items[n].left if left else items[n].right)) else -1)
    if column in (COL_LEFT_TIME, COL_RIGHT_TIME):
        left = column == COL_LEFT_TIME
        return lambda n: (e.mtime_ns if (e := (items[n].left if left else items[n].right))
                          else -1)
    if column == COL_CATEGORY:
        return lambda n: items[n].category.value
    if column == COL_ACTION:
        return lambda n: items[n].action.value
    return lambda n: items[n].path.lower()


_DISPLAY = Qt.ItemDataRole.DisplayRole
#: The roles the grid answers, numbered for a cheap dispatch in ``data()``.
_ROLE_KIND = {Qt.ItemDataRole.DisplayRole: 1, Qt.ItemDataRole.BackgroundRole: 2,
              Qt.ItemDataRole.DecorationRole: 3, Qt.ItemDataRole.UserRole: 4,
              Qt.ItemDataRole.ToolTipRole: 5, Qt.ItemDataRole.TextAlignmentRole: 6}
_ROLE_INT = {r.value: k for r, k in _ROLE_KIND.items()}
_ALIGN_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)

#: Above this many items, filtering and sorting run off the GUI thread.
BACKGROUND_ROWS = 20_000


class PlanTableModel(QAbstractTableModel):
    """All rows of all pairs; ``rowCount`` is the number of visible rows.

    ``background(fn, done)`` (set by the owner) runs ``fn()`` off the GUI
    thread and calls ``done(result)`` back on it; without it, everything
    runs inline. ``view_changed`` fires when a new view is in place.
    """

    view_changed = Signal()
    #: After a reset: the rows (ascending) to select again and the current row (-1: none).
    reselect = Signal(list, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.content = Content()
        self._view: list[int] = []
        self.spec = ViewSpec()
        self.background: Callable[[Callable[[], Any], Callable[[Any], None]], None] | None = None
        self._generation = 0
        #: Rows to select again in the next installed plan (set by the owner
        #: before a re-plan; read wherever ``prepare`` runs).
        self.keep: RowKeys | None = None
        #: Returns the current selection as :data:`RowRanges` (set by the grid,
        #: cheap however many rows are selected), so a re-sort or re-filter
        #: keeps the selected rows selected.
        self.capture: Callable[[], RowRanges | None] = lambda: None
        self._brushes = {c: QBrush(QColor(v)) for c, v in CATEGORY_COLORS.items()}

    # -- content ------------------------------------------------------------
    def prepare(self, per_pair) -> tuple:
        """Everything a new plan needs, computed wherever this is called
        (the engine loop, for big plans), for :meth:`install`."""
        spec, keep = self.spec, self.keep
        content = build_content(per_pair)
        view = build_view(content, spec)
        return content, view, spec, keep, rows_of(content, view, keep)

    def install(self, prepared: tuple) -> None:
        """Show prepared content: O(1) on the GUI thread (plus reselecting the
        rows named by ``keep`` when it was prepared)."""
        content, view, spec, keep, (rows, current) = prepared
        self.keep = None
        self._generation += 1
        self.beginResetModel()
        self.content, self._view = content, view
        self.endResetModel()
        if spec != self.spec:  # the person changed the view meanwhile
            self._refresh_view(keep)
            return
        if rows or current >= 0:
            self.reselect.emit(rows, current)
        self.view_changed.emit()

    def set_runs(self, per_pair) -> None:
        """Show new plans inline (small plans, tests)."""
        self.install(self.prepare(per_pair))

    def clear(self) -> None:
        self.set_runs([])

    @property
    def category_counts(self) -> Counter:
        return self.content.category_counts

    @property
    def action_counts(self) -> Counter:
        return self.content.action_counts

    @property
    def total_rows(self) -> int:
        return len(self.content.items)

    # -- view: filter, search, sort ------------------------------------------
    def set_view(self, *, categories: set[Category] | None = None,
                 action_groups: set[str] | None = None, search: str | None = None) -> None:
        """Change what is shown; the items themselves stay as they are."""
        spec = self.spec
        self.spec = ViewSpec(
            frozenset(categories) if categories is not None else spec.categories,
            frozenset(action_groups) if action_groups is not None else spec.action_groups,
            search.strip().lower() if search is not None else spec.search,
            spec.sort)
        self._refresh_view()

    def sort(self, column: int, order: Qt.SortOrder = Qt.AscendingOrder) -> None:
        spec = self.spec
        self.spec = ViewSpec(spec.categories, spec.action_groups, spec.search,
                             (column, order == Qt.DescendingOrder))
        self._refresh_view()

    def _refresh_view(self, keep: RowKeys | None = None) -> None:
        """A new view of the same content; the rows selected now (or those
        named by ``keep``) stay selected where they are still shown."""
        content, spec, old_view = self.content, self.spec, self._view
        picked = self.capture() if keep is None else None
        self._generation += 1
        generation = self._generation

        def build() -> tuple[list[int], tuple[list[int], int]]:
            view = build_view(content, spec)
            if keep is not None:
                return view, rows_of(content, view, keep)
            return view, rows_in_new_view(old_view, view, picked)

        def done(result) -> None:
            if generation != self._generation:
                return  # a newer request or new content won
            view, (rows, current) = result
            self.beginResetModel()
            self._view = view
            self.endResetModel()
            if rows or current >= 0:
                self.reselect.emit(rows, current)
            self.view_changed.emit()

        if self.background is None or len(content.items) <= BACKGROUND_ROWS:
            done(build())
        else:
            self.background(build, done)

    # -- Qt model interface ----------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._view)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return COLUMNS[section]
        return None

    def visible_rows(self) -> list[int]:
        """The current row index (the model's own list: do not change it)."""
        return self._view

    def item_at(self, row: int) -> PlanItem:
        return self.content.items[self._view[row]]

    def pair_at(self, row: int) -> int:
        return self.content.pair_of[self._view[row]]

    def data(self, index: QModelIndex, role=_DISPLAY) -> Any:
        # Qt asks for ~10 roles per visible cell on every paint: answer the
        # ones we do not use before any other work, and compare plain ints
        # (PySide's enum attribute lookups cost microseconds each).
        role = _ROLE_KIND.get(role, 0) if not isinstance(role, int) else _ROLE_INT.get(role, 0)
        if not role or not index.isValid():
            return None
        n = self._view[index.row()]
        item = self.content.items[n]
        col = index.column()
        if role == 1:
            return self._display(item, col)
        if role == 2:
            return self._brushes[item.category]
        if role == 3:
            return self._decoration(item, col)
        if role == 4:
            return {"path": item.path, "category": item.category.value,
                    "action": item.action.value, "kind": item.kind.value,
                    "pair": self.content.pair_of[n], "from": item.from_path}
        if role == 5:
            return item.note or None
        if role == 6 and col in (COL_LEFT_SIZE, COL_RIGHT_SIZE):
            return _ALIGN_RIGHT
        return None

    @staticmethod
    def _display(item: PlanItem, col: int) -> str | None:
        if col == COL_CATEGORY:
            return CATEGORY_LABELS[item.category]
        if col == COL_ACTION:
            return ACTION_TEXT[item.action]
        entry = item.left if col < COL_CATEGORY else item.right
        if entry is None:
            return ""
        if col in (COL_LEFT_NAME, COL_RIGHT_NAME):
            return entry.name
        if col in (COL_LEFT_SIZE, COL_RIGHT_SIZE):
            return "" if entry.kind is Kind.DIR else human_size(entry.size)
        return _time_text(entry.mtime_ns)

    @staticmethod
    def _decoration(item: PlanItem, col: int):
        if col == COL_ACTION:
            return icon(ACTION_ICONS[item.action])
        if col in (COL_LEFT_NAME, COL_RIGHT_NAME):
            entry = item.left if col == COL_LEFT_NAME else item.right
            if entry is not None:
                return icon("folder" if entry.kind is Kind.DIR else "file")
        return None
