"""Synchronizing from the window: pause and cancel mid-file, the Retry /
Ignore question on a failure, the safety refusal and its conscious override,
and ``syncpane JOB --run``."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading

from PySide6.QtCore import Qt

from app.core.events import BytesDone
from tests.gui.conftest import compare, write_job
from tests.util import REPO, make_tree, read_tree


class PauseOnFirstBytes:
    """Wraps the window's event collector: the moment the first bytes of a
    copy are reported, press Pause (as a person watching would), so the
    test can look at the target while a file is half written."""

    def __init__(self, inner, token_of) -> None:
        self.inner, self.token_of = inner, token_of
        self.paused = threading.Event()

    def __call__(self, event) -> None:
        if isinstance(event, BytesDone) and not self.paused.is_set():
            self.token_of().pause()
            self.paused.set()
        self.inner(event)

    def drain(self):
        return self.inner.drain()


def test_cancel_mid_file_leaves_no_partial_file(qtbot, window, tmp_path):
    big = os.urandom(1024 * 1024) * 64  # 64 MiB: 8 copy chunks
    left = make_tree(tmp_path / "L", {"small.txt": "s", "zz/big.bin": big})
    right = make_tree(tmp_path / "R", {})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    compare(qtbot, window)
    hook = PauseOnFirstBytes(window.runner.batcher, lambda: window.controller.cancel_token)
    window.runner.batcher = hook

    with qtbot.waitSignal(window.controller.sync_finished, timeout=60_000) as done:
        qtbot.mouseClick(window.findChild(object, "syncButton"), Qt.LeftButton)
        qtbot.waitUntil(hook.paused.is_set, timeout=30_000)
        qtbot.waitUntil(lambda: window.findChild(object, "cancelButton").isEnabled())
        # Paused inside the big copy: its real name does not exist yet.
        assert not (right / "zz" / "big.bin").exists()
        window.close()  # closing mid-sync is refused with a word, not done silently
        assert window.isVisible() and window.ask.errors[-1][0] == "Synchronization running"
        qtbot.mouseClick(window.findChild(object, "cancelButton"), Qt.LeftButton)

    outcome = done.args[0]
    assert outcome.result.cancelled and outcome.exit_code == 3
    assert not (right / "zz" / "big.bin").exists()
    leftovers = [n for _d, _s, files in os.walk(right) for n in files if n != "small.txt"]
    assert leftovers == [], "no temporary copy is left behind"
    assert read_tree(left)["zz/big.bin"] == big  # the source is untouched


def test_pause_button_holds_and_resumes(qtbot, window, tmp_path):
    big = b"x" * (40 * 1024 * 1024)
    left = make_tree(tmp_path / "L", {"big.bin": big})
    right = make_tree(tmp_path / "R", {})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    compare(qtbot, window)
    hook = PauseOnFirstBytes(window.runner.batcher, lambda: window.controller.cancel_token)
    window.runner.batcher = hook
    pause = window.findChild(object, "pauseButton")
    with qtbot.waitSignal(window.controller.sync_finished, timeout=60_000) as done:
        qtbot.mouseClick(window.findChild(object, "syncButton"), Qt.LeftButton)
        qtbot.waitUntil(hook.paused.is_set, timeout=30_000)
        assert window.controller.cancel_token.paused
        qtbot.wait(300)
        assert not (right / "big.bin").exists()
        pause.setChecked(True)  # the button shows "paused"; a click resumes
        qtbot.mouseClick(pause, Qt.LeftButton)
    assert done.args[0].exit_code == 0
    assert (right / "big.bin").read_bytes() == big


def test_failure_asks_retry_then_succeeds(qtbot, window, tmp_path, monkeypatch):
    import app.fs.local as local

    left = make_tree(tmp_path / "L", {"a.txt": "alpha", "b.txt": "beta"})
    right = make_tree(tmp_path / "R", {})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    compare(qtbot, window)
    real_copy, failed_once = local.copy_local_file, []

    def flaky_copy(src, dst, rel, on_bytes, cancel):
        if src.endswith("b.txt") and not failed_once:
            failed_once.append(rel)
            raise OSError(errno.EIO, "simulated disk hiccup")
        return real_copy(src, dst, rel, on_bytes, cancel)

    monkeypatch.setattr(local, "copy_local_file", flaky_copy)
    window.ask.error_decisions = ["retry"]
    with qtbot.waitSignal(window.controller.sync_finished, timeout=30_000) as done:
        qtbot.mouseClick(window.findChild(object, "syncButton"), Qt.LeftButton)
    assert [p for p, _m in window.ask.failures] == ["b.txt"]
    assert done.args[0].exit_code == 0
    assert read_tree(right) == {"a.txt": b"alpha", "b.txt": b"beta"}


def test_failure_ignored_is_reported_in_the_result(qtbot, window, tmp_path, monkeypatch):
    import app.fs.local as local

    left = make_tree(tmp_path / "L", {"a.txt": "alpha", "b.txt": "beta"})
    right = make_tree(tmp_path / "R", {})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    compare(qtbot, window)
    real_copy = local.copy_local_file

    def broken_copy(src, dst, rel, on_bytes, cancel):
        if src.endswith("b.txt"):
            raise OSError(errno.EIO, "simulated disk failure")
        return real_copy(src, dst, rel, on_bytes, cancel)

    monkeypatch.setattr(local, "copy_local_file", broken_copy)
    window.ask.error_decisions = ["ignore"]
    with qtbot.waitSignal(window.controller.sync_finished, timeout=30_000) as done:
        qtbot.mouseClick(window.findChild(object, "syncButton"), Qt.LeftButton)
    outcome = done.args[0]
    assert outcome.exit_code == 2
    assert read_tree(right) == {"a.txt": b"alpha"}
    log = window.findChild(object, "resultLog").toPlainText()
    assert "FAILED" in log and "b.txt" in log


def test_safety_refusal_needs_conscious_override(qtbot, window, tmp_path):
    left = make_tree(tmp_path / "L", {"keep.txt": "k"})
    right = make_tree(tmp_path / "R", {"keep.txt": "k", **{f"old{i}.txt": "o"
                                                           for i in range(5)}})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    view = compare(qtbot, window)
    assert view.refusals, "deleting 5 of 6 files is over the 50% limit"
    notes = window.findChild(object, "resultLog").toPlainText()
    assert window.result_view.isVisible() and "safety check" in notes

    window.ask.confirm_answer = (False, False)  # the person did not tick the box
    qtbot.mouseClick(window.findChild(object, "syncButton"), Qt.LeftButton)
    qtbot.wait(200)
    assert window.ask.confirmations[-1][1] == view.refusals
    assert len(read_tree(right)) == 6

    window.ask.confirm_answer = (True, True)  # ticked: a conscious override
    with qtbot.waitSignal(window.controller.sync_finished, timeout=30_000) as done:
        qtbot.mouseClick(window.findChild(object, "syncButton"), Qt.LeftButton)
    assert done.args[0].exit_code == 0
    assert read_tree(right) == {"keep.txt": b"k"}


def test_run_flag_compares_synchronizes_and_exits(tmp_path):
    left = make_tree(tmp_path / "L", {"a.txt": "alpha", "c.txt": "c", "d/b.txt": "beta"})
    # One deletion of three files: under the 50% limit, so no refusal to confirm.
    right = make_tree(tmp_path / "R", {"a.txt": "alpha", "c.txt": "c", "stale.txt": "old"})
    job = write_job(tmp_path / "j.syncjob", left, right)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SYNCPANE_HOME=str(tmp_path / "home"),
               XDG_DATA_HOME=str(tmp_path / "xdg"))
    proc = subprocess.run([sys.executable, "-m", "app", str(job), "--run"], cwd=REPO, env=env,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert read_tree(right) == read_tree(left)
    assert list((tmp_path / "home" / "logs").glob("sync-*.log"))


def test_smoke_exit(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SYNCPANE_HOME=str(tmp_path),
               SYNCPANE_SMOKE_EXIT="1")
    proc = subprocess.run([sys.executable, "-m", "app"], cwd=REPO, env=env,
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
