"""Listing one folder over SFTP, decoding the server's replies cheaply.

Listing 100,000 names through asyncssh's ``readdir`` spends most of its time
building a full ``SFTPName``/``SFTPAttrs`` object per name. The scan needs five
numbers and a name, so for SFTP version 3 (what OpenSSH speaks) we send the
READDIR requests through asyncssh's request machinery and decode the NAME
replies ourselves with ``struct``. That machinery is not public API: whenever
anything about it is not as expected, :func:`list_dir` falls back to the
public ``readdir`` and returns the same result, just slower.
"""

from __future__ import annotations

import asyncio
import struct
from typing import NamedTuple

from app.sshlib import asyncssh
from asyncssh import sftp as _sftp

from app.fs.sftp_lean import Lean

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
ATTR_SIZE = 0x1
ATTR_UIDGID = 0x2
ATTR_PERMISSIONS = 0x4
ATTR_ACMODTIME = 0x8
ATTR_EXTENDED = 0x80000000


class Listed(NamedTuple):
    """One name in a folder: what a scan needs and nothing more."""

    name: str
    mode: int  # st_mode incl. type bits (0 when the server did not say)
    size: int
    mtime: int  # whole seconds


async def list_dir(sftp: asyncssh.SFTPClient, path: str, *, fast: bool = True) -> list[Listed]:
    """Every name in ``path`` except '.' and '..' (attributes as lstat sees them)."""
    names, modes, sizes, mtimes = await read_columns(sftp, path, fast=fast)
    return list(map(Listed, names, modes, sizes, mtimes))


async def read_columns(sftp: asyncssh.SFTPClient, path: str, *, fast: bool = True
                       ) -> tuple[list[str], list[int], list[int], list[int]]:
    """The names in ``path`` (not '.', '..') and their modes, sizes and mtimes,
    as four lists in one order: what a scan builds its entries from in bulk."""
    handler = getattr(sftp, "_handler", None)
    if fast and _fast_ok(handler):
        rows = await _read_fast(sftp, handler, path)
        if not rows:
            return [], [], [], []
        raw, modes, sizes, mtimes = zip(*rows, strict=True)
        # One decode for the whole folder: a name never holds NUL, and
        # surrogateescape decodes byte by byte what is not UTF-8.
        names = b"\0".join(raw).decode("utf-8", "surrogateescape").split("\0")
        return names, list(modes), list(sizes), list(mtimes)
    listed = [n for n in await sftp.readdir(path) if n.filename not in (".", "..")]
    return ([n.filename for n in listed], [n.attrs.permissions or 0 for n in listed],
            [n.attrs.size or 0 for n in listed], [n.attrs.mtime or 0 for n in listed])


def _fast_ok(handler) -> bool:
    return (handler is not None and getattr(handler, "_version", None) == 3
            and hasattr(handler, "_send_request") and hasattr(handler, "_loop")
            and hasattr(handler, "_process_status")
            and all(hasattr(_sftp, n) for n in ("FXP_OPENDIR", "FXP_READDIR", "FXP_CLOSE",
                                                "FXP_HANDLE", "FXP_NAME", "FXP_STATUS")))


def _ignore_result(fut: asyncio.Future) -> None:
    if not fut.cancelled():
        fut.exception()  # a read-ahead nobody waited for: its outcome does not matter


