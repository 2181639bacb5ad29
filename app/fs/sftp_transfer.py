"""Moving bytes to and from an SFTP server: pipelined uploads, downloads, hashes,
and the atomic rename that completes a fail-safe write.

Each transfer keeps up to ``MAX_IN_FLIGHT`` read or write requests of one
server-sized block outstanding, so a long round trip costs throughput only
once per window, not once per block. Every request is bounded by the stall
timeout; a dropped link restarts the whole file on a new connection (a
bounded number of times), since a half-written file is worthless.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import TYPE_CHECKING

from app.sshlib import asyncssh

from app.core.events import Cancelled, CancelToken
from app.fs import base
from app.fs.base import AlreadyExists, BytesFn, ConnectionLost, FsError, NoSpace, NotFound
from app.fs.hashing import SHA256, new_hasher
from app.fs.sftp_conn import within
from app.fs.sftp_lean import Lean
from app.fs.sftp_hash import remote_hashes

if TYPE_CHECKING:
    from app.fs.sftp import SftpFS

BLOCK = 256 * 1024
MAX_IN_FLIGHT = 32
SPLIT_AT = 16 * 1024 * 1024
# Files are opened with block_size=0: each read/write below is exactly one
# SFTP request (we pipeline them ourselves), with no hidden helper tasks whose
# errors would go unretrieved when one request of a batch fails.


def _block(sftp: asyncssh.SFTPClient, write: bool) -> int:
    limits = sftp.limits
    server_max = limits.max_write_len if write else limits.max_read_len
    return max(4096, min(BLOCK, server_max or BLOCK))


async def _bounded(coro, timeout: float):
    return await within(coro, timeout)


async def _drain(pending: set, on_done) -> set:
    """Wait for at least one request; report it; raise its error if it failed."""
    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    # Look at every finished request before raising, so no error is left unseen.
    errors = [t.exception() for t in done if not t.cancelled()]
    for err in errors:
        if err is not None:
            raise err
    for task in done:
        on_done(task.result())
    return pending


def _cancel_all(pending: set) -> None:
    for task in pending:
        task.cancel()
        # A request that fails before the cancel lands is seen here, not logged later.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())


async def upload(fs: SftpFS, local_path: str, rel: str, on_bytes: BytesFn,
                 cancel: CancelToken, attrs: tuple[int, int | None] | None = None) -> None:
    """Copy ``local_path`` to the new server file ``rel``; verify its size.

    With ``attrs`` = (mtime_ns, mode or None) the time and permissions are set
    on the open handle before it is closed (one request, no path lookups) and
    checked with the size.
    """
    path = fs.abs(rel)
    try:
        # Opened and its first block (all of a small file) read right here, as
        # the blocks below are: a trip to a worker thread costs more than a
        # local read of a block. Closed in the finally below.
        src, head = _open_head(local_path, BLOCK)
    except OSError as exc:
        raise FsError(f"cannot read {local_path}: {exc.strerror or exc}", rel) from exc
    created = False

    async def attempt(sftp: asyncssh.SFTPClient, attempt_no: int) -> int:
        nonlocal created
        if created and attempt_no > 0:
            # Our own partial file from the attempt the dropped link cut short.
            try:
                await within(sftp.remove(path), fs.timeout)
            except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
                pass
        block = _block(sftp, True)
        if len(head) >= block or attempt_no > 0:
            src.seek(0)
            first = src.read(block)
        else:
            first = head  # a small file is whole now: sent with the last steps
        lean = Lean.of(sftp) if len(first) < block else None
        if lean is not None:
            return await small_lean(lean, first)
        # Exclusive: never truncate someone's file.
        f = await within(sftp.open(path, "xb", block_size=0), fs.timeout)
        created = True
        try:
            small = len(first) < block
            if small:
                total = len(first)
                tail = [_write_at(f, first, 0)] if first else []
            else:
                total = await _write_big(fs, sftp, f, path, src, block, on_bytes, cancel)
                tail = []
            if cancel.cancelled:
                raise Cancelled()
            # One round trip: the last write, the times and mode, the check and
            # the close go out together, in this order, and the server handles
            # them in order. The check below does not rely on that order: a
            # size, time or mode that is not what we sent fails the upload.
            if attrs is not None:
                tail.append(f.setstat(_set_attrs(*attrs)))
            tail.append(f.stat())
            done = await within(asyncio.gather(*tail, f.close()), fs.timeout)
            if small and total:
                on_bytes(total)
            got = done[-2]
        except BaseException:
            try:
                await within(f.close(), fs.timeout)
            except (asyncssh.Error, OSError, asyncio.TimeoutError, ValueError):
                pass  # the link is gone: the retry (or the error) takes it from here
            raise
        _check_written(rel, got, total, attrs)
        return total

    async def small_lean(lean: Lean, data: bytes) -> int:
        # The same steps as below, as bare requests: create (exclusive), then
        # write, times and mode, check and close in one round trip.
        nonlocal created
        handle = (await within(lean.results([lean.open_new(path)]), fs.timeout))[0]
        created = True
        if cancel.cancelled:
            await within(lean.results([lean.close(handle)]), fs.timeout)
            raise Cancelled()
        tail = [lean.write(handle, 0, data)] if data else []
        if attrs is not None:
            tail.append(lean.fsetstat(handle, _set_attrs(*attrs)))
        tail += [lean.fstat(handle), lean.close(handle)]
        done = await within(lean.results(tail), fs.timeout)
        if data:
            on_bytes(len(data))
        _check_written(rel, done[-2], len(data), attrs)
        return len(data)

    try:
        # The whole file is one call; each request inside has its own stall limit.
        await fs._call("cannot upload", rel, attempt, bounded=False)
    except ConnectionLost:
        raise
    except (FsError, Cancelled) as exc:
        better = None
        if isinstance(exc, FsError) and not isinstance(exc, NoSpace) and created:
            better = await _maybe_no_space(fs, rel, exc)  # before our partial frees space
        if created:
            await _remove_quietly(fs, rel)
        if better is not None and better is not exc:
            raise better from None
        raise
    finally:
        src.close()


def _open_head(local_path: str, n: int):
    src = open(local_path, "rb")  # noqa: SIM115 - the caller closes it
    try:
        return src, src.read(n)
    except BaseException:
        src.close()
        raise


# A server's file system may keep coarser times than a second (FAT: 2 s).
MTIME_SLACK = 2


def _set_attrs(mtime_ns: int, mode: int | None) -> asyncssh.SFTPAttrs:
    secs = mtime_ns // 1_000_000_000
    if mode is None:
        return asyncssh.SFTPAttrs(atime=secs, mtime=secs)
    return asyncssh.SFTPAttrs(permissions=mode & 0o7777, atime=secs, mtime=secs)


def _check_written(rel: str, got: asyncssh.SFTPAttrs, total: int,
                   attrs: tuple[int, int | None] | None) -> None:
    """The server's view of the closed upload must be what we sent."""
    if got.size != total:
        raise FsError(f"upload of {rel} is incomplete: the server holds {got.size} "
                      f"of {total} bytes", rel)
    if attrs is None:
        return
    secs = attrs[0] // 1_000_000_000
    if got.mtime is None or abs(got.mtime - secs) > MTIME_SLACK:
        raise FsError(f"cannot set the time of {rel}: the server kept another one", rel)
    # Only the rwx bits: a server may quietly drop setgid for a file whose group
    # the account is not in, as chmod(2) does.
    if attrs[1] is not None and ((got.permissions or 0) & 0o777) != (attrs[1] & 0o777):
        raise FsError(f"cannot set permissions of {rel}: the server kept other ones", rel)


