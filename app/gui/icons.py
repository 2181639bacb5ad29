"""Icons drawn as SVG in ``resources/icons/``, found in the source tree and in
a PyInstaller bundle alike."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon


def resources_dir() -> Path:
    """``resources/``: next to the unpacked bundle (``sys._MEIPASS``) when
    frozen, else at the top of the source tree."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidate = Path(bundle) / "resources"
        if candidate.is_dir():
            return candidate
    return Path(__file__).resolve().parents[2] / "resources"


def icon_path(name: str) -> Path:
    return resources_dir() / "icons" / f"{name}.svg"


@cache
def icon(name: str) -> QIcon:
    """The named icon (QIcon renders the SVG sharply at any device pixel ratio);
    an empty icon when the file is missing, so a broken bundle still starts."""
    path = icon_path(name)
    return QIcon(str(path)) if path.is_file() else QIcon()


def warm_up(names: tuple[str, ...] = ("file", "folder", "copy-right", "copy-left",
                                      "delete-right", "delete-left", "none", "conflict",
                                      "move-right", "move-left")) -> None:
    """Render the grid's icons once at start-up: the first SVG render loads
    the image plugin, which would otherwise cost the first grid paint ~20 ms."""
    for name in names:
        icon(name).pixmap(16, 16)
