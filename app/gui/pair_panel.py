"""The folder pairs: one row per pair, a location field on each side.

Fields are typed, pasted, dropped (a folder from the file manager) or chosen
(a local folder dialog, or an SFTP location from the connection dialog and
its folder browser).
Recently used locations are offered as completions.
"""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (QCompleter, QFileDialog, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QMenu, QPushButton, QToolButton, QVBoxLayout, QWidget)

from app.gui.icons import icon


class LocationEdit(QLineEdit):
    """A location field that accepts a folder dropped on it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setPlaceholderText("a folder, or sftp://user@host/path")

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            self.setText(urls[0].toLocalFile())
            self.textEdited.emit(self.text())
            event.acceptProposedAction()
        else:
            super().dropEvent(event)


class PairListPanel(QWidget):
    """``pairList``: the folder pairs. ``changed`` fires on any edit by the person."""

    changed = Signal()
    sftp_requested = Signal(object)  # the LocationEdit to fill
    settings_requested = Signal(int)  # a pair's own settings

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pairList")
        self.setAccessibleName("Folder pairs")
        self._rows: list[tuple[LocationEdit, LocationEdit, list[QWidget]]] = []
        self._recent = QStringListModel(self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self._grid = QGridLayout()
        self._grid.setColumnStretch(1, 1)
        self._grid.setColumnStretch(4, 1)
        outer.addLayout(self._grid)
        buttons = QHBoxLayout()
        add = QPushButton("Add pair")
        add.setObjectName("addPairButton")
        add.setAccessibleName("Add a folder pair")
        add.clicked.connect(lambda: self._add_row("", "", edited=True))
        buttons.addWidget(add)
        buttons.addStretch(1)
        outer.addLayout(buttons)

    # -- content -------------------------------------------------------------------
    def set_pairs(self, pairs: list[tuple[str, str]]) -> None:
        """Show these pairs (no ``changed`` signal: nothing was edited)."""
        while self._rows:
            self._drop_row(len(self._rows) - 1)
        for left, right in pairs or [("", "")]:
            self._add_row(left, right, edited=False)

    def pairs(self) -> list[tuple[str, str]]:
        return [(left.text().strip(), right.text().strip()) for left, right, _ in self._rows]

    def set_recent(self, locations: list[str]) -> None:
        self._recent.setStringList(locations)

    def field(self, pair: int, side: str) -> LocationEdit:
        left, right, _ = self._rows[pair]
        return left if side == "left" else right

    # -- rows ------------------------------------------------------------------------
    def _add_row(self, left_text: str, right_text: str, *, edited: bool) -> None:
        n = len(self._rows)
        label = QLabel(f"{n + 1}")
        left, right = LocationEdit(), LocationEdit()
        for edit, side, text in ((left, "left", left_text), (right, "right", right_text)):
            edit.setObjectName(f"{side}Path{n}")
            edit.setAccessibleName(f"{side.capitalize()} location of pair {n + 1}")
            edit.setText(text)
            completer = QCompleter(self._recent, edit)
            completer.setCaseSensitivity(Qt.CaseInsensitive)
            edit.setCompleter(completer)
            edit.textEdited.connect(lambda _t: self.changed.emit())
        lb, rb = self._browse_button(left), self._browse_button(right)
        swap = QToolButton()
        swap.setText("⇄")
        swap.setObjectName(f"swapButton{n}")
        swap.setToolTip("Swap the two sides")
        swap.setAccessibleName(f"Swap sides of pair {n + 1}")
        swap.clicked.connect(lambda: self._swap(left, right))
        remove = QToolButton()
        remove.setText("✕")
        remove.setObjectName(f"removePairButton{n}")
        remove.setToolTip("Remove this pair")
        remove.setAccessibleName(f"Remove pair {n + 1}")
        remove.clicked.connect(lambda: self._remove(left))
        own = QToolButton()
        own.setText("⚙")
        own.setObjectName(f"pairSettingsButton{n}")
        own.setToolTip("This pair's own synchronization settings")
        own.setAccessibleName(f"Settings of pair {n + 1}")
        own.clicked.connect(lambda: self.settings_requested.emit(self._index_of(left)))
        widgets = [label, left, lb, swap, right, rb, own, remove]
        for col, w in enumerate(widgets):
            self._grid.addWidget(w, n, col)
        self._rows.append((left, right, widgets))
        if edited:
            self.changed.emit()

    def _browse_button(self, edit: LocationEdit) -> QToolButton:
        button = QToolButton()
        button.setObjectName(edit.objectName().replace("Path", "Browse"))
        button.setIcon(icon("folder"))
        button.setToolTip("Choose a local folder or an SFTP location")
        button.setAccessibleName(f"Browse for {edit.accessibleName().lower()}")
        button.setPopupMode(QToolButton.MenuButtonPopup)
        menu = QMenu(button)
        menu.addAction("Local folder…", lambda: self._browse_local(edit))
        menu.addAction("SFTP folder…", lambda: self.sftp_requested.emit(edit))
        button.setMenu(menu)
        button.clicked.connect(lambda: self._browse_local(edit))
        return button

    def _browse_local(self, edit: LocationEdit) -> None:
        start = edit.text() if edit.text() and "://" not in edit.text() else ""
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder", start)
        if folder:
            edit.setText(folder)
            self.changed.emit()

    def _swap(self, left: LocationEdit, right: LocationEdit) -> None:
        a, b = left.text(), right.text()
        left.setText(b)
        right.setText(a)
        self.changed.emit()

    def _index_of(self, left: LocationEdit) -> int:
        return next(i for i, (lft, _r, _w) in enumerate(self._rows) if lft is left)

    def _remove(self, left: LocationEdit) -> None:
        if len(self._rows) == 1:
            return  # a job always has a pair: clear it instead
        pairs = [p for (lft, _r, _w), p in zip(self._rows, self.pairs(), strict=True)
                 if lft is not left]
        self.set_pairs(pairs)
        self.changed.emit()

    def _drop_row(self, n: int) -> None:
        _l, _r, widgets = self._rows.pop(n)
        for w in widgets:
            self._grid.removeWidget(w)
            w.setObjectName("")  # findChild must see only the live rows at once
            w.setParent(None)
            w.deleteLater()
