"""Syncpane: compare two folders and synchronize them, safely."""

__version__ = "0.1.0"
APP_NAME = "Syncpane"
