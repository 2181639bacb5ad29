"""The fast path for many small new files: one tar stream over an exec channel.

Each file of a batch goes, under a numbered name, into a fresh staging folder
``.syncpane-stage-<id>`` at the root, written by the server's own GNU ``tar``
(which also sets each file's time and permission bits). One ``find`` over the
folder then reports every staged file's size, time and mode; only files whose
three values are exactly what we sent are handed back. The executor renames
each into place with SFTP's no-clobber rename, like any temporary file, so a
real name only ever holds a complete file, and the names themselves (spaces,
newlines, any bytes) travel only over SFTP, never through a shell.

Anything unusual (exec refused, no GNU tar, a forced sftp-only command, tar
failing, output we did not ask for, a dropped link) returns None or leaves the
file out, and the caller copies those files the ordinary way. The staging
folder is removed afterwards; one an interrupted run left behind is removed by
the next sync (:func:`clean_stale_stages`). Names starting with ``.syncpane``
are never compared or synced.
"""

from __future__ import annotations

import asyncio
import shlex
import stat as stat_mod
import tarfile
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncssh

from app.core.events import CancelToken
from app.fs.base import RESERVED_PREFIX, FsError, NotEmpty
from app.fs.sftp_conn import LINK_ERRORS
from app.fs.sftp_remote import MARK, run_remote

if TYPE_CHECKING:
    from app.fs.sftp import SftpFS

STAGE_PREFIX = RESERVED_PREFIX + "-stage-"
STAGED_MARK = b"SYNCPANE-STAGED\0"
# name, size, mtime (seconds with fraction), permission bits: NUL-terminated.
VERIFY_FORMAT = r"%f\0%s\0%T@\0%m\0"
CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class StageFile:
    """One local file to stage, as the comparison saw it."""

    local_path: str
    size: int
    mtime_ns: int
    mode: int | None  # None: the source has no permission bits (the server's default)


@dataclass(slots=True)
class StagedBatch:
    """A staging folder and, per file asked for, its staged name (None: not staged)."""

    folder: str
    names: list[str | None]


async def _learn_umask(fs: SftpFS, entry) -> bool:
    """The account's umask (for files without permission bits of their own)."""
    if entry.umask is not None:
        return True
    result = await run_remote(fs, "umask")
    try:
        entry.umask = int(result.stdout.decode("ascii").strip(), 8) & 0o777
    except (AttributeError, ValueError, UnicodeDecodeError):
        entry.can_stage = False
        return False
    return True


