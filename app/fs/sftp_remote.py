"""The fast path: standard commands run on the server over an exec channel.

One GNU ``find -printf`` lists a whole tree (one round trip instead of one
per folder); hashing on the server is in :mod:`app.fs.sftp_hash`. Output is
NUL-separated bytes, so any name survives (newlines, non-UTF-8). Anything
unexpected (exec refused, an sftp-only account whose forced command ignores
ours, a missing or non-GNU tool, malformed output) makes these functions
return None and the caller uses plain SFTP instead, silently and correctly.
"""

from __future__ import annotations

import asyncio
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.sshlib import asyncssh

from app.core.events import CancelToken
from app.fs.base import ConnectionLost, ScanOptions, ScanResult
from app.fs.sftp_conn import LINK_ERRORS
from app.fs.sftp_findparse import DIR_FORMAT, FILE_FORMAT, OTHER_FORMAT, FindParser

if TYPE_CHECKING:
    from app.fs.sftp import SftpFS

MARK = b"SYNCPANE-EXEC\0"
LOOP_MESSAGE = "link leads back into a folder above it (a link loop); not followed"
LISTING_BLOCK = 32768  # bytes: one SSH packet's worth (OpenSSH's largest for a session)


@dataclass
class ExecResult:
    status: int | None
    stdout: bytes
    stderr: bytes


async def run_remote(fs: SftpFS, command: str, stdin: bytes = b"",
                     stall: float | None = None,
                     sink: Callable[[bytes], None] | None = None) -> ExecResult | None:
    """Run ``command`` (sh syntax) on the server; None when exec is not usable.

    A marker printed first tells our command's output apart from a forced
    command's. Output must keep flowing: ``stall`` seconds without a byte
    ends the attempt. A lost link raises ConnectionLost (not a fallback).
    With ``sink``, output after the marker goes there as it arrives (so
    parsing overlaps the remote command) instead of into the result.
    """
    entry = await fs._entry(sessions=False)
    stall = stall or fs.timeout
    full = f"LC_ALL=C; export LC_ALL; printf 'SYNCPANE-EXEC\\0'; {command}"
    try:
        proc = await asyncio.wait_for(
            entry.conn.create_process(full, encoding=None), fs.timeout)
    except asyncssh.ChannelOpenError:
        return None  # the account may not run commands at all
    except LINK_ERRORS as exc:
        await fs.pool.drop(fs.location.key, entry)
        raise ConnectionLost(f"the connection to {fs.location.key} dropped: {exc}") from None
    try:
        if stdin:
            proc.stdin.write(stdin)
        proc.stdin.write_eof()  # a forced sftp-server then ends instead of waiting
        err_task = asyncio.ensure_future(proc.stderr.read())
        chunks = []
        head = b""
        while True:
            chunk = await asyncio.wait_for(proc.stdout.read(1 << 20), stall)
            if not chunk:
                break
            if sink is not None:
                if head is not None:
                    head += chunk
                    if len(head) < len(MARK):
                        continue
                    if not head.startswith(MARK):
                        proc.close()
                        return None  # not our command's output
                    chunk, head = head[len(MARK):], None
                sink(chunk)
                continue
            chunks.append(chunk)
        if sink is not None:
            chunks = [MARK] if head is None else [head]
        stderr = await asyncio.wait_for(err_task, stall)
        await asyncio.wait_for(proc.wait_closed(), stall)
        status = proc.exit_status
    except (asyncio.TimeoutError, TimeoutError):
        proc.close()
        return None  # stuck command: plain SFTP will do (it has its own stall checks)
    except (asyncssh.Error, *LINK_ERRORS) as exc:
        # Only a closed connection is a lost link. A channel the server shut
        # while the link stays up (a forced sftp-server refusing our input
        # before we finished writing it) means exec is not usable here.
        proc.close()
        if entry.conn.is_closed():
            await fs.pool.drop(fs.location.key, entry)
            raise ConnectionLost(f"the connection to {fs.location.key} dropped: {exc}") from None
        return None
    except asyncio.CancelledError:
        proc.close()  # the command is not wanted any more (the server ends it)
        raise
    out = b"".join(chunks)
    if not out.startswith(MARK):
        return None
    return ExecResult(status, out[len(MARK):], stderr or b"")


