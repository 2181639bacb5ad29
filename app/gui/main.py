"""Start the window: ``syncpane``, ``syncpane JOB.syncjob``, ``syncpane JOB --run``.

``SYNCPANE_SMOKE_EXIT=1`` builds the window, processes events once and exits
0 (the packaging check proves a bundle can start Qt and find its resources).
"""

from __future__ import annotations

import argparse
import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app import APP_NAME


def _parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="syncpane", description="Open the Syncpane window.")
    ap.add_argument("job", nargs="?", help="a .syncjob file to open")
    ap.add_argument("--run", action="store_true",
                    help="compare and synchronize the job, then close (errors keep it open)")
    return ap.parse_args(argv)


def _claim_instance() -> object | None:
    """The packaging's single-instance guard, when that module exists."""
    try:
        from app.instance import create_app_mutex
    except ImportError:
        return None
    try:
        return create_app_mutex()
    except Exception:  # noqa: BLE001 - a guard must never stop the app from starting
        return None


def application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    return app


def build_window(args: argparse.Namespace):
    """The window with the requested job (or the last one) loaded."""
    from app.gui.icons import icon
    from app.gui.main_window import MainWindow

    window = MainWindow()
    QApplication.instance().setWindowIcon(icon("app"))
    if args.job:
        window.jobs.open(args.job, ask=False)
    else:
        last = window.settings.get("last_job")
        if last and os.path.exists(last):
            window.jobs.open(last, ask=False)
    return window


def closes_after_run(code: int) -> bool:
    """``--run``: success or the person's cancel closes the window; warnings
    and errors keep it open with the log until the person closes it."""
    return code in (0, 3)


def run_gui(argv: list[str]) -> int:
    """Entry point used by ``app.cli.gui_main``; returns the exit status."""
    args = _parse(argv)
    mutex = _claim_instance()  # noqa: F841 - held for the process's life
    app = application()
    window = build_window(args)
    window.show()
    if os.environ.get("SYNCPANE_SMOKE_EXIT") == "1":
        app.processEvents()
        window.close()
        return 0
    exit_code = {"value": 0}
    if args.run:
        if not args.job:
            window.ask.error("Nothing to run", "--run needs a job file: syncpane JOB --run")
            return 2
        if window.document.path is None:
            return 2  # the job could not be opened; that error was shown already
        window.auto_run = True

        def finished(code: int) -> None:
            exit_code["value"] = code
            if closes_after_run(code):
                window.close()

        window.run_finished.connect(finished)
        QTimer.singleShot(0, window.compare)
    app.exec()
    return exit_code["value"]
