"""The window (PySide6). The only package of Syncpane that imports Qt."""
