"""Shared test setup: every test runs with its own SYNCPANE_HOME and offscreen Qt."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["tests.fixtures.sshd"]


@pytest.fixture(autouse=True)
def syncpane_home(tmp_path_factory, monkeypatch):
    """Redirect every file the app writes, and the trash, into a temp folder."""
    home = tmp_path_factory.mktemp("syncpane-home")
    monkeypatch.setenv("SYNCPANE_HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    return home
