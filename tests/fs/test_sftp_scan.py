"""Scanning an SFTP folder, by the remote ``find`` route and the pure SFTP route,
against a real OpenSSH server serving a temp folder."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from app.core.events import Cancelled, CancelToken
from app.core.model import Kind
from app.fs import sftp_remote
from app.fs.base import ScanOptions
from tests.fixtures.sshd import run_async

pytestmark = pytest.mark.sshd
ROUTES = ["auto", "off"]


def _tree(root):
    (root / "plain.txt").write_bytes(b"hello")
    (root / "with space").mkdir()
    (root / "with space" / "a b.bin").write_bytes(b"x" * 1000)
    (root / "line\nbreak.txt").write_bytes(b"nl")
    (root / "ünïcødé").mkdir()
    (root / "ünïcødé" / "日本.txt").write_bytes(b"jp")
    os.mkdir(os.fsencode(root) + b"/latin1-\xe9")
    with open(os.fsencode(root) + b"/latin1-\xe9/f\xff.dat", "wb") as f:
        f.write(b"raw")
    os.chmod(root / "plain.txt", 0o640)
    os.utime(root / "plain.txt", (1_600_000_000, 1_600_000_000))


async def _scan(env, route, **opts):
    fs = env.make_fs(remote_commands=route)
    await fs.open()
    try:
        return await fs.scan(ScanOptions(**opts), lambda n, c: None, CancelToken())
    finally:
        await fs.close()


def _by_name(result):
    return {e.name: e for e in result.entries}


@pytest.mark.parametrize("route", ROUTES)
def test_scan_lists_every_kind_of_name(sftp_env, route):
    _tree(sftp_env.root)
    result = run_async(_scan, sftp_env, route)
    got = _by_name(result)
    assert set(got) == {"plain.txt", "with space", "with space/a b.bin", "line\nbreak.txt",
                        "ünïcødé", "ünïcødé/日本.txt", "latin1-\udce9", "latin1-\udce9/f\udcff.dat"}
    assert got["plain.txt"].kind is Kind.FILE and got["plain.txt"].size == 5
    assert got["plain.txt"].mtime_ns == 1_600_000_000 * 10**9
    assert got["plain.txt"].mode == 0o640
    assert got["with space"].kind is Kind.DIR and got["with space"].size == 0
    assert got["with space/a b.bin"].size == 1000
    assert got["latin1-\udce9/f\udcff.dat"].size == 3
    # The surrogate-escaped name maps back to the very bytes on disk.
    assert os.path.exists(os.fsencode(sftp_env.root) + os.fsencode(
        "/latin1-\udce9/f\udcff.dat"))
    assert result.problems == [] and result.leftovers == []


def test_both_routes_give_identical_entries(sftp_env):
    _tree(sftp_env.root)
    (sftp_env.root / "link").symlink_to("with space")
    for mode in ("skip", "as_link", "follow"):
        fast = run_async(_scan, sftp_env, "auto", symlinks=mode)
        slow = run_async(_scan, sftp_env, "off", symlinks=mode)
        assert sorted(fast.entries) == sorted(slow.entries), mode


@pytest.mark.parametrize("route", ROUTES)
def test_reserved_names_hidden_and_leftovers_collected(sftp_env, route):
    root = sftp_env.root
    (root / "keep.txt").write_text("k")
    (root / ".syncpane-abc.tmp").write_text("partial")
    (root / "sub").mkdir()
    (root / "sub" / ".syncpane-old-1.tmp").write_text("partial")
    (root / ".syncpane-versions").mkdir()
    (root / ".syncpane-versions" / "keep 2026-01-01 000000.txt").write_text("old")
    (root / ".syncpane-lock").write_text("not a tmp")
    result = run_async(_scan, sftp_env, route)
    assert set(_by_name(result)) == {"keep.txt", "sub"}
    assert sorted(result.leftovers) == [".syncpane-abc.tmp", "sub/.syncpane-old-1.tmp"]


@pytest.mark.parametrize("route", ROUTES)
def test_symlink_modes(sftp_env, route):
    root = sftp_env.root
    (root / "dir").mkdir()
    (root / "dir" / "f.txt").write_text("abc")
    (root / "to_dir").symlink_to("dir")
    (root / "to_file").symlink_to("dir/f.txt")
    (root / "broken").symlink_to("nowhere")

    skip = run_async(_scan, sftp_env, route, symlinks="skip")
    assert set(_by_name(skip)) == {"dir", "dir/f.txt"}
    assert skip.problems == []

    as_link = _by_name(run_async(_scan, sftp_env, route, symlinks="as_link"))
    assert as_link["to_dir"].kind is Kind.SYMLINK and as_link["to_dir"].link_target == "dir"
    assert as_link["to_file"].link_target == "dir/f.txt"
    assert as_link["broken"].link_target == "nowhere"
    assert "to_dir/f.txt" not in as_link

    follow = run_async(_scan, sftp_env, route, symlinks="follow")
    got = _by_name(follow)
    assert got["to_dir"].kind is Kind.DIR
    assert got["to_dir/f.txt"].size == 3
    assert got["to_file"].kind is Kind.FILE and got["to_file"].size == 3
    assert "broken" not in got
    assert [p for p, _m in follow.problems] == ["broken"]


@pytest.mark.parametrize("route", ROUTES)
def test_link_loop_is_reported_not_followed_forever(sftp_env, route):
    root = sftp_env.root
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "up").symlink_to("../..")
    (root / "a" / "f").write_text("x")
    result = run_async(_scan, sftp_env, route, symlinks="follow")
    assert set(_by_name(result)) == {"a", "a/b", "a/f"}
    assert len(result.problems) == 1
    path, message = result.problems[0]
    assert path == "a/b/up" and "loop" in message


class _StandInFilter:
    """The two methods the scan uses from app.core.filters.PathFilter."""

    include_all = True

    def excludes_dir(self, rel):
        return rel.endswith("cache")

    def includes_file(self, rel, size):
        return not rel.endswith(".log") and size < 100

    def names_dir(self, rel):
        return True


@pytest.mark.parametrize("route", ROUTES)
def test_filter_prunes_folders_and_files(sftp_env, route):
    root = sftp_env.root
    (root / "cache" / "deep").mkdir(parents=True)
    (root / "cache" / "deep" / "x.txt").write_text("x")
    (root / "src").mkdir()
    (root / "src" / "a.txt").write_text("a")
    (root / "src" / "a.log").write_text("log")
    (root / "src" / "big.txt").write_bytes(b"b" * 200)
    result = run_async(_scan, sftp_env, route, filter=_StandInFilter())
    assert set(_by_name(result)) == {"src", "src/a.txt"}


@pytest.mark.parametrize("route", ROUTES)
def test_empty_root_and_cancel(sftp_env, route):
    assert run_async(_scan, sftp_env, route).entries == []

    async def cancelled():
        fs = sftp_env.make_fs(remote_commands=route)
        await fs.open()
        token = CancelToken()
        token.cancel()
        try:
            await fs.scan(ScanOptions(), lambda n, c: None, token)
        finally:
            await fs.close()
    with pytest.raises(Cancelled):
        run_async(cancelled)


def test_fast_path_used_when_allowed(sftp_env, monkeypatch):
    _tree(sftp_env.root)
    calls = []
    real = sftp_remote.find_command
    monkeypatch.setattr(sftp_remote, "find_command",
                        lambda *a: calls.append(a) or real(*a))
    result = run_async(_scan, sftp_env, "auto")
    assert calls and len(result.entries) == 8
    calls.clear()
    run_async(_scan, sftp_env, "off")
    assert calls == []  # remote_commands: off never runs anything


@pytest.mark.parametrize("bad_command", [
    "echo garbage",                            # output not in our format
    "no-such-command-syncpane --x",            # command missing (exit 127)
    "printf 'f\\0001\\0002\\0644\\0x\\0'",     # truncated record
    "exit 1",                                  # nothing at all
])
def test_fast_path_falls_back_silently_on_bad_output(sftp_env, monkeypatch, bad_command):
    _tree(sftp_env.root)
    monkeypatch.setattr(sftp_remote, "find_command", lambda *a: bad_command)
    fallback = run_async(_scan, sftp_env, "auto")
    reference = run_async(_scan, sftp_env, "off")
    assert sorted(fallback.entries) == sorted(reference.entries)
    assert len(fallback.entries) == 8 and fallback.problems == []


def test_sftp_only_account_falls_back(sftp_only_env):
    """A real sshd with ``ForceCommand internal-sftp``: exec gives an SFTP server,
    not our command; the scan must notice and list over SFTP."""
    _tree(sftp_only_env.root)
    result = run_async(_scan, sftp_only_env, "auto")
    assert len(result.entries) == 8
    hashes = run_async(_hash, sftp_only_env, ["plain.txt"])
    assert hashes == {"plain.txt": hashlib.sha256(b"hello").hexdigest()}


def test_sftp_only_account_is_no_exec_every_time(sftp_only_env):
    """The forced sftp-server sometimes shuts the exec channel before our
    input is written (one try in five here): the link is fine, so that is
    "no exec" (None), never a lost-connection error; hashes then come over SFTP."""
    from app.fs.sftp_remote import run_remote

    (sftp_only_env.root / "plain.txt").write_bytes(b"hello")

    async def once():
        fs = sftp_only_env.make_fs()  # a new connection: where the race showed
        await fs.open()
        try:
            return (await run_remote(fs, "cat", b"plain.txt\0"),
                    await fs.hash_files(["plain.txt"], CancelToken()))
        finally:
            await fs.close()
    want = {"plain.txt": hashlib.sha256(b"hello").hexdigest()}
    assert [run_async(once) for _ in range(25)] == [(None, want)] * 25


async def _hash(env, rels):
    fs = env.make_fs()
    await fs.open()
    try:
        return await fs.hash_files(rels, CancelToken())
    finally:
        await fs.close()


@pytest.mark.parametrize("route", ROUTES)
def test_progress_is_reported(sftp_env, route):
    _tree(sftp_env.root)
    seen = []

    async def scan():
        fs = sftp_env.make_fs(remote_commands=route)
        await fs.open()
        try:
            return await fs.scan(ScanOptions(), lambda n, c: seen.append(n), CancelToken())
        finally:
            await fs.close()
    result = run_async(scan)
    assert seen and seen[-1] == len(result.entries) == 8
    assert seen == sorted(seen)  # counts only grow


def test_own_readdir_decoder_matches_asyncssh(sftp_env):
    """The struct-based NAME decoder gives exactly what asyncssh's readdir gives."""
    from app.fs.sftp_readdir import list_dir

    _tree(sftp_env.root)
    (sftp_env.root / "link").symlink_to("plain.txt")
    for i in range(300):  # more than one READDIR reply's worth of names
        (sftp_env.root / f"many-{i:03d}").write_bytes(b"x" * i)

    async def both():
        fs = sftp_env.make_fs()
        await fs.open()
        try:
            entry = await fs._entry()
            out = []
            for rel in ("", "latin1-\udce9"):
                path = fs.abs(rel)
                out.append((sorted(await list_dir(entry.sftp, path)),
                            sorted(await list_dir(entry.sftp, path, fast=False))))
            return out
        finally:
            await fs.close()
    for fast, slow in run_async(both):
        assert fast == slow and len(fast) > 0
    top = {n.name: n for n in run_async(both)[0][0]}
    assert len(top) == 300 + 6  # five names from _tree and the link
    assert top["line\nbreak.txt"].size == 2 and top["plain.txt"].mtime == 1_600_000_000


