"""Every FileSystem method of SftpFS against a real OpenSSH server; results are
checked on the served folder directly."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from app.core.events import CancelToken
from app.core.model import Kind
from app.fs.base import AlreadyExists, FileSystem, FsError, NotFound, RootState, ScanOptions
from app.fs.sftp import NotEmpty, SftpFS, SftpPool, versioned_name
from tests.fixtures.sshd import run_async

pytestmark = pytest.mark.sshd


async def _with_fs(env, body, **opts):
    fs = env.make_fs(**opts)
    await fs.open()
    try:
        return await body(fs)
    finally:
        await fs.close()


def run_fs(env, body, **opts):
    return run_async(_with_fs, env, body, **opts)


def test_is_a_filesystem(sftp_env):
    fs = sftp_env.make_fs(parallel=5)
    assert isinstance(fs, FileSystem)
    assert fs.case_sensitive is True and fs.parallel == 5
    assert fs.local_path("x") is None
    assert fs.display == sftp_env.url


def test_root_state_and_make_root(sftp_env):
    root = sftp_env.root

    async def body(fs):
        return await fs.root_state()
    assert run_fs(sftp_env, body) is RootState.OK
    (root / "file").write_text("x")
    env_file = type(sftp_env)(sftp_env.server, root / "file")
    assert run_fs(env_file, body) is RootState.NOT_A_FOLDER
    env_missing = type(sftp_env)(sftp_env.server, root / "new" / "deeper")
    assert run_fs(env_missing, body) is RootState.MISSING

    async def make(fs):
        await fs.make_root()
        return await fs.root_state()
    assert run_fs(env_missing, make) is RootState.OK
    assert (root / "new" / "deeper").is_dir()


def test_stat_file_dir_link(sftp_env):
    root = sftp_env.root
    (root / "d").mkdir()
    (root / "d" / "f.txt").write_bytes(b"12345")
    os.chmod(root / "d" / "f.txt", 0o604)
    os.utime(root / "d" / "f.txt", (1_650_000_000, 1_650_000_000))
    (root / "ln").symlink_to("d/f.txt")

    async def body(fs):
        return (await fs.stat("d/f.txt"), await fs.stat("d"), await fs.stat("ln"),
                await fs.stat("ln", follow=True), await fs.stat("nope"))
    f, d, ln, followed, missing = run_fs(sftp_env, body)
    assert (f.name, f.kind, f.size, f.mtime_ns, f.mode) == (
        "d/f.txt", Kind.FILE, 5, 1_650_000_000 * 10**9, 0o604)
    assert d.kind is Kind.DIR and d.size == 0
    assert ln.kind is Kind.SYMLINK and ln.link_target == "d/f.txt"
    assert followed.kind is Kind.FILE and followed.size == 5
    assert missing is None


def test_mkdir_parents_and_existing(sftp_env):
    root = sftp_env.root
    (root / "file").write_text("x")

    async def body(fs):
        await fs.mkdir("a/b/c")
        await fs.mkdir("a/b/c")  # fine if it exists
        with pytest.raises(AlreadyExists):
            await fs.mkdir("file/sub")
    run_fs(sftp_env, body)
    assert (root / "a" / "b" / "c").is_dir()


def test_remove_file_dir_tree(sftp_env):
    root = sftp_env.root
    (root / "f").write_text("x")
    (root / "ln").symlink_to("f")
    (root / "empty").mkdir()
    (root / "full" / "sub").mkdir(parents=True)
    (root / "full" / "sub" / "x").write_text("x")
    (root / "outside").mkdir()
    (root / "outside" / "precious").write_text("keep")
    (root / "full" / "link_out").symlink_to(root / "outside")

    async def body(fs):
        await fs.remove_file("ln")
        await fs.remove_file("f")
        with pytest.raises(NotFound):
            await fs.remove_file("f")
        await fs.remove_dir("empty")
        with pytest.raises(NotEmpty):
            await fs.remove_dir("full")
        await fs.remove_tree("full")
    run_fs(sftp_env, body)
    assert sorted(os.listdir(root)) == ["outside"]
    assert (root / "outside" / "precious").read_text() == "keep"  # link removed, not followed


@pytest.mark.parametrize("posix_rename", [True, False])
def test_rename_replaces_atomically(sftp_env, posix_rename):
    root = sftp_env.root
    (root / "target.txt").write_text("old")
    (root / ".syncpane-new.tmp").write_text("new")
    (root / "moved_src").write_text("m")

    async def body(fs):
        if not posix_rename:
            entry = await fs._entry()
            entry.sftp._handler._supports_posix_rename = False  # a server without the extension
        await fs.rename(".syncpane-new.tmp", "target.txt")
        await fs.rename("moved_src", "moved_dst")
        with pytest.raises(NotFound):
            await fs.rename("nope", "x")
    run_fs(sftp_env, body)
    assert (root / "target.txt").read_text() == "new"
    assert (root / "moved_dst").read_text() == "m"
    assert sorted(os.listdir(root)) == ["moved_dst", "target.txt"]  # nothing aside remains


def test_set_mtime_and_mode(sftp_env):
    root = sftp_env.root
    (root / "f").write_text("x")

    async def body(fs):
        await fs.set_mtime("f", 1_500_000_000_987_654_321)
        await fs.set_mode("f", 0o600)
    run_fs(sftp_env, body)
    st = os.stat(root / "f")
    assert st.st_mtime_ns == 1_500_000_000 * 10**9
    assert stat.S_IMODE(st.st_mode) == 0o600


def test_make_link(sftp_env):
    root = sftp_env.root

    async def body(fs):
        await fs.make_link("ln", "some/where")
    run_fs(sftp_env, body)
    assert os.readlink(root / "ln") == "some/where"


def test_versioned_name():
    s = "2026-11-22 064100"
    assert versioned_name("report.final.pdf", s, False) == "report.final 2026-11-22 064100.pdf"
    assert versioned_name("Makefile", s, False) == "Makefile 2026-11-22 064100"
    assert versioned_name(".bashrc", s, False) == ".bashrc 2026-11-22 064100"
    assert versioned_name("photos.2024", s, True) == "photos.2024 2026-11-22 064100"


def test_recycle_file_and_folder(sftp_env):
    root = sftp_env.root
    (root / "docs" / "deep").mkdir(parents=True)
    (root / "docs" / "deep" / "a.txt").write_text("v1")
    (root / "album.2024").mkdir()
    (root / "album.2024" / "p.jpg").write_text("jpg")
    stamp = "2026-11-22 064100"

    async def body(fs):
        await fs.recycle("docs/deep/a.txt", stamp)
        (root / "docs" / "deep" / "a.txt").write_text("v2")
        await fs.recycle("docs/deep/a.txt", stamp)  # same second: must not overwrite v1
        await fs.recycle("album.2024", stamp)
        with pytest.raises(NotFound):
            await fs.recycle("nope", stamp)
        return await fs.scan(ScanOptions(), lambda n, c: None, CancelToken())
    result = run_fs(sftp_env, body)
    versions = root / ".syncpane-versions"
    assert (versions / "docs" / "deep" / "a 2026-11-22 064100.txt").read_text() == "v1"
    assert (versions / "docs" / "deep" / "a 2026-11-22 064100 (2).txt").read_text() == "v2"
    assert (versions / "album.2024 2026-11-22 064100" / "p.jpg").read_text() == "jpg"
    assert not (root / "docs" / "deep" / "a.txt").exists()
    assert {e.name for e in result.entries} == {"docs", "docs/deep"}  # versions never scanned


def _payload(n: int) -> bytes:
    return hashlib.sha256(str(n).encode()).digest() * (n // 32 + 1)


@pytest.mark.parametrize("size", [0, 1, 300_000, 5 * 1024 * 1024 + 7])
def test_upload_download_round_trip(sftp_env, tmp_path, size):
    data = _payload(size)[:size]
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    back = tmp_path / "back.bin"
    seen = []

    async def body(fs):
        await fs.write_from_local(str(src), ".syncpane-up.tmp", seen.append, CancelToken())
        await fs.rename(".syncpane-up.tmp", "final.bin")
        down = []
        await fs.read_to_local("final.bin", str(back), down.append, CancelToken())
        return sum(down)
    downloaded = run_fs(sftp_env, body)
    assert (sftp_env.root / "final.bin").read_bytes() == data
    assert back.read_bytes() == data
    assert sum(seen) == size and downloaded == size


def test_upload_never_overwrites_and_download_never_clobbers(sftp_env, tmp_path):
    (sftp_env.root / "exists").write_text("precious")
    src = tmp_path / "src"
    src.write_text("new")
    local_existing = tmp_path / "mine"
    local_existing.write_text("local precious")

    async def body(fs):
        with pytest.raises(FsError):
            await fs.write_from_local(str(src), "exists", lambda n: None, CancelToken())
        with pytest.raises(FsError):
            await fs.read_to_local("exists", str(local_existing), lambda n: None, CancelToken())
        with pytest.raises(NotFound):
            await fs.read_to_local("missing", str(tmp_path / "out"), lambda n: None,
                                   CancelToken())
    run_fs(sftp_env, body)
    assert (sftp_env.root / "exists").read_text() == "precious"
    assert local_existing.read_text() == "local precious"
    assert not (tmp_path / "out").exists()  # a failed download leaves nothing behind


@pytest.mark.parametrize("route", ["auto", "off"])
def test_hash_files_both_routes(sftp_env, route):
    root = sftp_env.root
    files = {"a.txt": b"alpha", "sp ace/b\nc": b"x" * 1_000_000, "empty": b""}
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(data)
    with open(os.fsencode(root) + b"/raw\xfe", "wb") as f:
        f.write(b"raw")
    files["raw\udcfe"] = b"raw"

    async def body(fs):
        return await fs.hash_files(list(files) + ["missing.txt"], CancelToken())
    got = run_fs(sftp_env, body, remote_commands=route)
    assert got == {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}


def test_check_name():
    from app.fs.sftp_url import ConnectionOptions, parse_sftp_url
    fs = SftpFS(parse_sftp_url("sftp://u@h/x"), ConnectionOptions(), SftpPool(), None)
    assert fs.check_name("ok/name with space.txt") is None
    assert fs.check_name("a/../b") is not None
    assert fs.check_name("x" * 256) is not None


def test_pool_shares_one_connection_per_server(sftp_env):
    (sftp_env.root / "left").mkdir()
    (sftp_env.root / "right").mkdir()

    async def body():
        pool = SftpPool()
        a = sftp_env.make_fs(pool=pool, url=sftp_env.url + "/left")
        b = sftp_env.make_fs(pool=pool, url=sftp_env.url + "/right")
        await a.open()
        await b.open()
        same = (await a._entry()) is (await b._entry())
        conn = (await a._entry()).conn
        await a.close()
        still_open = not conn.is_closed()
        await b.close()
        await conn.wait_closed()
        return same, still_open, conn.is_closed()
    assert run_async(body) == (True, True, True)


def test_remove_tree_on_a_link_removes_only_the_link(sftp_env):
    root = sftp_env.root
    (root / "real").mkdir()
    (root / "real" / "precious").write_text("keep")
    (root / "ln").symlink_to("real")

    async def body(fs):
        await fs.remove_tree("ln")
        with pytest.raises(NotFound):
            await fs.remove_tree("ln")
    run_fs(sftp_env, body)
    assert not os.path.lexists(root / "ln")
    assert (root / "real" / "precious").read_text() == "keep"


def test_disk_full_on_server_is_no_space_and_leaves_nothing(sftp_env, tmp_path):
    import subprocess

    from app.fs.base import NoSpace
    small = sftp_env.root / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)],
                      capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root in a privileged container)")
    try:
        src = tmp_path / "big"
        src.write_bytes(os.urandom(3 * 1024 * 1024))

        async def body(fs):
            with pytest.raises(NoSpace, match="no space left"):
                await fs.write_from_local(str(src), "small/.syncpane-x.tmp", lambda n: None,
                                          CancelToken())
        run_fs(sftp_env, body)
        assert os.listdir(small) == []  # the partial upload was removed
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_rename_fallback_puts_the_old_file_back_when_the_move_fails(sftp_env):
    root = sftp_env.root
    (root / "target.txt").write_text("old")

    async def body(fs):
        entry = await fs._entry()
        entry.sftp._handler._supports_posix_rename = False  # take the fallback route
        with pytest.raises(NotFound):
            await fs.rename("missing.tmp", "target.txt")
    run_fs(sftp_env, body)
    assert os.listdir(root) == ["target.txt"]  # no aside copy left behind
    assert (root / "target.txt").read_text() == "old"


def test_fast_path_hashes_on_the_server(sftp_env, monkeypatch):
    from app.fs import sftp_transfer

    (sftp_env.root / "a.txt").write_bytes(b"alpha")

    async def no_streaming(fs, rel, cancel):
        raise AssertionError(f"{rel} was streamed although sha256sum could hash it")
    monkeypatch.setattr(sftp_transfer, "_stream_hash", no_streaming)

    async def body(fs):
        return await fs.hash_files(["a.txt"], CancelToken())
    assert run_fs(sftp_env, body) == {"a.txt": hashlib.sha256(b"alpha").hexdigest()}


def test_download_flushes_only_big_files_and_off_the_event_loop(sftp_env, tmp_path,
                                                                 monkeypatch):
    """A downloaded file of FLUSH_AT bytes or more is flushed to disk before
    it is renamed into place; a small one is not (an fsync each would cost
    more than the copy of thousands of small files). Neither blocks the loop."""
    import threading

    from app.fs import base

    calls = []
    real_fsync = os.fsync

    def fsync(fd):
        calls.append((os.fstat(fd).st_size, threading.current_thread() is main))
        real_fsync(fd)
    main = threading.main_thread()
    monkeypatch.setattr(base.os, "fsync", fsync)
    big = os.urandom(base.FLUSH_AT + 5)
    (sftp_env.root / "big.bin").write_bytes(big)
    (sftp_env.root / "small.txt").write_bytes(b"small")

    async def body(fs):
        for name in ("big.bin", "small.txt"):
            await fs.read_to_local(name, str(tmp_path / name), lambda n: None, CancelToken())
    run_fs(sftp_env, body)
    assert (tmp_path / "big.bin").read_bytes() == big
    assert (tmp_path / "small.txt").read_bytes() == b"small"
    assert calls == [(len(big), False)]
