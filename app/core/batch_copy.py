"""New small files to a server in batches: the executor's side of the fast path.

A backend that offers ``write_many`` (SFTP with remote commands allowed)
takes a whole group of new small local files at once, and sends them as they
are read; once read, each source is looked at through the open file, and only
one still as compared, staged under a reserved name and checked on the server, is put
under its real name, only where nothing is (a hard link, which never replaces
a file). Every file the batch did not place, for whatever reason, is copied
the ordinary way, with the ordinary checks (a name taken meanwhile: a Skip),
retries and per-item errors.
"""

from __future__ import annotations

import asyncio
import posixpath
from typing import TYPE_CHECKING

from app.core.events import BytesDone
from app.core.model import COPY_TO, Kind, PlanItem, Side
from app.fs.base import FsError

if TYPE_CHECKING:
    from app.core.execute import PairExecutor

# Every batch starts a command on the server (a session and a shell: a few
# tenths of a second on a busy machine), so batches are large; the first one is
# smaller, so the server has work while the next is read and sent.
FIRST_BATCH = 500
BATCH_FILES = 5000
BATCH_BYTES = 32 * 1024 * 1024
BATCHES_AT_ONCE = 2


class BatchCopier:
    """Groups new small files per target side and copies each group in one go."""

    def __init__(self, ex: PairExecutor) -> None:
        self.ex = ex

    def split(self, copies: list[PlanItem]) -> tuple[list[PlanItem], list[PlanItem]]:
        """(items a batch may take, the rest): new small files from a local
        folder to a side that takes batches."""
        from app.core.execute import SMALL_FILE

        takes = {}
        for side in (Side.LEFT, Side.RIGHT):
            T, S = self.ex.fs[side], self.ex.fs[side.other]
            # (A source's files have local paths, or none do.)
            takes[side] = (getattr(T, "offers_write_many", False)
                           and S.local_path("probe") is not None)
        if not (takes[Side.LEFT] or takes[Side.RIGHT]):
            return [], list(copies)
        batched, rest = [], []
        to_right, to_left, file = COPY_TO[Side.RIGHT], COPY_TO[Side.LEFT], Kind.FILE
        for item in copies:
            a = item.action
            if a is to_right:
                ok, src, dst = takes[Side.RIGHT], item.left, item.right
            elif a is to_left:
                ok, src, dst = takes[Side.LEFT], item.right, item.left
            else:
                ok = False
            if (ok and dst is None and src is not None and src.kind is file
                    and src.size <= SMALL_FILE):
                batched.append(item)
            else:
                rest.append(item)
        return batched, rest

    def warm(self, items: list[PlanItem]) -> None:
        """A side that takes new small files in batches starts the commands of
        its first batches now, while deletions and folders are done: a
        command takes a while to start on many servers."""
        for side in (Side.LEFT, Side.RIGHT):
            n = sum(1 for i in items if i.action.target_side is side)
            warm = getattr(self.ex.fs[side], "warm_batches", None)
            if n and warm is not None:
                warm(1 if n <= FIRST_BATCH else BATCHES_AT_ONCE)

    async def run(self, items: list[PlanItem], placing: asyncio.Event | None = None) -> None:
        """Copy ``items`` (from :meth:`split`) in batches, a few batches at once.

        With ``placing``, this may start before the executor has made the
        folders: files are read and sent (staged) meanwhile, and none is put in
        place before ``placing`` is set.
        """
        from app.core.execute import SMALL_WINDOW

        groups = []
        for side in (Side.LEFT, Side.RIGHT):
            group: list[PlanItem] = []
            size = 0
            limit = FIRST_BATCH  # the first one small: the pipeline starts sooner
            for item in (i for i in items if i.action.target_side is side):
                n = item.entry(side.other).size
                if group and (len(group) >= limit or size + n > BATCH_BYTES):
                    limit = BATCH_FILES
                    groups.append((side, group))
                    group, size = [], 0
                group.append(item)
                size += n
            if group:
                groups.append((side, group))
        queue = iter(enumerate(groups))
        leftovers: list[PlanItem] = []
        # The other workers start once the first batch's first files are read
        # and on their way: reading two batches at once would only delay the
        # first one, and the server has nothing to do until it comes.
        first_sent = asyncio.Event()

        async def worker(k: int) -> None:
            if k:
                await first_sent.wait()
            for n, (side, group) in queue:
                if self.ex.stopped or self.ex.cancel.cancelled:
                    return
                # Commands started ahead: this batch's, and the next one's.
                warm = getattr(self.ex.fs[side], "warm_batches", None)
                if warm is not None:
                    warm(min(len(groups) - n, BATCHES_AT_ONCE))
                try:
                    leftovers.extend(await self._batch(side, group, first_sent, placing))
                finally:
                    first_sent.set()

        from app.core.execute import run_all
        await run_all([worker(k) for k in range(min(BATCHES_AT_ONCE, len(groups)))])
        if placing is not None:
            await placing.wait()  # (a batch that could not be used at all did not wait)
        await self.ex._parallel(leftovers, SMALL_WINDOW)

    async def _batch(self, side: Side, items: list[PlanItem], sending: asyncio.Event,
                     placing: asyncio.Event | None = None) -> list[PlanItem]:
        """Stage and place one group; returns the items to copy the ordinary way.
        ``sending`` is set once its first files are read and about to go; the
        places are looked at once ``placing`` is set (see :meth:`run`)."""
        ex = self.ex
        if ex.cancel.paused:
            await asyncio.to_thread(ex.cancel.wait_if_paused)
        T, S = ex.fs[side], ex.fs[side.other]
        rest: list[PlanItem] = []
        ready = []  # (item, source entry, target name)
        # (No look at the sources first: each is looked at once it is read,
        # and one that changed is left to the ordinary route, which says why.)
        for item in items:
            src = item.entry(side.other)
            tname = ex.target_name(item, side)
            if T.check_name(tname):
                rest.append(item)  # the ordinary route says why
            else:
                ready.append((item, src, tname))
        if not ready:
            return rest
        from app.fs.sftp_batch import StageFile

        files = [StageFile(S.local_path(src.name), src.size, src.mtime_ns, src.mode, tname)
                 for _item, src, tname in ready]

        async def placeable() -> list[bool]:
            if placing is not None:
                await placing.wait()
            if ex.stopped or ex.cancel.cancelled:
                return [False] * len(ready)  # a failure stopped the run: nothing new now
            return await self._targets_free(side, ready)

        # Each source is looked at through the open file once read: only one
        # still as compared is placed.
        placed = await T.write_many(files, ex.cancel, placeable, follow=ex.follow,
                                    on_read=sending.set)
        if placed is None:
            return rest + [r[0] for r in ready]
        for (item, src, tname), ok in zip(ready, placed, strict=True):
            if ok:
                await self._placed(side, item, src, tname)
            else:
                rest.append(item)
        return rest

    async def _targets_free(self, side: Side, ready: list) -> list[bool]:
        """Per ``(item, source, target name)``: may the target be taken? Its
        folder is made if need be; then the name must still be free: looked
        at, unless in a folder this run made (placing never replaces a file
        anyway). The ordinary route says why where one may not."""
        ex = self.ex
        T = ex.fs[side]
        by_parent: dict[str, list[int]] = {}
        for k, r in enumerate(ready):
            by_parent.setdefault(posixpath.dirname(r[2]), []).append(k)
        free = [False] * len(ready)
        looks: list[int] = []
        created = ex._created_dirs[side]
        for parent in sorted(by_parent):
            try:
                await ex._ensure_dir(side, parent)
            except FsError:
                continue
            if parent in created:
                for k in by_parent[parent]:
                    free[k] = True
            else:
                looks.extend(by_parent[parent])
        sem = asyncio.Semaphore(ex.parallel * 8)

        async def look(k: int) -> None:
            async with sem:
                try:
                    free[k] = await T.stat(ready[k][2]) is None
                except FsError:
                    free[k] = False
        from app.core.execute import run_all
        await run_all([look(k) for k in looks])
        return free

    async def _placed(self, side: Side, item: PlanItem, src, tname: str) -> None:
        """Report one file the batch put in place."""
        from app.core.execute import Outcome

        ex = self.ex
        ex.started(item)
        ex.report(BytesDone(ex.plan.index, item.path, src.size))
        new_entry = None
        if ex.need_entries:
            try:
                new_entry = await ex.fs[side].stat(tname, ex.follow)
            except FsError as exc:
                ex.done(Outcome(item, False, False, str(exc)))
                return
        ex.done(Outcome(item, True, False, None, new_entry))
