"""The TCP link under an SSH connection, with writes gathered per loop turn.

asyncssh hands every SSH packet to the transport as its own write (and, with
an encrypting cipher, puts an empty ignore packet before each one), so every
small SFTP request cost two ``send`` system calls. Here the writes of one
event-loop turn are joined and sent with one call at the end of the turn:
many requests in flight then cost one system call per turn, not two each.
Nothing is delayed beyond the current turn (bulk data goes out as soon as
64 KiB have gathered), and order is kept.
"""

from __future__ import annotations

import asyncio
import socket

FLUSH_AT = 64 * 1024  # bytes gathered before they go out without waiting for the turn's end


class GatheringTransport(asyncio.Transport):
    """Wraps a socket transport; joins the writes made during one loop turn."""

    def __init__(self, inner: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._inner = inner
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= FLUSH_AT:
            self._flush()  # bulk data: out now, so the server can start on it

    def writelines(self, list_of_data) -> None:
        for data in list_of_data:
            self.write(data)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            self._size = 0
            if not self._inner.is_closing():
                self._inner.write(data)

    def write_eof(self) -> None:
        self._flush()
        self._inner.write_eof()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def close(self) -> None:
        self._flush()
        self._inner.close()

    def abort(self) -> None:
        self._pending.clear()
        self._size = 0
        self._inner.abort()

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def get_extra_info(self, name, default=None):
        return self._inner.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        self._inner.resume_reading()

    def is_reading(self) -> bool:
        return self._inner.is_reading()

    def set_write_buffer_limits(self, high=None, low=None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size() + sum(len(d) for d in self._pending)

    def set_protocol(self, protocol) -> None:
        self._inner.set_protocol(protocol)

    def get_protocol(self):
        return self._inner.get_protocol()


class _Relay(asyncio.Protocol):
    """Passes the socket's events to the SSH connection, which sees our transport."""

    def __init__(self, inner: asyncio.Protocol) -> None:
        self.inner = inner

    def connection_made(self, transport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.inner.connection_made(GatheringTransport(transport, asyncio.get_running_loop()))

    def data_received(self, data) -> None:
        self.inner.data_received(data)

    def eof_received(self):
        return self.inner.eof_received()

    def connection_lost(self, exc) -> None:
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class GatheringConnector:
    """asyncssh's ``tunnel`` hook: open the TCP link with :class:`GatheringTransport`."""

    async def create_connection(self, protocol_factory, host: str, port: int):
        loop = asyncio.get_running_loop()
        transport, relay = await loop.create_connection(
            lambda: _Relay(protocol_factory()), host, port)
        return transport, relay.inner
