"""Quick sync: compare and synchronize a saved job with nobody watching.

Qt-free (it runs on the engine's loop and is tested like the engine). The rule
that matters: a quick sync carries out only a plan the person would not have
to look at. Any safety refusal (too many deletions, a clock shift, a missing
source) or any conflict stops it *before anything changes*, and the result says
so, so the tray can offer the window on that job with the grid shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum

from app.core.joblock import JobLocked, job_lock
from app.core.model import Action, Summary


class Kind(str, Enum):
    DONE = "done"            # synchronized (maybe with warnings)
    NOTHING = "nothing"      # both sides were already equal
    REFUSED = "refused"      # a safety check stopped it; nothing changed
    CONFLICTS = "conflicts"  # conflicts need the person; nothing changed
    FAILED = "failed"        # could not run, or items failed
    BUSY = "busy"            # another process is running this job
    CANCELLED = "cancelled"


@dataclass
class QuickSyncResult:
    job_path: str
    job_name: str
    kind: Kind
    summary: Summary = field(default_factory=Summary)
    messages: list[str] = field(default_factory=list)
    log_path: str | None = None
    exit_code: int = 0

    @property
    def needs_window(self) -> bool:
        """The person must look at the plan in the window."""
        return self.kind in (Kind.REFUSED, Kind.CONFLICTS)

    @property
    def changed_anything(self) -> bool:
        s = self.summary
        return bool(s.copy_to_left or s.copy_to_right or s.delete_left or s.delete_right
                    or s.move_left or s.move_right or s.create_dir_left or s.create_dir_right)


class ProgressCounter:
    """What the tooltip shows; written by the engine (any thread), read by the GUI."""

    def __init__(self) -> None:
        self.phase = "starting"
        self.scanned = 0
        self.items_done = 0
        self.total_items = 0
        self.bytes_done = 0
        self.total_bytes = 0
        self._scan: dict[tuple[int, str], int] = {}

    def __call__(self, ev) -> None:
        name = type(ev).__name__
        if name == "ScanProgress":
            self._scan[(ev.pair, ev.side)] = ev.items
            self.scanned = sum(self._scan.values())
        elif name == "PhaseStarted":
            self.phase = ev.phase
            if ev.phase == "sync":
                self.total_items, self.total_bytes = ev.total_items, ev.total_bytes
        elif name == "BytesDone":
            self.bytes_done += ev.delta
        elif name == "ItemDone":
            self.items_done += 1


def _job_name(job_path: str, job=None) -> str:
    if job is not None and job.name:
        return job.name
    return os.path.splitext(os.path.basename(job_path))[0]


def _credentials():
    try:
        from app.config.credentials import keyring_store
    except ImportError:
        return None
    return keyring_store()


async def quick_sync(job_path: str, *, report=None, cancel=None, credentials=None,
                     holder: str = "tray") -> QuickSyncResult:
    """Run one job headless under its lock. Never raises for job-level trouble:
    every outcome is a :class:`QuickSyncResult`."""
    from app.gui.tray.joblist import job_title

    title = job_title(job_path)[0]
    try:
        with job_lock(job_path, holder=holder, job_name=title):
            return await _run(job_path, report, cancel, credentials)
    except JobLocked as exc:
        return QuickSyncResult(job_path, exc.job_name, Kind.BUSY, messages=[str(exc)],
                               exit_code=2)
    except OSError as exc:  # the lock folder cannot be written
        return QuickSyncResult(job_path, title, Kind.FAILED,
                               messages=[f"cannot lock the job: {exc}"], exit_code=2)


async def _run(job_path: str, report, cancel, credentials) -> QuickSyncResult:
    from app.config.paths import app_paths
    from app.core.engine import JobCannotRun, SafetyRefusal, SyncSession
    from app.core.events import CancelToken, Cancelled, ignore_events
    from app.core.job import JobError, load_job
    from app.core.synclog import write_sync_log
    from app.fs.factory import LocationOpener

    try:
        job = load_job(job_path)
    except (JobError, OSError) as exc:
        return QuickSyncResult(job_path, _job_name(job_path), Kind.FAILED,
                               messages=[str(exc)], exit_code=2)
    name = _job_name(job_path, job)
    paths = app_paths()
    # No host-key prompt and no "accept new key": an unknown server stops the run,
    # the window is where a person can look at a fingerprint.
    opener = LocationOpener(job, credentials=credentials if credentials is not None
                            else _credentials())
    session = SyncSession(job, opener=opener, state_dir=paths.state,
                          report=report or ignore_events, cancel=cancel or CancelToken(),
                          sync_follows=True)
    try:
        runs = await session.compare()
        if session.refusals:
            return QuickSyncResult(job_path, name, Kind.REFUSED,
                                   messages=list(session.refusals), exit_code=2)
        conflicts = [i.path for r in runs for i in r.plan.items if i.action is Action.CONFLICT]
        if conflicts:
            shown = ", ".join(conflicts[:3]) + (" …" if len(conflicts) > 3 else "")
            return QuickSyncResult(job_path, name, Kind.CONFLICTS, exit_code=1,
                                   messages=[f"{len(conflicts)} conflict(s) need your "
                                             f"decision: {shown}"])
        result = await session.execute(force=False)
        log = write_sync_log(paths.logs, name, runs, result)
    except SafetyRefusal as exc:
        return QuickSyncResult(job_path, name, Kind.REFUSED, messages=exc.problems,
                               exit_code=2)
    except JobCannotRun as exc:
        return QuickSyncResult(job_path, name, Kind.FAILED, messages=exc.problems,
                               exit_code=2)
    except Cancelled:
        return QuickSyncResult(job_path, name, Kind.CANCELLED, exit_code=3)
    except Exception as exc:  # noqa: BLE001 - a tray must report, never crash
        return QuickSyncResult(job_path, name, Kind.FAILED,
                               messages=[f"{type(exc).__name__}: {exc}"], exit_code=2)
    finally:
        await session.close()
    messages = [f"{p.path + ': ' if p.path else ''}{p.message}" for p in result.problems
                if not p.info]
    code = result.exit_code
    if result.cancelled:
        kind = Kind.CANCELLED
    elif code == 2:
        kind = Kind.FAILED
    else:
        out = QuickSyncResult(job_path, name, Kind.DONE, result.summary)
        kind = Kind.DONE if out.changed_anything or messages else Kind.NOTHING
    return QuickSyncResult(job_path, name, kind, result.summary, messages, str(log), code)
