"""Frozen entry of syncpane-cli (console): the same commands as ``syncpane``."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
