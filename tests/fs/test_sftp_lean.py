"""The per-request shortcuts on SFTP connections, against the real sshd: small
uploads through bare pipelined requests (and the ordinary file API where those
cannot be used) land exactly; no empty IGNORE packet goes before each packet
on an AEAD connection; asyncssh's debug log still gets its lines when enabled,
and builds none of their text when it is off."""

from __future__ import annotations

import logging
import os

import asyncssh
import pytest

from app.core.events import CancelToken
from app.fs.sftp_lean import Lean
from tests.fixtures.sshd import run_async
from tests.fs.test_sftp_e2e import T0
from tests.fs.test_sftp_upload_routes import _reserved, _snapshot, _sync, _tree

pytestmark = pytest.mark.sshd


def test_small_files_land_exactly_without_the_bare_requests(sftp_env, tmp_path, monkeypatch):
    """With the shortcut unavailable (another SFTP version, another asyncssh),
    the ordinary file API does the same work with the same result."""
    used = []
    monkeypatch.setattr(Lean, "of", staticmethod(lambda sftp: used.append(1)))
    local = tmp_path / "local"
    _tree(local, n=30)
    code, doc, err = _sync(tmp_path, sftp_env, local, remote_commands="off")
    assert code == 0, (doc, err)
    assert used  # it was asked, and said no
    assert _snapshot(sftp_env.root) == _snapshot(local)
    assert _reserved(sftp_env.root) == []


def _uploaded(sftp_env, tmp_path, body):
    src = tmp_path / "s.bin"
    src.write_bytes(b"0123456789" * 100)

    async def run():
        fs = sftp_env.make_fs()
        await fs.open()
        try:
            return await body(fs, str(src))
        finally:
            await fs.close()
    return run_async(run)


def test_bare_upload_refuses_a_taken_name_and_leaves_it(sftp_env, tmp_path):
    (sftp_env.root / "taken.bin").write_bytes(b"theirs")

    async def body(fs, src):
        with pytest.raises(Exception) as info:
            await fs.write_from_local(src, "taken.bin", lambda n: None, CancelToken(),
                                      attrs=(T0 * 10**9, 0o644))
        return info.value
    exc = _uploaded(sftp_env, tmp_path, body)
    assert "taken.bin" in str(exc)
    assert (sftp_env.root / "taken.bin").read_bytes() == b"theirs"


def test_bare_upload_reports_each_byte_and_sets_time_and_mode(sftp_env, tmp_path):
    seen = []

    async def body(fs, src):
        lean = Lean.of((await fs._entry()).next_channel())
        assert lean is not None  # OpenSSH speaks version 3: the shortcut is used
        await fs.write_from_local(src, "new.bin", seen.append, CancelToken(),
                                  attrs=(T0 * 10**9, 0o640))
    _uploaded(sftp_env, tmp_path, body)
    p = sftp_env.root / "new.bin"
    assert p.read_bytes() == b"0123456789" * 100
    assert int(p.stat().st_mtime) == T0 and p.stat().st_mode & 0o777 == 0o640
    assert sum(seen) == 1000


def test_no_ignore_packet_before_each_packet(sftp_env, tmp_path, monkeypatch):
    """40 stats in a row are 40 encrypted packets (plus the odd window adjust),
    not 80; with the IGNORE packets turned back on, the same stats take twice
    that."""
    from asyncssh.encryption import GCMEncryption

    sealed: list[int] = []
    real = GCMEncryption.encrypt_packet

    def counting(self, seq, header, packet):
        sealed.append(seq)
        return real(self, seq, header, packet)

    async def body(fs, _src):
        conn = (await fs._entry()).conn
        assert conn.get_extra_info("send_cipher").endswith("gcm@openssh.com")
        counts = []
        for skip in (True, False):
            conn._syncpane_no_ignore = skip
            sent_before = len(sealed)
            for _ in range(40):
                await fs.stat("")
            counts.append(len(sealed) - sent_before)
        conn._syncpane_no_ignore = True
        return counts
    monkeypatch.setattr(GCMEncryption, "encrypt_packet", counting)
    lean, padded = _uploaded(sftp_env, tmp_path, body)
    assert 40 <= lean <= 44
    assert padded >= 80
    # Every packet got the next sequence number, whichever way it was sent.
    assert sealed == list(range(sealed[0], sealed[0] + len(sealed)))


def test_debug_log_lines_still_written_when_enabled(sftp_env, tmp_path, caplog):
    asyncssh.set_debug_level(1)

    async def body(fs, src):
        await fs.write_from_local(src, "a.bin", lambda n: None, CancelToken(),
                                  attrs=(T0 * 10**9, 0o644))
        await fs.set_mtime("a.bin", (T0 + 5) * 10**9)
    with caplog.at_level(logging.DEBUG, logger="asyncssh"):
        _uploaded(sftp_env, tmp_path, body)
    text = caplog.text
    assert "Sending request type 3" in text  # the bare open (type 3), with its id
    assert "Sending setstat for" in text and "mtime" in text  # attrs made into text


