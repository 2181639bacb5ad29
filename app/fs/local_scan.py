"""Listing a local tree fast: ``os.scandir`` in worker processes.

A walk of a large tree is CPU-bound Python (one stat result per file), so
threads would share one core. The root's first levels are listed here; once
the tree proves large, the folders still to visit are handed to a pool of
worker processes (one per core), each walking whole subtrees. Both sides of
a pair are scanned at the same time and share the pool, so a local-to-local
compare keeps every core busy. Small trees never pay for the pool.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import stat as stat_mod
import sys
import threading
import time
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from app.core.events import CancelToken
from app.core.filters import PathFilter, prune_dirs
from app.core.gcpause import collector_paused
from app.core.model import Kind
from app.fs.base import RESERVED_PREFIX, TEMP_SUFFIX, ProgressFn, ScanOptions, ScanResult

# Below this many entries a tree is listed in the calling thread.
_INLINE_LIMIT = 4000
_TASKS_PER_WORKER = 6

_pool_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_failed = False
_warm = False

# Folders are listed through a descriptor where the OS allows it (POSIX).
_BY_FD = os.scandir in os.supports_fd and hasattr(os, "O_DIRECTORY")
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def _readlink(e: os.DirEntry, fd: int | None) -> str:
    return os.readlink(e.name, dir_fd=fd) if fd is not None else os.readlink(e.path)


# (rel, os path, ancestor (dev, ino) pairs for link-loop detection)
_Dir = tuple[str, str, frozenset]


def _walk(root_rel: list[_Dir], symlinks: str, flt: PathFilter | None,
          budget: int | None) -> tuple[list[tuple], list[tuple[str, str]], list[str], list[_Dir]]:
    """Walk the given folders depth-first, collecting plain tuples in
    :class:`Entry` field order (they pickle five times faster than Entry).

    Stops early (returning the folders not yet entered) once ``budget``
    entries have been seen; ``budget=None`` walks everything.
    """
    entries: list[tuple] = []
    problems: list[tuple[str, str]] = []
    leftovers: list[str] = []
    hidden: set[str] = set()
    stack = list(reversed(root_rel))
    append = entries.append
    file_k, dir_k, link_k = Kind.FILE, Kind.DIR, Kind.SYMLINK
    excludes_dir = flt.excludes_dir if flt is not None else None
    includes_file = flt.includes_file if flt is not None else None
    # The usual filter decides a file by its name's ending alone: test that
    # here instead of calling the filter for each of 100,000 files.
    quick = flt.suffix_test() if flt is not None else None
    suffixes, fold = quick if quick is not None else ((), False)
    follow = symlinks == "follow"
    while stack:
        if budget is not None and len(entries) >= budget:
            break
        rel, ospath, ancestors = stack.pop()
        prefix = rel + "/" if rel else ""
        base = ospath if ospath.endswith(os.sep) else ospath + os.sep
        fd = None
        try:
            if _BY_FD:
                # Through a descriptor, each item's stat is looked up in this
                # folder instead of resolving its whole path again (a quarter
                # less kernel time on a deep tree).
                fd = os.open(ospath, _DIR_FLAGS)
                it = os.scandir(fd)
            else:
                it = os.scandir(ospath)
        except OSError as exc:
            if fd is not None:
                os.close(fd)
            if not isinstance(exc, FileNotFoundError):  # else: vanished since listed
                problems.append((rel, f"cannot read folder: {exc.strerror or exc}"))
            continue
        try:
            with it:
                for e in it:
                    name = e.name
                    r = prefix + name
                    if name.startswith(RESERVED_PREFIX):
                        if name.endswith(TEMP_SUFFIX) and e.is_file(follow_symlinks=False):
                            leftovers.append(r)
                        else:
                            hidden.add(rel)
                        continue
                    try:
                        if e.is_symlink():
                            if symlinks == "skip":
                                hidden.add(rel)
                                continue
                            if symlinks == "as_link":
                                st = e.stat(follow_symlinks=False)
                                if includes_file is None or includes_file(r, 0):
                                    append((r, link_k, 0, st.st_mtime_ns, _readlink(e, fd), None))
                                else:
                                    hidden.add(rel)
                                continue
                            try:
                                st = e.stat(follow_symlinks=True)
                            except FileNotFoundError:
                                problems.append((r, "link points nowhere (broken link); left out"))
                                hidden.add(rel)
                                continue
                            if stat_mod.S_ISDIR(st.st_mode):
                                key = (st.st_dev, st.st_ino)
                                if key in ancestors:
                                    problems.append((r, "link leads back into a folder above it "
                                                        + "(a link loop); not followed"))
                                    hidden.add(rel)
                                    continue
                                if excludes_dir is not None and excludes_dir(r):
                                    hidden.add(rel)
                                    continue
                                append((r, dir_k, 0, st.st_mtime_ns, None, None))
                                stack.append((r, base + name, ancestors | {key}))
                                continue
                        elif e.is_dir(follow_symlinks=False):
                            if excludes_dir is not None and excludes_dir(r):
                                hidden.add(rel)
                                continue
                            st = e.stat(follow_symlinks=False)
                            append((r, dir_k, 0, st.st_mtime_ns, None, None))
                            anc = ancestors | {(st.st_dev, st.st_ino)} if follow else ancestors
                            stack.append((r, base + name, anc))
                            continue
                        else:
                            st = e.stat(follow_symlinks=False)
                            if not stat_mod.S_ISREG(st.st_mode):
                                hidden.add(rel)  # sockets, FIFOs, devices are never synced
                                continue
                        size = st.st_size
                        if quick is not None:
                            keep = not suffixes or not (name.casefold() if fold else name).endswith(
                                suffixes)
                        else:
                            keep = includes_file is None or includes_file(r, size)
                        if keep:
                            append((r, file_k, size, st.st_mtime_ns, None, st.st_mode & 0o7777))
                        else:
                            hidden.add(rel)
                    except FileNotFoundError:
                        continue
                    except OSError as exc:
                        problems.append((r, f"cannot read: {exc.strerror or exc}"))
        finally:
            if fd is not None:
                os.close(fd)
    return entries, problems, leftovers, hidden, list(reversed(stack))


def _walk_all(dirs: list[_Dir], symlinks: str, flt: PathFilter | None):
    """Worker-process entry point: walk whole subtrees."""
    with collector_paused():
        entries, problems, leftovers, hidden, _ = _walk(dirs, symlinks, flt, None)
    return entries, problems, leftovers, hidden


def _exit_with_parent() -> None:
    """In a worker: end when the process that started the pool ends, however
    it ends (a killed ``syncpane`` must not leave idle workers behind).

    Ctrl+C reaches the whole process group; the parent turns it into a clean
    cancel, so a worker ignores it rather than dying with a traceback."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):
        pass  # not the main thread of the worker, or no such signal here
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns once the parent is gone
        os._exit(0)
    threading.Thread(target=watch, name="syncpane-parent-watch", daemon=True).start()


