"""Frozen entry of Syncpane.exe / Syncpane (the window, no console on Windows)."""

import multiprocessing
import sys

from app.cli import gui_main

if __name__ == "__main__":
    # A frozen child process (should anything start one) must not open a window.
    multiprocessing.freeze_support()
    sys.exit(gui_main())
