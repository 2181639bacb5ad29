"""A folder on an SFTP server, behind the same protocol as a local folder.

Paths given to :class:`SftpFS` are relative, '/'-separated; names that are
not valid UTF-8 travel as ``str`` with surrogate escapes (the same as
``os.fsdecode`` on Linux), on both the SFTP and the remote-command routes.
Every server call runs through :meth:`SftpFS._call`, which bounds it by
``timeout_seconds`` (stall detection), retries it on a fresh connection a
bounded number of times, and turns every failure into an ``FsError``.
"""

from __future__ import annotations

import asyncio
import posixpath
import stat as stat_mod
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.sshlib import asyncssh

from app.config.credentials import CredentialStore
from app.config.known_hosts import KnownHosts
from app.core.events import CancelToken
from app.core.model import Entry, Kind
from app.fs import base
from app.fs.base import (
    AccessDenied,
    AlreadyExists,
    BytesFn,
    ConnectionLost,
    FsError,
    NoSpace,
    NotEmpty,
    NotFound,
    ProgressFn,
    RootState,
    ScanOptions,
    ScanResult,
    Unavailable,
)
from app.fs.sftp_conn import LINK_ERRORS, PoolEntry, SftpPool, within
from app.fs.sftp_url import ConnectionOptions, SftpLocation, parse_sftp_url

__all__ = ["ConnectionOptions", "SftpFS", "SftpLocation", "SftpPool", "parse_sftp_url"]

T = TypeVar("T")
RETRIES = 2  # attempts after the first, each on a new connection


def sftp_error(exc: Exception, what: str, rel: str) -> FsError:
    """The FsError for an SFTP status error, with a message for a person."""
    reason = getattr(exc, "reason", "") or str(exc) or type(exc).__name__
    msg = f"{what} {rel or '(root)'}: {reason}"
    if isinstance(exc, (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath)):
        return NotFound(msg, rel)
    if isinstance(exc, asyncssh.SFTPPermissionDenied):
        return AccessDenied(msg, rel)
    if isinstance(exc, asyncssh.SFTPFileAlreadyExists):
        return AlreadyExists(msg, rel)
    if isinstance(exc, (asyncssh.SFTPNoSpaceOnFilesystem, asyncssh.SFTPQuotaExceeded)):
        return NoSpace(f"{what} {rel}: no space left on the server", rel)
    if isinstance(exc, asyncssh.SFTPDirNotEmpty):
        return NotEmpty(f"{what} {rel}: it is not empty", rel)
    return FsError(msg, rel)


def entry_from_attrs(rel: str, attrs: asyncssh.SFTPAttrs, link_target: str | None = None) -> Entry:
    """An Entry from SFTP attributes (SFTP v3 carries whole seconds only)."""
    mode = attrs.permissions or 0
    mtime_ns = (attrs.mtime or 0) * 1_000_000_000
    if stat_mod.S_ISDIR(mode):
        return Entry(rel, Kind.DIR, 0, mtime_ns)
    if stat_mod.S_ISLNK(mode):
        return Entry(rel, Kind.SYMLINK, 0, mtime_ns, link_target)
    return Entry(rel, Kind.FILE, attrs.size or 0, mtime_ns, None, mode & 0o7777)


def versioned_name(name: str, stamp: str, is_dir: bool) -> str:
    """``NAME YYYY-MM-DD HHMMSS.EXT`` (folders and suffix-less names: ``NAME stamp``)."""
    if not is_dir:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and not stem.endswith("."):
            return f"{stem} {stamp}.{ext}"
    return f"{name} {stamp}"


