"""SyncPlan → operations on the two filesystems, without ever losing data.

For every operation:
- the source and the target are re-checked first: if either is no longer
  what the comparison saw, the item is skipped (a warning), not forced;
- a file is written under a temporary ``.syncpane*.tmp`` name in the target
  folder, its size checked and its time set, and only then renamed over the
  real name, so a run killed at any moment leaves no partial file there;
- whatever a sync deletes *or overwrites* first goes to the recycle bin or
  the versioning folder, unless the person chose permanent deletion.

Order: file deletions, new folders (top down), moves, emptied folders
(deepest first), then copies (``parallel`` at a time).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import posixpath
import secrets
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass

from app.core.events import BytesDone, CancelToken, ItemDone, ItemStarted, Reporter
from app.core.job import Deletion
from app.core.model import (COPY_TO, CREATE_DIR_ON, DELETE_ON, MOVE_ON, Action, Entry, Kind,
                            PlanItem, Side)
from app.core.plan import PairPlan
from app.fs.base import (RESERVED_PREFIX, TEMP_SUFFIX, AlreadyExists, FileSystem, FsError,
                         NotEmpty, NotFound)

# A file this small is bound by round trips, not bandwidth: with a remote side,
# SMALL_WINDOW times ``parallel`` of them are in flight at once.
SMALL_FILE = 1024 * 1024
SMALL_WINDOW = 8


@dataclass(slots=True)
class Outcome:
    item: PlanItem
    ok: bool
    skipped: bool = False
    message: str | None = None
    new_entry: Entry | None = None  # what the changed side holds now


class Skip(Exception):
    """The item is no longer as compared: leave it alone (a warning)."""


def versioned_name(rel: str, stamp: str, n: int = 1) -> str:
    """``dir/NAME YYYY-MM-DD HHMMSS.EXT`` (EXT = last suffix, if any)."""
    parent, _, base = rel.rpartition("/")
    extra = f" ({n})" if n > 1 else ""
    dot = base.rfind(".")
    if dot > 0:
        name = f"{base[:dot]} {stamp}{extra}{base[dot:]}"
    else:
        name = f"{base} {stamp}{extra}"
    return f"{parent}/{name}" if parent else name


def temp_name(parent: str) -> str:
    name = f"{RESERVED_PREFIX}.{secrets.token_hex(6)}{TEMP_SUFFIX}"
    return f"{parent}/{name}" if parent else name


def same_as(now: Entry | None, expected: Entry | None) -> bool:
    """True when an item still is what the comparison saw."""
    if expected is None or now is None:
        return expected is None and now is None
    if now.kind is not expected.kind:
        return False
    if now.kind is Kind.DIR:
        return True
    if now.kind is Kind.SYMLINK:
        return now.link_target == expected.link_target
    return now.size == expected.size and now.mtime_ns == expected.mtime_ns


async def transfer(src: FileSystem, src_rel: str, dst: FileSystem, dst_rel: str,
                   on_bytes, cancel: CancelToken, attrs: tuple | None = None) -> None:
    """Copy a file between any two backends into a new file ``dst_rel``.

    ``attrs`` (mtime_ns, mode): for a ``dst`` with ``writes_attrs``, set with the write.
    """
    extra = {"attrs": attrs} if attrs is not None else {}
    sp = src.local_path(src_rel)
    if sp is not None:
        await dst.write_from_local(sp, dst_rel, on_bytes, cancel, **extra)
        return
    dp = dst.local_path(dst_rel)
    if dp is not None:
        await src.read_to_local(src_rel, dp, on_bytes, cancel)
        return
    with tempfile.TemporaryDirectory(prefix="syncpane-") as tmpdir:  # server to server
        local = os.path.join(tmpdir, "data")
        await src.read_to_local(src_rel, local, lambda n: None, cancel)
        await dst.write_from_local(local, dst_rel, on_bytes, cancel, **extra)


class PairExecutor:
    """Carries out one pair's plan."""

    def __init__(self, plan: PairPlan, left: FileSystem, right: FileSystem, *,
                 deletion: Deletion, versioning: FileSystem | None, stamp: str,
                 follow_links: bool, stop_on_error: bool, report: Reporter,
                 cancel: CancelToken, parallel: int, on_error=None,
                 need_entries: bool = True) -> None:
        self.plan = plan
        # async (path, message) -> "retry" | "ignore" | "ignore_all" | "cancel"
        self.on_error = on_error
        self._ignore_all = False
        self._versioning_ready = False
        self.need_entries = need_entries  # stat results afterwards (two-way state)
        self._ready_dirs: dict[Side, set[str]] = {}
        # Folders this run created: nothing of anyone else's was in them, so a
        # new file there needs no look first (its no-clobber rename still checks).
        self._created_dirs: dict[Side, set[str]] = {Side.LEFT: set(), Side.RIGHT: set()}
        self.fs = {Side.LEFT: left, Side.RIGHT: right}
        self._remote_involved = any(f.local_path("") is None for f in (left, right))
        self.deletion = deletion
        self.versioning = versioning
        self.stamp = stamp
        self.follow = follow_links
        self.stop_on_error = stop_on_error
        self.report = report
        self.cancel = cancel
        self.parallel = max(1, parallel)
        self.stopped = False
        self.outcomes: list[Outcome] = []
        idx = plan.comparison
        self._names = {Side.LEFT: idx.left.by_key, Side.RIGHT: idx.right.by_key}
        self._key = idx.key_of

    # -- naming ------------------------------------------------------------
    def target_name(self, item: PlanItem, side: Side) -> str:
        """Where ``item`` lives (or will live) on ``side``: its existing
        spelling there, else the source's name under the target's spelling
        of the parent folder."""
        e = item.entry(side)
        if e is not None:
            return e.name
        parent, _, base = item.path.rpartition("/")
        if not parent:
            return base
        existing = self._names[side].get(self._key(parent))
        parent_name = existing[0] if existing is not None else self._parent_on(parent, side)
        return f"{parent_name}/{base}"

    def _parent_on(self, parent: str, side: Side) -> str:
        up, _, base = parent.rpartition("/")
        if not up:
            return base
        existing = self._names[side].get(self._key(up))
        return f"{existing[0] if existing else self._parent_on(up, side)}/{base}"

    # -- checks ------------------------------------------------------------
    async def _expect(self, side: Side, name: str, expected: Entry | None) -> None:
        fs = self.fs[side]
        stat_now = getattr(fs, "stat_now", None)
        if stat_now is not None and self._remote_involved:
            # A local stat takes microseconds; a worker-thread trip costs more
            # (per small file, uploads to a server do this once).
            now = stat_now(name, self.follow)
        else:
            now = await fs.stat(name, self.follow)
        if not same_as(now, expected):
            what = "appeared" if expected is None else ("disappeared" if now is None
                                                        else "changed")
            raise Skip(f"{name} {what} on the {side.value} side since the comparison; "
                       "left alone (compare again)")

    # -- retiring old versions ----------------------------------------------
    async def _retire(self, side: Side, name: str, entry: Entry) -> None:
        """Move a file that is about to be deleted or overwritten out of the way."""
        fs = self.fs[side]
        if entry.kind is Kind.DIR:
            await fs.remove_dir(name)
            return
        if self.deletion is Deletion.PERMANENT:
            await fs.remove_file(name)
        elif self.deletion is Deletion.RECYCLE:
            await fs.recycle(name, self.stamp)
        else:
            await self._version(fs, name)

    async def _version(self, fs: FileSystem, name: str) -> None:
        store = self.versioning
        assert store is not None
        if not self._versioning_ready:
            await store.make_root()
            self._versioning_ready = True
        for n in range(1, 1000):
            dest = versioned_name(name, self.stamp, n)
            if await store.stat(dest) is None:
                break
        parent = posixpath.dirname(dest)
        if parent:
            await store.mkdir(parent)
        src_path, dst_path = fs.local_path(name), store.local_path(dest)
        if src_path is not None and dst_path is not None:
            try:
                await asyncio.to_thread(os.rename, src_path, dst_path)
                return
            except OSError:
                pass  # another drive: copy, then delete
        tmp = temp_name(parent)
        await transfer(fs, name, store, tmp, lambda n: None, self.cancel)
        await store.rename(tmp, dest)
        await fs.remove_file(name)

    # -- operations ----------------------------------------------------------
    async def _copy(self, item: PlanItem, to: Side) -> Entry | None:
        src_side = to.other
        S, T = self.fs[src_side], self.fs[to]
        src, old = item.entry(src_side), item.entry(to)
        tname = self.target_name(item, to)
        problem = T.check_name(tname)
        if problem:
            raise FsError(f"cannot create {tname} on the {to.value} side: {problem}", tname)
        if src.kind is not Kind.FILE or src.size > SMALL_FILE:
            # A small file is looked at once, after its bytes are read (below):
            # a change then is caught as surely, and costs at most a small copy.
            await self._expect(src_side, src.name, src)
        parent = posixpath.dirname(tname)
        if (old is not None or parent not in self._created_dirs[to]
                or getattr(T, "rename_new", None) is None):
            await self._expect(to, tname, old)
        await self._ensure_dir(to, parent)
        tmp = temp_name(parent)
        try:
            if src.kind is Kind.SYMLINK:
                await T.make_link(tmp, src.link_target or "")
            else:
                def on_bytes(n: int) -> None:
                    self.report(BytesDone(self.plan.index, item.path, n))

                # A backend that sets time and mode with the write saves two requests.
                attrs = (src.mtime_ns, src.mode) if getattr(T, "writes_attrs", False) else None
                try:
                    await transfer(S, src.name, T, tmp, on_bytes, self.cancel, attrs)
                except FsError as exc:
                    # Gone or changed since the comparison: a Skip, as for any change.
                    await self._expect(src_side, src.name, src)
                    # Else name the real file, not the temporary one.
                    raise type(exc)(str(exc).replace(tmp, tname), tname) from exc
                # The backends check that every byte read was written; the
                # source is (still) as compared, so the copy has its size.
                await self._expect(src_side, src.name, src)  # changed before or while copying?
                if attrs is None:
                    await T.set_mtime(tmp, src.mtime_ns)
                    if src.mode is not None:
                        await T.set_mode(tmp, src.mode)
            self.cancel.raise_if_cancelled()  # a cancel during the copy: keep the old file
            if old is not None:
                await self._expect(to, tname, old)
                if old.kind is Kind.DIR:
                    await T.remove_dir(tname)
                elif self.deletion is not Deletion.PERMANENT or old.kind is not src.kind:
                    await self._retire(to, tname, old)
                await T.rename(tmp, tname)
            else:
                await self.place_new(T, tmp, tname, to)
        except BaseException:
            try:
                await asyncio.shield(T.remove_file(tmp))
            except (FsError, Exception):
                pass
            raise
        return await T.stat(tname, self.follow) if self.need_entries else None

    async def place_new(self, T: FileSystem, tmp: str, tname: str, to: Side) -> None:
        """Rename a finished temporary file to the name where nothing was:
        never over something that appeared meanwhile (a Skip then)."""
        rename_new = getattr(T, "rename_new", None)
        if rename_new is None:
            await T.rename(tmp, tname)
            return
        try:
            await rename_new(tmp, tname)
        except AlreadyExists:
            raise Skip(f"{tname} appeared on the {to.value} side since the comparison; "
                       "left alone (compare again)") from None

    def _ready(self, side: Side) -> set[str]:
        """Folders known to exist on ``side`` (as compared, or made by this run)."""
        ready = self._ready_dirs.get(side)
        if ready is None:
            ready = {e[0] for e in self._names[side].values() if e[1] is Kind.DIR}
            self._ready_dirs[side] = ready
        return ready

    async def _ensure_dir(self, side: Side, rel: str) -> None:
        """Create a parent folder unless it is known to exist already."""
        if not rel:
            return
        ready = self._ready(side)
        if rel not in ready:
            await self.fs[side].mkdir(rel)
            ready.add(rel)
            self._created_dirs[side].add(rel)

    async def _create_dir(self, item: PlanItem, to: Side) -> Entry | None:
        T = self.fs[to]
        tname = self.target_name(item, to)
        problem = T.check_name(tname)
        if problem:
            raise FsError(f"cannot create {tname} on the {to.value} side: {problem}", tname)
        old = item.entry(to)
        if old is None:
            # Nothing there when compared: make it (a folder made meanwhile is
            # fine); look only if that fails, to tell "something appeared".
            try:
                await T.mkdir(tname)
            except FsError:
                if await T.stat(tname) is not None:
                    await self._expect(to, tname, old)  # a Skip: it appeared
                raise
        else:
            now = await T.stat(tname)
            if now is not None and now.kind is Kind.DIR:
                return now  # already there (made as the parent of a moved or copied file)
            await self._expect(to, tname, old)
            if old.kind is not Kind.DIR:
                await self._retire(to, tname, old)
            await T.mkdir(tname)
        self._created_dirs[to].add(tname)
        self._ready(to).add(tname)  # so its files do not make it again
        return await T.stat(tname) if self.need_entries else None

    async def _delete(self, item: PlanItem, side: Side) -> None:
        e = item.entry(side)
        await self._expect(side, e.name, e)
        try:
            await self._retire(side, e.name, e)
        except NotEmpty as exc:
            raise Skip(f"folder {e.name} kept on the {side.value} side: it still holds items "
                       "outside the filter") from exc

    async def _move(self, item: PlanItem, side: Side) -> Entry | None:
        T = self.fs[side]
        old = item.from_entry
        dest = self.target_name(item, side)
        problem = T.check_name(dest)
        if problem:
            raise FsError(f"cannot create {dest} on the {side.value} side: {problem}", dest)
        src = item.entry(side.other)
        await self._expect(side.other, src.name, src)
        await self._expect(side, old.name, old)
        await self._expect(side, dest, None)
        await self._ensure_dir(side, posixpath.dirname(dest))
        await T.rename(old.name, dest)
        return await T.stat(dest) if self.need_entries else None

    def started(self, item: PlanItem) -> None:
        """Report that ``item`` starts."""
        a = item.action
        size = 0
        if a in (Action.COPY_TO_RIGHT, Action.COPY_TO_LEFT):
            src = item.entry(a.target_side.other)
            size = src.size if src is not None else 0
        self.report(ItemStarted(self.plan.index, item.path, a.value, size))

    async def _run_item(self, item: PlanItem, announce: bool = True) -> None:
        if self.stopped or self.cancel.cancelled:
            return
        if self.cancel.paused:
            await asyncio.to_thread(self.cancel.wait_if_paused)
        a = item.action
        side = a.target_side
        if announce:
            self.started(item)
        while True:
            try:
                new_entry = await self._apply(item, a, side)
            except Skip as exc:
                self._done(Outcome(item, False, True, str(exc)))
                return
            except (FsError, OSError) as exc:
                message = str(exc) if isinstance(exc, FsError) else f"{item.path}: {exc}"
                if await self._ask_retry(item, message):
                    continue
                self._done(Outcome(item, False, False, message))
                if self.stop_on_error and self.on_error is None:
                    self.stopped = True
                return
            self._done(Outcome(item, True, False, None, new_entry))
            return

    async def _apply(self, item: PlanItem, a: Action, side: Side) -> Entry | None:
        if a is COPY_TO[side]:
            return await self._copy(item, side)
        if a is CREATE_DIR_ON[side]:
            return await self._create_dir(item, side)
        if a is DELETE_ON[side]:
            await self._delete(item, side)
            return None
        if a is MOVE_ON[side]:
            return await self._move(item, side)
        return None

    async def _ask_retry(self, item: PlanItem, message: str) -> bool:
        """With a person present (the window), ask what to do about a failure."""
        if self.on_error is None or self._ignore_all:
            return False
        decision = await self.on_error(item.path, message)
        if decision == "retry":
            return True
        if decision == "ignore_all":
            self._ignore_all = True
        elif decision == "cancel":
            self.cancel.cancel()
        return False

    def done(self, outcome: Outcome) -> None:
        """Record and report how an item ended."""
        self._done(outcome)

    def _done(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.report(ItemDone(self.plan.index, outcome.item.path, outcome.item.action.value,
                             outcome.ok, outcome.skipped, outcome.message))

    async def _clean_leftovers(self) -> None:
        cmp = self.plan.comparison
        for side, idx in ((Side.LEFT, cmp.left), (Side.RIGHT, cmp.right)):
            for rel in idx.leftovers:
                try:
                    await self.fs[side].remove_file(rel)
                except NotFound:
                    pass
                except FsError:
                    pass  # not ours to fight over; it is never synced anyway

    async def _clean_staging(self) -> None:
        """Staging folders of a cut-short fast path (never synced): removed
        alongside the run's own work (a listing of the root is a few round trips)."""
        for fs in {id(f): f for f in self.fs.values()}.values():
            clean = getattr(fs, "clean_staging", None)
            if clean is not None:
                await clean()

    async def run(self) -> list[Outcome]:
        """Carry out the plan; returns one outcome per attempted item."""
        await self._clean_leftovers()
        staging = asyncio.ensure_future(self._clean_staging())
        try:
            await self._run_plan()
        except BaseException:
            staging.cancel()
            await asyncio.gather(staging, return_exceptions=True)
            raise
        await staging
        return self.outcomes

    async def _run_plan(self) -> None:
        items = self.plan.actionable
        moves = [i for i in items if i.action in (Action.MOVE_LEFT, Action.MOVE_RIGHT)]
        deletes = [i for i in items if i.action in (Action.DELETE_LEFT, Action.DELETE_RIGHT)]
        file_deletes = [i for i in deletes if i.kind is not Kind.DIR]
        dir_deletes = sorted((i for i in deletes if i.kind is Kind.DIR),
                             key=lambda i: i.path.count("/"), reverse=True)
        mkdirs = sorted((i for i in items if i.action in (Action.CREATE_DIR_LEFT,
                                                          Action.CREATE_DIR_RIGHT)),
                        key=lambda i: i.path.count("/"))
        copies = [i for i in items if i.action in (Action.COPY_TO_LEFT, Action.COPY_TO_RIGHT)]
        from app.core.batch_copy import BatchCopier

        batcher = BatchCopier(self)
        inline = self._inline_context() is not None
        batched, copies = ([], copies) if inline else batcher.split(copies)
        batcher.warm(batched)
        placing = asyncio.Event()
        # With nothing to free first, the batches read and send their files
        # while the folders are made, and place them once they are.
        early = bool(batched) and not (deletes or moves)
        batches = asyncio.ensure_future(batcher.run(batched, placing)) if early else None
        try:
            # (Each is a request or two: many at once, as for small files.)
            await self._parallel(file_deletes, SMALL_WINDOW)
            # Before moves (a move may land in a new folder); top down, and the
            # folders of one depth at once (their parents exist by then).
            for _depth, level in itertools.groupby(mkdirs, key=lambda i: i.path.count("/")):
                await self._parallel(list(level), SMALL_WINDOW)
            for item in moves:  # before folder deletions: a move may empty a folder
                await self._run_item(item)
            for item in dir_deletes:
                await self._run_item(item)
            placing.set()
            await self._copies(copies, batches or batcher.run(batched))
        except BaseException:
            if batches is not None:
                batches.cancel()
                await asyncio.gather(batches, return_exceptions=True)
            raise
        self.cancel.raise_if_cancelled()

    async def _copies(self, copies: list[PlanItem], batches: Awaitable) -> None:
        """Copies: new small files in batches (``batches``, the fast path; maybe
        under way already), the other small files many at once where a side is
        remote, big ones ``parallel`` at a time."""
        if self._inline_context() is not None:
            await batches  # (none: batches never take local-to-local copies)
            await self._parallel(copies)
            return
        small = [i for i in copies if self._copy_size(i) <= SMALL_FILE]
        big = [i for i in copies if self._copy_size(i) > SMALL_FILE]
        await run_all([batches, self._parallel(small, SMALL_WINDOW), self._parallel(big)])

    def _copy_size(self, item: PlanItem) -> int:
        src = item.entry(item.action.target_side.other)
        return src.size if src is not None else 0

    def _inline_context(self):
        """The context that lets whole operations run in worker threads, when
        every filesystem involved is local; else None."""
        involved = [self.fs[Side.LEFT], self.fs[Side.RIGHT]]
        if self.versioning is not None:
            involved.append(self.versioning)
        if all(hasattr(fs, "inline_io") for fs in involved):
            return involved[0].inline_io
        return None

    async def _parallel(self, items: list[PlanItem], window: int = 1) -> None:
        """Run ``items``, ``parallel`` x ``window`` at a time."""
        if not items:
            return
        queue = iter(items)  # shared by the workers; next() on it is atomic
        failed = []

        async def worker() -> None:
            for item in queue:
                if self.stopped or self.cancel.cancelled or failed:
                    return
                await self._run_item(item)

        n = min(self.parallel * window, len(items))
        inline = self._inline_context()
        if inline is not None:
            def thread_worker() -> None:
                with inline():
                    try:
                        asyncio.run(worker())
                    except BaseException:
                        failed.append(True)  # the others stop after their current item
                        raise
            # Every thread ends before this returns (a thread cannot be
            # cancelled): a run is over only once no copy is still under way
            # or cleaning up after itself.
            results = await asyncio.gather(*(asyncio.to_thread(thread_worker) for _ in range(n)),
                                           return_exceptions=True)
            for r in results:
                if isinstance(r, BaseException):
                    raise r
            return
        await run_all([worker() for _ in range(n)])


async def run_all(coros: list) -> None:
    """Run all at once; when one fails, cancel the others, then raise."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