async def _write_big(fs: SftpFS, sftp: asyncssh.SFTPClient, f, path: str, src, block: int,
                     on_bytes: BytesFn, cancel: CancelToken) -> int:
    """Write a big file through all SFTP sessions of the connection at once.

    Each channel has its own flow-control window on the server (OpenSSH: 2 MiB),
    which over a long round trip bounds what one channel has in flight; the
    blocks take turns across channels. The extra handles are closed (every
    write answered) before the caller checks the size through the first one.
    """
    size = os.fstat(src.fileno()).st_size
    handles = [f]
    if size >= SPLIT_AT:
        entry = await fs._entry()
        for extra in extra_channels(entry, sftp):
            try:
                handles.append(await within(extra.open(path, "r+b", block_size=0), fs.timeout))
            except asyncssh.SFTPError:
                break  # fewer channels then
    try:
        return await _write_all(handles, src, block, fs.timeout, on_bytes, cancel)
    finally:
        for h in handles[1:]:
            try:
                await within(h.close(), fs.timeout)
            except (asyncssh.Error, OSError, asyncio.TimeoutError, ValueError):
                pass  # the link is gone: the caller's error handling takes over


def extra_channels(entry, sftp: asyncssh.SFTPClient) -> list:
    """The connection's other SFTP sessions (none if ``sftp`` is not of ``entry``)."""
    chans = entry.channels
    return [c for c in chans if c is not sftp] if sftp in chans else []