def _start_method() -> str:
    """How worker processes start. A plain fork costs milliseconds where a
    fork server costs a new interpreter (0.1-0.3 s, paid before the first
    large folder can be handed out), but forking is only safe while this
    process runs a single thread (the command line, before its event loop
    starts); a process with threads (the window) uses the fork server."""
    if not sys.platform.startswith("linux"):
        return "spawn"
    return "fork" if threading.active_count() == 1 else "forkserver"


def _get_pool() -> ProcessPoolExecutor | None:
    """The shared scan pool, started on first use; None where processes fail."""
    global _pool, _pool_failed
    if os.environ.get("SYNCPANE_SCAN_PROCESSES", "1") == "0" or (os.cpu_count() or 1) < 2:
        return None
    with _pool_lock:
        if _pool is None and not _pool_failed:
            try:
                method = _start_method()
                ctx = multiprocessing.get_context(method)
                if method == "fork":
                    # A forked child may flush what the parent had buffered: flush first.
                    for stream in (sys.stdout, sys.stderr):
                        if stream is not None:
                            stream.flush()
                elif method == "forkserver":  # workers fork with this module loaded
                    ctx.set_forkserver_preload([__name__])
                _pool = ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=ctx,
                                            initializer=_exit_with_parent)
            except (OSError, ValueError, ImportError):
                _pool_failed = True
        return _pool


def scan_local_tree(root: str, options: ScanOptions, progress: ProgressFn,
                    cancel: CancelToken) -> ScanResult:
    """List everything below ``root`` (an OS path); blocking, run off the loop."""
    flt = options.filter if isinstance(options.filter, PathFilter) else None
    entries, problems, leftovers, hidden, pending = _walk([("", root, frozenset())],
                                                          options.symlinks, flt, _INLINE_LIMIT)
    progress(len(entries), "")
    parts: list[tuple] = []
    if pending:
        pool = _get_pool()
        if pool is not None:
            try:
                parts = _walk_in_pool(pool, pending, options.symlinks, flt, cancel, progress,
                                      len(entries))
            except BrokenExecutor:
                # Worker processes could not start here (an embedding host, a
                # frozen build without freeze_support...): walk in this process.
                _mark_pool_broken()
                pool = None
        if pool is None:
            parts = [_walk_all(pending, options.symlinks, flt)]
    for e, p, lo, hid in parts:
        entries += e
        problems += p
        leftovers += lo
        hidden |= hid
    hidden.discard("")
    # Rows stay plain tuples in Entry's field order: the comparison turns the
    # few it lists into Entry objects (building 100,000 of them costs more
    # than the whole comparison).
    return ScanResult(entries=prune_dirs(entries, flt), problems=problems, leftovers=leftovers,
                      hidden_dirs=hidden)


def _walk_in_pool(pool: ProcessPoolExecutor, pending: list[_Dir], symlinks: str,
                  flt: PathFilter | None, cancel: CancelToken, progress: ProgressFn,
                  seen: int) -> list[tuple]:
    workers = os.cpu_count() or 2
    n_tasks = min(len(pending), workers * _TASKS_PER_WORKER)
    chunks = [pending[i::n_tasks] for i in range(n_tasks)]
    futures: list[Future] = [pool.submit(_walk_all, c, symlinks, flt) for c in chunks]
    parts = []
    try:
        for fut in futures:
            while True:
                cancel.raise_if_cancelled()
                try:
                    part = fut.result(timeout=0.1)
                    break
                except FutureTimeout:
                    continue
            parts.append(part)
            seen += len(part[0])
            progress(seen, part[0][-1][0].rsplit("/", 1)[0] if part[0] else "")
    finally:
        for fut in futures:
            fut.cancel()
    return parts


def _mark_pool_broken() -> None:
    global _pool, _pool_failed
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None
        _pool_failed = True


def warm_up_pool() -> None:
    """Start the worker processes ahead of time, so they are ready when the
    first large folder is found (the command line calls this before its
    event loop starts, the engine as a compare starts; the second call finds
    the pool running)."""
    global _warm
    pool = _get_pool()
    if pool is not None and not _warm:
        _warm = True
        for _ in range(os.cpu_count() or 1):
            pool.submit(time.sleep, 0)
