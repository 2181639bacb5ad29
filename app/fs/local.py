"""Local folders: ``os`` calls run off the event loop (``asyncio.to_thread``).

Windows is our users' desktop, so this backend knows its rules even when the
code runs elsewhere (tests switch them on with ``windows=True``): names
Windows forbids are refused before anything is created, long paths use the
extended ``\\\\?\\`` form, and names are matched without regard to case.
"""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import stat as stat_mod
import sys
import threading

from app.core.events import CancelToken
from app.core.model import Entry, Kind
from app.fs.base import (RESERVED_PREFIX, AccessDenied, AlreadyExists, BadName, BytesFn, FsError,
                         NoSpace, NotEmpty, NotFound, ProgressFn, RootState, ScanOptions,
                         ScanResult, flush_if_big)
from app.fs.hashing import SHA256, local_kinds, new_hasher
from app.fs.local_scan import scan_local_tree
from app.fs.winnames import extended_path, windows_name_problem

COPY_CHUNK = 8 * 1024 * 1024
_inline = threading.local()


class inline_io:
    """Within this context (in a worker thread, with its own event loop), the
    local backend runs its system calls directly instead of hopping to yet
    another thread: a sync between two local folders then costs a few
    microseconds per call instead of a thread round trip."""

    def __enter__(self) -> None:
        _inline.on = True

    def __exit__(self, *exc) -> None:
        _inline.on = False


async def _io(fn, *args):
    if getattr(_inline, "on", False):
        return fn(*args)
    return await asyncio.to_thread(fn, *args)


def _makedirs(path: str) -> None:
    os.makedirs(path, exist_ok=True)
HASH_CHUNK = 1024 * 1024
HASH_READ = 4 * 1024 * 1024


def os_error(exc: OSError, what: str, rel: str) -> FsError:
    """Turn an OSError into the matching FsError with a message for a person."""
    reason = exc.strerror or str(exc)
    msg = f"{what} {rel or '(root)'}: {reason}"
    if isinstance(exc, FileNotFoundError):
        return NotFound(msg, rel)
    if isinstance(exc, PermissionError):
        return AccessDenied(msg, rel)
    if isinstance(exc, FileExistsError):
        return AlreadyExists(msg, rel)
    if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and what.startswith("cannot delete folder"):
        return NotEmpty(f"{what} {rel}: it is not empty", rel)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return NoSpace(f"{what} {rel}: the disk is full", rel)
    return FsError(msg, rel)