async def _write_all(handles: list, src, block: int, timeout: float, on_bytes: BytesFn,
                     cancel: CancelToken) -> int:
    pending: set = set()
    offset = 0
    turn = 0
    try:
        while True:
            if cancel.cancelled:
                raise Cancelled()
            # Sequential reads of a plain file object (os.pread is not on Windows);
            # a retry starts again from the beginning.
            src.seek(offset)
            data = src.read(block)
            if not data:
                break
            f = handles[turn % len(handles)]
            turn += 1
            pending.add(asyncio.ensure_future(_bounded(_write_block(f, data, offset), timeout)))
            offset += len(data)
            if len(pending) >= MAX_IN_FLIGHT:
                pending = await _drain(pending, on_bytes)
        while pending:
            pending = await _drain(pending, on_bytes)
    except BaseException:
        _cancel_all(pending)
        raise
    return offset


async def _write_at(f, data: bytes, offset: int) -> int:
    await f.write(data, offset)
    return len(data)


async def _write_block(f, data: bytes, offset: int) -> int:
    """One block of a big file: built in one piece, and sent with the other
    requests of this loop turn (a block is 256 KiB). Only for writes that
    nothing else on the handle is sent after before they are answered: the
    bare requests of a turn go out at its end, after any sent directly."""
    lean = _lean_handle(f)
    if lean is None:
        return await _write_at(f, data, offset)
    await lean[0].results([lean[0].write(lean[1], offset, data)])
    return len(data)


def _lean_handle(f):
    """(the bare sender of ``f``'s session, its handle), or None."""
    got = getattr(f, "_syncpane_lean", False)
    if got is False:
        got = None
        handle = getattr(f, "_handle", None)
        handler = getattr(f, "_handler", None)
        if isinstance(handle, bytes) and handler is not None:
            lean = Lean.of_handler(handler)
            if lean is not None:
                got = (lean, handle)
        f._syncpane_lean = got
    return got


async def _maybe_no_space(fs: SftpFS, rel: str, exc: FsError) -> FsError:
    """OpenSSH reports a full disk as a bare 'Failure' (SFTP v3): ask statvfs."""
    parent = fs.abs(rel.rpartition("/")[0])
    try:
        vfs = await fs._call("cannot check free space for", rel,
                             lambda s, _a: s.statvfs(parent))
    except FsError:
        return exc
    if vfs.bavail * (vfs.frsize or vfs.bsize) < 1024 * 1024:
        return NoSpace(f"cannot upload {rel}: no space left on the server", rel)
    return exc


async def _remove_quietly(fs: SftpFS, rel: str) -> None:
    try:
        await fs.remove_file(rel)
    except FsError:
        pass  # a leftover with a reserved name is cleaned by the next sync


