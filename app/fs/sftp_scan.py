"""Listing a whole tree on an SFTP server, by one of two routes.

Fast route: one remote ``find`` (see :mod:`app.fs.sftp_remote`). SFTP route:
folders are listed concurrently, ``parallel`` at a time, on the shared SFTP
session. Both produce the same entries as the local backend would: the same
symlink rules, filter, reserved names, and whole-second times (all SFTP v3
carries; the fast route is truncated to match so that switching routes
between two runs never looks like a change).
"""

from __future__ import annotations

import asyncio
import stat as stat_mod
from itertools import repeat
from typing import TYPE_CHECKING

from app.core.events import Cancelled, CancelToken
from app.core.gcpause import collector_paused
from app.core.model import Entry, Kind
from app.fs.base import (
    RESERVED_PREFIX,
    TEMP_SUFFIX,
    FsError,
    NotFound,
    ProgressFn,
    ScanOptions,
    ScanResult,
)
from app.fs.sftp_findparse import BatchFilter, any_reserved
from app.fs.sftp_readdir import read_columns
from app.fs.sftp_remote import LOOP_MESSAGE, remote_find

if TYPE_CHECKING:
    from app.fs.sftp import SftpFS

NS = 1_000_000_000
BROKEN = "link points nowhere (broken link); left out"
LOOP = LOOP_MESSAGE  # one wording for both routes
_S_IFMT, _S_IFREG = 0o170000, stat_mod.S_IFREG
_new_entry = tuple.__new__  # tuple.__new__(Entry, row): an Entry without a Python call


def _prune(entries: list[Entry], flt) -> list[Entry]:
    try:
        from app.core.filters import prune_dirs
    except ImportError:  # pragma: no cover - the filter module ships with the engine
        return entries
    return prune_dirs(entries, flt)


async def scan_tree(fs: SftpFS, options: ScanOptions, progress: ProgressFn,
                    cancel: CancelToken) -> ScanResult:
    """See :meth:`SftpFS.scan`."""
    cancel.raise_if_cancelled()
    if fs.options.remote_commands == "auto":
        finding = asyncio.ensure_future(remote_find(fs, options, progress, cancel))
        # A command takes a shell's start on the server (a tenth of a second
        # or more); an empty root, as on a first upload, is seen sooner over SFTP.
        looking = asyncio.ensure_future(_root_is_empty(fs))
        try:
            await asyncio.wait([finding, looking], return_when=asyncio.FIRST_COMPLETED)
            if not finding.done() and await looking:
                finding.cancel()
                await asyncio.gather(finding, return_exceptions=True)
                return ScanResult()
            result = await finding
        finally:
            for task in (finding, looking):
                if not task.done():
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
        if result is not None:
            result.entries = _prune(result.entries, options.filter)
            return result
    result = await SftpWalker(fs, options, progress, cancel).run()
    result.entries = _prune(result.entries, options.filter)
    return result


async def _root_is_empty(fs: SftpFS) -> bool:
    """True only if the root is a folder holding nothing at all (its first
    batch of names, one round trip, says so for a folder that is not)."""
    async def op(sftp, _a) -> bool:
        async for entry in sftp.scandir(fs.root):
            if entry.filename not in (".", ".."):
                return False
        return True
    try:
        return await fs._call("cannot list", "", op)
    except Exception:  # (only a shortcut: the listing proper says what is wrong)
        return False


