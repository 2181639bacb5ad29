"""The engine's entry point for SFTP locations: settings mapping and the host-key prompt."""

from __future__ import annotations

import pytest

from app.config.known_hosts import KnownHosts
from app.core.job import ConnectionSettings
from app.core.location import parse_location
from app.fs.base import RootState, Unavailable
from app.fs.sftp_conn import UnknownHostKey
from app.fs.sftp_open import new_pool, open_sftp_location, options_from_settings
from tests.fixtures.sshd import run_async

pytestmark = pytest.mark.sshd


def test_options_from_job_settings():
    o = options_from_settings(ConnectionSettings(auth="key", key_file="~/.ssh/k", parallel=3,
                                                 timeout_seconds=7, remote_commands="off"))
    assert (o.effective_auth, o.key_file, o.parallel, o.timeout_seconds, o.remote_commands) == (
        "key", "~/.ssh/k", 3, 7.0, "off")
    # "key" without a key file: the agent and ~/.ssh keys, as ssh itself would try.
    assert options_from_settings(ConnectionSettings()).effective_auth == "agent"
    assert options_from_settings(None).parallel == 8


async def _open(env, tmp_path, prompt, answers):
    loc = parse_location(env.url, None)
    settings = ConnectionSettings(auth="key", key_file=str(env.server.client_key))
    known = KnownHosts(user_file=tmp_path / "none", app_file=tmp_path / "app_kh")
    pool = new_pool()

    def ask(target, fp, alg):
        answers.append((target, fp, alg))
        return prompt
    try:
        fs = await open_sftp_location(loc, settings, pool, host_key_prompt=ask,
                                      known_hosts=known)
        state = await fs.root_state()
        await fs.close()
        return state
    finally:
        await pool.close_all()


def test_prompt_accepts_unknown_key(sftp_env, tmp_path):
    answers = []
    assert run_async(_open, sftp_env, tmp_path, True, answers) is RootState.OK
    assert len(answers) == 1 and answers[0][1].startswith("SHA256:")
    assert answers[0][0] == f"{sftp_env.server.user}@127.0.0.1:{sftp_env.server.port}"
    assert (tmp_path / "app_kh").exists()
    answers.clear()
    assert run_async(_open, sftp_env, tmp_path, False, answers) is RootState.OK
    assert answers == []  # now known: no question


def test_prompt_declined(sftp_env, tmp_path):
    answers = []
    with pytest.raises(UnknownHostKey) as err:
        run_async(_open, sftp_env, tmp_path, False, answers)
    assert isinstance(err.value, Unavailable) and len(answers) == 1
    assert not (tmp_path / "app_kh").exists()
