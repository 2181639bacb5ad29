"""One job, end to end: open locations → scan → compare → plan → execute.

A :class:`SyncSession` holds the open filesystems between a comparison and
the sync that follows it (the window compares, lets the person look and
change rows, then synchronizes the very plan that was shown). The command
line uses the same session, so both share one code path, ``--dry-run``
included.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

from app.core.compare import PairComparison, compare_pair, index_side, make_key_fn
from app.core.events import (CancelToken, Cancelled, PhaseStarted, Reporter, ScanProgress,
                             ignore_events)
from app.core.execute import Outcome, PairExecutor
from app.core.filters import PathFilter
from app.core.gcpause import collector_paused
from app.core.job import Direction, Job, Pair, Variant
from app.core.model import Action, Problem, Side, Summary
from app.core.moves import find_moves
from app.core.plan import MoveCandidate, PairPlan, plan_pair
from app.core.state import Remembered, load_state, remember, save_state, state_file
from app.fs.base import FileSystem, FsError, RootState, ScanOptions, ScanResult, Unavailable


class _LinkedToken(CancelToken):
    """Cancelled by itself or by ``outer`` (a head-start scan: stopped when the
    person cancels, or when the comparison does not need it after all)."""

    def __init__(self, outer: CancelToken) -> None:
        super().__init__()
        self._outer = outer

    @property
    def cancelled(self) -> bool:
        return super().cancelled or self._outer.cancelled

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise Cancelled()

    @property
    def paused(self) -> bool:
        return self._outer.paused

    def wait_if_paused(self) -> None:
        self._outer.wait_if_paused()
        self.raise_if_cancelled()


class JobCannotRun(Exception):
    """The job stops before any change; ``problems`` say why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class SafetyRefusal(JobCannotRun):
    """A check the person may consciously override (``--force``)."""


@dataclass
class PairRun:
    index: int
    pair: Pair
    left: FileSystem | None = None
    right: FileSystem | None = None
    versioning: FileSystem | None = None
    missing: set[Side] = field(default_factory=set)  # roots to create on sync
    comparison: PairComparison | None = None
    moves: list[MoveCandidate] = field(default_factory=list)
    state: dict[str, Remembered] | None = None
    plan: PairPlan | None = None
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass
class SyncResult:
    summary: Summary
    problems: list[Problem]
    cancelled: bool = False

    @property
    def exit_code(self) -> int:
        if self.cancelled:
            return 3
        counted = [p for p in self.problems if not p.info]
        if self.summary.failed or any(not p.warning for p in counted):
            return 2
        if self.summary.skipped or self.summary.conflicts or counted:
            return 1
        return 0


def _source_sides(pair: Pair, has_state: bool) -> set[Side]:
    """Sides whose root must exist: reading a missing root as empty would
    turn "not mounted" into "delete everything"."""
    s = pair.sync
    if s.variant in (Variant.MIRROR, Variant.UPDATE):
        return {Side.LEFT if s.direction is Direction.TO_RIGHT else Side.RIGHT}
    if s.variant is Variant.TWO_WAY:
        return {Side.LEFT, Side.RIGHT} if has_state else set()
    sides = set()
    if s.custom_direction("left_only") is Direction.TO_LEFT:
        sides.add(Side.RIGHT)  # left-only items would be deleted because right lacks them
    if s.custom_direction("right_only") is Direction.TO_RIGHT:
        sides.add(Side.LEFT)
    if s.custom_direction("left_only") is Direction.TO_RIGHT or \
            s.custom_direction("left_newer") is Direction.TO_RIGHT:
        sides.add(Side.LEFT)
    if s.custom_direction("right_only") is Direction.TO_LEFT or \
            s.custom_direction("right_newer") is Direction.TO_LEFT:
        sides.add(Side.RIGHT)
    return sides


def _parallel_for(left: FileSystem, right: FileSystem) -> int:
    """Operations in flight: a server's ``parallel`` when one side is remote
    (latency is what concurrency hides), else the local limit."""
    remote = [fs.parallel for fs in (left, right) if fs.local_path("") is None]
    return min(remote) if remote else min(left.parallel, right.parallel)


def _inside(root: str, other: str) -> str | None:
    """``other`` relative to ``root`` when it lies inside it (local paths)."""
    import os

    try:
        rel = os.path.relpath(other, root)
    except ValueError:
        return None
    if rel == "." or rel.startswith(".."):
        return None
    return rel.replace(os.sep, "/")