class SftpWalker:
    """Concurrent folder listing over SFTP, ``fs.parallel`` folders at a time."""

    def __init__(self, fs: SftpFS, options: ScanOptions, progress: ProgressFn,
                 cancel: CancelToken) -> None:
        self.fs = fs
        self.symlinks = options.symlinks
        self.flt = options.filter
        self.batch = BatchFilter(options.filter)  # whole folders of files at once
        self.progress = progress
        self.cancel = cancel
        self.result = ScanResult()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.failure: BaseException | None = None
        self.fast_readdir = True  # tests switch the decoder off to compare both

    async def run(self) -> ScanResult:
        ancestors: frozenset = frozenset()
        if self.symlinks == "follow":
            real = await self.fs._call("cannot read", "", lambda s, _a: s.realpath(self.fs.root))
            ancestors = frozenset([real])
        else:
            real = self.fs.root
        self.queue.put_nowait(("", self.fs.root, ancestors, real))
        workers = [asyncio.ensure_future(self._worker()) for _ in range(self.fs.parallel)]
        try:
            await self.queue.join()
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        if self.failure is not None:
            raise self.failure
        self.progress(len(self.result.entries), "")
        return self.result

    async def _worker(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                if self.failure is None:
                    if self.cancel.cancelled:
                        raise Cancelled()
                    await self._list(*item)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # noqa: BLE001 - handed to run()
                if self.failure is None:
                    self.failure = exc
            finally:
                self.queue.task_done()

    async def _list(self, rel: str, path: str, ancestors: frozenset, real_dir: str) -> None:
        fs = self.fs
        try:
            names, modes, sizes, mtimes = await fs._call(
                "cannot read folder", rel,
                lambda s, _a: read_columns(s, path, fast=self.fast_readdir))
        except NotFound:
            return  # vanished since its parent was listed
        except FsError as exc:
            self.result.problems.append((rel, f"cannot read folder: {_reason(exc)}"))
            return
        res = self.result
        if names:
            # Whole-folder string and map operations: most folders hold only
            # plain files, which then cost no Python bytecode per name.
            paths = (rel + "/" + (f"\0{rel}/".join(names))).split("\0") if rel else names
            types = list(map(_S_IFMT.__and__, modes))
            if (types.count(_S_IFREG) == len(types) and not any_reserved(names)
                    and self.batch.files_pass(names)):
                rows = zip(paths, repeat(Kind.FILE), sizes, map(NS.__mul__, mtimes),
                           repeat(None), map(0o7777.__and__, modes), strict=False)
                with collector_paused():  # tuples without cycles: no collector passes
                    res.entries += map(_new_entry, repeat(Entry), rows)
            else:
                await self._each(rel, path, ancestors, real_dir, names, types, modes, sizes,
                                 mtimes, paths)
        self.progress(len(res.entries), rel)

    async def _each(self, rel, path, ancestors, real_dir, names, types, modes, sizes, mtimes,
                    paths) -> None:
        """Name by name: reserved names, filters, folders, links, special files."""
        base, real_base = path.rstrip("/") + "/", real_dir.rstrip("/") + "/"
        res, flt = self.result, self.flt
        append = res.entries.append
        for name, kind, mode, size, mtime, r in zip(names, types, modes, sizes, mtimes, paths,
                                                    strict=True):
            if name.startswith(RESERVED_PREFIX):
                if name.endswith(TEMP_SUFFIX) and kind == _S_IFREG:
                    res.leftovers.append(r)
                else:
                    self._hide(rel)
                continue
            if kind == _S_IFREG:  # the common case, kept free of awaits
                if flt is None or flt.includes_file(r, size):
                    append(Entry(r, Kind.FILE, size, mtime * NS, None, mode & 0o7777))
                else:
                    self._hide(rel)
            elif kind == stat_mod.S_IFDIR:
                self._dir(r, base + name, mtime, ancestors, real_base + name)
            elif kind == stat_mod.S_IFLNK and self.symlinks != "skip":
                await self._link(r, base + name, mtime, ancestors)
            else:
                self._hide(rel)  # skipped links, sockets, FIFOs, devices: never synced

    def _hide(self, rel: str) -> None:
        """Folder ``rel`` holds something the scan leaves out: never remove it."""
        if rel:
            self.result.hidden_dirs.add(rel)

    def _dir(self, r: str, path: str, mtime: int, ancestors: frozenset, real: str) -> None:
        """A folder to list; ``real`` is its path with no links in it (follow mode)."""
        if self.flt is not None and self.flt.excludes_dir(r):
            self._hide(r.rpartition("/")[0])
            return
        self.result.entries.append(Entry(r, Kind.DIR, 0, mtime * NS))
        if self.symlinks == "follow":
            ancestors = ancestors | {real}
        self.queue.put_nowait((r, path, ancestors, real))

    async def _link(self, r: str, path: str, mtime: int, ancestors: frozenset) -> None:
        fs, res, flt = self.fs, self.result, self.flt
        parent = r.rpartition("/")[0]
        try:
            if self.symlinks == "as_link":
                if flt is None or flt.includes_file(r, 0):
                    target = await fs._call("cannot read link", r, lambda s, _a: s.readlink(path))
                    res.entries.append(Entry(r, Kind.SYMLINK, 0, mtime * NS, target))
                else:
                    self._hide(parent)
                return
            try:
                attrs = await fs._call("cannot read", r, lambda s, _a: s.stat(path))
            except NotFound:
                res.problems.append((r, BROKEN))
                self._hide(parent)
                return
            mode = attrs.permissions or 0
            if stat_mod.S_ISDIR(mode):
                real = await fs._call("cannot read", r, lambda s, _a: s.realpath(path))
                if real in ancestors:
                    res.problems.append((r, LOOP))
                    self._hide(parent)
                    return
                self._dir(r, path, attrs.mtime or 0, ancestors, real)
            elif stat_mod.S_ISREG(mode):
                size = attrs.size or 0
                if flt is None or flt.includes_file(r, size):
                    res.entries.append(Entry(r, Kind.FILE, size, (attrs.mtime or 0) * NS, None,
                                             mode & 0o7777))
                else:
                    self._hide(parent)
            else:
                self._hide(parent)  # a link to a socket, FIFO or device
        except NotFound:
            return
        except FsError as exc:
            res.problems.append((r, f"cannot read: {_reason(exc)}"))


def _reason(exc: FsError) -> str:
    text = str(exc)
    return text.rsplit(": ", 1)[-1] if ": " in text else text
