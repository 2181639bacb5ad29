"""Server-side refusals become clear per-item FsErrors. The test server runs as
root (which may do anything), so refusals come from an in-process asyncssh
SFTP server that denies everything under a folder named ``locked``."""

from __future__ import annotations

from pathlib import Path

import asyncssh
import pytest

from app.config.credentials import InMemoryCredentials
from app.config.known_hosts import KnownHosts
from app.core.events import CancelToken
from app.fs.base import AccessDenied, FsError, NotFound, ScanOptions
from app.fs.sftp import SftpFS, SftpPool
from app.fs.sftp_url import ConnectionOptions, parse_sftp_url
from tests.fixtures.sshd import run_async


class _DenyingSFTP(asyncssh.SFTPServer):
    """Serves the local file system, but anything under 'locked' is refused."""

    @staticmethod
    def _check(path: bytes) -> None:
        if b"/locked" in path:
            raise asyncssh.SFTPPermissionDenied("Permission denied")

    def open(self, path, pflags, attrs):
        self._check(path)
        return super().open(path, pflags, attrs)

    def remove(self, path):
        self._check(path)
        return super().remove(path)

    def scandir(self, path):
        self._check(path)
        return super().scandir(path)

    def mkdir(self, path, attrs):
        self._check(path)
        return super().mkdir(path, attrs)


class _KeyServer(asyncssh.SSHServer):
    def begin_auth(self, username):
        return True


async def _with_server(tmp_path: Path, client_key: Path, body):
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.create_server(
        _KeyServer, "127.0.0.1", 0, server_host_keys=[host_key],
        authorized_client_keys=str(client_key.with_suffix(".pub")),
        sftp_factory=_DenyingSFTP, allow_scp=False)
    port = server.sockets[0].getsockname()[1]
    known = tmp_path / "kh"
    known.write_text(f"[127.0.0.1]:{port} {host_key.export_public_key('openssh').decode()}")
    root = tmp_path / "served"
    loc = parse_sftp_url(f"sftp://tester@127.0.0.1:{port}{root}")
    fs = SftpFS(loc, ConnectionOptions(key_file=str(client_key), timeout_seconds=10,
                                       remote_commands="off"),
                SftpPool(), InMemoryCredentials(),
                KnownHosts(user_file=known, app_file=tmp_path / "app_kh"))
    await fs.open()
    try:
        return await body(fs)
    finally:
        await fs.close()
        server.close()


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "served"
    (root / "locked").mkdir(parents=True)
    (root / "locked" / "secret.txt").write_text("s")
    (root / "open").mkdir()
    (root / "open" / "a.txt").write_text("a")
    return root


def test_permission_denied_is_access_denied_per_item(sshd_server, tmp_path, served):
    src = tmp_path / "src.txt"
    src.write_text("data")

    async def body(fs):
        with pytest.raises(AccessDenied, match="locked/new.txt"):
            await fs.write_from_local(str(src), "locked/new.txt", lambda n: None,
                                      CancelToken())
        with pytest.raises(AccessDenied):
            await fs.remove_file("locked/secret.txt")
        with pytest.raises(AccessDenied):
            await fs.read_to_local("locked/secret.txt", str(tmp_path / "out"), lambda n: None,
                                   CancelToken())
        with pytest.raises(NotFound):
            await fs.remove_file("open/missing.txt")
        # A scan goes on past a folder it cannot read, and says so.
        return await fs.scan(ScanOptions(), lambda n, c: None, CancelToken())
    result = run_async(_with_server, tmp_path, sshd_server.client_key, body)
    assert (served / "locked" / "secret.txt").read_text() == "s"
    assert not (served / "locked" / "new.txt").exists()
    assert not (tmp_path / "out").exists()
    assert {e.name for e in result.entries} == {"locked", "open", "open/a.txt"}
    assert len(result.problems) == 1
    path, message = result.problems[0]
    assert path == "locked" and "cannot read folder" in message


def test_messages_name_the_path_and_are_fs_errors(sshd_server, tmp_path, served):
    async def body(fs):
        try:
            await fs.mkdir("locked/sub")
        except FsError as exc:
            return exc
    exc = run_async(_with_server, tmp_path, sshd_server.client_key, body)
    assert isinstance(exc, AccessDenied) and exc.path == "locked/sub"
    assert "locked/sub" in str(exc) and "Permission denied" in str(exc)


@pytest.mark.parametrize("lean", [True, False], ids=["look-and-open-at-once", "one-by-one"])
def test_root_states_in_one_round_trip_or_the_ordinary_way(sshd_server, tmp_path, served,
                                                          monkeypatch, lean):
    """A root that cannot be listed is UNREADABLE, whether found by looking and
    opening at once or by the step-by-step check; so are missing and file roots."""
    from app.fs.base import RootState
    from app.fs.sftp_lean import Lean

    if not lean:
        monkeypatch.setattr(Lean, "of", staticmethod(lambda sftp: None))
    (served / "file.txt").write_text("f")

    async def body(fs):
        out = []
        for sub in ("locked", "open", "file.txt", "missing"):
            fs.root = str(served / sub)
            out.append(await fs.root_state())
        return out
    got = run_async(_with_server, tmp_path, sshd_server.client_key, body)
    assert got == [RootState.UNREADABLE, RootState.OK, RootState.NOT_A_FOLDER, RootState.MISSING]
