"""SFTP requests sent the moment they are made, for the many-small-files path.

asyncssh's file API costs, per request, a coroutine, a task when requests are
sent together, and the text of a debug message; for a 4 KiB file that is most
of the client's work. :class:`Lean` sends a request straight to the session's
request table (the way asyncssh's own requests go) and reads its answer with
asyncssh's own handlers, so errors and replies are exactly those of the file
API. It is used only where the session speaks SFTP version 3 (OpenSSH and
nearly every other server) and asyncssh has the internals it relies on;
anything else goes the ordinary way.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Iterable

from app.sshlib import asyncssh
from asyncssh.constants import (
    FXF_CREAT, FXF_EXCL, FXF_WRITE, FXP_CLOSE, FXP_FSETSTAT, FXP_FSTAT, FXP_OPEN, FXP_OPENDIR,
    FXP_RENAME, FXP_STAT, FXP_STATUS, FXP_WRITE,
)
from asyncssh.packet import String, UInt32, UInt64

_CACHE = "_syncpane_lean"
_HEAD = struct.Struct(">IBI")  # packet length, type, request id


class Lean:
    """Pipelined requests on one SFTP session (version 3)."""

    __slots__ = ("_h", "_loop", "_returns", "_handlers", "encode", "_out")

    def __init__(self, handler) -> None:
        self._h = handler
        self._loop = asyncio.get_running_loop()
        self._returns = handler._return_types
        self._handlers = handler._packet_handlers
        self.encode = None  # the session's path encoder (set by :meth:`of`)
        self._out: list[bytes] = []

    @staticmethod
    def of(sftp: asyncssh.SFTPClient) -> Lean | None:
        """The lean sender of ``sftp``, or None where it cannot be used."""
        h = getattr(sftp, "_handler", None)
        lean = Lean.of_handler(h) if h is not None and hasattr(sftp, "encode") else None
        if lean is not None and lean.encode is None:
            lean.encode = sftp.encode
        return lean

    @staticmethod
    def of_handler(h) -> Lean | None:
        """The lean sender of an SFTP session's request handler (requests on
        handles only, until :meth:`of` gives it the path encoder)."""
        lean = h.__dict__.get(_CACHE, False)
        if lean is False:
            lean = None
            if (getattr(h, "_version", None) == 3
                    and all(hasattr(h, a) for a in ("_next_pktid", "_writer", "_return_types",
                                                    "_packet_handlers", "_requests"))):
                lean = Lean(h)
            h.__dict__[_CACHE] = lean
        return lean

    def send(self, pkttype: int, *args: bytes) -> asyncio.Future:
        """Queue one request; its future answer. The requests queued during one
        turn of the event loop go out together at its end, in order, as one
        channel write: one SSH packet for many small requests, where each
        would otherwise be its own packet (and its own encryption)."""
        h = self._h
        if not h._writer:
            raise asyncssh.SFTPNoConnection("Connection not open")
        waiter = self._loop.create_future()
        pktid = h._next_pktid
        h._next_pktid = (pktid + 1) & 0xffffffff
        h._requests[pktid] = waiter
        size = 5 + sum(map(len, args))
        if h.logger.isEnabledFor(logging.DEBUG):  # as asyncssh's own requests are logged
            h.logger.debug1("Sending request type %d, id %d (%d bytes)", pkttype, pktid, size)
        if not self._out:
            self._loop.call_soon(self._flush)
        # length, type, id, then the arguments: put together once
        self._out.append(b"".join((_HEAD.pack(size, pkttype, pktid), *args)))
        return waiter

    def _flush(self) -> None:
        out, self._out = self._out, []
        writer = self._h._writer
        if writer and not writer.channel.is_closing():
            if len(out) > 1 and len(out[0]) < 65536:
                writer.write(b"".join(out))  # many small requests: one packet
            else:
                for data in out:  # big blocks: no copy to join them first
                    writer.write(data)
        # (A closed session fails every waiting request itself.)

    def answer(self, pkttype: int, waiter: asyncio.Future):
        """The result of a request whose answer has come (asyncssh's own reading)."""
        resptype, resp = waiter.result()
        want = self._returns.get(pkttype)
        if resptype not in (FXP_STATUS, want):
            raise asyncssh.SFTPBadMessage(f"Unexpected response type: {resptype}")
        result = self._handlers[resptype](self._h, resp)
        if result is None and want is not None:
            raise asyncssh.SFTPBadMessage("Unexpected FX_OK response")
        return result

    async def outcomes(self, sent: list[tuple[int, asyncio.Future]]) -> list:
        """Wait for every answer; per request, its result or its error."""
        try:
            for _t, w in sent:
                if not w.done():
                    try:
                        await w
                    except Exception:  # noqa: BLE001 - read below, in order
                        pass
        except BaseException:
            cancel(w for _t, w in sent)
            raise
        out = []
        for pkttype, w in sent:
            try:
                out.append(self.answer(pkttype, w))
            except Exception as exc:  # noqa: BLE001 - handed to the caller
                out.append(exc)
        return out

    async def results(self, sent: list[tuple[int, asyncio.Future]]) -> list:
        """Wait for every answer; the results, or the first error once all have
        answered (each request was sent, so each answer is read)."""
        out = await self.outcomes(sent)
        for r in out:
            if isinstance(r, Exception):
                raise r
        return out

    def forget(self, sent: tuple[int, asyncio.Future]) -> None:
        """Nobody waits for this answer (its error, if any, is dropped)."""
        sent[1].add_done_callback(lambda w: w.cancelled() or w.exception())

    # -- the requests of a small upload

    def open_new(self, path: str) -> tuple[int, asyncio.Future]:
        """Create ``path`` for writing; fails if anything is there."""
        return FXP_OPEN, self.send(FXP_OPEN, String(self.encode(path)),
                                   UInt32(FXF_WRITE | FXF_CREAT | FXF_EXCL),
                                   asyncssh.SFTPAttrs().encode(3))

    def write(self, handle: bytes, offset: int, data: bytes) -> tuple[int, asyncio.Future]:
        return FXP_WRITE, self.send(FXP_WRITE, String(handle), UInt64(offset),
                                    UInt32(len(data)), data)  # (the data is not copied first)

    def fsetstat(self, handle: bytes, attrs: asyncssh.SFTPAttrs) -> tuple[int, asyncio.Future]:
        return FXP_FSETSTAT, self.send(FXP_FSETSTAT, String(handle), attrs.encode(3))

    def fstat(self, handle: bytes) -> tuple[int, asyncio.Future]:
        return FXP_FSTAT, self.send(FXP_FSTAT, String(handle))

    def close(self, handle: bytes) -> tuple[int, asyncio.Future]:
        return FXP_CLOSE, self.send(FXP_CLOSE, String(handle))

    def stat(self, path: str) -> tuple[int, asyncio.Future]:
        return FXP_STAT, self.send(FXP_STAT, String(self.encode(path)))

    def opendir(self, path: str) -> tuple[int, asyncio.Future]:
        return FXP_OPENDIR, self.send(FXP_OPENDIR, String(self.encode(path)))

    def rename(self, old: str, new: str) -> tuple[int, asyncio.Future]:
        """Version 3 rename: never replaces an existing ``new``."""
        return FXP_RENAME, self.send(FXP_RENAME, String(self.encode(old)),
                                     String(self.encode(new)))


def cancel(waiters: Iterable[asyncio.Future]) -> None:
    """Give up on answers (asyncssh drops the answer of a cancelled request)."""
    for w in waiters:
        if not w.done():
            w.cancel()
