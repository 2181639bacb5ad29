"""Against the real sshd: the server's one-command listing starts as soon as
the login is done, while the SFTP sessions are still starting, and logins to
one server asked for at the same time are one login (one host-key question,
one refusal)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import asyncssh
import pytest

import app.fs.sftp_conn as sftp_conn
import app.fs.sftp_remote as sftp_remote
from app.config.paths import app_paths
from app.core.engine import JobCannotRun, SyncSession
from app.core.job import job_from_dict
from app.fs.factory import LocationOpener
from tests.fixtures.sshd import run_async
from tests.fs.test_sftp_e2e import T0, _trust, _write

pytestmark = pytest.mark.sshd


def _session(tmp_path: Path, env, remote_commands="auto", key_file=None, **opener_kw):
    doc = {"syncpane_job": 1,
           "pairs": [{"left": str(tmp_path / "local"),
                      "right": f"sftp://{env.server.user}@127.0.0.1:{env.server.port}{env.root}"}],
           "connections": {f"{env.server.user}@127.0.0.1:{env.server.port}": {
               "auth": "key", "key_file": key_file or str(env.server.client_key),
               "timeout_seconds": 10, "remote_commands": remote_commands}}}
    job = job_from_dict(json.loads(json.dumps(doc)), str(tmp_path))
    return SyncSession(job, opener=LocationOpener(job, **opener_kw),
                       state_dir=app_paths().state)


def _trees(tmp_path: Path, env) -> None:
    _write(tmp_path / "local" / "same.txt", b"same")
    _write(tmp_path / "local" / "only-here.txt", b"mine")
    _write(env.root / "same.txt", b"same")
    _write(env.root / "sub" / "only-there.txt", b"theirs", T0 + 5)


# A mirror to the server (the job's default); same.txt is equal, so not listed.
WANT = {"only-here.txt": "copy_to_right", "sub": "delete_right",
        "sub/only-there.txt": "delete_right"}


def _compare(session):
    async def run():
        try:
            runs = await session.compare()
            return {i.path: i.action.value for i in runs[0].plan.items}
        finally:
            await session.close()
    return run_async(run)


@pytest.fixture
def slow_sessions(monkeypatch):
    """SFTP sessions that take 0.6 s to start, as on a far server; records when."""
    log: list[tuple[str, float]] = []
    real_start, real_run = sftp_conn._start_sessions, sftp_remote.run_remote

    async def start(entry, key, timeout):
        log.append(("sessions start", time.monotonic()))
        await asyncio.sleep(0.6)
        await real_start(entry, key, timeout)
        log.append(("sessions up", time.monotonic()))

    async def run(fs, command, *a, **kw):
        log.append(("command", time.monotonic()))
        return await real_run(fs, command, *a, **kw)
    monkeypatch.setattr(sftp_conn, "_start_sessions", start)
    monkeypatch.setattr(sftp_remote, "run_remote", run)
    return log


def test_server_listing_starts_before_the_sessions_are_up(sftp_env, tmp_path, slow_sessions):
    _trust(sftp_env)
    _trees(tmp_path, sftp_env)
    plan = _compare(_session(tmp_path, sftp_env))
    assert plan == WANT, plan
    when = dict(slow_sessions)
    assert [k for k, _t in slow_sessions][:2] == ["sessions start", "command"]
    assert when["command"] < when["sessions up"] - 0.3  # the listing did not wait


def test_without_remote_commands_nothing_lists_early(sftp_env, tmp_path, slow_sessions):
    _trust(sftp_env)
    _trees(tmp_path, sftp_env)
    plan = _compare(_session(tmp_path, sftp_env, remote_commands="off"))
    assert plan == WANT, plan
    assert not any(k == "command" for k, _t in slow_sessions)


@pytest.fixture
def logins(monkeypatch):
    """Counts the logins (connection attempts) made."""
    made: list[int] = []
    real_connect = sftp_conn.connect

    async def counting(*a, **kw):
        made.append(1)
        await asyncio.sleep(0.2)  # a login takes a while: others ask meanwhile
        return await real_connect(*a, **kw)
    monkeypatch.setattr(sftp_conn, "connect", counting)
    return made


def test_unknown_host_key_is_asked_about_once_and_the_compare_goes_on(sftp_env, tmp_path,
                                                                      logins):
    """The early listing and the opening share one login: the person sees one
    question; after a yes, the listing runs in the usual order."""
    asked = []

    def prompt(target, fingerprint, algorithm):
        asked.append(fingerprint)
        return True
    _trees(tmp_path, sftp_env)
    plan = _compare(_session(tmp_path, sftp_env, host_key_prompt=prompt))
    assert len(asked) == 1 and asked[0].startswith("SHA256:")
    assert plan == WANT, plan
    assert len(logins) == 2  # the refused one (shared), then the one after the yes


def test_a_refused_login_is_one_login_and_one_clear_error(sftp_env, tmp_path, logins):
    _trust(sftp_env)
    _trees(tmp_path, sftp_env)
    wrong = tmp_path / "wrong_key"
    wrong.write_bytes(asyncssh.generate_private_key("ssh-ed25519").export_private_key())
    session = _session(tmp_path, sftp_env, key_file=str(wrong))
    with pytest.raises(JobCannotRun) as info:
        _compare(session)
    assert "login to" in str(info.value) and "failed" in str(info.value)
    assert len(logins) == 1


def test_concurrent_gets_share_one_login(sftp_env, logins):
    _trust(sftp_env)

    async def body():
        fs = sftp_env.make_fs()
        entries = await asyncio.gather(fs._entry(sessions=False), fs._entry(), fs._entry())
        assert entries[0] is entries[1] is entries[2]
        assert entries[1].sftp is not None and entries[1].extra_sftp
        await fs.pool.close_all()
    run_async(body)
    assert len(logins) == 1


@pytest.mark.parametrize("command", ["compare", "sync"])
def test_a_sync_starts_its_first_batch_command_at_login(sftp_env, tmp_path, monkeypatch,
                                                       command):
    """Only when a sync follows does the server start a batch command early
    (it waits for its archive while the listing and the plan are made)."""
    import app.fs.sftp_batch as sftp_batch
    from tests.fs.test_sftp_e2e import _job, _run
    from tests.fs.test_sftp_upload_routes import _reserved, _snapshot, _tree

    events: list[str] = []
    real_start, real_run = sftp_batch._start, sftp_remote.run_remote

    async def start(*a, **kw):
        events.append("batch command")
        return await real_start(*a, **kw)

    async def listing(*a, **kw):
        try:
            return await real_run(*a, **kw)
        finally:
            events.append("listing done")
    monkeypatch.setattr(sftp_batch, "_start", start)
    monkeypatch.setattr(sftp_remote, "run_remote", listing)
    _trust(sftp_env)
    local = tmp_path / "local"
    _tree(local, n=20)
    job = _job(tmp_path, sftp_env, str(local),
               f"sftp://{sftp_env.server.user}@127.0.0.1:{sftp_env.server.port}{sftp_env.root}",
               sync={"variant": "mirror", "deletion": "permanent", "max_delete_percent": 100})
    code, doc, err = _run(command, job, *(["--force"] if command == "sync" else []))
    assert code == 0, (doc, err)
    if command == "compare":
        assert "batch command" not in events
        assert _snapshot(sftp_env.root) == {}
    else:
        # Started while the server was still listing (so before the plan).
        assert events.index("batch command") < events.index("listing done"), events
        assert _snapshot(sftp_env.root) == _snapshot(local)
    assert _reserved(sftp_env.root) == []
