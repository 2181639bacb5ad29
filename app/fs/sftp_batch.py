"""The fast path for many small new files: one tar stream over an exec channel.

A batch of files goes, in one tar stream read by the server's own GNU ``tar``
(which also sets each file's time and permission bits), into a fresh staging
folder ``.syncpane-stage-<id>`` at the root: the files of the batch's k-th
target folder under ``k/`` with their real names, and ``k.to``, a link to that
folder. Names travel only inside tar headers, never through the shell, so any
name survives (spaces, newlines, bytes that are not UTF-8). One ``find`` then
reports every staged file's size, time and mode; only files whose three values
are exactly what we sent count as staged.

Placing (a second command) hard-links each wanted staged file under its real
name with ``ln``: link(2) never replaces anything, so a name taken meanwhile
keeps its file, and a real name only ever shows a complete, checked file. The
server lists what it could not place; the staging folder is then removed.

Anything unusual (exec refused, no GNU tar, a forced sftp-only command, tar
failing, output we did not ask for, a dropped link) leaves files out, and the
caller copies those the ordinary way. A staging folder an interrupted run left
behind is removed by the next sync (:func:`clean_stale_stages`). Names starting
with ``.syncpane`` are never compared or synced.
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
PLACED_MARK = b"SYNCPANE-PLACED\0"
# path below the staging folder, size, mtime (seconds with fraction), permission
# bits: NUL-terminated.
VERIFY_FORMAT = r"%P\0%s\0%T@\0%m\0"
CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class StageFile:
    """One local file to stage, as the comparison saw it."""

    local_path: str
    size: int
    mtime_ns: int
    mode: int | None  # None: the source has no permission bits (the server's default)
    target: str  # where it goes, relative to the root


@dataclass(slots=True)
class StagedBatch:
    """A staging folder and, per file asked for, its staged name (None: not staged)."""

    folder: str
    names: list[str | None]  # staged and checked
    sent: list[str | None]  # put in the stream (a file that failed its check is still there)
    removed: bool = False  # the server removed the staging folder itself


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
    folders: dict[str, int] = {}
    for i, f in enumerate(files):
        parent, _, base = f.target.rpartition("/")
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
        k = folders.get(parent)
        if k is None:
            # Folder k of the batch: its files go to k/, and k.to is a link to
            # the real folder, made by tar from the header: no name of ours
            # ever goes through the shell.
            k = folders[parent] = len(folders)
            link = tarfile.TarInfo(f"{k}.to")
            link.type, link.linkname, link.mtime = tarfile.SYMTYPE, _up(parent), secs
            pieces.append(link.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
        name = f"{k}/{base}"
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode, info.type = f.size, secs, mode, tarfile.REGTYPE
        pieces.append(info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
        pieces.append(data)
        pad = -f.size % tarfile.BLOCKSIZE
        if pad:
            pieces.append(b"\0" * pad)
        sent.append((i, name, f.size, secs, mode))
    pieces.append(b"\0" * (2 * tarfile.BLOCKSIZE))
    return pieces, sent


def _up(parent: str) -> str:
    """The real folder ``parent`` (relative to the root) as seen from the staging folder."""
    return f"../{parent}" if parent else ".."


def stage_command(root: str, folder: str) -> str:
    """Make the staging folder, extract the tar from stdin into it, list the result."""
    return (f"cd -- {shlex.quote(root)} && mkdir -m 700 -- {shlex.quote(folder)} && "
            f"cd -- {shlex.quote(folder)} && tar -x -p --no-same-owner -f - && "
            f"printf 'SYNCPANE-STAGED\\0' && "
            f"find . -mindepth 2 -maxdepth 2 -type f -printf {shlex.quote(VERIFY_FORMAT)}")


def parse_listing(out: bytes) -> dict[bytes, tuple[int, int, int]] | None:
    """path -> (size, whole seconds, permission bits) from the staged listing."""
    if not out.startswith(STAGED_MARK):
        return None
    fields = out[len(STAGED_MARK):].split(b"\0")
    if fields[-1] != b"" or (len(fields) - 1) % 4:
        return None
    got = {}
    try:
        for k in range(0, len(fields) - 1, 4):
            name, size, mtime, mode = fields[k:k + 4]
            got[name] = (int(size), int(mtime.partition(b".")[0]), int(mode, 8))
    except ValueError:
        return None
    return got


async def stage_files(fs: SftpFS, files: list[StageFile],
                      cancel: CancelToken) -> StagedBatch | None:
    """Stage ``files`` in one tar stream; None when nothing could be staged.

    A returned batch goes to :func:`place_staged`, then to :func:`discard_batch`
    (which removes what placing did not).
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
    batch = StagedBatch(folder, [None] * len(files), [None] * len(files))
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
    for i, name, size, secs, mode in sent:
        batch.sent[i] = f"{folder}/{name}"
        if listing.get(name.encode("utf-8", "surrogateescape")) == (size, secs, mode):
            batch.names[i] = f"{folder}/{name}"
    return batch


