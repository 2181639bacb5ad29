"""Jobs that run themselves: watch mode, interval mode, back-off.

Qt-free, so the rules can be tested with a fake clock. The tray supplies:

- a :class:`Timers` (``now``, ``call_later``, ``post``): every callback of the
  scheduler runs on the one thread the timers serve (the GUI thread in the
  tray; a private thread in :class:`ThreadTimers`), so its state needs no lock;
- ``run_job(job_path)``: starts a run and returns; whoever runs the job calls
  :meth:`AutoRunner.finished` when it ends (from any thread).

Rules
- **watch**: a change in a watched folder (re)starts a settle timer; the job
  runs when no change came for ``settle_seconds``. Names starting with
  ``.syncpane`` (the engine's temporary files) are ignored.
- **interval**: the job runs every ``interval_minutes``, counted from the end
  of the last run.
- Nothing starts while the job runs (changes seen meanwhile cause one more run
  afterwards), while everything is paused, or while a failed job backs off:
  1, 2, 4 … minutes after consecutive failures, at most 60.
- A job locked by another process ("busy") is tried again after the settle
  time, without counting as a failure.

Which folders are watched: the job's *local* folders that a sync reads as a
source (the source side of ``mirror``/``update``, both sides otherwise). The
target of a one-way job is written by the sync itself; watching it would make
every sync trigger the next one.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

DEFAULT_SETTLE_SECONDS = 10.0
MAX_BACKOFF_MINUTES = 60.0
RESERVED_PREFIX = ".syncpane"


@dataclass(frozen=True)
class Schedule:
    """How a job runs by itself (kept in the tray's settings, not in the job)."""

    watch: bool = False
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    interval_minutes: float | None = None  # None or 0: no interval runs

    @property
    def active(self) -> bool:
        return self.watch or bool(self.interval_minutes)


class Outcome(str, Enum):
    OK = "ok"          # ran (warnings included)
    FAILED = "failed"  # could not run, refused, errors: back off
    BUSY = "busy"      # someone else runs it now: try again soon


def backoff_minutes(failures: int) -> float:
    """Minutes to wait after ``failures`` consecutive failures: 1, 2, 4 … 60."""
    if failures <= 0:
        return 0.0
    return min(MAX_BACKOFF_MINUTES, 2.0 ** (failures - 1))


# -- timers -------------------------------------------------------------------------------

class Handle(Protocol):
    def cancel(self) -> None: ...


class Timers(Protocol):
    def now(self) -> float: ...
    def call_later(self, delay: float, fn: Callable[[], None]) -> Handle: ...
    def post(self, fn: Callable[[], None]) -> None: ...


class _Entry:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ThreadTimers:
    """One private thread runs every callback, in time order (headless use, tests)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Entry, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="autorun-timers", daemon=True)
        self._thread.start()

    def now(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, fn: Callable[[], None]) -> Handle:
        entry = _Entry()
        with self._cond:
            heapq.heappush(self._heap, (self.now() + max(0.0, delay), next(self._seq), entry, fn))
            self._cond.notify()
        return entry

    def post(self, fn: Callable[[], None]) -> None:
        self.call_later(0.0, fn)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > self.now()):
                    timeout = self._heap[0][0] - self.now() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _due, _n, entry, fn = heapq.heappop(self._heap)
            if not entry.cancelled:
                fn()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(5)


# -- watching -----------------------------------------------------------------------------

def is_reserved(path: str) -> bool:
    """True for the engine's own files (any path part starting with ``.syncpane``)."""
    parts = path.replace("\\", "/").split("/")
    return any(p.startswith(RESERVED_PREFIX) for p in parts)


def watch_folders(job: Any) -> list[str]:
    """Local folders of ``job`` whose changes should start it (see module doc)."""
    from app.core.job import Direction, Variant

    out: list[str] = []
    for pair in job.pairs:
        s = pair.sync
        if s.variant in (Variant.MIRROR, Variant.UPDATE):
            sides = [pair.left if s.direction is Direction.TO_RIGHT else pair.right]
        else:
            sides = [pair.left, pair.right]
        for loc in sides:
            if not loc.is_sftp and loc.path not in out:
                out.append(loc.path)
    return out


Watcher = Callable[[list[str], Callable[[str], None]], Callable[[], None]]


def watchdog_watcher(folders: list[str], on_change: Callable[[str], None]) -> Callable[[], None]:
    """Watch ``folders`` recursively with watchdog; returns a stop function.

    ``on_change(path)`` is called from watchdog's thread for every change that
    is not a read (opening and closing without writing are not changes).
    """
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    kinds = {"created", "deleted", "modified", "moved", "closed"}

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:  # noqa: D401 - watchdog's name
            if event.event_type not in kinds:
                return
            if event.is_directory and event.event_type == "modified":
                return  # a folder's time changes with its files; those events count
            for p in (event.src_path, getattr(event, "dest_path", "")):
                if p and not is_reserved(os.fsdecode(p)):
                    on_change(os.fsdecode(p))
                    return

    observer = Observer()
    handler = Handler()
    scheduled = 0
    for folder in folders:
        if os.path.isdir(folder):
            observer.schedule(handler, folder, recursive=True)
            scheduled += 1
    observer.daemon = True
    observer.start()

    def stop() -> None:
        observer.stop()
        observer.join(5)
    return stop


# -- the scheduler ------------------------------------------------------------------------

@dataclass
class _JobState:
    schedule: Schedule
    folders: list[str]
    running: bool = False
    pending: bool = False      # a change came while it could not run
    failures: int = 0
    backoff_until: float = 0.0
    settle: Handle | None = None
    interval: Handle | None = None
    stop_watch: Callable[[], None] | None = None
    runs: int = field(default=0)


class AutoRunner:
    """Decides when each job runs by itself."""

    def __init__(self, timers: Timers, run_job: Callable[[str], None], *,
                 watcher: Watcher = watchdog_watcher) -> None:
        self.timers = timers
        self.run_job = run_job
        self.watcher = watcher
        self.jobs: dict[str, _JobState] = {}
        self.paused = False

    # -- configuration (scheduler thread) -----------------------------------------------
    def set_job(self, job_path: str, schedule: Schedule, folders: list[str]) -> None:
        """Start (or change, or with an inactive schedule stop) a job's automation."""
        old = self.jobs.get(job_path)
        if old is not None and old.schedule == schedule and old.folders == folders:
            return
        self.remove_job(job_path)
        if not schedule.active:
            return
        st = _JobState(schedule, list(folders))
        if old is not None:
            st.running, st.failures, st.backoff_until = old.running, old.failures, old.backoff_until
        self.jobs[job_path] = st
        if schedule.watch and folders:
            st.stop_watch = self.watcher(list(folders),
                                         lambda _p, j=job_path: self.changed(j))
        if not st.running:
            self._arm_interval(job_path)

    def remove_job(self, job_path: str) -> None:
        st = self.jobs.pop(job_path, None)
        if st is None:
            return
        self._cancel(st)
        if st.stop_watch is not None:
            st.stop_watch()

    def stop(self) -> None:
        for job in list(self.jobs):
            self.remove_job(job)

    def pause_all(self) -> None:
        self.paused = True
        for st in self.jobs.values():
            self._cancel(st)

    def resume_all(self) -> None:
        self.paused = False
        for job, st in self.jobs.items():
            if st.running:
                continue
            self._arm_interval(job)
            if st.pending:
                self._arm_settle(job)

    # -- events (any thread) ----------------------------------------------------------------
    def changed(self, job_path: str) -> None:
        """A watched folder of the job changed."""
        self.timers.post(lambda: self._on_change(job_path))

    def started(self, job_path: str) -> None:
        """A run started outside the scheduler (e.g. "Sync now")."""
        self.timers.post(lambda: self._on_started(job_path))

    def finished(self, job_path: str, outcome: Outcome) -> None:
        """A run of the job ended (started by the scheduler or not)."""
        self.timers.post(lambda: self._on_finished(job_path, outcome))

    # -- internals (scheduler thread) -------------------------------------------------------
    def _cancel(self, st: _JobState) -> None:
        for name in ("settle", "interval"):
            h = getattr(st, name)
            if h is not None:
                h.cancel()
                setattr(st, name, None)

    def _on_change(self, job: str) -> None:
        st = self.jobs.get(job)
        if st is None:
            return
        if st.running or self.paused:
            st.pending = True
            return
        self._arm_settle(job)

    def _arm_settle(self, job: str) -> None:
        st = self.jobs[job]
        if st.settle is not None:
            st.settle.cancel()
        st.settle = self.timers.call_later(st.schedule.settle_seconds,
                                           lambda: self._due(job))

    def _arm_interval(self, job: str) -> None:
        st = self.jobs[job]
        if st.interval is not None:
            st.interval.cancel()
            st.interval = None
        if st.schedule.interval_minutes and not self.paused:
            delay = st.schedule.interval_minutes * 60.0
            delay = max(delay, st.backoff_until - self.timers.now())
            st.interval = self.timers.call_later(delay, lambda: self._due(job))

    def _due(self, job: str) -> None:
        st = self.jobs.get(job)
        if st is None:
            return
        st.settle = None
        if st.running or self.paused:
            st.pending = True
            return
        wait = st.backoff_until - self.timers.now()
        if wait > 0:
            st.pending = False
            st.settle = self.timers.call_later(wait, lambda: self._due(job))
            return
        self._on_started(job)
        st.runs += 1
        try:
            self.run_job(job)
        except Exception:  # noqa: BLE001 - a run that cannot start is a failed run
            self._on_finished(job, Outcome.FAILED)

    def _on_started(self, job: str) -> None:
        st = self.jobs.get(job)
        if st is None:
            return
        self._cancel(st)
        st.running = True
        st.pending = False

    def _on_finished(self, job: str, outcome: Outcome) -> None:
        st = self.jobs.get(job)
        if st is None or not st.running:
            return
        st.running = False
        if outcome is Outcome.OK:
            st.failures, st.backoff_until = 0, 0.0
        elif outcome is Outcome.FAILED:
            st.failures += 1
            st.backoff_until = self.timers.now() + backoff_minutes(st.failures) * 60.0
        if self.paused:
            return
        if outcome is Outcome.BUSY or st.pending:
            st.pending = False
            self._arm_settle(job)
        self._arm_interval(job)

    # -- inspection ---------------------------------------------------------------------------
    def status(self, job_path: str) -> dict[str, Any] | None:
        """A snapshot for display and tests."""
        st = self.jobs.get(job_path)
        if st is None:
            return None
        return {"running": st.running, "pending": st.pending, "failures": st.failures,
                "backoff_until": st.backoff_until, "runs": st.runs,
                "folders": list(st.folders)}
