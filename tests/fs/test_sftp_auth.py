"""Logging in, and knowing who we talk to: every failure is Unavailable naming
the cause, and no secret appears in any message."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from pathlib import Path

import asyncssh
import pytest

from app.config.credentials import InMemoryCredentials
from app.config.known_hosts import KnownHosts
from app.fs.base import RootState, Unavailable
from app.fs.sftp import SftpFS, SftpPool
from app.fs.sftp_url import ConnectionOptions, parse_sftp_url
from tests.fixtures.sshd import free_port, run_async

pytestmark = pytest.mark.sshd


async def _open_state(fs):
    await fs.open()
    try:
        return await fs.root_state()
    finally:
        await fs.close()


def _fingerprint(pub: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True,
                         check=True).stdout
    return out.split()[1]


def _new_key(path: Path, passphrase: str = "") -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", str(path)],
                   check=True)
    return path


def _authorize(env, key: Path) -> None:
    with open(env.server.folder / "authorized_keys", "a") as f:
        f.write(key.with_suffix(".pub").read_text())


def test_key_login_works(sftp_env):
    assert run_async(_open_state, sftp_env.make_fs()) is RootState.OK


def test_wrong_key_is_unavailable(sftp_env, tmp_path):
    other = _new_key(tmp_path / "stranger")
    with pytest.raises(Unavailable, match="did not accept the key file"):
        run_async(_open_state, sftp_env.make_fs(key_file=str(other)))


def test_missing_key_file(sftp_env, tmp_path):
    with pytest.raises(Unavailable, match="does not exist"):
        run_async(_open_state, sftp_env.make_fs(key_file=str(tmp_path / "nope")))


def test_passphrase_key_from_credential_store(sftp_env, tmp_path):
    key = _new_key(tmp_path / "locked", passphrase="s3cret-phrase")
    _authorize(sftp_env, key)
    target = parse_sftp_url(sftp_env.url).key
    good = InMemoryCredentials({target: "s3cret-phrase"})
    assert run_async(_open_state, sftp_env.make_fs(key_file=str(key), credentials=good)) \
        is RootState.OK
    with pytest.raises(Unavailable, match="protected by a passphrase") as none:
        run_async(_open_state, sftp_env.make_fs(key_file=str(key)))
    assert f"syncpane credentials set {target}" in str(none.value)
    bad = InMemoryCredentials({target: "wrong-phrase"})
    with pytest.raises(Unavailable, match="does not unlock") as wrong:
        run_async(_open_state, sftp_env.make_fs(key_file=str(key), credentials=bad))
    assert "wrong-phrase" not in str(wrong.value)


def test_agent_login(sftp_env, tmp_path, monkeypatch):
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            asyncio.run(asyncio.sleep(0.02))
        env = dict(os.environ, SSH_AUTH_SOCK=str(sock))
        subprocess.run(["ssh-add", "-q", str(sftp_env.server.client_key)], env=env, check=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh keys: only the agent can help
        fs = sftp_env.make_fs(options=ConnectionOptions(auth="agent", timeout_seconds=10))
        assert run_async(_open_state, fs) is RootState.OK
        monkeypatch.delenv("SSH_AUTH_SOCK")
        fs = sftp_env.make_fs(options=ConnectionOptions(auth="agent", timeout_seconds=10))
        with pytest.raises(Unavailable, match="no key from the SSH agent"):
            run_async(_open_state, fs)
    finally:
        agent.terminate()
        agent.wait()


def test_unknown_host_key_then_accepted(sftp_env, tmp_path):
    app_file = tmp_path / "app_known_hosts"
    empty = KnownHosts(user_file=tmp_path / "no_such_file", app_file=app_file)
    expected = _fingerprint(sftp_env.server.host_key.with_suffix(".pub"))
    with pytest.raises(Unavailable) as err:
        run_async(_open_state, sftp_env.make_fs(known_hosts=empty))
    assert expected in str(err.value) and "--accept-new-host-key" in str(err.value)
    assert not app_file.exists()  # nothing recorded without consent

    fs = sftp_env.make_fs(known_hosts=empty, accept_new_host_key=True)
    assert run_async(_open_state, fs) is RootState.OK
    line = app_file.read_text()
    assert line.startswith(f"[127.0.0.1]:{sftp_env.server.port} ssh-ed25519 ")
    # Next time the recorded key is enough.
    assert run_async(_open_state, sftp_env.make_fs(known_hosts=empty)) is RootState.OK


def test_changed_host_key_refused_every_time(sftp_env, tmp_path):
    impostor = _new_key(tmp_path / "impostor")
    user_file = tmp_path / "known_hosts"
    pub = impostor.with_suffix(".pub").read_text().split()
    user_file.write_text(f"[127.0.0.1]:{sftp_env.server.port} {pub[0]} {pub[1]}\n")
    app_file = tmp_path / "app_known_hosts"
    known = KnownHosts(user_file=user_file, app_file=app_file)
    for accept in (False, True):  # --accept-new-host-key does not cover a changed key
        with pytest.raises(Unavailable, match="CHANGED") as err:
            run_async(_open_state, sftp_env.make_fs(known_hosts=known,
                                                    accept_new_host_key=accept))
        assert _fingerprint(sftp_env.server.host_key.with_suffix(".pub")) in str(err.value)
    assert not app_file.exists()


def test_unreachable_port(sftp_env):
    url = f"sftp://{sftp_env.server.user}@127.0.0.1:{free_port()}/tmp"
    with pytest.raises(Unavailable, match="connection refused"):
        run_async(_open_state, sftp_env.make_fs(url=url))


def test_silent_server_times_out(sftp_env):
    with socket.socket() as listener:  # accepts TCP (kernel backlog) but never speaks SSH
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        port = listener.getsockname()[1]
        url = f"sftp://{sftp_env.server.user}@127.0.0.1:{port}/tmp"
        with pytest.raises(Unavailable, match="did not answer within 1 s"):
            run_async(_open_state, sftp_env.make_fs(url=url, timeout_seconds=1), timeout=10)


# -- password logins, against an in-process asyncssh server ----------------

class _PasswordServer(asyncssh.SSHServer):
    def begin_auth(self, username):
        return True

    def password_auth_supported(self):
        return True

    def validate_password(self, username, password):
        return username == "alice" and password == "right horse battery"


async def _password_case(tmp_path: Path, stored: str | None):
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.create_server(_PasswordServer, "127.0.0.1", 0,
                                          server_host_keys=[host_key], sftp_factory=True)
    port = server.sockets[0].getsockname()[1]
    known = tmp_path / "kh"
    known.write_text(f"[127.0.0.1]:{port} "
                     f"{host_key.export_public_key('openssh').decode()}")
    try:
        loc = parse_sftp_url(f"sftp://alice@127.0.0.1:{port}{tmp_path}")
        creds = InMemoryCredentials({loc.key: stored} if stored else {})
        fs = SftpFS(loc, ConnectionOptions(auth="password", timeout_seconds=10), SftpPool(),
                    creds, KnownHosts(user_file=known, app_file=tmp_path / "app_kh"))
        return await _open_state(fs)
    finally:
        server.close()


def test_password_login(tmp_path):
    assert run_async(_password_case, tmp_path, "right horse battery") is RootState.OK


def test_wrong_password(tmp_path):
    with pytest.raises(Unavailable, match="stored password was refused") as err:
        run_async(_password_case, tmp_path, "wrong donkey")
    assert "wrong donkey" not in str(err.value)


def test_no_stored_password(tmp_path):
    with pytest.raises(Unavailable, match="no password is stored .* credentials set"):
        run_async(_password_case, tmp_path, None)
