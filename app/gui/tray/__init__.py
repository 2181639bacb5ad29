"""The system-tray companion: quick sync of saved jobs, jobs that run themselves.

``main(argv)`` (from :mod:`app.gui.tray.launch`) is ``syncpane tray``; the
command line calls it as ``from app.gui.tray import main``. The logic
lives in :class:`~app.gui.tray.controller.TrayController`, testable without a
system tray; :class:`~app.gui.tray.view.TrayView` is the thin QSystemTrayIcon.
"""

from __future__ import annotations

from app.gui.tray.launch import main

__all__ = ["main"]