def _tar_stream(files: list[StageFile], umask: int) -> tuple[list[bytes], list[tuple]]:
    """The tar archive (in pieces) and, per file put in, (index, size, secs, mode).

    Runs in a worker thread. A file that cannot be read, or whose size is no
    longer the compared one, is left out (the ordinary route will see why).
    """
    pieces: list[bytes] = []
    sent: list[tuple] = []
    for i, f in enumerate(files):
        secs = f.mtime_ns // 1_000_000_000
        if secs < 0:
            continue  # before 1970: not for tar headers; the ordinary route sets it
        try:
            with open(f.local_path, "rb") as src:
                data = src.read(f.size + 1)
        except OSError:
            continue
        if len(data) != f.size:
            continue
        mode = (f.mode if f.mode is not None else 0o666 & ~umask) & 0o7777
        info = tarfile.TarInfo(str(i))
        info.size, info.mtime, info.mode, info.type = f.size, secs, mode, tarfile.REGTYPE
        pieces.append(info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
        pieces.append(data)
        pad = -f.size % tarfile.BLOCKSIZE
        if pad:
            pieces.append(b"\0" * pad)
        sent.append((i, f.size, secs, mode))
    pieces.append(b"\0" * (2 * tarfile.BLOCKSIZE))
    return pieces, sent


def stage_command(root: str, folder: str) -> str:
    """Make the staging folder, extract the tar from stdin into it, list the result."""
    return (f"cd -- {shlex.quote(root)} && mkdir -m 700 -- {shlex.quote(folder)} && "
            f"cd -- {shlex.quote(folder)} && tar -x -p --no-same-owner -f - && "
            f"printf 'SYNCPANE-STAGED\\0' && "
            f"find . -maxdepth 1 -type f -printf {shlex.quote(VERIFY_FORMAT)}")


def parse_listing(out: bytes) -> dict[str, tuple[int, int, int]] | None:
    """name -> (size, whole seconds, permission bits) from the staged listing."""
    if not out.startswith(STAGED_MARK):
        return None
    fields = out[len(STAGED_MARK):].split(b"\0")
    if fields[-1] != b"" or (len(fields) - 1) % 4:
        return None
    got = {}
    try:
        for k in range(0, len(fields) - 1, 4):
            name, size, mtime, mode = fields[k:k + 4]
            got[name.decode("ascii")] = (int(size), int(mtime.partition(b".")[0]),
                                         int(mode, 8))
    except (ValueError, UnicodeDecodeError):
        return None
    return got


async def stage_files(fs: SftpFS, files: list[StageFile],
                      cancel: CancelToken) -> StagedBatch | None:
    """Stage ``files`` in one tar stream; None when nothing could be staged.

    A returned batch must be handed to :func:`discard_batch` once its files
    have been renamed into place (or given up on).
    """
    if not files or fs.options.remote_commands != "auto":
        return None
    entry = await fs._entry()
    if entry.can_stage is False:
        return None
    # No separate probe (each exec costs a session start on the server): the
    # first batch finds out; where it fails, plain SFTP takes over.
    if any(f.mode is None for f in files) and not await _learn_umask(fs, entry):
        return None
    folder = f"{STAGE_PREFIX}{uuid.uuid4().hex[:12]}"
    command = stage_command(fs.root, folder)
    try:
        command.encode("utf-8")
    except UnicodeEncodeError:
        return None  # a root that is not UTF-8 cannot go on a command line
    pieces, sent = await asyncio.to_thread(_tar_stream, files, entry.umask or 0)
    if not sent:
        return None
    cancel.raise_if_cancelled()
    batch = StagedBatch(folder, [None] * len(files))
    listing = None
    try:
        out = await _stream(fs, entry, command, pieces, cancel)
        listing = parse_listing(out) if out is not None else None
    except BaseException:
        await discard_batch(fs, batch)
        raise
    if listing is None:
        entry.can_stage = False  # it failed once: plain SFTP from now on, it is correct
        await discard_batch(fs, batch)
        return None
    entry.can_stage = True
    for i, size, secs, mode in sent:
        if listing.get(str(i)) == (size, secs, mode):
            batch.names[i] = f"{folder}/{i}"
    return batch


async def _stream(fs: SftpFS, entry, command: str, pieces: list[bytes],
                  cancel: CancelToken) -> bytes | None:
    """Run ``command`` with ``pieces`` as its stdin; its stdout after our marker.

    None when the command is not ours to trust (exec refused, a forced command,
    a non-zero exit). Bytes must keep moving one way or the other: ``timeout``
    seconds with neither input taken nor output given end it (None).
    """
    loop = asyncio.get_running_loop()
    full = f"LC_ALL=C; export LC_ALL; printf 'SYNCPANE-EXEC\\0'; {command}"
    try:
        proc = await asyncio.wait_for(entry.conn.create_process(full, encoding=None),
                                      fs.timeout)
    except asyncssh.ChannelOpenError:
        return None
    except LINK_ERRORS:
        await fs.pool.drop(fs.location.key, entry)
        return None
    last = [loop.time()]

    async def feed() -> None:
        data = b"".join(pieces)
        for k in range(0, len(data), CHUNK):
            if cancel.cancelled:
                break
            proc.stdin.write(data[k:k + CHUNK])
            await proc.stdin.drain()
            last[0] = loop.time()
        proc.stdin.write_eof()

    async def read_all(stream) -> bytes:
        chunks = []
        while True:
            chunk = await stream.read(1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            last[0] = loop.time()

    tasks = [asyncio.ensure_future(feed()), asyncio.ensure_future(read_all(proc.stdout)),
             asyncio.ensure_future(read_all(proc.stderr))]
    try:
        while not all(t.done() for t in tasks):
            await asyncio.wait(tasks, timeout=min(1.0, fs.timeout),
                               return_when=asyncio.FIRST_EXCEPTION)
            if any(t.done() and not t.cancelled() and t.exception() for t in tasks):
                break
            if loop.time() - last[0] > fs.timeout or cancel.cancelled:
                break
        failed = [t for t in tasks if not t.done() or t.cancelled() or t.exception()]
        if failed:
            proc.close()
            if entry.conn.is_closed():
                await fs.pool.drop(fs.location.key, entry)
            cancel.raise_if_cancelled()
            return None
        await asyncio.wait_for(proc.wait_closed(), fs.timeout)
    except (asyncssh.Error, *LINK_ERRORS):
        proc.close()
        if entry.conn.is_closed():
            await fs.pool.drop(fs.location.key, entry)
        return None
    finally:
        for t in tasks:
            if not t.done():
                t.cancel()
            t.add_done_callback(lambda t: t.cancelled() or t.exception())
    out = tasks[1].result()
    if proc.exit_status != 0 or not out.startswith(MARK):
        return None
    return out[len(MARK):]


async def discard_batch(fs: SftpFS, batch: StagedBatch) -> None:
    """Remove the staging folder and what is still in it; quietly (the next
    sync removes what a dropped link kept us from removing)."""
    try:
        try:
            await fs.remove_dir(batch.folder)
        except NotEmpty:
            await fs.remove_tree(batch.folder)
    except FsError:
        pass


async def clean_stale_stages(fs: SftpFS) -> None:
    """Remove staging folders at the root (left by a run that was cut short)."""
    try:
        names = await fs._call("cannot list", "", lambda s, _a: s.readdir(fs.root))
    except FsError:
        return
    for n in names:
        if n.filename.startswith(STAGE_PREFIX) and stat_mod.S_ISDIR(n.attrs.permissions or 0):
            try:
                await fs.remove_tree(n.filename)
            except FsError:
                pass  # never synced; the next run tries again
