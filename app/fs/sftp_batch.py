"""The fast path for many small new files: one tar stream over an exec channel.

A batch of files goes, in one tar stream read by the server's own GNU ``tar``
(which also sets each file's time and permission bits), into a fresh staging
folder ``.syncpane-stage-<id>`` at the root: the files of the batch's k-th
target folder under ``k/`` with their real names, and ``k.to``, a link to that
folder. Names travel only inside tar headers, never through the shell, so any
name survives (spaces, newlines, bytes that are not UTF-8). One ``find`` then
reports every staged file's size, time and mode; only files whose three values
are exactly what we sent count as staged.

Placing is our answer to that listing: a second tar, of hard links
``k.to/NAME`` -> ``k/NAME`` for the staged files only, which GNU tar makes with
``--keep-old-files``: link(2) never replaces anything, so a name taken
meanwhile keeps its file, and a real name only ever shows a complete, checked
file. The server lists what it could not place; the staging folder is then
removed.

Anything unusual (exec refused, a tar that is not GNU tar, a forced sftp-only
command, tar failing, output we did not ask for, a dropped link) leaves files
out, and the caller copies those the ordinary way. A staging folder an
interrupted run left behind is removed by the next sync
(:func:`clean_stale_stages`). Names starting with ``.syncpane`` are never
compared or synced.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import stat as stat_mod
import tarfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.sshlib import asyncssh

from app.core.events import CancelToken
from app.fs.base import RESERVED_PREFIX, ConnectionLost, FsError, NotEmpty, Unavailable
from app.fs.sftp_conn import LINK_ERRORS
from app.fs.sftp_remote import MARK, run_remote

if TYPE_CHECKING:
    from app.fs.sftp import SftpFS

STAGE_PREFIX = RESERVED_PREFIX + "-stage-"
# This process's staging folders start with this, so the cleaning of old ones
# (which may run while batches are under way) never takes one of ours.
OUR_STAGES = STAGE_PREFIX + uuid.uuid4().hex[:6] + "-"
STAGED_MARK = b"SYNCPANE-STAGED\0"
LISTED_MARK = b"SYNCPANE-LISTED\0"
PLACED_MARK = b"SYNCPANE-PLACED\0"
END_MARK = b"SYNCPANE-END\0"  # the list of files not placed is complete
BEGIN = b"SYNCPANE-BEGIN;"  # starts our answer to the listing
# path below the staging folder, size, mtime (seconds with fraction), permission
# bits: NUL-terminated.
VERIFY_FORMAT = r"%P\0%s\0%T@\0%m\0"
CHUNK = 1024 * 1024
READ_GROUP = 256  # files read (then looked at again) at a time while a batch streams


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
    """A staging folder on the server."""

    folder: str


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


_TAIL = (b"ustar  \0" + b"\0" * (32 + 32 + 8 + 8 + 155 + 12))  # GNU magic .. end of block
_IDS = b"0000000\0" * 2  # uid, gid 0 (extracted with --no-same-owner)
_OCTAL_MAX = 8 ** 11  # what a 12-byte octal field holds
_FIXED_SUM = sum(b"        ") + sum(_TAIL)  # the checksum field as spaces, the GNU magic


def tar_header(name: bytes, size: int, mtime: int, mode: int, kind: bytes = tarfile.REGTYPE,
               linkname: bytes = b"") -> bytes:
    """One GNU tar header, byte for byte what :mod:`tarfile` makes (GNU format,
    owner 0), built directly: tarfile's general path costs ~10x more, and a
    batch has thousands. Long names and out-of-range numbers go to tarfile."""
    if len(name) > 100 or len(linkname) > 100 or not (0 <= size < _OCTAL_MAX
                                                      and 0 <= mtime < _OCTAL_MAX):
        info = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
        info.size, info.mtime, info.mode, info.type = size, mtime, mode, kind
        info.linkname = linkname.decode("utf-8", "surrogateescape")
        return info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
    numbers = b"%07o\0%s%011o\0%011o\0" % (mode & 0o7777, _IDS, size, mtime)
    # The checksum is the sum of the header's bytes with its own field as
    # spaces; summing only the parts that vary halves the cost of a header.
    check = _FIXED_SUM + sum(name) + sum(numbers) + kind[0] + sum(linkname)
    return b"".join((name.ljust(100, b"\0"), numbers, b"%06o\0 " % check, kind,
                     linkname.ljust(100, b"\0"), _TAIL))


@dataclass(slots=True)
class Member:
    """One file of a batch's archive."""

    index: int  # in the batch's files
    name: bytes  # its staged name, ``k/NAME``
    size: int
    secs: int
    mode: int
    head: bytes  # its tar header (more than one block for a long name)

    @property
    def length(self) -> int:
        """Its bytes in the archive: header, data, padding to a block."""
        return len(self.head) + self.size + (-self.size % 512)


