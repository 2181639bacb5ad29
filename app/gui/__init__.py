"""The window (PySide6). The only package of Syncpane that imports Qt."""

# Guard against PySide6 6.12.0's emit() reference bug before any signal fires:
# without it a long sync in the window aborts the interpreter (see qtfix).
# pyproject excludes that release; this covers installs that have it anyway.
from app.gui.tray import qtfix as _qtfix

_qtfix.install()
