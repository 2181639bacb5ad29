"""Compare, re-plan and synchronize through the engine, off the GUI thread.

The controller owns the :class:`SyncSession` between a comparison and the
sync that follows it, the person's per-row overrides and exclusions, and the
cancel token. Everything heavy (scanning, planning, counting) runs in the
runner's loop; the GUI thread only receives finished results as signals.
"""

from __future__ import annotations

import asyncio
import gc
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from app.config.paths import app_paths
from app.core.joblock import JobLocked
from app.core.engine import JobCannotRun, SafetyRefusal, SyncResult, SyncSession
from app.core.events import CancelToken, Cancelled
from app.core.gcpause import collector_paused
from app.core.job import Job
from app.core.model import Action, PlanItem
from app.gui.runner import EngineRunner
from app.gui.slow_drop import drop_slowly, session_containers
from app.gui.stats import PlanStats, plan_stats


@dataclass
class PlanView:
    """What the grid shows after a comparison or a re-plan."""

    per_pair: list[tuple[int, list[PlanItem]]]
    stats: PlanStats
    refusals: list[str]
    problems: list[Any]
    prepared: Any = None  # the grid's precomputed content (see ``prepare``)


@dataclass
class SyncOutcome:
    result: SyncResult | None
    log_path: str | None = None
    log_text: str = ""
    refused: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 2 if self.result is None else self.result.exit_code


def _credentials():
    """The keyring store when the credentials module offers one."""
    try:
        from app.config.credentials import KeyringCredentials
    except ImportError:
        return None
    return KeyringCredentials()