def _tar_plan(files: list[StageFile], umask: int) -> tuple[list[bytes], list[Member]]:
    """Tar headers of the staging folders and their links, and the members.

    Nothing is read here: the headers come from the compared sizes, so the
    archive's length is known (the command's first line) before its first file
    is read, and files are sent as they are read (:func:`_read_group`).
    """
    folders: dict[str, tuple[int, bytes]] = {}
    members: list[Member] = []
    for i, f in enumerate(files):
        parent, _, base = f.target.rpartition("/")
        secs = f.mtime_ns // 1_000_000_000
        if secs < 0:
            continue  # before 1970: not for tar headers; the ordinary route sets it
        mode = (f.mode if f.mode is not None else 0o666 & ~umask) & 0o7777
        if parent not in folders:
            # Folder k of the batch: its files go to k/, and k.to is a link to
            # the real folder, made by tar from the header: no name of ours
            # ever goes through the shell. The archive starts with all the
            # folders: on ext4, files written into folders made beforehand
            # were staged about three times faster than when tar makes
            # each folder as its first file comes (tests/benchmarks/README.md).
            k = len(folders)
            folders[parent] = (k, tar_header(b"%d/" % k, 0, 0, 0o700, tarfile.DIRTYPE)
                               + tar_header(b"%d.to" % k, 0, secs, 0o644, tarfile.SYMTYPE,
                                            _up(parent).encode("utf-8", "surrogateescape")))
        k = folders[parent][0]
        name = b"%d/%s" % (k, base.encode("utf-8", "surrogateescape"))
        members.append(Member(i, name, f.size, secs, mode, tar_header(name, f.size, secs, mode)))
    return [h for _k, h in folders.values()], members


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _read_group(files: list[StageFile], group: list[Member],
                follow: bool = False) -> list[bytes | None]:
    """Each member's bytes, or None where the file cannot be read or is not,
    once read, what the comparison saw: a regular file of the compared size
    and time (the ordinary route then sees why). Looked at through the open
    file after the read, so what was read is what was compared; a change
    after that is the next sync's. Runs in a worker thread."""
    flags = _READ_FLAGS if follow else _READ_FLAGS | _NOFOLLOW
    out: list[bytes | None] = []
    for m in group:
        f = files[m.index]
        try:
            fd = os.open(f.local_path, flags)
        except OSError:
            out.append(None)
            continue
        try:
            data = os.read(fd, m.size + 1)
            while 0 < len(data) < m.size:  # a short read (rare): read on
                more = os.read(fd, m.size + 1 - len(data))
                if not more:
                    break
                data += more
            st = os.fstat(fd)
        except OSError:
            data = None
        finally:
            os.close(fd)
        out.append(data if (data is not None and len(data) == m.size == st.st_size
                            and st.st_mtime_ns == f.mtime_ns
                            and stat_mod.S_ISREG(st.st_mode)) else None)
    return out


def _up(parent: str) -> str:
    """The real folder ``parent`` (relative to the root) as seen from the staging folder."""
    return f"../{parent}" if parent else ".."


