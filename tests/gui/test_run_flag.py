"""``syncpane JOB --run`` through the window's own entry point (``run_gui``):
compare, synchronize, close when done; warnings and errors keep the window
open with what went wrong until the person closes it; the exit status is the
command line's (0 done, 1 warnings, 2 errors or a job that cannot run, 3 cancelled)."""

from __future__ import annotations

import errno
import json
import threading

import pytest
from PySide6.QtCore import QObject, QTimer, Signal

from app.core.events import BytesDone
from tests.gui.conftest import FakeAsker, write_job
from tests.util import make_tree, read_tree

GUARD_MS = 120_000  # only if something hangs: close the window so the test fails, not waits


class RunRecord:
    """What the person would have seen when the run ended, and what they did."""

    def __init__(self) -> None:
        self.window = None
        self.asker = FakeAsker()
        self.finished: list[int] = []
        self.open_after_run: bool | None = None
        self.verdict = ""
        self.log = ""
        self.debug: tuple = ()  # (progress phase, last outcome, controller busy)


@pytest.fixture
def run_gui(qtbot, monkeypatch):
    """``run(argv, on_window=None)`` runs ``run_gui`` in this process; after a
    run that leaves the window open, "the person" reads it and closes it."""
    import app.gui.main as gui_main
    import app.gui.main_window as main_window

    record = RunRecord()
    monkeypatch.setattr(main_window, "Asker", lambda _parent: record.asker)
    real_build = gui_main.build_window

    def run(argv, on_window=None):
        def build(args):
            w = real_build(args)
            qtbot.addWidget(w)
            record.window = w
            if on_window is not None:
                on_window(w)

            def ended(code: int) -> None:
                record.finished.append(code)
                QTimer.singleShot(0, look_then_close)  # after the app's own handler

            def look_then_close() -> None:
                record.open_after_run = w.isVisible()
                record.verdict = w.result_view.verdict.text()
                record.log = w.result_view.log.toPlainText()
                record.debug = (w.progress.phase.text(), w.last_outcome, w.controller.busy)
                if w.isVisible():
                    w.close()
            w.run_finished.connect(ended)
            QTimer.singleShot(GUARD_MS, w.close)
            return w
        monkeypatch.setattr(gui_main, "build_window", build)
        return gui_main.run_gui(argv)
    run.record = record
    return run


def test_success_closes_the_window_and_exits_0(run_gui, tmp_path):
    left = make_tree(tmp_path / "L", {"a.txt": "alpha", "d/b.txt": "beta"})
    right = make_tree(tmp_path / "R", {"a.txt": "alpha"})
    code = run_gui([str(write_job(tmp_path / "j.syncjob", left, right)), "--run"])
    rec = run_gui.record
    assert code == 0 and rec.finished == [0]
    assert rec.open_after_run is False  # it closed by itself
    assert read_tree(right) == read_tree(left)
    assert rec.asker.confirmations == []  # --run asks nothing


def test_conflict_keeps_the_window_open_and_exits_1(run_gui, tmp_path):
    left = make_tree(tmp_path / "L", {"f.txt": "left", "new.txt": "n"})
    right = make_tree(tmp_path / "R", {"f.txt": "right side"})  # same time, other content
    job = write_job(tmp_path / "j.syncjob", left, right, sync={"variant": "two_way"})
    code = run_gui([str(job), "--run"])
    rec = run_gui.record
    assert rec.finished == [1] and rec.open_after_run is True
    assert code == 1  # the exit status once the person closed the window
    assert "warnings" in rec.verdict.lower() and "f.txt" in rec.log
    assert (right / "new.txt").read_text() == "n"  # the rest was done
    assert (right / "f.txt").read_text() == "right side"  # the conflict left alone


def test_failed_item_keeps_the_window_open_and_exits_2(run_gui, tmp_path, monkeypatch):
    import app.fs.local as local

    left = make_tree(tmp_path / "L", {"a.txt": "alpha", "b.txt": "beta"})
    right = make_tree(tmp_path / "R", {})
    real_copy = local.copy_local_file

    def broken_copy(src, dst, rel, on_bytes, cancel):
        if src.endswith("b.txt"):
            raise OSError(errno.EIO, "simulated disk failure")
        return real_copy(src, dst, rel, on_bytes, cancel)
    monkeypatch.setattr(local, "copy_local_file", broken_copy)
    code = run_gui([str(write_job(tmp_path / "j.syncjob", left, right)), "--run"])
    rec = run_gui.record
    assert rec.finished == [2] and rec.open_after_run is True and code == 2
    assert "FAILED" in rec.log and "b.txt" in rec.log
    assert rec.asker.failures == []  # no Retry/Ignore question in --run
    assert read_tree(right) == {"a.txt": b"alpha"}


def test_job_that_cannot_run_keeps_the_window_open_and_exits_2(run_gui, tmp_path):
    right = make_tree(tmp_path / "R", {"keep.txt": "precious"})
    job = write_job(tmp_path / "j.syncjob", tmp_path / "missing", right)
    code = run_gui([str(job), "--run"])
    rec = run_gui.record
    assert rec.finished == [2] and rec.open_after_run is True and code == 2
    assert "missing" in rec.log
    assert read_tree(right) == {"keep.txt": b"precious"}