class LocalFS:
    """A folder on this computer."""

    #: The executor may run whole operations in worker threads within this context.
    inline_io = inline_io

    def __init__(self, root: str, *, display: str | None = None, parallel: int = 4,
                 windows: bool | None = None, case_sensitive: bool | None = None) -> None:
        self.windows = (os.name == "nt") if windows is None else windows
        root = os.path.abspath(os.path.expanduser(root)) if not self.windows else root
        self.root = root
        self.display = display or root
        self.parallel = max(1, parallel)
        if case_sensitive is None:
            case_sensitive = not (self.windows or sys.platform == "darwin")
        self.case_sensitive = case_sensitive
        self._os_root = extended_path(root) if os.name == "nt" else root

    # -- paths -----------------------------------------------------------
    def local_path(self, rel: str) -> str:
        if not rel:
            return self._os_root
        if os.name == "nt":
            return self._os_root.rstrip("\\") + "\\" + rel.replace("/", "\\")
        return os.path.join(self._os_root, rel)

    def check_name(self, rel: str) -> str | None:
        if self.windows:
            return windows_name_problem(rel)
        if "\0" in rel:
            return "name contains a NUL character"
        return None

    def _checked(self, rel: str) -> str:
        problem = self.check_name(rel)
        if problem:
            raise BadName(problem, rel)
        return self.local_path(rel)

    # -- lifecycle ---------------------------------------------------------
    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def root_state(self) -> RootState:
        return await _io(self._root_state)

    def _root_state(self) -> RootState:
        path = self.local_path("")
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return RootState.MISSING
        except OSError:
            return RootState.UNREADABLE
        if not stat_mod.S_ISDIR(st.st_mode):
            return RootState.NOT_A_FOLDER
        try:
            with os.scandir(path) as it:
                next(it, None)
        except OSError:
            return RootState.UNREADABLE
        return RootState.OK

    async def make_root(self) -> None:
        try:
            await _io(_makedirs, self.local_path(""))
        except OSError as exc:
            raise os_error(exc, "cannot create folder", self.root) from exc

    # -- reading -----------------------------------------------------------
    async def scan(self, options: ScanOptions, progress: ProgressFn,
                   cancel: CancelToken) -> ScanResult:
        return await asyncio.to_thread(scan_local_tree, self.local_path(""), options, progress,
                                       cancel)

    async def list_dir(self, rel: str) -> list[Entry]:
        """The direct children of folder ``rel`` (see the protocol)."""
        try:
            return await _io(self._list_dir, rel)
        except OSError as exc:
            raise os_error(exc, "cannot list", rel) from exc

    def _list_dir(self, rel: str) -> list[Entry]:
        prefix = rel + "/" if rel else ""
        out = []
        with os.scandir(self.local_path(rel)) as it:
            for item in it:
                if item.name.startswith(RESERVED_PREFIX):
                    continue
                try:
                    st = item.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue  # gone since the folder was read
                r, mode = prefix + item.name, st.st_mode
                if stat_mod.S_ISDIR(mode):
                    out.append(Entry(r, Kind.DIR, 0, st.st_mtime_ns))
                elif stat_mod.S_ISLNK(mode):
                    out.append(Entry(r, Kind.SYMLINK, 0, st.st_mtime_ns))
                elif stat_mod.S_ISREG(mode):
                    out.append(Entry(r, Kind.FILE, st.st_size, st.st_mtime_ns, None,
                                     mode & 0o7777))
        out.sort()
        return out

    async def stat(self, rel: str, follow: bool = False) -> Entry | None:
        return await _io(self.stat_now, rel, follow)

    def stat_now(self, rel: str, follow: bool = False) -> Entry | None:
        """:meth:`stat`, blocking (for code already running in a worker thread)."""
        try:
            st = os.stat(self.local_path(rel)) if follow else os.lstat(self.local_path(rel))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise os_error(exc, "cannot read", rel) from exc
        return entry_from_stat(rel, st, self.local_path(rel))

    async def hash_kinds(self) -> tuple[str, ...]:
        return local_kinds()

    async def hash_files(self, rels: list[str], cancel: CancelToken,
                         kind: str = SHA256) -> dict[str, str]:
        return await asyncio.to_thread(self._hash_files, rels, cancel, kind)

    def _hash_files(self, rels: list[str], cancel: CancelToken, kind: str) -> dict[str, str]:
        out: dict[str, str] = {}
        # One buffer, filled in place: big reads let BLAKE3 spread over the
        # cores, and no new bytes object per read.
        buf = bytearray(HASH_READ)
        view = memoryview(buf)
        for rel in rels:
            cancel.raise_if_cancelled()
            h = new_hasher(kind)
            try:
                with open(self.local_path(rel), "rb", buffering=0) as f:
                    while n := f.readinto(buf):
                        h.update(view[:n])
                        if cancel.cancelled:
                            cancel.raise_if_cancelled()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise os_error(exc, "cannot read", rel) from exc
            out[rel] = h.hexdigest()
        return out

    # -- changing ----------------------------------------------------------
    async def mkdir(self, rel: str) -> None:
        path = self._checked(rel)
        try:
            await _io(_makedirs, path)
        except OSError as exc:
            raise os_error(exc, "cannot create folder", rel) from exc

    async def remove_file(self, rel: str) -> None:
        await self._call(os.unlink, "cannot delete", rel)

    async def remove_dir(self, rel: str) -> None:
        await self._call(os.rmdir, "cannot delete folder", rel)

    async def remove_tree(self, rel: str) -> None:
        await self._call(shutil.rmtree, "cannot delete folder", rel)

    async def rename(self, src: str, dst: str) -> None:
        dst_path = self._checked(dst)
        try:
            await _io(os.replace, self.local_path(src), dst_path)
        except OSError as exc:
            raise os_error(exc, f"cannot rename {src} to", dst) from exc

    async def set_mtime(self, rel: str, mtime_ns: int) -> None:
        await self._call(lambda p: os.utime(p, ns=(mtime_ns, mtime_ns), follow_symlinks=False)
                         if os.utime in os.supports_follow_symlinks
                         else os.utime(p, ns=(mtime_ns, mtime_ns)),
                         "cannot set the time of", rel)

    async def set_mode(self, rel: str, mode: int) -> None:
        if os.name == "nt":
            return
        await self._call(lambda p: os.chmod(p, mode), "cannot set permissions of", rel)

    async def make_link(self, rel: str, target: str) -> None:
        path = self._checked(rel)
        try:
            await _io(os.symlink, target, path)
        except OSError as exc:
            raise os_error(exc, "cannot create link", rel) from exc

    async def recycle(self, rel: str, stamp: str) -> None:
        path = self.local_path(rel)
        try:
            await _io(_send_to_trash, path)
        except FileNotFoundError as exc:
            raise NotFound(f"cannot move {rel} to the recycle bin: it is gone", rel) from exc
        except Exception as exc:  # send2trash raises OSError and its own TrashPermissionError
            raise FsError(f"cannot move {rel} to the recycle bin ({exc}); nothing was deleted. "
                          "Choose versioning or permanent deletion for this folder.", rel) from exc

    async def write_from_local(self, local_path: str, rel: str, on_bytes: BytesFn,
                               cancel: CancelToken) -> None:
        dst = self._checked(rel)
        await _io(copy_local_file, local_path, dst, rel, on_bytes, cancel)

    async def read_to_local(self, rel: str, local_path: str, on_bytes: BytesFn,
                            cancel: CancelToken) -> None:
        await _io(copy_local_file, self.local_path(rel), local_path, rel, on_bytes, cancel)

    async def _call(self, fn, what: str, rel: str) -> None:
        try:
            await _io(fn, self.local_path(rel))
        except OSError as exc:
            raise os_error(exc, what, rel) from exc


