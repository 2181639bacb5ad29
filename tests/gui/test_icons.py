"""Icons are found in the source tree and inside a PyInstaller bundle."""

from __future__ import annotations

import shutil
import sys

from app.gui import icons


def test_every_icon_renders_from_the_source_tree(qtbot):
    names = sorted(p.stem for p in (icons.resources_dir() / "icons").glob("*.svg"))
    assert {"app", "file", "folder", "copy-right", "copy-left"} <= set(names)
    for name in names:
        pixmap = icons.icon(name).pixmap(32, 32)
        assert not pixmap.isNull(), name


def test_bundle_resources_win_when_frozen(tmp_path, monkeypatch):
    bundled = tmp_path / "resources" / "icons"
    bundled.mkdir(parents=True)
    shutil.copy(icons.icon_path("app"), bundled / "app.svg")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert icons.resources_dir() == tmp_path / "resources"
    assert icons.icon_path("app") == bundled / "app.svg"