async def _read_fast(sftp: asyncssh.SFTPClient, handler, path: str) -> list[tuple]:
    """(name bytes, mode, size, mtime) rows; two READDIRs in flight at a time.

    Most folders fit in one NAME reply, so asking twice at once brings the
    names and the end-of-folder answer in one round trip instead of two.
    """
    loop = handler._loop
    # OPENDIR and CLOSE go out directly too: asyncssh's own wrappers log
    # (and hex-format the handle) at every call, which adds up over a tree.
    # Through the bare sender, the requests of many folders listed at once go
    # out together, in one packet per turn of the event loop.
    lean = Lean.of_handler(handler)

    def send(pkttype: int, args: tuple) -> asyncio.Future:
        if lean is not None:
            return lean.send(pkttype, *args)
        waiter = loop.create_future()
        handler._send_request(pkttype, args, waiter)
        return waiter

    opened = send(_sftp.FXP_OPENDIR, (_string(sftp.encode(path)),))
    resptype, resp = await opened
    if resptype == _sftp.FXP_STATUS:
        handler._process_status(resp)  # raises the server's error (no such folder...)
    if resptype != _sftp.FXP_HANDLE:
        raise asyncssh.SFTPBadMessage(f"unexpected reply type {resptype} to OPENDIR")
    handle = resp.get_string()
    rows: list[tuple] = []
    request = (_string(handle),)
    ahead: list[asyncio.Future] = []

    def ask() -> None:
        ahead.append(send(_sftp.FXP_READDIR, request))
    try:
        ask()
        ask()
        while ahead:
            resptype, resp = await ahead.pop(0)
            if resptype == _sftp.FXP_STATUS:
                try:
                    handler._process_status(resp)
                except asyncssh.SFTPEOFError:
                    break
                raise asyncssh.SFTPBadMessage("READDIR answered OK without names")
            if resptype != _sftp.FXP_NAME:
                raise asyncssh.SFTPBadMessage(f"unexpected reply type {resptype} to READDIR")
            _decode_names(resp.get_remaining_payload(), rows)
            if not ahead:  # both answered with names: a big folder, keep two asking
                ask()
                ask()
    finally:
        for waiter in ahead:
            waiter.add_done_callback(_ignore_result)
        # Closing need not hold up the scan by a round trip: send it, don't wait.
        try:
            send(_sftp.FXP_CLOSE, request).add_done_callback(_ignore_result)
        except (asyncssh.Error, OSError):
            pass  # the session is gone, and the handle with it
    return rows


def _string(data: bytes) -> bytes:
    return _U32.pack(len(data)) + data


# What OpenSSH sends for every name: size, uid/gid, permissions, times.
_USUAL = ATTR_SIZE | ATTR_UIDGID | ATTR_PERMISSIONS | ATTR_ACMODTIME
_USUAL_ATTRS = struct.Struct(">IQIIIII")  # flags, size, uid, gid, mode, atime, mtime


def _decode_names(buf: bytes, out: list[tuple]) -> None:
    """Append (name, mode, size, mtime) for each name of one SFTP v3 NAME reply
    (payload after its request id), leaving out '.' and '..'."""
    u32, usual = _U32.unpack_from, _USUAL_ATTRS.unpack_from
    append = out.append
    end = len(buf)
    try:
        (count,), pos = u32(buf, 0), 4
        for _ in range(count):
            (n,) = u32(buf, pos)
            name = buf[pos + 4:pos + 4 + n]
            pos += 4 + n
            (n,) = u32(buf, pos)
            pos += 4 + n  # the "longname" (ls -l text): not needed
            if pos + 32 <= end:
                flags, size, _uid, _gid, mode, _atime, mtime = usual(buf, pos)
                if flags == _USUAL:
                    pos += 32
                else:
                    size, mode, mtime, pos = _attrs(buf, pos)
            else:
                size, mode, mtime, pos = _attrs(buf, pos)
            if name == b"." or name == b"..":
                continue
            append((name, mode, size, mtime))
    except struct.error:
        raise asyncssh.SFTPBadMessage("truncated NAME reply") from None
    if pos > end:
        raise asyncssh.SFTPBadMessage("truncated NAME reply")


def _attrs(buf: bytes, pos: int) -> tuple[int, int, int, int]:
    """(size, mode, mtime, position after) for attributes with any flags."""
    u32, u64 = _U32.unpack_from, _U64.unpack_from
    (flags,), pos = u32(buf, pos), pos + 4
    size = mode = mtime = 0
    if flags & ATTR_SIZE:
        (size,), pos = u64(buf, pos), pos + 8
    if flags & ATTR_UIDGID:
        pos += 8
    if flags & ATTR_PERMISSIONS:
        (mode,), pos = u32(buf, pos), pos + 4
    if flags & ATTR_ACMODTIME:
        (mtime,), pos = u32(buf, pos + 4), pos + 8
    if flags & ATTR_EXTENDED:
        (ext,), pos = u32(buf, pos), pos + 4
        for _ in range(2 * ext):
            (n,), pos = u32(buf, pos), pos + 4
            pos += n
    return size, mode, mtime, pos