_trash_lock = threading.Lock()


def _send_to_trash(path: str) -> None:
    # send2trash is not thread-safe (it creates the trash folders and picks
    # free names with check-then-act), and operations here run in parallel.
    from send2trash import send2trash

    with _trash_lock:
        send2trash(path)


def entry_from_stat(rel: str, st: os.stat_result, path: str) -> Entry:
    """An :class:`Entry` for an ``lstat`` result."""
    mode = st.st_mode
    if stat_mod.S_ISDIR(mode):
        return Entry(rel, Kind.DIR, 0, st.st_mtime_ns)
    if stat_mod.S_ISLNK(mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = None
        return Entry(rel, Kind.SYMLINK, 0, st.st_mtime_ns, target)
    return Entry(rel, Kind.FILE, st.st_size, st.st_mtime_ns, None, mode & 0o7777)


def copy_local_file(src: str, dst: str, rel: str, on_bytes: BytesFn, cancel: CancelToken) -> None:
    """Copy ``src`` into a new file ``dst`` (which must not exist), in chunks,
    reporting progress and honouring cancel. A failed copy removes ``dst``."""
    try:
        fin = open(src, "rb")
    except OSError as exc:
        raise os_error(exc, "cannot read", rel) from exc
    with fin:
        try:
            fout = open(dst, "xb")
        except OSError as exc:
            raise os_error(exc, "cannot write", rel) from exc
        try:
            with fout:
                copied = _copy_stream(fin, fout, on_bytes, cancel)
                size = os.fstat(fin.fileno()).st_size
                if copied != size:
                    raise FsError(f"copy of {rel} is incomplete ({copied} of {size} bytes; "
                                  "did it change while being copied?)", rel)
        except BaseException as exc:
            try:
                os.unlink(dst)
            except OSError:
                pass
            if isinstance(exc, OSError):
                raise os_error(exc, "cannot copy", rel) from exc
            raise


def _copy_stream(fin, fout, on_bytes: BytesFn, cancel: CancelToken) -> int:
    """Copy everything; returns the number of bytes written."""
    infd, outfd = fin.fileno(), fout.fileno()
    fast = hasattr(os, "copy_file_range") or hasattr(os, "sendfile")
    total = 0
    while True:
        cancel.wait_if_paused()
        n = 0
        if fast:
            try:
                if hasattr(os, "copy_file_range"):
                    n = os.copy_file_range(infd, outfd, COPY_CHUNK)
                else:
                    n = os.sendfile(outfd, infd, None, COPY_CHUNK)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                    raise
                fast = False
        if not fast:
            chunk = fin.read(COPY_CHUNK)
            n = len(chunk)
            if n:
                fout.write(chunk)
        if n == 0:
            break
        total += n
        on_bytes(n)
    flush_if_big(outfd)
    return total


def files_identical(a: str, b: str, cancel: CancelToken) -> bool:
    """True when two local files hold the same bytes (stops at the first difference)."""
    try:
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                if cancel.cancelled:
                    cancel.raise_if_cancelled()
                x, y = fa.read(HASH_CHUNK), fb.read(HASH_CHUNK)
                if x != y:
                    return False
                if not x:
                    return True
    except OSError:
        return False
