"""Host keys: trusted, unknown, changed, revoked; accepted keys go to the app's file."""

from __future__ import annotations

import asyncssh
import pytest

from app.config.known_hosts import HostKeyStatus, KnownHosts, fingerprint, host_pattern
from app.config.paths import app_paths


@pytest.fixture
def keys():
    return asyncssh.generate_private_key("ssh-ed25519"), asyncssh.generate_private_key(
        "ssh-ed25519")


def _line(pattern: str, key) -> str:
    return f"{pattern} {key.export_public_key('openssh').decode().strip()}\n"


def test_default_app_file_is_under_syncpane_home(syncpane_home):
    assert KnownHosts().app_file == app_paths().known_hosts
    assert str(KnownHosts().app_file).startswith(str(syncpane_home))


def test_unknown_then_accepted(tmp_path, keys):
    key, _ = keys
    kh = KnownHosts(user_file=tmp_path / "user", app_file=tmp_path / "data" / "known_hosts")
    verdict = kh.check("srv.example", 2222, key)
    assert verdict.status is HostKeyStatus.UNKNOWN
    assert verdict.fingerprint == fingerprint(key) and verdict.fingerprint.startswith("SHA256:")
    msg = verdict.message("me@srv.example:2222")
    assert verdict.fingerprint in msg and "--accept-new-host-key" in msg
    kh.accept("srv.example", 2222, key)
    assert (tmp_path / "data" / "known_hosts").read_text() == _line("[srv.example]:2222", key)
    assert kh.check("srv.example", 2222, key).status is HostKeyStatus.TRUSTED
    # Another port of the same host is another server.
    assert kh.check("srv.example", 22, key).status is HostKeyStatus.UNKNOWN


def test_user_known_hosts_trusted_and_changed(tmp_path, keys):
    key, other = keys
    user = tmp_path / "known_hosts"
    user.write_text("# comment\nthis line is garbage\n" + _line("srv.example", key))
    kh = KnownHosts(user_file=user, app_file=tmp_path / "app")
    assert kh.check("srv.example", 22, key).status is HostKeyStatus.TRUSTED
    changed = kh.check("srv.example", 22, other)
    assert changed.status is HostKeyStatus.CHANGED
    assert "CHANGED" in changed.message("u@srv.example:22")
    assert kh.preferred_algorithms("srv.example", 22)[0] == "ssh-ed25519"


def test_hashed_hostnames_are_understood(tmp_path, keys):
    import base64
    import hashlib
    import hmac
    import os

    key, _ = keys
    salt = os.urandom(20)
    digest = hmac.new(salt, b"[10.0.0.5]:2200", hashlib.sha1).digest()
    pattern = f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"
    user = tmp_path / "known_hosts"
    user.write_text(_line(pattern, key))
    kh = KnownHosts(user_file=user, app_file=tmp_path / "app")
    assert kh.check("10.0.0.5", 2200, key).status is HostKeyStatus.TRUSTED


def test_revoked_key(tmp_path, keys):
    key, _ = keys
    user = tmp_path / "known_hosts"
    user.write_text("@revoked " + _line("*", key))
    kh = KnownHosts(user_file=user, app_file=tmp_path / "app")
    assert kh.check("any.host", 22, key).status is HostKeyStatus.REVOKED


def test_host_pattern():
    assert host_pattern("h", 22) == "h"
    assert host_pattern("::1", 2222) == "[::1]:2222"
