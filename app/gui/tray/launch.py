"""``syncpane tray``: the tray companion's entry point (``from app.gui.tray import main``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

NO_TRAY = ("This desktop has no system tray, so Syncpane cannot live there. "
           "Quick sync and jobs that run themselves need a tray; the window can "
           "still compare and synchronize every job.")


def _parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="syncpane tray",
                                 description="Start Syncpane in the system tray.")
    return ap.parse_args(argv)


def _offer_window(app) -> bool:
    from PySide6.QtWidgets import QMessageBox

    answer = QMessageBox.question(None, "Syncpane", NO_TRAY + "\n\nOpen the window instead?",
                                  QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
    return answer == QMessageBox.Yes


def main(argv: list[str] | None = None, *, tray_available: Callable[[], bool] | None = None,
         offer_window: Callable[[object], bool] = _offer_window,
         run_window: Callable[[list[str]], int] | None = None) -> int:
    """Run the tray until Quit; returns the exit status.

    0 also when another tray already runs (it was asked to show itself).
    Without a system tray: say so on stderr, offer the window, and return what
    the window returns (or 2 when the offer is declined).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "tray":
        argv = argv[1:]
    _parse(argv)
    from PySide6.QtWidgets import QSystemTrayIcon

    from app.gui.main import application

    app = application()
    instance = _instance_guard()
    if not instance.claim():
        print("syncpane: the tray is already running; it was asked to show itself",
              file=sys.stderr)
        return 0
    available = tray_available or QSystemTrayIcon.isSystemTrayAvailable
    if not available():
        instance.release()
        print(f"syncpane: {NO_TRAY}", file=sys.stderr)
        if offer_window(app):
            if run_window is None:
                from app.gui.main import run_gui as run_window
            return run_window([])
        return 2
    return _run_tray(app, instance)


class _LockFileInstance:
    """Single instance without QtNetwork (a trimmed bundle): an OS file lock.
    A second tray can only exit; it cannot ask the first to show itself."""

    def __init__(self) -> None:
        from PySide6.QtCore import QObject, Signal

        class _Signals(QObject):
            show_requested = Signal()

        self._signals = _Signals()
        self.show_requested = self._signals.show_requested
        self._lock = None

    def claim(self) -> bool:
        from app.config.paths import app_paths
        from app.core.joblock import try_job_lock

        self._lock = try_job_lock(app_paths().config / "tray.instance", holder="tray")
        return self._lock is not None

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def _instance_guard():
    try:
        from app.gui.tray.instance import SingleInstance
    except ImportError:  # QtNetwork left out of the bundle
        return _LockFileInstance()
    return SingleInstance()


def _run_tray(app, instance) -> int:
    from app.gui.tray.controller import TrayController
    from app.gui.tray.view import TrayView

    app.setQuitOnLastWindowClosed(False)  # closing the window leaves the tray running
    _claim_app_mutex()
    controller = TrayController()
    view = TrayView(controller)
    instance.show_requested.connect(lambda: controller.trigger("open_window"))
    controller.quit_requested.connect(lambda: _quit(app, controller))
    view.show()
    controller.start()
    try:
        app.exec()
    finally:
        view.hide()
        controller.shutdown()
        instance.release()
    return 0


def _claim_app_mutex() -> None:
    """The Windows installer waits while this mutex exists: an upgrade must not
    replace files under a running tray (see app/instance.py)."""
    try:
        from app.instance import create_app_mutex

        create_app_mutex()
    except Exception:  # noqa: BLE001 - a guard must never stop the tray
        pass


def _quit(app, controller) -> None:
    """Close the windows opened from the tray first; one that keeps unsaved
    changes (the person chose Cancel) keeps the whole app running."""
    from app.gui.tray.window_link import open_windows

    for window in open_windows():
        if not window.close():
            controller.cancel_quit()
            return
    app.quit()
