"""Faults a real server cannot produce on demand: a link cut mid-file and a
stalled server, staged by a TCP relay (FaultProxy) in front of the real sshd."""

from __future__ import annotations

import os
import time

import pytest

from app.core.events import CancelToken
from app.fs.base import ConnectionLost, ScanOptions
from tests.fixtures.sshd import FaultProxy, run_async

pytestmark = pytest.mark.sshd
SIZE = 6 * 1024 * 1024


def _big(tmp_path):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(SIZE))
    return src


async def _via_proxy(env, body, limit=3, **proxy_settings):
    proxy = await FaultProxy(env.server.port).start()
    for k, v in proxy_settings.items():
        setattr(proxy, k, v)
    url = f"sftp://{env.server.user}@127.0.0.1:{proxy.port}{env.root}"
    # The relay listens on another port: trust the server's key under that name too.
    kh = env.server.known_hosts.read_text().split(None, 1)[1]
    known = env.root.parent / "kh_proxy"
    known.write_text(f"[127.0.0.1]:{proxy.port} {kh}")
    from app.config.known_hosts import KnownHosts
    fs = env.make_fs(url=url, timeout_seconds=limit,
                     known_hosts=KnownHosts(user_file=known, app_file=known.with_suffix(".a")))
    await fs.open()
    try:
        return await body(fs, proxy)
    finally:
        await fs.close()
        await proxy.close()


async def _arm_cut(fs, proxy, after: int, times: int = 10**9) -> None:
    """Cut the connections made from now on (the current one is dropped first)."""
    proxy.cut_after = after
    proxy.cut_times = times
    proxy.connections = 0
    await fs.pool.drop(fs.location.key, await fs._entry())


def test_cut_mid_upload_every_time_raises_connection_lost(sftp_env, tmp_path):
    src = _big(tmp_path)

    async def body(fs, proxy):
        await _arm_cut(fs, proxy, 2 * 1024 * 1024)  # every connection dies after 2 MiB
        with pytest.raises(ConnectionLost) as err:
            await fs.write_from_local(str(src), ".syncpane-x.tmp", lambda n: None,
                                      CancelToken())
        return str(err.value), proxy.connections
    message, connections = run_async(_via_proxy, sftp_env, body, limit=10)
    assert "dropped" in message and "3 attempts" in message
    assert connections == 3  # bounded: the first attempt and two retries, then give up
    # No file under a real name; only our reserved temporary name may remain.
    assert all(n.startswith(".syncpane") and n.endswith(".tmp")
               for n in os.listdir(sftp_env.root))


def test_cut_once_mid_upload_is_retried_to_a_whole_file(sftp_env, tmp_path):
    src = _big(tmp_path)

    async def body(fs, proxy):
        await _arm_cut(fs, proxy, 2 * 1024 * 1024, times=1)
        await fs.write_from_local(str(src), ".syncpane-x.tmp", lambda n: None, CancelToken())
        await fs.rename(".syncpane-x.tmp", "big.bin")
        return proxy.connections
    assert run_async(_via_proxy, sftp_env, body, limit=10) == 2
    assert (sftp_env.root / "big.bin").read_bytes() == src.read_bytes()
    assert os.listdir(sftp_env.root) == ["big.bin"]


def test_cut_mid_download_leaves_no_local_file(sftp_env, tmp_path):
    (sftp_env.root / "big.bin").write_bytes(os.urandom(SIZE))
    out = tmp_path / "out.bin"

    async def body(fs, proxy):
        proxy.cut_downstream = True
        await _arm_cut(fs, proxy, 2 * 1024 * 1024)
        with pytest.raises(ConnectionLost):
            await fs.read_to_local("big.bin", str(out), lambda n: None, CancelToken())
    run_async(_via_proxy, sftp_env, body, limit=10)
    assert not out.exists()


def test_stalled_server_fails_within_the_limit(sftp_env):
    (sftp_env.root / "f").write_text("x")

    async def body(fs, proxy):
        proxy.stalled = True
        t0 = time.monotonic()
        with pytest.raises(ConnectionLost, match="stopped answering|could not be restored"):
            await fs.stat("f")
        return time.monotonic() - t0
    elapsed = run_async(_via_proxy, sftp_env, body, limit=1)
    # One stalled request (1 s), then a reconnect that cannot log in (1 s): bounded.
    assert elapsed < 6


def test_stalled_server_during_scan(sftp_env):
    for i in range(20):
        (sftp_env.root / f"d{i}").mkdir()

    async def body(fs, proxy):
        proxy.stalled = True
        t0 = time.monotonic()
        with pytest.raises(ConnectionLost):
            await fs.scan(ScanOptions(), lambda n, c: None, CancelToken())
        return time.monotonic() - t0
    assert run_async(_via_proxy, sftp_env, body, limit=1) < 8
