"""Watch and interval runs: the rules with a fake clock, watching with real files."""

from __future__ import annotations

import heapq
import itertools
import sys
import threading
import time
from pathlib import Path

import pytest

from app.core.autorun import (AutoRunner, Outcome, Schedule, ThreadTimers, backoff_minutes,
                              is_reserved, watch_folders, watchdog_watcher)


class FakeTimers:
    """A clock that moves only when told; ``post`` runs at the next step."""

    def __init__(self) -> None:
        self.t = 0.0
        self.heap: list = []
        self.seq = itertools.count()

    def now(self) -> float:
        return self.t

    def call_later(self, delay, fn):
        entry = _Cancel()
        heapq.heappush(self.heap, (self.t + delay, next(self.seq), entry, fn))
        return entry

    def post(self, fn) -> None:
        self.call_later(0.0, fn)

    def advance(self, seconds: float) -> None:
        end = self.t + seconds
        while self.heap and self.heap[0][0] <= end:
            due, _n, entry, fn = heapq.heappop(self.heap)
            self.t = max(self.t, due)
            if not entry.cancelled:
                fn()
        self.t = end


class _Cancel:
    cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Runs:
    """A run_job that records and lets the test finish runs."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def __call__(self, job: str) -> None:
        self.started.append(job)


def no_watch(_folders, _cb):
    return lambda: None


@pytest.fixture
def clock():
    return FakeTimers()


def test_watch_runs_once_after_changes_settle(clock):
    runs = Runs()
    auto = AutoRunner(clock, runs, watcher=no_watch)
    auto.set_job("j", Schedule(watch=True, settle_seconds=10), ["/x"])
    for _ in range(5):  # a burst, 3 s apart: never 10 s of quiet
        auto.changed("j")
        clock.advance(3)
    assert runs.started == []
    clock.advance(10)
    assert runs.started == ["j"]
    clock.advance(100)
    assert runs.started == ["j"]


def test_changes_while_running_cause_one_more_run_after_it(clock):
    runs = Runs()
    auto = AutoRunner(clock, runs, watcher=no_watch)
    auto.set_job("j", Schedule(watch=True, settle_seconds=5), ["/x"])
    auto.changed("j")
    clock.advance(6)
    assert runs.started == ["j"]
    for _ in range(3):
        auto.changed("j")
        clock.advance(10)  # long quiet, but the job is running: nothing starts
    assert runs.started == ["j"]
    auto.finished("j", Outcome.OK)
    clock.advance(6)
    assert runs.started == ["j", "j"]
    auto.finished("j", Outcome.OK)
    clock.advance(60)
    assert runs.started == ["j", "j"]


def test_interval_counts_from_the_end_of_the_last_run(clock):
    runs = Runs()
    auto = AutoRunner(clock, runs, watcher=no_watch)
    auto.set_job("j", Schedule(interval_minutes=15), [])
    clock.advance(15 * 60 - 1)
    assert runs.started == []
    clock.advance(1)
    assert runs.started == ["j"]
    clock.advance(30 * 60)  # a long run: no second start meanwhile
    assert runs.started == ["j"]
    auto.finished("j", Outcome.OK)
    clock.advance(15 * 60)
    assert runs.started == ["j", "j"]


def test_failures_back_off_1_2_4_minutes_and_success_resets(clock):
    runs = Runs()
    auto = AutoRunner(clock, runs, watcher=no_watch)
    auto.set_job("j", Schedule(watch=True, settle_seconds=1), ["/x"])
    starts = []
    for expected_wait in (1, 2, 4):
        auto.changed("j")
        clock.advance(0.5)
        before = len(runs.started)
        # keep poking: the job may run only after its back-off
        for _ in range(int(expected_wait * 60) + 5):
            clock.advance(1)
            if len(runs.started) > before:
                break
        starts.append(clock.now())
        auto.finished("j", Outcome.FAILED)
    clock.advance(0)
    gaps = [round(b - a) for a, b in zip(starts[:-1], starts[1:], strict=True)]
    assert 60 <= gaps[0] <= 63 and 120 <= gaps[1] <= 123
    assert auto.status("j")["failures"] == 3
    assert backoff_minutes(10) == 60
    # A success (e.g. a manual "Sync now") clears the back-off.
    auto.started("j")
    clock.advance(0)
    auto.finished("j", Outcome.OK)
    clock.advance(0)
    assert auto.status("j")["failures"] == 0
    n = len(runs.started)
    auto.changed("j")
    clock.advance(2)
    assert len(runs.started) == n + 1


def test_busy_elsewhere_retries_without_backoff(clock):
    runs = Runs()
    auto = AutoRunner(clock, runs, watcher=no_watch)
    auto.set_job("j", Schedule(watch=True, settle_seconds=5), ["/x"])
    auto.changed("j")
    clock.advance(5)
    auto.finished("j", Outcome.BUSY)
    clock.advance(5)
    assert runs.started == ["j", "j"]
    assert auto.status("j")["failures"] == 0


def test_pause_all_holds_runs_and_resume_runs_pending_changes(clock):
    runs = Runs()
    auto = AutoRunner(clock, runs, watcher=no_watch)
    auto.set_job("j", Schedule(watch=True, settle_seconds=5, interval_minutes=1), ["/x"])
    auto.pause_all()
    auto.changed("j")
    clock.advance(600)
    assert runs.started == []
    auto.resume_all()
    clock.advance(5)
    assert runs.started == ["j"]


def test_manual_run_blocks_automatic_start_of_the_same_job(clock):
    runs = Runs()
    auto = AutoRunner(clock, runs, watcher=no_watch)
    auto.set_job("j", Schedule(interval_minutes=1), [])
    auto.started("j")  # "Sync now" from the tray
    clock.advance(300)
    assert runs.started == []
    auto.finished("j", Outcome.OK)
    clock.advance(60)
    assert runs.started == ["j"]


def test_reserved_names():
    assert is_reserved("/d/sub/.syncpane-abc.tmp")
    assert is_reserved("C:\\d\\.syncpane-versions\\x")
    assert not is_reserved("/d/sync pane/file.txt")


def test_watch_folders_are_the_local_sources(tmp_path):
    from app.core.job import job_from_dict

    doc = {"syncpane_job": 1, "pairs": [
        {"left": str(tmp_path / "a"), "right": str(tmp_path / "b")},
        {"left": str(tmp_path / "c"), "right": str(tmp_path / "d"),
         "sync": {"variant": "mirror", "direction": "to_left"}},
        {"left": str(tmp_path / "e"), "right": "sftp://u@h/srv/x",
         "sync": {"variant": "two_way"}}]}
    job = job_from_dict(doc, str(tmp_path))
    assert watch_folders(job) == [str(tmp_path / n) for n in ("a", "d", "e")]


@pytest.mark.skipif(sys.platform == "darwin", reason="FSEvents latency")
def test_real_burst_of_file_changes_runs_the_job_exactly_once(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    timers = ThreadTimers()
    ran = threading.Event()
    runs: list[float] = []

    def run_job(job: str) -> None:
        runs.append(time.monotonic())
        ran.set()

    auto = AutoRunner(timers, run_job, watcher=watchdog_watcher)
    try:
        timers.post(lambda: auto.set_job("j", Schedule(watch=True, settle_seconds=0.5),
                                         [str(src)]))
        time.sleep(0.3)  # the observer is up
        burst_end = 0.0
        for i in range(10):
            (src / f"f{i}.txt").write_text("x" * i)
            (src / ".syncpane-1.tmp").write_text("engine temp")  # ignored
            burst_end = time.monotonic()
            time.sleep(0.1)
        assert ran.wait(10)
        assert runs[0] - burst_end >= 0.45  # only after things settled
        time.sleep(1.5)
        assert len(runs) == 1
        # Only the engine's own files change: no run.
        timers.post(lambda: auto.finished("j", Outcome.OK))
        ran.clear()
        (src / ".syncpane-2.tmp").write_text("x")
        assert not ran.wait(1.5)
        assert len(runs) == 1
    finally:
        timers.post(auto.stop)
        time.sleep(0.2)
        timers.stop()


def test_missing_watch_folder_is_not_fatal(tmp_path):
    stop = watchdog_watcher([str(tmp_path / "not-there")], lambda p: None)
    stop()
    assert not Path(tmp_path / "not-there").exists()
