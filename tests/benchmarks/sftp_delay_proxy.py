"""A TCP relay on 127.0.0.1 that adds a fixed delay to every byte, each way.

    python -m tests.benchmarks.sftp_delay_proxy --listen-port L --target-port T --delay-ms 25

The SFTP benchmark's fallback when a network namespace with ``tc netem`` is
not available: each chunk read from one side is written to the other side
``--delay-ms`` after it arrived (half the round trip; the same delay applies
on the way back, so a request and its answer cost the full round trip).
Chunks are queued, not relayed one at a time, so bandwidth is not limited by
the delay: like a long fat link, many bytes can be on their way at once (up
to ``--max-queued-mib`` per direction, after which reading pauses).

Only listens on and connects to 127.0.0.1. Runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import signal
import socket
import time

CHUNK = 256 * 1024


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float,
                max_queued: int) -> None:
    queue: collections.deque[tuple[float, bytes]] = collections.deque()
    queued = 0
    arrived = asyncio.Event()
    room = asyncio.Event()
    room.set()
    eof = False

    async def read_side() -> None:
        nonlocal queued, eof
        try:
            while True:
                await room.wait()
                data = await reader.read(CHUNK)
                if not data:
                    break
                queue.append((time.monotonic() + delay, data))
                queued += len(data)
                if queued >= max_queued:
                    room.clear()
                arrived.set()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            eof = True
            arrived.set()

    async def write_side() -> None:
        nonlocal queued
        try:
            while True:
                if not queue:
                    if eof:
                        break
                    arrived.clear()
                    await arrived.wait()
                    continue
                due, data = queue[0]
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                queue.popleft()
                queued -= len(data)
                if queued < max_queued:
                    room.set()
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except OSError:
            pass

    await asyncio.gather(read_side(), write_side())


async def _serve(listen_port: int, target_port: int, delay: float, max_queued: int,
                 ready_file: str | None) -> None:
    async def handle(c_reader, c_writer) -> None:
        try:
            s_reader, s_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            c_writer.close()
            return
        for w in (c_writer, s_writer):
            sock = w.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await asyncio.gather(_pump(c_reader, s_writer, delay, max_queued),
                                 _pump(s_reader, c_writer, delay, max_queued))
        except asyncio.CancelledError:
            pass  # the proxy is stopping: connections simply close
        finally:
            c_writer.close()
            s_writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    if ready_file:
        with open(ready_file, "w") as f:
            f.write("ready\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.benchmarks.sftp_delay_proxy",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen-port", type=int, required=True)
    ap.add_argument("--target-port", type=int, required=True)
    ap.add_argument("--delay-ms", type=float, required=True, help="delay each way (half the RTT)")
    ap.add_argument("--max-queued-mib", type=int, default=64)
    ap.add_argument("--ready-file", help="written once the proxy listens")
    args = ap.parse_args(argv)
    asyncio.run(_serve(args.listen_port, args.target_port, args.delay_ms / 1000,
                       args.max_queued_mib * 1024 * 1024, args.ready_file))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
