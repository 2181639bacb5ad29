"""Frozen entry of Syncpane.exe / Syncpane (the window, no console on Windows).

``Syncpane tray`` starts the tray instead: that is the command the installer's
"start in tray at login" task and the app's own autostart register.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    # A frozen child process (should anything start one) must not open a window.
    multiprocessing.freeze_support()
    if sys.argv[1:2] == ["tray"]:
        from app.cli import main

        sys.exit(main())
    from app.cli import gui_main

    sys.exit(gui_main())
