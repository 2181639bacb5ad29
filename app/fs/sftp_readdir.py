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

import asyncssh
from asyncssh import sftp as _sftp

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
    handler = getattr(sftp, "_handler", None)
    if fast and _fast_ok(handler):
        return await _list_fast(sftp, handler, path)
    return [Listed(n.filename, n.attrs.permissions or 0, n.attrs.size or 0, n.attrs.mtime or 0)
            for n in await sftp.readdir(path) if n.filename not in (".", "..")]


def _fast_ok(handler) -> bool:
    return (handler is not None and getattr(handler, "_version", None) == 3
            and hasattr(handler, "_send_request") and hasattr(handler, "opendir")
            and hasattr(handler, "_process_status") and hasattr(handler, "close"))


async def _list_fast(sftp: asyncssh.SFTPClient, handler, path: str) -> list[Listed]:
    encoding, errors = "utf-8", "surrogateescape"
    handle = await handler.opendir(sftp.encode(path))
    out: list[Listed] = []
    try:
        while True:
            waiter = handler._loop.create_future()
            handler._send_request(_sftp.FXP_READDIR, (_string(handle),), waiter)
            resptype, resp = await waiter
            if resptype == _sftp.FXP_STATUS:
                try:
                    handler._process_status(resp)
                except asyncssh.SFTPEOFError:
                    break
                raise asyncssh.SFTPBadMessage("READDIR answered OK without names")
            if resptype != _sftp.FXP_NAME:
                raise asyncssh.SFTPBadMessage(f"unexpected reply type {resptype} to READDIR")
            _decode_names(resp.get_remaining_payload(), encoding, errors, out)
    finally:
        # Closing need not hold up the scan by a round trip: send it, don't wait.
        closing = asyncio.ensure_future(handler.close(handle))
        closing.add_done_callback(lambda t: t.cancelled() or t.exception())
    return out


def _string(data: bytes) -> bytes:
    return _U32.pack(len(data)) + data


def _decode_names(buf: bytes, encoding: str, errors: str, out: list[Listed]) -> None:
    """Append the names of one SFTP v3 NAME reply (payload after its request id)."""
    u32, u64 = _U32.unpack_from, _U64.unpack_from
    try:
        (count,), pos = u32(buf, 0), 4
        for _ in range(count):
            (n,), pos = u32(buf, pos), pos + 4
            name = buf[pos:pos + n]
            pos += n
            (n,), pos = u32(buf, pos), pos + 4
            pos += n  # the "longname" (ls -l text): not needed
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
            if name in (b".", b".."):
                continue
            out.append(Listed(name.decode(encoding, errors), mode, size, mtime))
    except struct.error:
        raise asyncssh.SFTPBadMessage("truncated NAME reply") from None
    if pos > len(buf):
        raise asyncssh.SFTPBadMessage("truncated NAME reply")