def test_no_attribute_text_built_when_the_log_is_off(sftp_env, tmp_path, monkeypatch, caplog):
    made = []
    real = asyncssh.SFTPAttrs.__str__

    def counting(self):
        made.append(1)
        return real(self)
    monkeypatch.setattr(asyncssh.SFTPAttrs, "__str__", counting)

    async def body(fs, src):
        for k in range(5):
            await fs.set_mtime("", (T0 + k) * 10**9)
    with caplog.at_level(logging.WARNING, logger="asyncssh"):
        _uploaded(sftp_env, tmp_path, body)
    assert made == []
    assert int((sftp_env.root).stat().st_mtime) == T0 + 4


def test_steady_state_packets_and_rekeying_during_a_big_upload(sftp_env, tmp_path,
                                                              monkeypatch):
    """A 6 MiB upload with a key exchange every 1 MiB: the data packets go the
    short way, each key exchange the library's own way, and the file arrives
    whole."""
    from asyncssh.connection import SSHConnection
    from asyncssh.encryption import GCMEncryption

    data = os.urandom(6 * 1024 * 1024 + 123)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    counts = {"sealed": 0, "long_way": 0, "kex": 0}
    real_seal, real_send, real_kex = (GCMEncryption.encrypt_packet, SSHConnection._send,
                                      SSHConnection._send_kexinit)

    def seal(self, *a):
        counts["sealed"] += 1
        return real_seal(self, *a)

    def long_way(self, data):
        counts["long_way"] += 1
        return real_send(self, data)

    def kexinit(self):
        counts["kex"] += 1
        return real_kex(self)

    async def body():
        fs = sftp_env.make_fs()
        await fs.open()
        try:
            (await fs._entry()).conn._rekey_bytes = 1024 * 1024
            monkeypatch.setattr(GCMEncryption, "encrypt_packet", seal)
            monkeypatch.setattr(SSHConnection, "_send", long_way)
            monkeypatch.setattr(SSHConnection, "_send_kexinit", kexinit)
            await fs.write_from_local(str(src), "big.bin", lambda n: None, CancelToken(),
                                      attrs=(T0 * 10**9, 0o644))
        finally:
            await fs.close()
    run_async(body)
    assert (sftp_env.root / "big.bin").read_bytes() == data
    assert counts["kex"] >= 4  # (the limit was crossed several times)
    assert counts["sealed"] > 200  # 32 KiB data packets ...
    assert counts["long_way"] < counts["sealed"] / 4  # ... nearly all the short way


def test_channel_data_arrives_as_written_whatever_the_caller_does_next(sftp_env):
    """A channel keeps a view of the bytes it is given (bytes cannot change),
    and a copy of anything else: a bytearray reused by its owner as soon as
    ``write`` returns, while most of it still waits for the window, arrives
    as it was at the call. Extended data and EOF keep their order."""
    from asyncssh.channel import SSHChannel

    first = os.urandom(5 * 1024 * 1024 + 7)  # over the server's 2 MiB window
    reused = bytearray(os.urandom(3 * 1024 * 1024))
    kept = bytes(reused)
    last = memoryview(os.urandom(70_000))[5:]

    async def body():
        fs = sftp_env.make_fs()
        await fs.open()
        try:
            conn = (await fs._entry()).conn
            out = sftp_env.root / "got.bin"
            proc = await conn.create_process(f"cat > '{out}'; printf done", encoding=None)
            proc.stdin.write(first)
            proc.stdin.write(reused)
            reused[:] = bytes(len(reused))  # the owner reuses its buffer at once
            proc.stdin.write(last)
            proc.stdin.write_eof()
            said = await proc.stdout.read()
            await proc.wait_closed()
            return said, SSHChannel._flush_send_buf.__module__
        finally:
            await fs.close()
    said, where = run_async(body)
    assert said == b"done"
    assert (sftp_env.root / "got.bin").read_bytes() == first + kept + bytes(last)
    from app.fs import ssh_speed

    views = ssh_speed.active()["channel data as views"]
    assert where == ("app.fs.ssh_speed" if views else "asyncssh.channel")


def test_packet_padding_is_drawn_once_per_byte(monkeypatch):
    """Padding comes from the OS in big draws, cut into consecutive slices:
    no byte is handed out twice."""
    from app.fs import ssh_speed

    draws: list[bytes] = []
    real = os.urandom

    def urandom(n):
        draws.append(real(n))
        return draws[-1]
    monkeypatch.setattr(ssh_speed.os, "urandom", urandom)
    pool = ssh_speed._RandomBytes()
    sizes = [4, 19, 255] * 400  # 111,200 bytes in all
    taken = [pool.take(n) for n in sizes]
    assert [len(d) for d in draws] == [65536, 65536]
    k, pos = 0, 0
    for n, got in zip(sizes, taken, strict=True):
        if pos + n > 65536:
            k, pos = k + 1, 0
        assert got == draws[k][pos:pos + n]
        pos += n
