"""The thin Qt face of the tray: a QSystemTrayIcon and its menu, rendered from
the controller's menu model, state and notices. No decisions are made here."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QStyle, QSystemTrayIcon

from app.gui.icons import icon
from app.gui.tray.controller import ERROR, PAUSED, SYNCING, TrayController
from app.gui.tray.menu_model import MenuItem
from app.gui.tray.notices import Notice

NOTICE_MS = 8000


def state_icon(state: str) -> QIcon:
    name = {SYNCING: "sync", PAUSED: "pause", ERROR: "conflict"}.get(state, "app")
    ic = icon(name)
    if ic.isNull():
        style = QApplication.style()
        fallback = QStyle.SP_MessageBoxWarning if state == ERROR else QStyle.SP_BrowserReload
        ic = style.standardIcon(fallback)
    return ic


class TrayView(QObject):
    """Owns the tray icon; ``tray`` may be injected (tests)."""

    def __init__(self, controller: TrayController, tray: QSystemTrayIcon | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.tray = tray or QSystemTrayIcon(self)
        self.menu = QMenu()
        self._submenus: list[QMenu] = []
        self.menu.aboutToShow.connect(self.rebuild)
        self.tray.setContextMenu(self.menu)
        self.last_notice: Notice | None = None
        self.tray.messageClicked.connect(lambda: controller.notice_clicked(self.last_notice))
        self.tray.activated.connect(self._activated)
        controller.state_changed.connect(self.show_state)
        controller.notified.connect(self.show_notice)
        controller.menu_changed.connect(self.rebuild)
        self.rebuild()
        self.show_state(*controller.state())

    def show(self) -> None:
        self.tray.show()

    def hide(self) -> None:
        self.tray.hide()

    def rebuild(self) -> None:
        """Refill the menu from the model (deferred while the menu is open:
        pulling actions from under the pointer would be rude, and unsafe)."""
        if self.menu.isVisible():
            return  # aboutToShow rebuilds it next time it opens
        self.menu.clear()
        for sub in self._submenus:
            sub.deleteLater()  # clear() leaves submenus alive as children
        self._submenus = []
        self._fill(self.menu, self.controller.menu_model())

    def _fill(self, menu: QMenu, items: list[MenuItem]) -> None:
        for item in items:
            if item.separator:
                menu.addSeparator()
            elif item.children:
                sub = menu.addMenu(item.text)
                self._submenus.append(sub)
                sub.setEnabled(item.enabled)
                sub.setToolTipsVisible(True)
                sub.menuAction().setToolTip(item.tooltip)
                self._fill(sub, item.children)
            else:
                menu.addAction(self._action(menu, item))

    def _action(self, menu: QMenu, item: MenuItem) -> QAction:
        a = QAction(item.text, menu)
        a.setEnabled(item.enabled)
        if item.checked is not None:
            a.setCheckable(True)
            a.setChecked(item.checked)
        if item.tooltip:
            a.setToolTip(item.tooltip)
        if item.action:
            a.triggered.connect(lambda _c=False, it=item:
                                self.controller.trigger(it.action, it.job, it.value))
        return a

    def show_state(self, state: str, tooltip: str) -> None:
        self.tray.setIcon(state_icon(state))
        self.tray.setToolTip(tooltip)

    def show_notice(self, notice: Notice) -> None:
        self.last_notice = notice
        kind = {"error": QSystemTrayIcon.Critical,
                "warning": QSystemTrayIcon.Warning}.get(notice.level, QSystemTrayIcon.Information)
        self.tray.showMessage(notice.title, notice.text, kind, NOTICE_MS)

    def _activated(self, reason) -> None:
        if reason in (QSystemTrayIcon.DoubleClick, QSystemTrayIcon.Trigger):
            self.controller.trigger("open_window")