def batch_command(root: str, folder: str) -> str:
    """One command for a whole batch: read the archive's size (a line), then
    extract that many bytes of tar from stdin into a new staging folder (the
    command starts while the archive is still being made: a session and a
    shell take a while to start on many servers); list what is there; read
    our answer, a second
    tar of hard links for the files staged exactly as sent; list what could not
    be placed; remove the staging folder.

    ``take`` (GNU dd, else ``head -c``) hands tar exactly the archive and leaves the rest of stdin
    (our answer to the listing) unread; the answer must start with a marker,
    else nothing is placed. The links are made by GNU tar with
    ``--keep-old-files``: link(2) never replaces a name that is taken, and
    tar is told not to remove one first, so such a file stays here with one
    link and is listed as not placed. One tar places a whole batch, however
    many folders it spans. Any other tar: nothing is done (plain SFTP then).
    """
    fmt = shlex.quote(VERIFY_FORMAT)
    # GNU dd takes the archive in 64 KiB reads where head takes 8 KiB: the
    # server then gives the window back in big steps, not one small message
    # (and one small packet from us) per read. Both stop at the archive's
    # end (dd counts bytes, and fills each block however the pipe hands it
    # over: without "fullblock" a short read would count as a whole block).
    return ("case \"$(tar --version 2>/dev/null)\" in *'GNU tar'*) ;; *) exit 1;; esac; "
            "case \"$(dd --version 2>/dev/null)\" in *coreutils*) "
            "take() { dd bs=65536 count=\"$1\" iflag=count_bytes,fullblock 2>/dev/null; };; "
            "*) take() { head -c \"$1\"; };; esac; "
            "IFS= read -r n || exit 1; case \"$n\" in ''|*[!0-9]*) exit 1;; esac; "
            f"cd -- {shlex.quote(root)} && mkdir -m 700 -- {shlex.quote(folder)} && "
            f"cd -- {shlex.quote(folder)} || exit 1; "
            f"if take \"$n\" | tar -x -p --no-same-owner -f -; then "
            f"printf 'SYNCPANE-STAGED\\0'; "
            f"find . -mindepth 2 -maxdepth 2 -type f -printf {fmt}; "
            f"printf 'SYNCPANE-LISTED\\0'; "
            f"if [ \"$(head -c {len(BEGIN)})\" = '{BEGIN.decode()}' ]; then "
            f"tar -x --keep-old-files -f - 2>/dev/null; fi; "
            f"printf 'SYNCPANE-PLACED\\0'; "
            f"find . -mindepth 2 -maxdepth 2 -type f -links 1 -printf '%P\\0' && "
            f"printf 'SYNCPANE-END\\0'; fi; "
            f"cd .. && rm -rf -- {shlex.quote(folder)}")


def link_archive(names: list[bytes]) -> bytes:
    """A tar of hard links: ``k.to/NAME`` (the real folder, through the
    staging folder's link to it) to the staged ``k/NAME``, for each name."""
    heads = []
    for n in names:
        k, _, base = n.partition(b"/")
        heads.append(tar_header(k + b".to/" + base, 0, 0, 0o644, tarfile.LNKTYPE, n))
    out = b"".join(heads) + b"\0" * (2 * 512)
    return out + b"\0" * (-len(out) % tarfile.RECORDSIZE)


def parse_listing(out: bytes) -> dict[bytes, tuple[int, int, int]] | None:
    """path -> (size, whole seconds, permission bits) from the staged listing
    (our output from its start marker up to, not including, the listed marker)."""
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


Placeable = Callable[[], Awaitable[list[bool]]]