async def download(fs: SftpFS, rel: str, local_path: str, on_bytes: BytesFn,
                   cancel: CancelToken) -> None:
    """Copy the server file ``rel`` into the new local file ``local_path``."""
    path = fs.abs(rel)
    try:
        # Exclusive ("x"): never clobber a local file; closed in the finally below.
        out = await asyncio.to_thread(open, local_path, "xb")
    except OSError as exc:
        raise FsError(f"cannot create {local_path}: {exc.strerror or exc}", rel) from exc

    async def attempt(sftp: asyncssh.SFTPClient, attempt_no: int) -> None:
        if attempt_no:
            # A retry starts over. (Not on the first try: on ext4, closing a
            # file that was truncated writes it out at once, as an fsync would.)
            out.seek(0)
            out.truncate()
        f = await asyncio.wait_for(sftp.open(path, "rb", block_size=0), fs.timeout)
        try:
            size = (await asyncio.wait_for(f.stat(), fs.timeout)).size or 0
            await _read_all(f, size, _block(sftp, False), fs.timeout, cancel,
                            lambda data, off: _write_local(out, data, off, on_bytes))
            extra = await asyncio.wait_for(f.read(1, size), fs.timeout)
            if extra:
                raise FsError(f"{rel} grew while it was being copied; try again", rel)
        finally:
            try:
                await asyncio.wait_for(f.close(), fs.timeout)
            except (asyncssh.Error, OSError, asyncio.TimeoutError):
                pass

    ok = False
    try:
        await fs._call("cannot download", rel, attempt, bounded=False)
        await asyncio.to_thread(_finish_local, out)
        ok = True
    finally:
        if not out.closed:
            out.close()
        if not ok:
            try:
                os.unlink(local_path)
            except OSError:
                pass


def _finish_local(out) -> None:
    """Write out what is buffered, flush a big file to disk, close (off the
    event loop: each may wait for the disk)."""
    out.flush()
    base.flush_if_big(out.fileno())
    out.close()


def _write_local(out, data: bytes, offset: int, on_bytes: BytesFn) -> None:
    # Replies arrive in any order; the event loop runs these one at a time.
    out.seek(offset)
    out.write(data)
    on_bytes(len(data))


async def _read_all(f, size: int, block: int, timeout: float, cancel: CancelToken,
                    sink) -> None:
    """Read ``size`` bytes with requests in flight; ``sink(data, offset)`` in any order."""
    pending: set = set()
    offset = 0
    try:
        while offset < size:
            if cancel.cancelled:
                raise Cancelled()
            n = min(block, size - offset)
            pending.add(asyncio.ensure_future(_bounded(_read_at(f, offset, n, timeout), timeout)))
            offset += n
            if len(pending) >= MAX_IN_FLIGHT:
                pending = await _drain(pending, lambda r: sink(*r))
        while pending:
            pending = await _drain(pending, lambda r: sink(*r))
    except BaseException:
        _cancel_all(pending)
        raise


async def _read_at(f, offset: int, n: int, timeout: float) -> tuple[bytes, int]:
    data = await f.read(n, offset)
    while len(data) < n:  # a server may return less than asked; ask for the rest
        more = await asyncio.wait_for(f.read(n - len(data), offset + len(data)), timeout)
        if not more:
            raise FsError("the file shrank while it was being copied; try again")
        data += more
    return data, offset


