"""The diff grid with its view toggles (which double as the colour legend),
text search, and the per-row plan changes (context menu and keys)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QMenu, QTableView, QToolButton, QVBoxLayout, QWidget)

from app.core.model import Category, PlanItem
from app.gui.icons import icon
from app.gui.models.plan_model import (ACTION_GROUP_LABELS, ACTION_GROUPS, ACTION_ICONS,
                                       CATEGORY_COLORS, CATEGORY_LABELS, PlanTableModel)

#: What each colour means (the toggles' tooltips: the legend in words).
CATEGORY_MEANING = {
    Category.LEFT_ONLY: "exists only on the left",
    Category.RIGHT_ONLY: "exists only on the right",
    Category.LEFT_NEWER: "changed more recently on the left",
    Category.RIGHT_NEWER: "changed more recently on the right",
    Category.DIFFERENT: "same time, other size or content",
    Category.CONFLICT: "both sides changed since the last sync, or a file faces a folder",
    Category.EQUAL: "the same on both sides",
}

#: A selection is restored after a model reset only up to this many separate runs of rows.
MAX_SELECTION_RUNS = 10_000

#: Row changes the person can ask for: (key, menu text, icon, shortcut).
ROW_CHANGES = (
    ("copy_to_right", "Copy to the right →", "copy-right", "Ctrl+Right"),
    ("copy_to_left", "← Copy to the left", "copy-left", "Ctrl+Left"),
    ("none", "Do nothing", "none", "Space"),
    ("delete", "Delete", "delete-right", "Delete"),
    ("exclude", "Exclude via filter", "none", "Ctrl+E"),
)


class GridPanel(QWidget):
    """Toggles + search + ``diffView``. ``row_change(key)`` asks the window to
    apply a change to the selected rows."""

    row_change = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PlanTableModel(self)
        self.model.view_changed.connect(self._update_labels)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._category_bar())
        layout.addLayout(self._action_bar())
        self.view = QTableView(self)
        self.view.setObjectName("diffView")
        self.view.setAccessibleName("Differences between the folders")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.AscendingOrder)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setVisible(False)
        # Fixed row heights: Qt never measures a million rows.
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.horizontalHeader().setStretchLastSection(True)
        for col, width in enumerate((260, 75, 135, 85, 105, 260, 75, 135)):
            self.view.setColumnWidth(col, width)
        self.view.setContextMenuPolicy(Qt.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self._actions = self._make_actions()
        # A re-plan, re-sort or re-filter resets the model: the same rows stay selected.
        self.model.capture = self._selection_ranges
        self.model.reselect.connect(self._reselect)
        layout.addWidget(self.view, 1)

    # -- toggles -------------------------------------------------------------------
    def _category_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show:"))
        self.category_buttons: dict[Category, QToolButton] = {}
        for cat in (Category.LEFT_ONLY, Category.LEFT_NEWER, Category.DIFFERENT,
                    Category.CONFLICT, Category.RIGHT_NEWER, Category.RIGHT_ONLY, Category.EQUAL):
            b = QToolButton()
            b.setObjectName(f"categoryFilter_{cat.value}")
            b.setAccessibleName(f"Show {CATEGORY_LABELS[cat].lower()} items")
            b.setCheckable(True)
            b.setChecked(cat is not Category.EQUAL)
            b.setToolTip(f"{CATEGORY_LABELS[cat]}: {CATEGORY_MEANING[cat]}. "
                         "Click to show or hide these rows.")
            # The toggle wears the row colour: it is the legend too.
            b.setStyleSheet(f"QToolButton {{ background: {CATEGORY_COLORS[cat]}; "
                            "border: 1px solid #a0aec0; border-radius: 3px; padding: 2px 6px; }"
                            " QToolButton:checked { color: #1a202c; font-weight: bold; }"
                            " QToolButton:!checked { background: #f7f7f7; color: #888; }")
            b.toggled.connect(self._apply_view)
            self.category_buttons[cat] = b
            bar.addWidget(b)
        bar.addStretch(1)
        self.search = QLineEdit()
        self.search.setObjectName("searchField")
        self.search.setAccessibleName("Search paths")
        self.search.setPlaceholderText("Search paths…")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(260)
        # Debounced: a search over a million paths should not run per keystroke.
        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(self._apply_view)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        bar.addWidget(self.search)
        return bar

    def _action_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Actions:"))
        self.action_buttons: dict[str, QToolButton] = {}
        for group in ACTION_GROUPS:
            b = QToolButton()
            b.setObjectName(f"actionFilter_{group}")
            b.setAccessibleName(f"Show items planned to {ACTION_GROUP_LABELS[group].lower()}")
            b.setCheckable(True)
            b.setChecked(True)
            b.setIcon(icon(ACTION_ICONS[ACTION_GROUPS[group][0]]))
            b.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
            b.toggled.connect(self._apply_view)
            self.action_buttons[group] = b
            bar.addWidget(b)
        bar.addStretch(1)
        self.shown_label = QLabel("")
        self.shown_label.setObjectName("shownCount")
        bar.addWidget(self.shown_label)
        return bar

    def _apply_view(self) -> None:
        self.model.set_view(
            categories={c for c, b in self.category_buttons.items() if b.isChecked()},
            action_groups={g for g, b in self.action_buttons.items() if b.isChecked()},
            search=self.search.text())

    def _update_labels(self) -> None:
        m = self.model
        for cat, b in self.category_buttons.items():
            b.setText(f"{CATEGORY_LABELS[cat]} {m.category_counts.get(cat, 0):,}")
        for group, b in self.action_buttons.items():
            b.setText(f"{ACTION_GROUP_LABELS[group]} {m.action_counts.get(group, 0):,}")
        self.shown_label.setText(f"{m.rowCount():,} of {m.total_rows:,} shown")

    # -- content -------------------------------------------------------------------
    def show_items(self, per_pair) -> None:
        """Show new plan items, keeping toggles, search and sort order."""
        self.model.set_runs(per_pair)

    def install(self, prepared) -> None:
        """Show items prepared off the GUI thread (see ``PlanTableModel.prepare``)."""
        self.model.install(prepared)

    def selected(self) -> list[tuple[int, PlanItem]]:
        return [(self.model.pair_at(r), self.model.item_at(r)) for r in self._selected_rows()]

    def _selected_rows(self) -> list[int]:
        # From the selection's ranges: no QModelIndex per selected row and column.
        rows: set[int] = set()
        for r in self.view.selectionModel().selection():
            rows.update(range(r.top(), r.bottom() + 1))
        return sorted(rows)

    def _selection_ranges(self):
        """The selection as view-row ranges and the current row (no per-row work)."""
        sm = self.view.selectionModel()
        cur = sm.currentIndex()
        return [(r.top(), r.bottom()) for r in sm.selection()], cur.row() if cur.isValid() else -1

    def selection_keys(self):
        """The selected rows and the current one as ``(pair, path)`` keys."""
        m = self.model
        wanted = frozenset((m.pair_at(r), m.item_at(r).path) for r in self._selected_rows())
        cur = self.view.selectionModel().currentIndex()
        current = (m.pair_at(cur.row()), m.item_at(cur.row()).path) if cur.isValid() else None
        return wanted, current

    def _reselect(self, rows: list[int], current: int) -> None:
        """Select ``rows`` (ascending) again after a model reset, and make ``current`` current."""
        m, sm = self.model, self.view.selectionModel()
        last_col = m.columnCount() - 1
        runs: list[tuple[int, int]] = []
        for row in rows:
            if runs and row == runs[-1][1] + 1:
                runs[-1] = (runs[-1][0], row)
            else:
                runs.append((row, row))
        if len(runs) > MAX_SELECTION_RUNS:
            # Qt keeps two persistent indexes per run: a selection scattered over
            # hundreds of thousands of runs would cost gigabytes. Keep the current row.
            runs = [(current, current)] if current >= 0 else []
        selection = QItemSelection()
        for top, bottom in runs:
            selection.select(m.index(top, 0), m.index(bottom, last_col))
        flags = QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows
        sm.select(selection, flags)
        if current >= 0:
            index = m.index(current, 0)
            sm.setCurrentIndex(index, QItemSelectionModel.NoUpdate)
            self.view.scrollTo(index)

    # -- row changes ---------------------------------------------------------------
    def _make_actions(self) -> list[QAction]:
        actions = []
        for key, text, icon_name, shortcut in ROW_CHANGES:
            a = QAction(icon(icon_name), text, self.view)
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.WidgetShortcut)  # keys act on the grid only
            a.triggered.connect(lambda _c=False, k=key: self.row_change.emit(k))
            self.view.addAction(a)
            actions.append(a)
        return actions

    def _context_menu(self, pos) -> None:
        if not self.view.selectionModel().selectedRows():
            return
        menu = QMenu(self.view)
        for a in self._actions:
            menu.addAction(a)
        menu.popup(self.view.viewport().mapToGlobal(pos))