class SftpFS:
    """A folder on an SFTP server (see the module docstring)."""

    case_sensitive = True
    #: write_from_local takes ``attrs`` (mtime, mode) and sets them before the close.
    writes_attrs = True

    def __init__(self, location: SftpLocation, options: ConnectionOptions, pool: SftpPool,
                 credentials: CredentialStore, known_hosts: KnownHosts | None = None,
                 accept_new_host_key: bool = False) -> None:
        self.location = location
        self.options = options
        self.pool = pool
        self.credentials = credentials
        self.known_hosts = known_hosts if known_hosts is not None else KnownHosts()
        self.accept_new_host_key = accept_new_host_key
        self.display = location.display
        self.parallel = options.parallel
        self.timeout = float(options.timeout_seconds)
        self.root = location.path
        self._opened = False
        self._warm: list = []  # batch commands started ahead: (staging folder, start task)

    # -- plumbing ---------------------------------------------------------

    def abs(self, rel: str) -> str:
        """The server path of ``rel``."""
        if not rel:
            return self.root
        return self.root.rstrip("/") + "/" + rel

    async def _entry(self, sessions: bool = True) -> PoolEntry:
        """The pool's connection (with its SFTP sessions up, unless ``sessions``
        is False: commands over exec need only the connection)."""
        return await self.pool.get(self.location, self.options, self.credentials,
                                   self.known_hosts, self.accept_new_host_key, sessions)

    async def connected(self) -> None:
        """Log in (or join the pool's connection) without waiting for the SFTP
        sessions to start; :meth:`open` still waits for them."""
        await self._entry(sessions=False)

    async def _call(self, what: str, rel: str,
                    fn: Callable[[asyncssh.SFTPClient, int], Awaitable[T]],
                    bounded: bool = True) -> T:
        """Run ``fn(sftp, attempt)`` with stall detection and bounded retries.

        ``bounded=False`` for whole-file transfers, which bound each request
        themselves (a big file may rightly take longer than the limit).
        """
        limit = self.timeout
        last: Exception | None = None
        for attempt in range(RETRIES + 1):
            try:
                entry = await self._entry()
            except Unavailable as exc:
                if attempt == 0 and not self._opened:
                    raise
                raise ConnectionLost(f"{what} {rel or '(root)'}: the connection to "
                                     f"{self.location.key} was lost and could not be "
                                     f"restored ({exc})", rel) from None
            try:
                sftp = entry.next_channel()
                if not bounded:
                    return await fn(sftp, attempt)
                return await within(fn(sftp, attempt), limit)
            except asyncssh.SFTPError as exc:
                if isinstance(exc, (asyncssh.SFTPConnectionLost, asyncssh.SFTPNoConnection)):
                    last = exc
                    await self.pool.drop(self.location.key, entry)
                    continue
                raise sftp_error(exc, what, rel) from None
            except LINK_ERRORS as exc:
                last = exc
                await self.pool.drop(self.location.key, entry)
        stalled = isinstance(last, (asyncio.TimeoutError, TimeoutError))
        why = (f"the server stopped answering for {limit:g} s" if stalled
               else "the connection dropped")
        raise ConnectionLost(f"{what} {rel or '(root)'}: {why} ({RETRIES + 1} attempts) "
                             f"on {self.location.key}", rel)

    # -- lifecycle --------------------------------------------------------

    async def open(self) -> None:
        """Connect (or join the pool's connection); Unavailable with the cause if not."""
        if self._opened:
            return
        self.pool.acquire(self.location.key)
        try:
            await self._entry()
        except BaseException:
            await self.pool.release(self.location.key)
            raise
        self._opened = True

    async def close(self) -> None:
        """Let go of the shared connection; safe to call twice."""
        if self._warm:
            from app.fs.sftp_batch import cool

            await cool(self)
        if self._opened:
            self._opened = False
            await self.pool.release(self.location.key)

    def local_path(self, rel: str) -> str | None:
        return None

    def check_name(self, rel: str) -> str | None:
        """Why ``rel`` cannot exist on a POSIX server, or None."""
        for part in rel.split("/"):
            if part in ("", ".", ".."):
                return f"'{rel}' has an empty, '.' or '..' part"
            if "\x00" in part:
                return f"'{rel}' contains a NUL character"
            if len(part.encode("utf-8", "surrogateescape")) > 255:
                return f"a name in '{rel}' is longer than 255 bytes"
        return None

    # -- reading ----------------------------------------------------------

    async def _attrs(self, rel: str, follow: bool) -> asyncssh.SFTPAttrs | None:
        path = self.abs(rel)

        async def op(sftp, _attempt):
            try:
                return await (sftp.stat(path) if follow else sftp.lstat(path))
            except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
                return None
        return await self._call("cannot read", rel, op)

    async def stat(self, rel: str, follow: bool = False) -> Entry | None:
        """The item at ``rel`` (a final link as a link unless ``follow``), or None."""
        attrs = await self._attrs(rel, follow)
        if attrs is None:
            return None
        target = None
        if stat_mod.S_ISLNK(attrs.permissions or 0):
            target = await self._call("cannot read link", rel,
                                      lambda s, _a: s.readlink(self.abs(rel)))
        return entry_from_attrs(rel, attrs, target)

    async def root_state(self) -> RootState:
        """Whether the root exists, is a folder, and can be listed."""
        from app.fs.sftp_lean import Lean

        async def at_once(sftp, _a):
            # Look and open together (one round trip, not four): opening a
            # folder takes the right to read it, so that proves it can be listed.
            lean = Lean.of(sftp)
            if lean is None:
                return None
            got, handle = await lean.outcomes([lean.stat(self.root), lean.opendir(self.root)])
            if not isinstance(handle, Exception):
                lean.forget(lean.close(handle))
            if isinstance(got, (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath)):
                return RootState.MISSING
            if isinstance(got, Exception):
                raise got
            if not stat_mod.S_ISDIR(got.permissions or 0):
                return RootState.NOT_A_FOLDER
            if isinstance(handle, (asyncssh.SFTPPermissionDenied, asyncssh.SFTPNoSuchFile,
                                   asyncssh.SFTPNoSuchPath)):
                return RootState.UNREADABLE
            if isinstance(handle, Exception):
                raise handle
            return RootState.OK
        try:
            state = await self._call("cannot read", "", at_once)
        except (AccessDenied, NotFound):
            return RootState.UNREADABLE
        if state is not None:
            return state
        attrs = await self._attrs("", True)
        if attrs is None:
            return RootState.MISSING
        if not stat_mod.S_ISDIR(attrs.permissions or 0):
            return RootState.NOT_A_FOLDER

        async def probe(sftp, _a):
            # Reading one batch of names proves the folder can be listed.
            names = sftp.scandir(self.root)
            try:
                async for _name in names:
                    break
            finally:
                await names.aclose()
        try:
            await self._call("cannot list", "", probe)
        except (AccessDenied, NotFound):
            return RootState.UNREADABLE
        return RootState.OK

    async def list_dir(self, rel: str) -> list[Entry]:
        """The direct children of folder ``rel`` (see the protocol), one SFTP listing."""
        from app.fs.sftp_readdir import list_dir

        path = self.abs(rel)
        names = await self._call("cannot list", rel, lambda s, _a: list_dir(s, path))
        prefix = rel + "/" if rel else ""
        out = []
        for name, mode, size, mtime in sorted(names):
            if name.startswith(base.RESERVED_PREFIX):
                continue
            r, mtime_ns = prefix + name, mtime * 1_000_000_000
            if stat_mod.S_ISDIR(mode):
                out.append(Entry(r, Kind.DIR, 0, mtime_ns))
            elif stat_mod.S_ISLNK(mode):
                out.append(Entry(r, Kind.SYMLINK, 0, mtime_ns))
            elif stat_mod.S_ISREG(mode):
                out.append(Entry(r, Kind.FILE, size, mtime_ns, None, mode & 0o7777))
        return out

    async def scan(self, options: ScanOptions, progress: ProgressFn,
                   cancel: CancelToken) -> ScanResult:
        """The whole tree: one remote ``find`` when allowed, else parallel SFTP listing."""
        from app.fs.sftp_scan import scan_tree

        return await scan_tree(self, options, progress, cancel)

    async def hash_kinds(self) -> tuple[str, ...]:
        """What the server hashes in place (``b3sum``, ``openssl``,
        ``sha256sum``), when it may run commands; else nothing (its files
        are streamed to us)."""
        from app.fs.sftp_hash import remote_hash_kinds

        return await remote_hash_kinds(self)

    async def hash_files(self, rels: list[str], cancel: CancelToken,
                         kind: str = "sha256") -> dict[str, str]:
        """Each file's digest: the server's own tool when allowed, else streamed."""
        from app.fs.sftp_transfer import hash_files

        return await hash_files(self, rels, cancel, kind)

    # -- writing ----------------------------------------------------------

    async def make_root(self) -> None:
        """Create the root folder and its parents."""
        await self._mkdirs(self.root, "")

    async def mkdir(self, rel: str) -> None:
        """Create a folder and any missing parents; fine if it exists."""
        await self._mkdirs(self.abs(rel), rel)

    async def _mkdirs(self, path: str, rel: str) -> None:
        async def op(sftp, _a):
            try:
                # Usually the parent is there and the folder is not: one request.
                await sftp.mkdir(path)
                return
            except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath, asyncssh.SFTPFailure,
                    asyncssh.SFTPFileAlreadyExists):
                pass  # a parent is missing, or something is there: look, as below
            missing = []
            p = path
            while p not in ("", "/"):
                try:
                    attrs = await sftp.stat(p)
                except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
                    missing.append(p)
                    p = posixpath.dirname(p)
                    continue
                if not stat_mod.S_ISDIR(attrs.permissions or 0):
                    raise AlreadyExists(f"cannot create folder {rel or path}: "
                                        f"{p} exists and is not a folder", rel)
                break
            for q in reversed(missing):
                try:
                    await sftp.mkdir(q)
                except asyncssh.SFTPFailure:
                    # Someone (a parallel worker) may have made it meanwhile.
                    attrs = await sftp.stat(q)
                    if not stat_mod.S_ISDIR(attrs.permissions or 0):
                        raise
        await self._call("cannot create folder", rel, op)

    async def remove_file(self, rel: str) -> None:
        """Delete one file or symlink for good."""
        async def op(sftp, attempt):
            try:
                await sftp.remove(self.abs(rel))
            except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
                if attempt == 0:
                    raise
                # Gone after a retry: the first attempt did it before the link dropped.
        await self._call("cannot delete", rel, op)

    async def remove_dir(self, rel: str) -> None:
        """Delete an empty folder; NotEmpty when something is still in it."""
        path = self.abs(rel)

        async def op(sftp, attempt):
            try:
                await sftp.rmdir(path)
            except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
                if attempt == 0:
                    raise
            except asyncssh.SFTPFailure:
                names = [n for n in await sftp.listdir(path) if n not in (".", "..")]
                if names:
                    raise NotEmpty(f"cannot delete folder {rel}: it is not empty", rel) from None
                raise
        await self._call("cannot delete folder", rel, op)

    async def remove_tree(self, rel: str) -> None:
        """Delete a folder and everything in it (links are removed, never followed)."""
        path = self.abs(rel)
        top = await self._attrs(rel, follow=False)
        if top is None:
            raise NotFound(f"cannot delete folder {rel}: it does not exist", rel)
        if not stat_mod.S_ISDIR(top.permissions or 0):
            # A link to a folder is removed as a link: never empty its target.
            await self.remove_file(rel)
            return
        names = await self._call("cannot list", rel, lambda s, _a: s.readdir(path))
        sem = asyncio.Semaphore(self.parallel)

        async def one(n: asyncssh.SFTPName) -> None:
            child = f"{rel}/{n.filename}" if rel else n.filename
            async with sem:
                if stat_mod.S_ISDIR(n.attrs.permissions or 0):
                    pass
                else:
                    await self.remove_file(child)
                    return
            await self.remove_tree(child)
        await _gather_all([one(n) for n in names if n.filename not in (".", "..")])
        await self.remove_dir(rel)

    async def rename(self, src: str, dst: str) -> None:
        """Rename ``src`` to ``dst``, replacing a file at ``dst`` atomically.

        With OpenSSH's ``posix-rename@openssh.com`` this is one atomic step.
        Without it: ``dst`` is first renamed aside to ``.syncpane-<id>.tmp``
        in its folder, then ``src`` takes its place, then the aside copy is
        deleted; if the second step fails the old file is put back. ``dst``
        is briefly absent, but its content stays reachable at every moment.
        """
        from app.fs.sftp_transfer import rename_replace

        await rename_replace(self, src, dst)

    async def set_mtime(self, rel: str, mtime_ns: int) -> None:
        """Set access and modification time (whole seconds: all SFTP v3 carries)."""
        secs = mtime_ns // 1_000_000_000
        await self._call("cannot set the time of", rel,
                         lambda s, _a: s.utime(self.abs(rel), (secs, secs)))

    async def set_mode(self, rel: str, mode: int) -> None:
        """Set the permission bits."""
        await self._call("cannot set permissions of", rel,
                         lambda s, _a: s.chmod(self.abs(rel), mode & 0o7777))

    async def make_link(self, rel: str, target: str) -> None:
        """Create a symlink ``rel`` pointing at ``target``."""
        await self._call("cannot create link", rel,
                         lambda s, _a: s.symlink(target, self.abs(rel)))

    async def recycle(self, rel: str, stamp: str) -> None:
        """Move ``rel`` to ``.syncpane-versions/<same folders>/NAME STAMP.EXT``."""
        entry = await self.stat(rel)
        if entry is None:
            raise NotFound(f"cannot move to versions {rel}: it does not exist", rel)
        parent, _, name = rel.rpartition("/")
        folder = base.VERSIONS_DIR + (f"/{parent}" if parent else "")
        await self.mkdir(folder)
        new = versioned_name(name, stamp, entry.kind is Kind.DIR)
        for n in range(1, 100):
            candidate = new if n == 1 else versioned_name(name, f"{stamp} ({n})",
                                                          entry.kind is Kind.DIR)
            dst = f"{folder}/{candidate}"
            try:
                # Plain SFTP rename never replaces: an older version stays intact.
                await self._call("cannot move to versions", rel,
                                 lambda s, _a, dst=dst: s.rename(self.abs(rel), self.abs(dst)))
                return
            except FsError:
                if await self.stat(dst) is None:
                    raise
        raise AlreadyExists(f"cannot move to versions {rel}: too many versions this second", rel)

    async def write_from_local(self, local_path: str, rel: str, on_bytes: BytesFn,
                               cancel: CancelToken,
                               attrs: tuple[int, int | None] | None = None) -> None:
        """Upload a local file to the new file ``rel`` (pipelined; size checked).

        ``attrs`` = (mtime_ns, mode or None): also set (and checked) before the close.
        """
        from app.fs.sftp_transfer import upload

        await upload(self, local_path, rel, on_bytes, cancel, attrs)

    async def rename_new(self, src: str, dst: str) -> None:
        """Rename ``src`` to ``dst`` only if ``dst`` does not exist (else AlreadyExists)."""
        from app.fs.sftp_transfer import rename_new

        await rename_new(self, src, dst)

    @property
    def offers_write_many(self) -> bool:
        """Whether :meth:`write_many` may be worth a try (remote commands allowed)."""
        return self.options.remote_commands == "auto"

    async def write_many(self, files: list, cancel: CancelToken, placeable=None, *,
                         follow: bool = False, on_read=None) -> list[bool] | None:
        """Put many new small local files in place at once (the fast path); see
        :func:`app.fs.sftp_batch.put_files`. None when this server cannot."""
        from app.fs.sftp_batch import put_files

        return await put_files(self, files, cancel, placeable, follow=follow, on_read=on_read)

    def warm_batches(self, n: int) -> None:
        """Start the server commands of the next ``n`` batches ahead of them
        (see :func:`app.fs.sftp_batch.warm`)."""
        from app.fs.sftp_batch import warm

        warm(self, n)

    async def clean_staging(self) -> None:
        """Remove staging folders an interrupted run left at the root."""
        from app.fs.sftp_batch import clean_stale_stages

        await clean_stale_stages(self)

    async def read_to_local(self, rel: str, local_path: str, on_bytes: BytesFn,
                            cancel: CancelToken) -> None:
        """Download ``rel`` to the new local file ``local_path`` (pipelined)."""
        from app.fs.sftp_transfer import download

        await download(self, rel, local_path, on_bytes, cancel)

    def temp_name(self, rel: str) -> str:
        """A fresh reserved temporary name next to ``rel``."""
        parent = rel.rpartition("/")[0]
        name = f"{base.RESERVED_PREFIX}-{uuid.uuid4().hex[:12]}{base.TEMP_SUFFIX}"
        return f"{parent}/{name}" if parent else name


async def _gather_all(coros: list) -> None:
    """Run all; when any fails, wait for the rest, then raise the first error."""
    results = await asyncio.gather(*coros, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r