async def put_files(fs: SftpFS, files: list[StageFile], cancel: CancelToken,
                    placeable: Placeable | None = None, *, follow: bool = False,
                    on_read: Callable[[], None] | None = None) -> list[bool] | None:
    """Put ``files`` in place through one batch command; per file, whether it
    is in place now (False: copy it the ordinary way). None when the route
    cannot be used here (then nothing was placed).

    Only a file that is, once read, still as compared (:func:`_read_group`;
    ``follow``: symbolic links to files are read through) is placed.
    ``on_read()`` is called once the first files are read and on their way.
    ``placeable()``, awaited once the files are staged and before any is
    placed, says per file whether its place may be taken now (its folder
    made, its name free): the files are sent while the executor still makes
    the folders.
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
    try:
        fs.root.encode("utf-8")
    except UnicodeEncodeError:
        return None  # a root that is not UTF-8 cannot go on a command line
    ahead = bool(fs._warm)
    if ahead:
        folder, starting = fs._warm.pop(0)  # started ahead (see warm)
    else:
        folder = f"{OUR_STAGES}{uuid.uuid4().hex[:12]}"
        # The command starts while the files are read: it waits for the size.
        starting = asyncio.ensure_future(_start(fs, entry, batch_command(fs.root, folder)))
    try:
        heads, members = await asyncio.to_thread(_tar_plan, files, entry.umask or 0)
        cancel.raise_if_cancelled()
        proc = await starting
        if proc is None and ahead:
            # A command started ahead may have been refused only because the
            # server allows few sessions at once: ask again, now.
            starting = asyncio.ensure_future(_start(fs, entry, batch_command(fs.root, folder)))
            proc = await starting
    except BaseException:
        await _abandon(starting)
        raise
    if proc is None:
        # No session for the command (the server's limit of sessions at once):
        # this batch goes the plain way; the next one may find a session free.
        return None
    if not members:
        await _abandon(starting)  # (it ends at once, before making anything)
        return [False] * len(files)
    body = sum(map(len, heads)) + sum(m.length for m in members)
    length = body + 2 * 512
    length += -length % tarfile.RECORDSIZE
    sendable: set[bytes] = set()  # read whole, and still as compared once read

    async def archive():
        """The size line, then the archive, read a group of files at a time
        (the next group is read while this one goes). A file that cannot be
        read whole goes as zeros under its staged name, and is not placed;
        nor is one whose source changed since the comparison."""
        yield b"%d\n" % length + b"".join(heads)
        groups = [members[g:g + READ_GROUP] for g in range(0, len(members), READ_GROUP)]
        reading = asyncio.ensure_future(asyncio.to_thread(_read_group, files, groups[0],
                                                          follow))
        try:
            for n, group in enumerate(groups):
                datas = await reading
                if n + 1 < len(groups):
                    reading = asyncio.ensure_future(
                        asyncio.to_thread(_read_group, files, groups[n + 1], follow))
                parts = []
                for m, d in zip(group, datas, strict=True):
                    if d is None:
                        d = bytes(m.size)
                    else:
                        sendable.add(m.name)
                    parts += (m.head, d, bytes(-m.size % 512))
                if n == 0 and on_read is not None:
                    on_read()
                yield b"".join(parts)
        finally:
            if not reading.done():
                reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
        yield bytes(length - body)

    def expected() -> dict[bytes, tuple[int, int, int]]:
        return {m.name: (m.size, m.secs, m.mode) for m in members if m.name in sendable}

    async def answer(listing_out: bytes) -> bytes:
        """Link only the staged files the listing shows exactly as sent, to
        places that may be taken."""
        listing = parse_listing(listing_out)
        if listing is None:
            return b""  # no marker: nothing will be placed
        if placeable is not None:
            may = await placeable()
            for m in members:
                if not may[m.index]:
                    sendable.discard(m.name)
        return BEGIN + link_archive([n for n, want in expected().items()
                                     if listing.get(n) == want])

    try:
        out = await _stream(fs, entry, proc, archive(), cancel, answer)
    except BaseException:
        await discard_batch(fs, StagedBatch(folder))
        raise
    if out is None or LISTED_MARK not in out:
        entry.can_stage = False  # it failed once: plain SFTP from now on, it is correct
        await discard_batch(fs, StagedBatch(folder))
        return None
    entry.can_stage = True
    before, _, after = out.partition(LISTED_MARK)
    listing = parse_listing(before)
    ok_names = {n for n, want in expected().items() if listing and listing.get(n) == want}
    wanted = [False] * len(files)
    for m in members:
        wanted[m.index] = m.name in ok_names
    # (Every listed path holds a "/", so a whole record equal to the end mark is ours.)
    if not after.startswith(PLACED_MARK) or not after.endswith(b"\0" + END_MARK):
        # Cut during the placing (or its report): look at what is there now.
        await discard_batch(fs, StagedBatch(folder))
        return await _placed_anyway(fs, files, wanted)
    left = set(after[len(PLACED_MARK):-len(END_MARK)].split(b"\0"))
    placed = [False] * len(files)
    for m in members:
        placed[m.index] = wanted[m.index] and m.name not in left
    return placed


async def _placed_anyway(fs: SftpFS, files: list[StageFile], wanted: list[bool]) -> list[bool]:
    """After a cut placement: which files are in place all the same (as sent)."""
    sem = asyncio.Semaphore(fs.parallel * 8)

    async def look(f: StageFile, w: bool) -> bool:
        if not w:
            return False
        async with sem:
            try:
                e = await fs.stat(f.target)
            except FsError:
                return False
        return (e is not None and e.size == f.size and e.mtime_ns // 10**9 ==
                f.mtime_ns // 10**9 and (f.mode is None or e.mode == f.mode & 0o7777))
    return list(await asyncio.gather(*(look(f, w) for f, w in
                                       zip(files, wanted, strict=True))))


def warm(fs: SftpFS, n: int) -> None:
    """Start up to ``n`` batch commands now; :func:`put_files` takes them in
    turn. Each waits for its archive's size, and ends without making anything
    if it gets none (:func:`cool`)."""
    if fs.options.remote_commands != "auto":
        return
    try:
        fs.root.encode("utf-8")
    except UnicodeEncodeError:
        return
    while len(fs._warm) < n:
        folder = f"{OUR_STAGES}{uuid.uuid4().hex[:12]}"

        async def start(folder=folder):
            entry = await fs._entry(sessions=False)
            if entry.can_stage is False:
                return None
            return await _start(fs, entry, batch_command(fs.root, folder))
        task = asyncio.ensure_future(start())
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        fs._warm.append((folder, task))


async def cool(fs: SftpFS) -> None:
    """End the commands started ahead that got no batch."""
    warm_ones, fs._warm = fs._warm, []
    for _folder, task in warm_ones:
        await _abandon(task)


async def _start(fs: SftpFS, entry, command: str):
    """Start ``command`` on the server; None when exec cannot be used."""
    full = f"LC_ALL=C; export LC_ALL; printf 'SYNCPANE-EXEC\\0'; {command}"
    try:
        return await asyncio.wait_for(entry.conn.create_process(full, encoding=None),
                                      fs.timeout)
    except asyncssh.ChannelOpenError:
        return None
    except LINK_ERRORS:
        await fs.pool.drop(fs.location.key, entry)
        return None


async def _abandon(starting: asyncio.Future) -> None:
    """End a started command that gets no batch: its input ends before the
    size line, so it stops before making anything."""
    try:
        proc = await starting
    except (asyncssh.Error, Unavailable, ConnectionLost, *LINK_ERRORS):
        return
    if proc is not None:
        try:
            proc.stdin.write_eof()
        except (asyncssh.Error, *LINK_ERRORS):
            pass  # the server shut the channel already
        proc.close()


async def _stream(fs: SftpFS, entry, proc, pieces: AsyncIterator[bytes],
                  cancel: CancelToken, answer=None) -> bytes | None:
    """Feed ``pieces`` (made while earlier ones go) to the started command
    ``proc``; its stdout after our marker.

    With ``answer``: once the output holds LISTED_MARK, what ``answer(output
    up to it)`` gives is written to stdin as well, then stdin ends (while it
    is awaited, the command is waiting for us, not stalled). None when the command
    is not ours to trust (exec refused, a forced command, a non-zero exit).
    Bytes must keep moving one way or the other: ``timeout`` seconds with
    neither input taken nor output given end it (None).
    """
    loop = asyncio.get_running_loop()
    last = [loop.time()]
    answering = [False]
    out_chunks: list[bytes] = []
    listed = asyncio.Event()

    async def send(data: bytes) -> bool:
        """Write ``data`` a chunk at a time; False once there is no point."""
        for k in range(0, len(data), CHUNK):
            if cancel.cancelled or listed.is_set():
                return False
            proc.stdin.write(data[k:k + CHUNK])
            await proc.stdin.drain()
            last[0] = loop.time()
        return True

    async def feed() -> None:
        async with contextlib.aclosing(pieces):
            async for data in pieces:
                last[0] = loop.time()  # (making a piece is progress too)
                if not await send(data):
                    break
        if answer is not None:
            await listed.wait()
            out = b"".join(out_chunks)
            if LISTED_MARK in out and out.startswith(MARK):
                answering[0] = True
                try:
                    reply = await answer(out[len(MARK):].partition(LISTED_MARK)[0])
                finally:
                    answering[0] = False
                    last[0] = loop.time()
                if reply:
                    proc.stdin.write(reply)
                    await proc.stdin.drain()
        proc.stdin.write_eof()

    async def read_out() -> bytes:
        while True:
            chunk = await proc.stdout.read(1 << 20)
            if not chunk:
                listed.set()
                return b"".join(out_chunks)
            out_chunks.append(chunk)
            last[0] = loop.time()
            if not listed.is_set() and LISTED_MARK in b"".join(out_chunks[-2:]):
                listed.set()

    async def read_err() -> bytes:
        return await proc.stderr.read()

    tasks = [asyncio.ensure_future(feed()), asyncio.ensure_future(read_out()),
             asyncio.ensure_future(read_err())]
    try:
        while not all(t.done() for t in tasks):
            await asyncio.wait(tasks, timeout=min(1.0, fs.timeout),
                               return_when=asyncio.FIRST_EXCEPTION)
            if any(t.done() and not t.cancelled() and t.exception() for t in tasks):
                break
            if cancel.cancelled or (not answering[0] and loop.time() - last[0] > fs.timeout):
                break
        failed = [t for t in tasks if not t.done() or t.cancelled() or t.exception()]
        if failed:
            proc.close()
            if entry.conn.is_closed():
                await fs.pool.drop(fs.location.key, entry)
            cancel.raise_if_cancelled()
            out = b"".join(out_chunks)
            # What the server said before the cut still tells what it did.
            return out[len(MARK):] if out.startswith(MARK) else None
        await asyncio.wait_for(proc.wait_closed(), fs.timeout)
    except (asyncssh.Error, *LINK_ERRORS):
        proc.close()
        if entry.conn.is_closed():
            await fs.pool.drop(fs.location.key, entry)
        out = b"".join(out_chunks)
        return out[len(MARK):] if out.startswith(MARK) else None
    finally:
        for t in tasks:
            if not t.done():
                t.cancel()
            t.add_done_callback(lambda t: t.cancelled() or t.exception())
    out = tasks[1].result()
    if not out.startswith(MARK):
        return None
    if proc.exit_status != 0 and LISTED_MARK not in out:
        return None  # (past the listing, what it said still tells what it did)
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
    """Remove staging folders at the root left by a run that was cut short
    (never this process's own: this may run while its batches are under way)."""
    try:
        names = await fs._call("cannot list", "", lambda s, _a: s.readdir(fs.root))
    except FsError:
        return
    for n in names:
        if (n.filename.startswith(STAGE_PREFIX) and not n.filename.startswith(OUR_STAGES)
                and stat_mod.S_ISDIR(n.attrs.permissions or 0)):
            try:
                await fs.remove_tree(n.filename)
            except FsError:
                pass  # never synced; the next run tries again