def test_safety_refusal_keeps_the_window_open_and_exits_2(run_gui, tmp_path):
    left = make_tree(tmp_path / "L", {"keep.txt": "k"})
    right = make_tree(tmp_path / "R", {"keep.txt": "k", **{f"old{i}.txt": "o" for i in range(5)}})
    code = run_gui([str(write_job(tmp_path / "j.syncjob", left, right)), "--run"])
    rec = run_gui.record
    assert rec.finished == [2] and rec.open_after_run is True and code == 2
    assert "refused" in rec.verdict.lower(), rec.verdict
    assert len(read_tree(right)) == 6  # nothing was changed


def test_bad_job_file_shows_the_error_and_exits_2(run_gui, tmp_path):
    bad = tmp_path / "bad.syncjob"
    bad.write_text(json.dumps({"syncpane_job": 1, "pairs": "nope"}))
    code = run_gui([str(bad), "--run"])
    rec = run_gui.record
    assert code == 2 and rec.finished == []
    assert len(rec.asker.errors) == 1 and "pairs" in rec.asker.errors[0][1]


class _CancelOnFirstBytes(QObject):
    """Pauses the sync at its first copied bytes, then presses Cancel on the GUI thread."""

    fire = Signal()

    def __init__(self, window) -> None:
        super().__init__()
        self.inner, self.window = window.runner.batcher, window
        self.seen = threading.Event()
        self.fire.connect(window.cancel_button.click)  # queued: emitted on the engine's thread

    def __call__(self, event) -> None:
        if isinstance(event, BytesDone) and not self.seen.is_set():
            self.seen.set()
            self.window.controller.cancel_token.pause()
            self.fire.emit()
        self.inner(event)

    def drain(self):
        return self.inner.drain()


def test_cancel_closes_the_window_and_exits_3(run_gui, tmp_path):
    import os

    big = os.urandom(1024 * 1024) * 48
    left = make_tree(tmp_path / "L", {"big.bin": big})
    right = make_tree(tmp_path / "R", {})
    hooks = []

    def hook(w):
        hooks.append(_CancelOnFirstBytes(w))
        w.runner.batcher = hooks[-1]
    code = run_gui([str(write_job(tmp_path / "j.syncjob", left, right)), "--run"], hook)
    rec = run_gui.record
    assert hooks[0].seen.is_set()
    assert code == 3 and rec.finished == [3] and rec.open_after_run is False
    assert not (right / "big.bin").exists()
    assert [n for n in os.listdir(right)] == []  # no partial copy left behind


def test_job_locked_by_another_run_exits_2_and_changes_nothing(run_gui, tmp_path):
    from app.core.joblock import job_lock

    left = make_tree(tmp_path / "L", {"a.txt": "alpha"})
    right = make_tree(tmp_path / "R", {"old.txt": "o", "keep.txt": "k", "more.txt": "m"})
    job = write_job(tmp_path / "j.syncjob", left, right)
    with job_lock(str(job), holder="tray"):
        code = run_gui([str(job), "--run"])
    rec = run_gui.record
    assert rec.finished == [2] and rec.open_after_run is True and code == 2
    assert "tray" in rec.log and "stopped" in rec.verdict.lower()
    # The run ends there: no new comparison was started behind the result.
    assert rec.debug[2] == ""
    assert sorted(read_tree(right)) == ["keep.txt", "more.txt", "old.txt"]


def test_run_without_a_job_says_so_and_exits_2(run_gui):
    code = run_gui(["--run"])
    rec = run_gui.record
    assert code == 2 and [t for t, _m in rec.asker.errors] == ["Nothing to run"]


def test_closing_during_the_compare_cancels_the_run_and_exits_3(run_gui, tmp_path):
    left = make_tree(tmp_path / "L", {"a.txt": "alpha"})
    right = make_tree(tmp_path / "R", {"old.txt": "o", "keep.txt": "k", "more.txt": "m"})
    before = read_tree(right)

    def close_when_comparing(w):
        w.controller.busy_changed.connect(lambda what: what == "compare" and w.close())
    code = run_gui([str(write_job(tmp_path / "j.syncjob", left, right)), "--run"],
                   close_when_comparing)
    assert code == 3 and run_gui.record.finished == [3]
    assert read_tree(right) == before


def test_closing_during_the_sync_is_refused_and_the_run_goes_on(run_gui, tmp_path):
    left = make_tree(tmp_path / "L", {"a.txt": "alpha", "b.txt": "beta"})
    right = make_tree(tmp_path / "R", {})
    refused = []

    def close_when_syncing(w):
        def busy(what):
            if what == "sync":
                w.close()
                refused.append(w.isVisible())
        w.controller.busy_changed.connect(busy)
    code = run_gui([str(write_job(tmp_path / "j.syncjob", left, right)), "--run"],
                   close_when_syncing)
    rec = run_gui.record
    assert refused == [True] and rec.asker.errors[0][0] == "Synchronization running"
    assert code == 0 and rec.finished == [0] and rec.open_after_run is False
    assert read_tree(right) == read_tree(left)
