"""Opening the main window from the tray, in this process.

The tray process already runs a QApplication, so the window is built here
(``app.gui.main.build_window``) instead of starting a second program: the
window appears at once and shares nothing with the tray but the event loop.
With a job, the window compares it at once so the grid shows the plan the
quick sync did not carry out. Should the window package be missing, the
documented command line (``syncpane JOB.syncjob``) is started instead.
"""

from __future__ import annotations

import os
import subprocess
import sys

_windows: list = []  # open windows, kept alive while shown


def _command(job: str | None) -> list[str]:
    base = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "app"]
    return base + ([job] if job else [])


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def open_window(job: str | None, *, compare: bool = True) -> object | None:
    """Show the window on ``job`` (or the last job); returns the window or None."""
    try:
        import argparse

        from PySide6.QtCore import QTimer

        from app.gui.main import build_window
    except ImportError:
        subprocess.Popen(_command(job), close_fds=True)
        return None
    for w in list(_windows):
        if not w.isVisible():
            _windows.remove(w)
            continue
        if job is None:  # "Open Syncpane": the window that is already there
            w.showNormal()
            w.raise_()
            w.activateWindow()
            return w
        doc = getattr(w, "document", None)
        if job and doc is not None and doc.path and _same(doc.path, job):
            w.showNormal()
            w.raise_()
            w.activateWindow()
            if compare:
                QTimer.singleShot(0, w.compare)
            return w
    window = build_window(argparse.Namespace(job=job, run=False))
    _windows.append(window)
    window.show()
    window.raise_()
    window.activateWindow()
    if job and compare and getattr(window.document, "path", None):
        QTimer.singleShot(0, window.compare)
    return window


def open_windows() -> list:
    """The windows opened from the tray that are still shown."""
    return [w for w in _windows if w.isVisible()]