def _under(path: str, prefixes: list[str]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


class SessionController(QObject):
    """Drives one job's session; ``busy`` names what runs ("" when idle)."""

    busy_changed = Signal(str)
    compared = Signal(object)  # PlanView
    replanned = Signal(object)  # PlanView
    sync_finished = Signal(object)  # SyncOutcome
    failed = Signal(str, str)  # title, message
    _error_asked = Signal(str, str, object)
    _host_key_asked = Signal(str, str, str, object)

    def __init__(self, runner: EngineRunner, ask_on_error: Callable[[str, str], str],
                 ask_host_key: Callable[[str, str, str], bool] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.ask_on_error = ask_on_error
        self.session: SyncSession | None = None
        self.cancel_token = CancelToken()
        self.busy = ""
        self.overrides: dict[int, dict[str, Action]] = {}
        self.excluded: dict[int, list[str]] = {}
        self.view: PlanView | None = None
        self._generation = 0
        #: Called on the engine loop with ``[(pair, items)]``: lets the grid
        #: flatten, count and sort a big plan before the GUI thread sees it.
        self.prepare: Callable[[list], Any] | None = None
        self.ask_host_key = ask_host_key or (lambda _k, _f, _a: False)
        # Failures of items copied in parallel arrive together: one question at
        # a time, and "Ignore all" / "Cancel" also answer the ones waiting.
        self._questions: deque = deque()
        self._asking = False
        self._standing_answer: str | None = None
        self._error_asked.connect(self._on_error_asked)
        self._host_key_asked.connect(self._on_host_key_asked)

    # -- state -------------------------------------------------------------------
    def _set_busy(self, what: str) -> None:
        self.busy = what
        self.busy_changed.emit(what)

    @property
    def has_plan(self) -> bool:
        return self.view is not None and self.session is not None

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def toggle_pause(self) -> bool:
        """Pause or resume the running sync; returns True when now paused."""
        if self.cancel_token.paused:
            self.cancel_token.resume()
        else:
            self.cancel_token.pause()
        return self.cancel_token.paused

    # -- compare -----------------------------------------------------------------
    def start_compare(self, job: Job) -> bool:
        if self.busy:
            return False
        self.cancel_token = CancelToken()
        self.overrides, self.excluded, self.view = {}, {}, None
        self._set_busy("compare")
        generation = self._generation
        self.runner.submit(self._compare(job, self.session),
                           lambda result, error: self._compare_done(result, error, generation))
        return True

    async def _compare(self, job: Job, old: SyncSession | None) -> tuple[SyncSession, PlanView]:
        from app.fs.factory import LocationOpener

        if old is not None:
            await old.close()
        opener = LocationOpener(job, credentials=_credentials(),
                                host_key_prompt=self.host_key_prompt)
        session = SyncSession(job, opener=opener, state_dir=app_paths().state,
                              report=self.runner.report, cancel=self.cancel_token,
                              keep_equal=True)
        try:
            with collector_paused():
                await session.compare()
                view = self._make_view(session)
                # The rows just built are the live plan. Freeze them unwalked now:
                # otherwise the first collection after the pause walks every one of
                # them while holding the GIL, a stop of all threads (the GUI's too)
                # of ~100 ms per 100,000 files.
                gc.freeze()
        except BaseException:
            await session.close()
            raise
        return session, view

    def _make_view(self, session: SyncSession) -> PlanView:
        per_pair = []
        for run in session.runs:
            items = run.plan.items
            gone = self.excluded.get(run.index)
            if gone:
                items = [i for i in items if not _under(i.path, gone)]
            per_pair.append((run.index, items))
        problems = [p for run in session.runs for p in run.plan.problems]
        prepared = self.prepare(per_pair) if self.prepare is not None else None
        return PlanView(per_pair, plan_stats(i for _, i in per_pair), session.refusals, problems,
                        prepared)

    def invalidate(self) -> None:
        """The job or its settings changed: the shown plan no longer matches
        them. A running comparison is cancelled and its result dropped."""
        self._generation += 1
        self.view = None
        if self.busy == "compare":
            self.cancel_token.cancel()

    def discard(self, containers: list) -> None:
        """Free big containers nobody uses any more, off the GUI thread's time."""
        if containers:
            self.runner.submit(drop_slowly(containers))

    def _compare_done(self, result, error, generation: int) -> None:
        old = self.session
        if generation != self._generation:
            if error is None:  # a result for a job that is no longer shown
                self.runner.submit(result[0].close())
                self.discard(session_containers(result[0]))
            self._set_busy("")
            return
        self._set_busy("")
        if old is not None:
            # Closed in _compare already; its rows are emptied slowly.
            self.session = None
            self.discard(session_containers(old))
            del old
        if error is not None:
            self.failed.emit("Comparison stopped", _describe(error, "comparison"))
            return
        self.session, self.view = result
        self.compared.emit(self.view)

    # -- change rows -------------------------------------------------------------
    def override(self, changes: dict[int, dict[str, Action]]) -> bool:
        """Set actions by row path, then re-plan the affected pairs."""
        if self.busy or not self.has_plan:
            return False
        for pair, paths in changes.items():
            self.overrides.setdefault(pair, {}).update(paths)
        return self._replan(set(changes))

    def exclude(self, pair_paths: dict[int, list[str]]) -> bool:
        """Hide paths (and what lies below them) and make sure this plan
        leaves them alone; the pattern itself is added to the job by the caller."""
        if self.busy or not self.has_plan:
            return False
        for pair, paths in pair_paths.items():
            self.excluded.setdefault(pair, []).extend(paths)
        return self._replan(set(pair_paths))

    def _replan(self, pairs: set[int]) -> bool:
        self._set_busy("replan")
        self.runner.submit(self._replan_async(self.session, pairs), self._replan_done)
        return True

    async def _replan_async(self, session: SyncSession, pairs: set[int]) -> PlanView:
        for run in session.runs:
            if run.index not in pairs:
                continue
            ov = self.overrides.setdefault(run.index, {})
            gone = self.excluded.get(run.index)
            if gone:
                for item in run.plan.items:
                    if _under(item.path, gone):
                        ov[item.path] = Action.NONE
            session.replan(run, ov)
        return self._make_view(session)

    def _replan_done(self, result, error) -> None:
        self._set_busy("")
        if error is not None:
            self.failed.emit("Could not change the plan", _describe(error, "plan"))
            return
        self.view = result
        self.replanned.emit(result)

    # -- synchronize -------------------------------------------------------------
    def start_sync(self, *, force: bool, interactive: bool = True, job_name: str = "") -> bool:
        if self.busy or not self.has_plan:
            return False
        self.cancel_token = CancelToken()
        self.session.cancel = self.cancel_token
        self._standing_answer = None
        self._set_busy("sync")
        on_error = self._ask_async if interactive else None
        self.runner.submit(self._sync(self.session, force, on_error, job_name), self._sync_done)
        return True

    async def _sync(self, session: SyncSession, force: bool, on_error, job_name: str):
        from app.core.joblock import acquire_job_lock
        from app.core.synclog import write_sync_log

        held = None
        if session.job.path:  # one run of a job at a time: the tray or a CLI run may hold it
            held = await asyncio.to_thread(acquire_job_lock, session.job.path, "window",
                                           job_name=job_name)
        try:
            result = await session.execute(force=force, on_error=on_error)
        except SafetyRefusal as exc:
            return SyncOutcome(None, refused=list(exc.problems))
        finally:
            if held is not None:
                held.release()
        logs = app_paths().logs
        path = await asyncio.to_thread(write_sync_log, logs, job_name, session.runs, result)
        text = await asyncio.to_thread(path.read_text, encoding="utf-8", errors="replace")
        return SyncOutcome(result, str(path), text)

    def _sync_done(self, outcome, error) -> None:
        self._set_busy("")
        self.view = None  # the folders changed: this plan is spent
        if error is not None:
            self.failed.emit("Synchronization stopped", _describe(error, "synchronization"))
            self.sync_finished.emit(SyncOutcome(None, log_text=_describe(error, "sync")))
            return
        self.sync_finished.emit(outcome)

    async def _ask_async(self, path: str, message: str) -> str:
        """The executor's ``on_error``: ask on the GUI thread, wait here."""
        fut = asyncio.get_running_loop().create_future()
        self._error_asked.emit(path, message, fut)
        return await fut

    @Slot(str, str, object)
    def _on_error_asked(self, path: str, message: str, fut) -> None:
        self._questions.append((path, message, fut))
        if self._asking:
            return  # asked while another question is open (its dialog's event loop)
        self._asking = True
        try:
            while self._questions:
                path, message, fut = self._questions.popleft()
                _resolve(fut, self._decide(path, message))
        finally:
            self._asking = False

    def _decide(self, path: str, message: str) -> str:
        if self.cancel_token.cancelled:
            return "cancel"
        if self._standing_answer is not None:
            return self._standing_answer
        decision = self.ask_on_error(path, message)
        if decision in ("ignore_all", "cancel"):
            self._standing_answer = decision
        return decision

    async def host_key_prompt(self, target: str, fingerprint: str, algorithm: str) -> bool:
        """The opener's question about an unknown server key, asked on the GUI thread."""
        fut = asyncio.get_running_loop().create_future()
        self._host_key_asked.emit(target, fingerprint, algorithm, fut)
        return await fut

    @Slot(str, str, str, object)
    def _on_host_key_asked(self, target: str, fingerprint: str, algorithm: str, fut) -> None:
        answer = bool(self.ask_host_key(target, fingerprint, algorithm))

        def resolve() -> None:
            if not fut.done():
                fut.set_result(answer)
        # The engine may ask from a worker thread's own loop: wake that one.
        fut.get_loop().call_soon_threadsafe(resolve)

    # -- end -----------------------------------------------------------------------
    def close(self, timeout: float = 5.0) -> None:
        """Cancel what runs and close the session's connections (blocks briefly:
        only called while the window closes)."""
        self.cancel_token.cancel()
        if self.session is not None:
            fut = asyncio.run_coroutine_threadsafe(self.session.close(), self.runner.loop)
            try:
                fut.result(timeout)
            except Exception:  # noqa: BLE001 - closing anyway
                pass
            self.session = None


def _resolve(fut, value) -> None:
    """Answer an engine future from the GUI thread."""
    def resolve() -> None:
        if not fut.done():
            fut.set_result(value)
    # The engine may ask from a worker thread's own loop: wake that one.
    fut.get_loop().call_soon_threadsafe(resolve)


def _describe(error: BaseException, what: str) -> str:
    if isinstance(error, (Cancelled, asyncio.CancelledError)):
        return f"The {what} was cancelled; nothing more was changed."
    if isinstance(error, JobCannotRun):
        return "\n".join(error.problems)
    if isinstance(error, JobLocked):
        return f"Nothing was changed: {error}."
    return f"{type(error).__name__}: {error}"