def find_command(root: str, symlinks: str) -> str:
    """The ``find`` command for a scan of ``root`` (records: see :mod:`app.fs.sftp_findparse`)."""
    # -H follows a linked root folder (as SFTP's listing of it does), nothing else.
    follow = "-L" if symlinks == "follow" else "-H"
    q = shlex.quote
    # Our own folders (.syncpane-versions ...) are printed but not entered;
    # the second find proves the root is a folder and that the first one ended.
    listing = (f"find {follow} {q(root)} -mindepth 1"
               f" \\( -name '.syncpane*' -type d -prune -printf {q(DIR_FORMAT)} \\)"
               f" -o \\( -type f -printf {q(FILE_FORMAT)} \\)"
               f" -o \\( -type d -printf {q(DIR_FORMAT)} \\)"
               f" -o -printf {q(OTHER_FORMAT)}; printf 'SYNCPANE-ROOT\\0'; "
               f"find {follow} {q(root)} -maxdepth 0 -type d -printf 'ok\\0'")
    # find writes 4 KiB at a time into the pipe, and the server sends each as
    # its own packet; dd gathers them into packets of the largest size (a
    # 100,000-file listing: 1,650 packets -> 210, and a sixth off the whole
    # compare's time). Without dd, the listing goes as it is.
    return (f"syncpane_list() {{ {listing}; }}; if command -v dd >/dev/null 2>&1; "
            f"then syncpane_list | dd ibs={LISTING_BLOCK} obs={LISTING_BLOCK} 2>/dev/null; "
            f"else syncpane_list; fi")


def parse_find(out: bytes, symlinks: str = "skip", flt=None) -> ScanResult | None:
    """The scan from complete ``find`` output, or None if it is not what we asked for."""
    parser = FindParser(symlinks, flt)
    parser.feed(out)
    return parser.finish()


_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def find_problems(stderr: bytes, root: str) -> list[tuple[str, str]] | None:
    """(rel, message) for each of find's complaints, or None if stderr holds
    anything else (then the output is not trusted)."""
    problems = []
    prefix = root.rstrip("/") + "/"
    for line in stderr.decode("utf-8", "surrogateescape").splitlines():
        if not line.startswith("find: "):
            return None
        m = _QUOTED.search(line)
        path = m.group(1) if m else ""
        rel = path.removeprefix(prefix)
        if "loop" in line:
            problems.append((rel, LOOP_MESSAGE))
        elif "Permission denied" in line:
            problems.append((rel, "cannot read folder: permission denied"))
        elif "No such file" in line:
            continue  # vanished during the listing
        else:
            problems.append((rel, line[6:]))
    return problems


async def remote_find(fs: SftpFS, options: ScanOptions, progress=None,
                      cancel: CancelToken | None = None) -> ScanResult | None:
    """The scan from one remote ``find``, parsed while it streams; None to use SFTP."""
    entry = await fs._entry(sessions=False)
    if entry.can_find is False:
        return None
    parser = FindParser(options.symlinks, options.filter, progress, cancel)
    result = await run_remote(fs, find_command(fs.root, options.symlinks), sink=parser.feed)
    if result is None:
        entry.can_find = False  # this account cannot run our commands: stop trying
        return None
    scan = parser.finish()
    # The exit status is the last command's; find's complaints are on stderr.
    problems = find_problems(result.stderr, fs.root) if scan is not None else None
    if scan is None or problems is None:
        return None  # odd output for this root (or no GNU find): SFTP this time
    entry.can_find = True
    scan.problems += problems
    for rel, message in problems:
        if message == LOOP_MESSAGE and "/" in rel:
            scan.hidden_dirs.add(rel.rpartition("/")[0])  # the link's folder: never remove
    return scan
