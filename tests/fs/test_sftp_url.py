"""Parsing SFTP locations and connection options (pure functions)."""

from __future__ import annotations

import pytest

from app.fs.sftp_url import ConnectionOptions, SftpLocation, parse_sftp_url


@pytest.mark.parametrize("text, expected", [
    ("sftp://alice@gpu.example.org/home/alice/data",
     SftpLocation("alice", "gpu.example.org", 22, "/home/alice/data")),
    ("sftp://alice@gpu.example.org:2222/srv/",
     SftpLocation("alice", "gpu.example.org", 2222, "/srv")),
    ("sftp://u@[::1]:2222/srv", SftpLocation("u", "::1", 2222, "/srv")),
    ("sftp://u@[fe80::1%eth0]/x", SftpLocation("u", "fe80::1%eth0", 22, "/x")),
    ("sftp://u@10.0.0.5/", SftpLocation("u", "10.0.0.5", 22, "/")),
    ("SFTP://u@h/with%20space", SftpLocation("u", "h", 22, "/with space")),
    ("sftp://first.last@example.com@h/x", SftpLocation("first.last@example.com", "h", 22, "/x")),
])
def test_parse(text, expected):
    assert parse_sftp_url(text) == expected


def test_key_and_display():
    loc = parse_sftp_url("sftp://u@[::1]:2222/srv")
    assert loc.key == "u@[::1]:2222"
    assert loc.display == "sftp://u@[::1]:2222/srv"
    assert parse_sftp_url("sftp://u@h:22/a").display == "sftp://u@h/a"
    assert parse_sftp_url("sftp://u@h/a").key == "u@h:22"


@pytest.mark.parametrize("text, words", [
    ("http://u@h/x", "not an SFTP location"),
    ("sftp://u@h", "no absolute path"),
    ("sftp://h/x", "needs a user name"),
    ("sftp://u@/x", "no host"),
    ("sftp://u@h:0/x", "port must be"),
    ("sftp://u@h:99999/x", "port must be"),
    ("sftp://u@h:ab/x", "port must be"),
    ("sftp://u@h:/x", "empty port"),
    ("sftp://u@::1/x", "brackets"),
    ("sftp://u@[::1/x", "unclosed"),
    ("sftp://u@[nothex]/x", "not an IPv6 address"),
    ("sftp://u@[::1]x/x", "unexpected text"),
])
def test_parse_errors(text, words):
    with pytest.raises(ValueError, match=words):
        parse_sftp_url(text)


def test_options_defaults_and_validation():
    o = ConnectionOptions()
    assert (o.parallel, o.timeout_seconds, o.remote_commands) == (8, 20, "auto")
    assert o.effective_auth == "agent"
    assert ConnectionOptions(key_file="~/.ssh/id_ed25519").effective_auth == "key"
    assert ConnectionOptions(auth="password").effective_auth == "password"
    o = ConnectionOptions.from_json({"auth": "key", "key_file": "~/.ssh/id_ed25519",
                                     "parallel": 4, "timeout_seconds": 5,
                                     "remote_commands": "off"})
    assert o.parallel == 4 and o.remote_commands == "off"
    for bad in ({"auth": "kerberos"}, {"auth": "key"}, {"parallel": 0},
                {"timeout_seconds": -1}, {"remote_commands": "yes"}, {"colour": "red"}):
        with pytest.raises((ValueError, TypeError)):
            ConnectionOptions.from_json(bad)