PLACE_COMMAND = (
    # Drop what the caller does not want (names on stdin, NUL-separated); then
    # hard-link each staged file under its real name: link(2) never replaces
    # anything (a name taken meanwhile stays as it is) and the staged file is
    # complete and checked. Then report the files not placed (one link only).
    "xargs -0 -r rm -f -- && for d in [0-9]*.to; do [ -d \"$d\" ] || continue; "
    "find \"${d%.to}\" -mindepth 1 -maxdepth 1 -type f -exec ln -t \"$d\" -- {} + "
    "2>/dev/null; done; printf 'SYNCPANE-PLACED\\0'; "
    "find . -mindepth 2 -maxdepth 2 -type f -links 1 -printf '%P\\0'")


async def place_staged(fs: SftpFS, batch: StagedBatch, files: list[StageFile],
                       keep: list[bool]) -> list[bool]:
    """Put the staged files marked in ``keep`` under their real names, on the
    server in one command; per file, whether it is in place now (False: copy
    it the ordinary way). The staging folder is removed."""
    entry = await fs._entry()
    wanted = [n is not None and k for n, k in zip(batch.names, keep, strict=True)]
    # Everything in the folder that is not wanted goes first, checked or not.
    drop = [n for n, w in zip(batch.sent, wanted, strict=True) if n is not None and not w]
    stdin = b"".join(n.partition("/")[2].encode("utf-8", "surrogateescape") + b"\0"
                     for n in drop)
    command = (f"cd -- {shlex.quote(fs.root)} && cd -- {shlex.quote(batch.folder)} && "
               f"{PLACE_COMMAND}; cd .. && rm -rf -- {shlex.quote(batch.folder)}")
    out = await _stream(fs, entry, command, [stdin], CancelToken())
    if out is None or not out.startswith(PLACED_MARK):
        return await _placed_anyway(fs, files, wanted)
    batch.removed = True
    left = set(out[len(PLACED_MARK):].split(b"\0"))
    return [w and n.partition("/")[2].encode("utf-8", "surrogateescape") not in left
            for w, n in zip(wanted, batch.names, strict=True)]


async def _placed_anyway(fs: SftpFS, files: list[StageFile], wanted: list[bool]) -> list[bool]:
    """After a failed placement: which files are in place all the same (as sent)."""
    sem = asyncio.Semaphore(fs.parallel * 8)

    async def look(f: StageFile) -> bool:
        async with sem:
            try:
                e = await fs.stat(f.target)
            except FsError:
                return False
        return (e is not None and e.size == f.size and e.mtime_ns // 10**9 ==
                f.mtime_ns // 10**9 and (f.mode is None or e.mode == f.mode & 0o7777))
    results = await asyncio.gather(*(look(f) if w else _false()
                                     for f, w in zip(files, wanted, strict=True)))
    return list(results)


async def _false() -> bool:
    return False


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
    if batch.removed:
        return
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