def test_readdir_falls_back_when_asyncssh_internals_differ(sftp_env, monkeypatch):
    from app.fs import sftp_readdir

    _tree(sftp_env.root)
    monkeypatch.setattr(sftp_readdir, "_fast_ok", lambda handler: False)
    result = run_async(_scan, sftp_env, "off")
    assert len(result.entries) == 8


@pytest.mark.parametrize("content", ["empty", "one hidden file", "one empty folder"])
def test_empty_root_is_answered_over_sftp_without_waiting_for_the_command(sftp_env, monkeypatch,
                                                                          content):
    """While the remote command starts (here made slow on purpose), SFTP looks
    at the root: an empty one is answered at once and the command is ended on
    the server; anything at all in it, and the command's listing is awaited."""
    import subprocess
    import time

    marker = f"syncpane-slow-{os.getpid()}-{content.replace(' ', '-')}"
    real = sftp_remote.find_command
    monkeypatch.setattr(sftp_remote, "find_command",
                        lambda *a: f"sleep 3; : {marker}; " + real(*a))
    if content == "one hidden file":
        (sftp_env.root / ".x").write_bytes(b"")
    elif content == "one empty folder":
        (sftp_env.root / "d").mkdir()
    async def scan_then_look():
        fs = sftp_env.make_fs(remote_commands="auto")
        await fs.open()
        try:
            started = time.monotonic()
            result = await fs.scan(ScanOptions(), lambda n, c: None, CancelToken())
            took = time.monotonic() - started
            await asyncio.sleep(0.5)  # the connection still open: is the command gone?
            ps = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
            return result, took, ps.stdout.strip()
        finally:
            await fs.close()
    result, took, running = run_async(scan_then_look)
    names = sorted(e.name for e in result.entries)
    if content == "empty":
        assert names == [] and took < 2.5, (names, took)
        assert running == "", "the unneeded command still runs on the server"
    else:
        assert names == ([".x"] if content == "one hidden file" else ["d"])
        assert took >= 3, took  # (the command's answer, not a guess)