async def hash_files(fs: SftpFS, rels: list[str], cancel: CancelToken,
                     kind: str = SHA256) -> dict[str, str]:
    """Hex digests of ``kind``; the server's own tools first
    (:mod:`app.fs.sftp_hash`), streaming for the rest."""
    out: dict[str, str] = {}
    if rels and fs.options.remote_commands == "auto":
        out.update(await remote_hashes(fs, rels, kind))
    rest = [r for r in rels if r not in out]
    sem = asyncio.Semaphore(fs.parallel)

    async def one(rel: str) -> None:
        async with sem:
            if cancel.cancelled:
                raise Cancelled()
            digest = await _stream_hash(fs, rel, cancel, kind)
            if digest is not None:
                out[rel] = digest
    results = await asyncio.gather(*(one(r) for r in rest), return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return out


async def _stream_hash(fs: SftpFS, rel: str, cancel: CancelToken,
                       kind: str = SHA256) -> str | None:
    path = fs.abs(rel)

    async def attempt(sftp: asyncssh.SFTPClient, _n: int) -> str:
        h = new_hasher(kind)
        chunks: dict[int, bytes] = {}
        state = {"next": 0}

        def sink(data: bytes, off: int) -> None:
            # Replies may come out of order; feed the hash strictly in order.
            chunks[off] = data
            while state["next"] in chunks:
                d = chunks.pop(state["next"])
                h.update(d)
                state["next"] += len(d)
        f = await asyncio.wait_for(sftp.open(path, "rb", block_size=0), fs.timeout)
        try:
            size = (await asyncio.wait_for(f.stat(), fs.timeout)).size or 0
            await _read_all(f, size, _block(sftp, False), fs.timeout, cancel, sink)
        finally:
            try:
                await asyncio.wait_for(f.close(), fs.timeout)
            except (asyncssh.Error, OSError, asyncio.TimeoutError):
                pass
        return h.hexdigest()
    try:
        return await fs._call("cannot read", rel, attempt, bounded=False)
    except NotFound:
        return None


async def rename_new(fs: SftpFS, src: str, dst: str) -> None:
    """Rename ``src`` to ``dst`` only if nothing is at ``dst`` (AlreadyExists if
    something is): SFTP's own rename never replaces (OpenSSH links the new name,
    then unlinks the old one), so there is no moment to lose a file in."""
    a, b = fs.abs(src), fs.abs(dst)

    async def op(sftp: asyncssh.SFTPClient, attempt_no: int) -> None:
        try:
            lean = Lean.of(sftp)
            if lean is not None:
                await lean.results([lean.rename(a, b)])
            else:
                await sftp.rename(a, b)
            return
        except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
            if attempt_no > 0 and await _exists(sftp, b) and not await _exists(sftp, a):
                return  # the first attempt did it before the link dropped
            raise
        except (asyncssh.SFTPFailure, asyncssh.SFTPFileAlreadyExists) as exc:
            if await _exists(sftp, b):
                raise AlreadyExists(f"cannot rename {src} to {dst}: {dst} appeared", dst) from exc
            raise
    await fs._call(f"cannot rename {src} to", dst, op)


async def rename_replace(fs: SftpFS, src: str, dst: str) -> None:
    """See :meth:`SftpFS.rename`."""
    a, b = fs.abs(src), fs.abs(dst)

    async def op(sftp: asyncssh.SFTPClient, attempt_no: int) -> None:
        try:
            try:
                await sftp.posix_rename(a, b)
            except asyncssh.SFTPOpUnsupported:
                await _rename_aside(sftp, a, b)
        except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
            if attempt_no > 0 and await _exists(sftp, b) and not await _exists(sftp, a):
                return  # the first attempt did it before the link dropped
            raise
    await fs._call(f"cannot rename {src} to", dst, op)


async def _rename_aside(sftp: asyncssh.SFTPClient, a: str, b: str) -> None:
    if not await _exists(sftp, b):
        await sftp.rename(a, b)
        return
    folder = b.rpartition("/")[0]
    aside = f"{folder}/{base.RESERVED_PREFIX}-old-{uuid.uuid4().hex[:12]}{base.TEMP_SUFFIX}"
    await sftp.rename(b, aside)
    try:
        await sftp.rename(a, b)
    except BaseException:
        await sftp.rename(aside, b)  # put the old file back under its name
        raise
    try:
        await sftp.remove(aside)
    except asyncssh.SFTPError:
        pass  # a reserved .tmp name: the next sync removes it as a leftover


async def _exists(sftp: asyncssh.SFTPClient, path: str) -> bool:
    try:
        await sftp.lstat(path)
        return True
    except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
        return False
