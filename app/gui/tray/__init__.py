"""The system-tray companion: quick sync of saved jobs, jobs that run themselves.

``main(argv)`` (in :mod:`app.gui.tray.main`) is ``syncpane tray``. The logic
lives in :class:`~app.gui.tray.controller.TrayController`, testable without a
system tray; :class:`~app.gui.tray.view.TrayView` is the thin QSystemTrayIcon.
"""