class SyncSession:
    """Compare and synchronize one job."""

    def __init__(self, job: Job, *, opener, state_dir, report: Reporter = ignore_events,
                 cancel: CancelToken | None = None, keep_equal: bool = False,
                 pause_collector: bool = False, sync_follows: bool = False) -> None:
        self.job = job
        # A sync will follow the compare (the command line's ``sync``, a quick
        # sync): a server side that may take new files starts its first batch
        # command at login, so it is ready when the plan is.
        self.sync_follows = sync_follows
        # A short-lived command pauses the cycle collector while it scans and
        # compares. The window does not: its GcPolicy keeps collections small
        # instead, since everything a paused compare allocated would be
        # walked in one long collection afterwards, stopping the GUI thread.
        self._gc_pause = collector_paused if pause_collector else nullcontext
        self.opener = opener
        self.state_dir = state_dir
        self.report = report
        self.cancel = cancel or CancelToken()
        self.keep_equal = keep_equal
        self.runs: list[PairRun] = [PairRun(i, p) for i, p in enumerate(job.pairs)]
        self.problems: list[Problem] = []

    # -- opening -----------------------------------------------------------
    async def _open_all(self) -> None:
        errors: list[str] = []
        for run in self.runs:
            p = run.pair
            try:
                if run.left is None:
                    run.left = await self.opener.open(p.left)
                if run.right is None:
                    run.right = await self.opener.open(p.right)
                if p.versioning is not None and run.versioning is None:
                    run.versioning = await self.opener.open(p.versioning)
            except Unavailable as exc:
                errors.append(f"pair {run.index + 1}: {exc}")
            except FsError as exc:
                errors.append(f"pair {run.index + 1}: {exc}")
        if errors:
            raise JobCannotRun(errors)

    async def _check_roots(self, run: PairRun) -> list[str]:
        p = run.pair
        run.state = None
        if p.sync.variant is Variant.TWO_WAY:
            run.state = await asyncio.to_thread(load_state, self._state_path(run))
        sources = _source_sides(p, run.state is not None)
        errors = []
        run.missing = set()
        for side, fs, loc in ((Side.LEFT, run.left, p.left), (Side.RIGHT, run.right, p.right)):
            st = await fs.root_state()
            if st is RootState.OK:
                continue
            if st is RootState.MISSING and side not in sources:
                run.missing.add(side)
                continue
            what = {RootState.MISSING: "does not exist",
                    RootState.NOT_A_FOLDER: "is not a folder",
                    RootState.UNREADABLE: "cannot be read"}[st]
            hint = " (is the drive or server folder mounted?)" if st is RootState.MISSING else ""
            errors.append(f"pair {run.index + 1}: the {side.value} folder {loc.display} "
                          f"{what}{hint}; nothing was changed")
        return errors

    def _state_path(self, run: PairRun):
        return state_file(self.state_dir, run.pair.left.display, run.pair.right.display)

    # -- comparing -----------------------------------------------------------
    async def compare(self) -> list[PairRun]:
        """Scan and compare every pair, then plan with the job's settings."""
        self.problems = []
        if any(not r.pair.left.is_sftp or not r.pair.right.is_sftp for r in self.runs):
            from app.fs.local_scan import warm_up_pool

            warm_up_pool()  # worker processes start while the locations open
        token = _LinkedToken(self.cancel)
        ahead = await self._scan_ahead(token)
        try:
            self._list_servers_early(ahead, token)
            await self._open_all()
            self._scan_servers_ahead(ahead, token)
            errors: list[str] = []
            for run in self.runs:
                errors += await self._check_roots(run)
            if errors:
                raise JobCannotRun(errors)
            for run in self.runs:
                self.cancel.raise_if_cancelled()
                with self._gc_pause():
                    await self._compare_pair(run, ahead)
        finally:
            token.cancel()  # a head start nobody used stops and is dropped
            pending = [task for _ic, task in ahead.values()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        return self.runs

    async def _scan_ahead(self, token: CancelToken) -> dict[Side, tuple[bool, asyncio.Task]]:
        """Start scanning the first pair's local folder right away when its other
        side is on a server, so the local walk overlaps the SSH login (and the
        import of the SSH library) instead of waiting for them. The scan assumes
        the server is case-sensitive; :meth:`_compare_pair` uses it only if so."""
        ahead: dict[Side, tuple[bool, asyncio.Task]] = {}
        if not self.runs:
            return ahead
        run = self.runs[0]
        p = run.pair
        for side, loc, other in ((Side.LEFT, p.left, p.right), (Side.RIGHT, p.right, p.left)):
            if loc.is_sftp or not other.is_sftp:
                continue
            fs = run.left if side is Side.LEFT else run.right
            try:
                if fs is None:
                    fs = await self.opener.open(loc)  # a local folder: no waiting
                state = await fs.root_state()
            except (FsError, Unavailable):
                continue  # opened (and reported) again in the usual order
            if side is Side.LEFT:
                run.left = fs
            else:
                run.right = fs
            if state is not RootState.OK:
                continue
            self._start_ahead(ahead, run, side, not fs.case_sensitive, token)
        return ahead

    def _list_servers_early(self, ahead: dict[Side, tuple[bool, asyncio.Task]],
                            token: CancelToken) -> None:
        """The first pair's server side starts its one-command listing as soon
        as the login is done, while its SFTP sessions start (a few round trips
        each, which a far server makes long): only where commands are allowed,
        since listing over SFTP needs the sessions anyway."""
        prepare = getattr(self.opener, "prepare_sftp", None)
        run = self.runs[0] if self.runs else None
        if prepare is None or run is None:
            return
        p = run.pair
        for side, loc, other_loc in ((Side.LEFT, p.left, p.right), (Side.RIGHT, p.right, p.left)):
            opened = run.left if side is Side.LEFT else run.right
            if side in ahead or not loc.is_sftp or opened is not None:
                continue  # (an open side, as on a second compare, lists right away anyway)
            settings = self.opener.connection_settings(loc)
            if getattr(settings.remote_commands, "value", settings.remote_commands) != "auto":
                continue
            fs = prepare(loc)
            other = (run.right if side is Side.LEFT else run.left) or prepare(other_loc)
            if fs is None or other is None:
                continue  # the other side is not open yet: its case rule is unknown
            ignore_case = not (fs.case_sensitive and other.case_sensitive)
            if not ahead:
                self.report(PhaseStarted("scan", run.index))
            task = asyncio.ensure_future(self._early_listing(run, side, fs, ignore_case, token))
            ahead[side] = (ignore_case, task)

    async def _early_listing(self, run: PairRun, side: Side, fs, ignore_case: bool,
                             cancel: CancelToken) -> ScanResult | None:
        """See :meth:`_list_servers_early`; None if the login failed here (the
        usual opening then reports it, or asks about the host key, and the
        scan runs in the usual order)."""
        try:
            await fs.connected()
        except (Unavailable, FsError):
            return None
        p = run.pair
        source = p.right if side is Side.LEFT else p.left
        one_way = p.sync.variant in (Variant.MIRROR, Variant.UPDATE)
        toward = Side.RIGHT if p.sync.direction is Direction.TO_RIGHT else Side.LEFT
        warm = getattr(fs, "warm_batches", None)
        if (self.sync_follows and warm is not None and not source.is_sftp
                and (not one_way or toward is side)):
            warm(1)
        with self._gc_pause():
            return await self._scan(run, side, ignore_case, cancel, fs=fs)

    def _scan_servers_ahead(self, ahead: dict[Side, tuple[bool, asyncio.Task]],
                            token: CancelToken) -> None:
        """Once the first pair is open, its server side starts listing while the
        roots are checked (each check is a few round trips to the server)."""
        run = self.runs[0] if self.runs else None
        if run is None or run.left is None or run.right is None:
            return
        ignore_case = not (run.left.case_sensitive and run.right.case_sensitive)
        for side, loc in ((Side.LEFT, run.pair.left), (Side.RIGHT, run.pair.right)):
            if loc.is_sftp and side not in ahead:
                self._start_ahead(ahead, run, side, ignore_case, token)

    def _start_ahead(self, ahead: dict[Side, tuple[bool, asyncio.Task]], run: PairRun,
                     side: Side, ignore_case: bool, token: CancelToken) -> None:
        if not ahead:
            self.report(PhaseStarted("scan", run.index))
        task = asyncio.ensure_future(self._scan_paused(run, side, ignore_case, token))
        ahead[side] = (ignore_case, task)

    async def _scan_paused(self, run: PairRun, side: Side, ignore_case: bool,
                           cancel: CancelToken) -> ScanResult:
        with self._gc_pause():
            return await self._scan(run, side, ignore_case, cancel)

    def _filter_for(self, run: PairRun, side: Side, ignore_case: bool) -> PathFilter:
        extra: tuple[str, ...] = ()
        p = run.pair
        loc = p.left if side is Side.LEFT else p.right
        if p.versioning is not None and not p.versioning.is_sftp and not loc.is_sftp:
            rel = _inside(loc.path, p.versioning.path)
            if rel:
                extra = (rel,)  # never sync the versions into themselves
        return PathFilter(p.filter, ignore_case=ignore_case, extra_excluded_dirs=extra)

    async def _scan(self, run: PairRun, side: Side, ignore_case: bool,
                    cancel: CancelToken | None = None, fs=None) -> ScanResult:
        if side in run.missing:
            return ScanResult()
        if fs is None:
            fs = run.left if side is Side.LEFT else run.right
        opts = ScanOptions(run.pair.compare.symlinks.value,
                           self._filter_for(run, side, ignore_case))

        def progress(n: int, current: str) -> None:
            self.report(ScanProgress(run.index, side.value, n, current))
        return await fs.scan(opts, progress, cancel or self.cancel)

    async def _compare_pair(self, run: PairRun,
                            ahead: dict[Side, tuple[bool, asyncio.Task]] | None = None) -> None:
        p = run.pair
        ignore_case = not (run.left.case_sensitive and run.right.case_sensitive)
        started = {} if run.index or not ahead else ahead
        if not started:
            self.report(PhaseStarted("scan", run.index))

        async def scan(side: Side) -> ScanResult:
            early = started.get(side)
            if early is not None and early[0] == ignore_case and side not in run.missing:
                result = await early[1]
                if result is not None:
                    return result
            return await self._scan(run, side, ignore_case)
        tasks = {side: asyncio.ensure_future(scan(side)) for side in (Side.LEFT, Side.RIGHT)}
        indexed: dict[str, object] = {}
        try:
            done, pending = await asyncio.wait(tasks.values(),
                                               return_when=asyncio.FIRST_COMPLETED)
            if pending:
                # One side is in while the other still lists (a server, usually):
                # key the finished one now, in the time spent waiting anyway.
                for side, task in tasks.items():
                    if task in done and task.exception() is None:
                        indexed[side.value] = index_side(
                            task.result(), make_key_fn(ignore_case), ignore_case)
            left_scan, right_scan = await asyncio.gather(*tasks.values())
        except BaseException:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            raise
        self.report(PhaseStarted("compare", run.index))
        run.comparison = await compare_pair(
            run.index, left_scan, right_scan, p.compare, ignore_case=ignore_case,
            indexed=indexed,
            left_fs=run.left, right_fs=run.right, cancel=self.cancel,
            keep_equal=self.keep_equal,
            hash_parallel=min(run.left.parallel, run.right.parallel))
        run.moves = []
        if p.sync.detect_moves:
            run.moves = await find_moves(run.comparison, run.left, run.right, p.compare,
                                         self.cancel)
        self.replan(run)

    def replan(self, run: PairRun, overrides: dict[str, Action] | None = None) -> PairPlan:
        """(Re)derive a pair's plan, e.g. after the person changed rows."""
        run.plan = plan_pair(run.comparison, run.pair.sync, state=run.state,
                             overrides=overrides, moves=run.moves)
        return run.plan

    @property
    def refusals(self) -> list[str]:
        return [r for run in self.runs if run.plan for r in run.plan.refusals]

    # -- synchronizing -------------------------------------------------------
    async def execute(self, *, force: bool = False, on_error=None) -> SyncResult:
        """Carry out every pair's current plan. All pairs' safety checks run
        first; one refusal stops the job before anything changes.

        ``on_error``: an async ``(path, message) -> "retry" | "ignore" |
        "ignore_all" | "cancel"`` asked at each failure (the window's dialog);
        without it the job's ``errors`` setting decides.
        """
        if any(run.plan is None for run in self.runs):
            raise RuntimeError("compare before executing")
        if self.refusals and not force:
            raise SafetyRefusal(self.refusals)
        stamp = time.strftime("%Y-%m-%d %H%M%S")
        summary = Summary()
        # What the comparison could not handle (unreadable folders, names one
        # side cannot hold) is part of the result: such a sync is not complete.
        problems: list[Problem] = [p for run in self.runs for p in run.plan.problems]
        cancelled = False
        stop = self.job.errors == "stop"
        total_items = sum(len(r.plan.actionable) for r in self.runs)
        total_bytes = sum(r.plan.summary.bytes_to_left + r.plan.summary.bytes_to_right
                          for r in self.runs)
        self.report(PhaseStarted("sync", None, total_items, total_bytes))
        for run in self.runs:
            if cancelled or (stop and summary.failed):
                break
            try:
                for side in run.missing:
                    fs = run.left if side is Side.LEFT else run.right
                    if any(i.action.target_side is side for i in run.plan.actionable):
                        await fs.make_root()
                ex = PairExecutor(run.plan, run.left, run.right, deletion=run.pair.sync.deletion,
                                  versioning=run.versioning, stamp=stamp,
                                  follow_links=run.pair.compare.symlinks.value == "follow",
                                  stop_on_error=stop, report=self.report, cancel=self.cancel,
                                  parallel=_parallel_for(run.left, run.right),
                                  on_error=on_error,
                                  need_entries=run.pair.sync.variant is Variant.TWO_WAY)
                try:
                    run.outcomes = await ex.run()
                except BaseException:
                    run.outcomes = ex.outcomes
                    raise
            except (asyncio.CancelledError, Cancelled):
                cancelled = True
            except FsError as exc:  # the target root could not be created
                problems.append(Problem(None, f"pair {run.index + 1}: {exc}"))
            finally:
                self._tally(run, summary, problems)
            if run.pair.sync.variant is Variant.TWO_WAY and not cancelled:
                await asyncio.to_thread(self._save_state, run)
        return SyncResult(summary, problems, cancelled)

    def _tally(self, run: PairRun, summary: Summary, problems: list[Problem]) -> None:
        for item in run.plan.items:
            if item.action is Action.CONFLICT:
                summary.conflicts += 1
                problems.append(Problem(item.path, f"conflict left alone: "
                                                   f"{item.note or 'both sides changed'}",
                                        warning=True))
        for o in run.outcomes:
            if o.ok:
                conflicts = summary.conflicts
                summary.add(o.item)
                summary.conflicts = conflicts
            elif o.skipped:
                summary.skipped += 1
                problems.append(Problem(o.item.path, o.message or "skipped", warning=True))
            else:
                summary.failed += 1
                problems.append(Problem(o.item.path, o.message or "failed"))

    def _save_state(self, run: PairRun) -> None:
        cmp = run.comparison
        key = cmp.key_of
        old = run.state or {}
        new: dict[str, Remembered] = {}
        listed = {key(i.path) for i in run.plan.items}
        listed |= {key(i.from_path) for i in run.plan.items if i.from_path}
        lmap, rmap = cmp.left.by_key, cmp.right.by_key
        for k, le in lmap.items():
            re_ = rmap.get(k)
            if re_ is not None and k not in listed and le[1] is re_[1]:
                new[k] = Remembered(le[1], le[2], le[3], re_[2], re_[3])
        done = {id(o.item): o for o in run.outcomes}
        for item in run.plan.items:
            k = key(item.path)
            o = done.get(id(item))
            if o is None or not o.ok:
                if k in old:
                    new[k] = old[k]
                if item.from_path and key(item.from_path) in old:
                    new[key(item.from_path)] = old[key(item.from_path)]
                continue
            side = item.action.target_side
            if item.action in (Action.DELETE_LEFT, Action.DELETE_RIGHT):
                continue
            src = item.entry(side.other)
            if o.new_entry is None or src is None:
                continue
            new[k] = remember(src, o.new_entry) if side is Side.RIGHT else remember(o.new_entry,
                                                                                    src)
        for k in cmp.excluded_keys:  # unreadable or ambiguous: keep what we knew
            for ok_, v in old.items():
                if ok_ == k or ok_.startswith(k + "/"):
                    new[ok_] = v
        save_state(self._state_path(run), new, run.pair.left.display, run.pair.right.display)

    async def close(self) -> None:
        await self.opener.close()
