"""GUI test fixtures: the real window on real temp folders, with every modal
question answered by a recorder instead of a person."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402


class FakeAsker:
    """Answers the window's questions and remembers them."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.infos: list[tuple[str, str]] = []
        self.confirmations: list[tuple[str, list[str]]] = []
        self.confirm_answer = (True, False)
        self.error_decisions: list[str] = []
        self.failures: list[tuple[str, str]] = []
        self.unsaved_answer = "discard"

    def error(self, title: str, message: str) -> None:
        self.errors.append((title, message))

    def info(self, title: str, message: str) -> None:
        self.infos.append((title, message))

    def unsaved(self, job_title: str) -> str:
        return self.unsaved_answer

    def confirm_sync(self, summary: str, refusals: list[str]) -> tuple[bool, bool]:
        self.confirmations.append((summary, list(refusals)))
        return self.confirm_answer

    def on_error(self, path: str, message: str) -> str:
        self.failures.append((path, message))
        return self.error_decisions.pop(0) if self.error_decisions else "ignore"

    def host_key(self, target: str, fingerprint: str, algorithm: str) -> bool:
        return False


def write_job(path: Path, left: Path, right: Path, **sections) -> Path:
    doc = {"syncpane_job": 1, "name": "test job",
           "pairs": [{"left": str(left), "right": str(right)}], **sections}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture
def window(qtbot):
    from app.gui.main_window import MainWindow

    w = MainWindow()
    w.ask = FakeAsker()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.document.dirty = False  # nothing to ask when the fixture closes it
    w.close()


def compare(qtbot, window, timeout: int = 30_000):
    """Click Compare and wait until the grid shows the new plan."""
    with qtbot.waitSignal(window.controller.compared, timeout=timeout) as blocker:
        qtbot.mouseClick(window.findChild(object, "compareButton"), Qt.LeftButton)
    qtbot.waitUntil(lambda: window.controller.busy == "", timeout=timeout)
    return blocker.args[0]


def rows(window) -> dict[str, dict]:
    """The grid's visible rows as {path: UserRole mapping}."""
    view = window.findChild(object, "diffView")
    model = view.model()
    out = {}
    for r in range(model.rowCount()):
        data = model.index(r, 0).data(Qt.UserRole)
        out[data["path"]] = data
    return out
