"""The NAME-reply decoder on hand-built replies: the usual attribute layout,
unusual ones (fewer fields, extended pairs), and truncated replies."""

from __future__ import annotations

import struct

import asyncssh
import pytest

from app.fs.sftp_readdir import (ATTR_ACMODTIME, ATTR_EXTENDED, ATTR_PERMISSIONS, ATTR_SIZE,
                                 ATTR_UIDGID, _decode_names)


def _s(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def _name(name: bytes, flags: int, size=0, mode=0, mtime=0, ext=()) -> bytes:
    out = _s(name) + _s(b"-rw-r--r-- 1 u g " + name) + struct.pack(">I", flags)
    if flags & ATTR_SIZE:
        out += struct.pack(">Q", size)
    if flags & ATTR_UIDGID:
        out += struct.pack(">II", 1000, 1000)
    if flags & ATTR_PERMISSIONS:
        out += struct.pack(">I", mode)
    if flags & ATTR_ACMODTIME:
        out += struct.pack(">II", max(mtime - 5, 0), mtime)
    if flags & ATTR_EXTENDED:
        out += struct.pack(">I", len(ext)) + b"".join(_s(k) + _s(v) for k, v in ext)
    return out


USUAL = ATTR_SIZE | ATTR_UIDGID | ATTR_PERMISSIONS | ATTR_ACMODTIME


def test_usual_and_unusual_attribute_layouts():
    names = [_name(b".", USUAL, 4096, 0o40755, 1), _name(b"..", USUAL, 4096, 0o40755, 1),
             _name(b"a b\n\xff", USUAL, 12, 0o100644, 1_700_000_000),
             _name(b"short", ATTR_SIZE | ATTR_PERMISSIONS, 7, 0o100600),
             _name(b"ext", USUAL | ATTR_EXTENDED, 3, 0o100640, 1_600_000_000,
                   ext=[(b"k@x", b"v"), (b"k2@x", b"")]),
             _name(b"bare", 0)]
    rows: list = []
    _decode_names(struct.pack(">I", len(names)) + b"".join(names), rows)
    assert rows == [(b"a b\n\xff", 0o100644, 12, 1_700_000_000),
                    (b"short", 0o100600, 7, 0),
                    (b"ext", 0o100640, 3, 1_600_000_000),
                    (b"bare", 0, 0, 0)]


def test_truncated_reply_is_refused():
    whole = (struct.pack(">I", 2) + _name(b"x", USUAL, 1, 0o100644, 5)
             + _name(b"y", USUAL, 1, 0o100644, 5))
    for cut in (len(whole) - 1, len(whole) - 20, 10):
        with pytest.raises(asyncssh.SFTPBadMessage):
            _decode_names(whole[:cut], [])
