"""Shared test setup: every test runs with its own SYNCPANE_HOME and offscreen Qt."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["tests.fixtures.sshd"]


@pytest.fixture(autouse=True)
def syncpane_home(tmp_path_factory, monkeypatch):
    """Redirect every file the app writes, and the trash, into a temp folder."""
    home = tmp_path_factory.mktemp("syncpane-home")
    monkeypatch.setenv("SYNCPANE_HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    if sys.platform.startswith("linux"):
        # send2trash reads XDG_DATA_HOME once, at import: point it here too.
        import send2trash.plat_other as trash

        monkeypatch.setattr(trash, "XDG_DATA_HOME", os.fsencode(home / "xdg-data"))
        monkeypatch.setattr(trash, "HOMETRASH_B", os.fsencode(home / "xdg-data" / "Trash"))
    return home


@pytest.fixture
def trash_dir(syncpane_home):
    """Where files sent to the recycle bin land during this test."""
    return syncpane_home / "xdg-data" / "Trash" / "files"
