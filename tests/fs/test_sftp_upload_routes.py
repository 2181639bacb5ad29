"""The upload routes to a real sshd: new small files staged in batches through the
server's tar (the fast path), the plain SFTP route with time and mode set on the
open handle, and what happens when either fails part-way. Every test asserts on
the files on disk: exact bytes, times and modes, and no partial file under a real
name."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
import time
from pathlib import Path

import pytest

import app.fs.sftp_batch as sftp_batch
from app.core.events import CancelToken
from app.fs.base import AlreadyExists
from tests.fixtures.sshd import FaultProxy, run_async
from tests.fs.test_sftp_e2e import T0, _job, _run, _trust

pytestmark = pytest.mark.sshd

ODD_NAMES = [b"with space.txt", b"new\nline.txt", b"caf\xe9-latin1.txt", b"\xff\xfe.bin",
             b"-dash.txt", b".hidden", b"x" * 200]


def _tree(root: Path, n: int = 60, size: int = 3000) -> None:
    """Files in a few folders, with odd names, several modes and times."""
    modes = [0o644, 0o600, 0o755, 0o640, 0o700]
    for i in range(n):
        folder = root / f"d{i % 4}" / ("sub" if i % 3 == 0 else "")
        folder.mkdir(parents=True, exist_ok=True)
        p = folder / f"f{i:03d}.dat"
        p.write_bytes(os.urandom(size + i))
        os.chmod(p, modes[i % len(modes)])
        os.utime(p, (T0 + i, T0 + i * 7))
    odd = os.path.join(os.fsencode(root), b"odd \xe9 folder")
    os.makedirs(odd, exist_ok=True)
    for k, name in enumerate(ODD_NAMES):
        p = os.path.join(odd, name)
        with open(p, "wb") as f:
            f.write(name * (k + 1))
        os.chmod(p, 0o640)
        os.utime(p, (T0, T0 + k))
    (root / "empty.txt").write_bytes(b"")
    os.utime(root / "empty.txt", (T0, T0))


def _snapshot(root: Path) -> dict[bytes, tuple]:
    """relative path -> (bytes, mtime in whole seconds, permission bits); folders too."""
    out = {}
    base = os.fsencode(root)
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if not d.startswith(b".syncpane")]
        for name in filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            with open(p, "rb") as f:
                out[os.path.relpath(p, base)] = (f.read(), int(st.st_mtime),
                                                 stat.S_IMODE(st.st_mode))
        for name in dirnames:
            out[os.path.relpath(os.path.join(dirpath, name), base)] = "dir"
    return out


def _reserved(root: Path) -> list[str]:
    """Every Syncpane-reserved name left anywhere below ``root``."""
    found = []
    for dirpath, dirnames, filenames in os.walk(os.fsencode(root)):
        for name in dirnames + filenames:
            if name.startswith(b".syncpane"):
                found.append(os.fsdecode(os.path.join(dirpath, name)))
    return found


@pytest.fixture
def staged_log(monkeypatch):
    """Records what each fast-path batch did: (files asked, files placed) or None."""
    log: list = []
    real = sftp_batch.put_files

    async def spy(fs, files, cancel, placeable=None, **kw):
        placed = await real(fs, files, cancel, placeable, **kw)
        log.append(None if placed is None else (len(files), sum(placed)))
        return placed
    monkeypatch.setattr(sftp_batch, "put_files", spy)
    return log


def _sync(tmp_path, env, local, remote_commands="auto", port=None, timeout=10):
    """Mirror ``local`` to the server folder (through ``port`` if given: a relay)."""
    port = port or env.server.port
    _trust(env)
    if port != env.server.port:  # the relay shows the server's key under its own port
        from app.config.paths import app_paths
        key = env.server.known_hosts.read_text().split(None, 1)[1]
        with app_paths().known_hosts.open("a") as f:
            f.write(f"[127.0.0.1]:{port} {key}")
    job = _job(tmp_path, env, str(local), f"sftp://{env.server.user}@127.0.0.1:{port}{env.root}",
               sync={"variant": "mirror", "deletion": "permanent", "max_delete_percent": 100},
               connections={f"{env.server.user}@127.0.0.1:{port}": {
                   "auth": "key", "key_file": str(env.server.client_key),
                   "timeout_seconds": timeout, "remote_commands": remote_commands}})
    return _run("sync", job, "--force")


def test_fast_path_puts_exact_bytes_times_and_modes(sftp_env, tmp_path, staged_log):
    local = tmp_path / "local"
    _tree(local)
    code, doc, err = _sync(tmp_path, sftp_env, local)
    assert code == 0, (doc, err)
    assert staged_log and all(entry is not None for entry in staged_log), staged_log
    assert sum(s for _asked, s in staged_log) == sum(a for a, _s in staged_log) > 60
    assert _snapshot(sftp_env.root) == _snapshot(local)
    assert _reserved(sftp_env.root) == []


def test_plain_sftp_route_puts_exact_bytes_times_and_modes(sftp_env, tmp_path, staged_log):
    local = tmp_path / "local"
    _tree(local)
    code, doc, err = _sync(tmp_path, sftp_env, local, remote_commands="off")
    assert code == 0, (doc, err)
    assert all(entry is None for entry in staged_log), staged_log  # never staged
    assert _snapshot(sftp_env.root) == _snapshot(local)
    assert _reserved(sftp_env.root) == []


def test_sftp_only_account_falls_back(sftp_only_env, tmp_path, staged_log):
    local = tmp_path / "local"
    _tree(local, n=20)
    code, doc, err = _sync(tmp_path, sftp_only_env, local)
    assert code == 0, (doc, err)
    assert staged_log and all(entry is None for entry in staged_log), staged_log
    assert _snapshot(sftp_only_env.root) == _snapshot(local)
    assert _reserved(sftp_only_env.root) == []


@pytest.mark.parametrize("broken", ["no-such-tar-here -x", "head -c 30000 | tar -x",
                                    "tar --no-such-option -x"],
                         ids=["tar-missing", "tar-fails-mid-archive", "tar-not-gnu"])
def test_server_tar_missing_or_failing_falls_back(sftp_env, tmp_path, staged_log, monkeypatch,
                                                  broken):
    real = sftp_batch.batch_command
    if broken.startswith("tar --no-such"):  # a tar that does not call itself GNU tar
        monkeypatch.setattr(sftp_batch, "batch_command",
                            lambda *a: real(*a).replace("*'GNU tar'*", "*'busybox'*"))
    else:
        monkeypatch.setattr(sftp_batch, "batch_command",
                            lambda *a: real(*a).replace("tar -x", broken))
    local = tmp_path / "local"
    _tree(local, n=30)
    code, doc, err = _sync(tmp_path, sftp_env, local)
    assert code == 0, (doc, err)
    assert staged_log and staged_log[0] is None
    assert _snapshot(sftp_env.root) == _snapshot(local)
    assert _reserved(sftp_env.root) == []  # the half-filled staging folder is gone too


def test_staged_file_changed_on_the_server_is_not_placed(sftp_env, tmp_path, monkeypatch):
    """Only files whose size, time and mode the server's listing confirms are used."""
    real = sftp_batch.parse_listing

    def one_wrong(out):
        got = real(out)
        if got:
            name = sorted(got)[0]
            size, secs, mode = got[name]
            got[name] = (size - 1, secs, mode)  # as if tar had written it short
        return got
    monkeypatch.setattr(sftp_batch, "parse_listing", one_wrong)
    local = tmp_path / "local"
    _tree(local, n=12)
    code, doc, err = _sync(tmp_path, sftp_env, local)
    assert code == 0, (doc, err)
    assert _snapshot(sftp_env.root) == _snapshot(local)  # that one went the plain way
    assert _reserved(sftp_env.root) == []


@pytest.mark.parametrize("change", ["size", "content", "during its read", "a link now"])
def test_source_changed_while_its_batch_streams_is_not_placed(sftp_env, tmp_path, staged_log,
                                                              monkeypatch, change):
    """A batch sends its files as it reads them, a few at a time, and looks at
    each through the open file once read. A file that has another size when
    read (it goes as zeros), that has new bytes and a new time, that changes
    while it is read, or that is now a link to a file just like it (size and
    time), is never put in place; the ordinary route then
    finds it changed since the comparison and leaves it alone."""
    monkeypatch.setattr(sftp_batch, "READ_GROUP", 5)  # many groups per batch
    local = tmp_path / "local"
    _tree(local, n=40)
    victim = sorted(local.rglob("*.dat"))[17]
    real_read_group, real_read = sftp_batch._read_group, os.read

    def change_victim():
        if change == "a link now":
            twin = tmp_path / "twin.dat"
            twin.write_bytes(victim.read_bytes())
            st = victim.stat()
            os.utime(twin, ns=(st.st_atime_ns, st.st_mtime_ns))
            victim.unlink()
            victim.symlink_to(twin)
        elif change == "size":
            victim.write_bytes(b"longer now " * 600)
        else:
            victim.write_bytes(os.urandom(victim.stat().st_size))
            os.utime(victim, (T0 + 999, T0 + 999))

    def read_group(files, group, follow=False):
        if change != "during its read" and any(
                files[m.index].local_path == str(victim) for m in group):
            change_victim()
        return real_read_group(files, group, follow)

    def read(fd, n):
        data = real_read(fd, n)
        if os.readlink(f"/proc/self/fd/{fd}") == str(victim):
            change_victim()  # after its bytes are read, before it is looked at
        return data
    monkeypatch.setattr(sftp_batch, "_read_group", read_group)
    if change == "during its read":
        monkeypatch.setattr(sftp_batch.os, "read", read)
    code, doc, err = _sync(tmp_path, sftp_env, local)
    monkeypatch.undo()
    assert staged_log and all(entry is not None for entry in staged_log), staged_log
    assert sum(a for a, _s in staged_log) - sum(s for _a, s in staged_log) == 1
    want = _snapshot(local)
    del want[os.path.relpath(victim, local).encode()]
    assert _snapshot(sftp_env.root) == want  # every other file exact; that one absent
    assert _reserved(sftp_env.root) == []
    assert code == 1 and doc["summary"]["skipped"] == 1, (code, doc, err)
    assert "since the comparison" in str(doc), doc


def test_source_changed_after_its_read_arrives_as_compared(sftp_env, tmp_path, staged_log,
                                                           monkeypatch):
    """A file that changes once its batch has read it arrives as it was read
    and compared (time and all); the next sync brings the new version."""
    monkeypatch.setattr(sftp_batch, "READ_GROUP", 5)
    local = tmp_path / "local"
    _tree(local, n=40)
    victim = sorted(local.rglob("*.dat"))[17]
    rel = os.path.relpath(victim, local).encode()
    before = _snapshot(local)
    real_read_group = sftp_batch._read_group

    def read_group(files, group, follow=False):
        out = real_read_group(files, group, follow)
        if any(files[m.index].local_path == str(victim) for m in group):
            victim.write_bytes(b"newer " * 100)
            os.utime(victim, (T0 + 999, T0 + 999))
        return out
    monkeypatch.setattr(sftp_batch, "_read_group", read_group)
    code, doc, err = _sync(tmp_path, sftp_env, local)
    assert code == 0, (doc, err)
    assert staged_log and sum(s for _a, s in staged_log) == sum(a for a, _s in staged_log)
    assert _snapshot(sftp_env.root) == before  # as compared, the victim's old bytes too
    staged_log.clear()
    code, doc, err = _sync(tmp_path, sftp_env, local)
    assert code == 0 and doc["summary"]["copy_to_right"] == 1, (doc, err)
    assert _snapshot(sftp_env.root)[rel] == _snapshot(local)[rel] != before[rel]


def test_batches_stream_while_folders_are_made_and_place_after(sftp_env, tmp_path, staged_log,
                                                              monkeypatch):
    """With nothing to delete first, batches read and send their files while
    the folders are still being made, and put nothing in place before the
    last folder is made; a wait for the folders longer than the stall limit
    is not taken for a stalled server."""
    from app.core.execute import PairExecutor

    events: list[tuple[str, float]] = []
    real_create, real_read = PairExecutor._create_dir, sftp_batch._read_group
    real_links = sftp_batch.link_archive

    async def slow_create(self, item, to):
        await asyncio.sleep(0.4)  # 7 folders, 2 levels: over 2 s in all
        out = await real_create(self, item, to)
        events.append(("folder made", time.monotonic()))
        return out

    def read(files, group, follow=False):
        events.append(("files read", time.monotonic()))
        return real_read(files, group, follow)

    def links(names):
        events.append(("links", time.monotonic()))
        return real_links(names)
    monkeypatch.setattr(PairExecutor, "_create_dir", slow_create)
    monkeypatch.setattr(sftp_batch, "_read_group", read)
    monkeypatch.setattr(sftp_batch, "link_archive", links)
    local = tmp_path / "local"
    _tree(local, n=40)
    code, doc, err = _sync(tmp_path, sftp_env, local, timeout=1)
    assert code == 0, (doc, err)
    assert staged_log and all(e is not None for e in staged_log), staged_log
    assert sum(s for _a, s in staged_log) == sum(a for a, _s in staged_log) > 40
    assert _snapshot(sftp_env.root) == _snapshot(local)
    assert _reserved(sftp_env.root) == []
    first_read = min(t for what, t in events if what == "files read")
    last_folder = max(t for what, t in events if what == "folder made")
    first_links = min(t for what, t in events if what == "links")
    assert first_read < last_folder <= first_links, events


@pytest.mark.parametrize("errors", ["stop", "continue"])
def test_folder_blocked_on_the_server_keeps_its_files_out(sftp_env, tmp_path, staged_log,
                                                          monkeypatch, errors):
    """A file put on the server where a new folder goes, after the comparison:
    that folder fails and that file is left as it is. With ``errors: stop``
    the run stops there: no file is put in place, though the batches were
    already sending. With ``continue``, the folder's files are never placed
    (an error each) and everything else arrives exactly."""
    from app.core.execute import PairExecutor

    real_plan = PairExecutor._run_plan

    async def someone_first(self):
        (sftp_env.root / "d1").write_bytes(b"not a folder")
        return await real_plan(self)
    monkeypatch.setattr(PairExecutor, "_run_plan", someone_first)
    local = tmp_path / "local"
    _tree(local, n=40)
    _trust(sftp_env)
    job = _job(tmp_path, sftp_env, str(local), f"sftp://{sftp_env.server.user}@127.0.0.1:"
               f"{sftp_env.server.port}{sftp_env.root}",
               sync={"variant": "mirror", "deletion": "permanent", "max_delete_percent": 100},
               errors=errors)
    code, doc, err = _run("sync", job, "--force")
    assert code == 2, (doc, err)
    assert (sftp_env.root / "d1").read_bytes() == b"not a folder"
    got = _snapshot(sftp_env.root)
    del got[b"d1"]
    assert _reserved(sftp_env.root) == []
    failed = {e["path"] for e in doc["errors"]}
    assert failed and all(p.startswith("d1") for p in failed), doc["errors"]
    if errors == "stop":
        assert not [k for k, v in got.items() if v != "dir"], got  # no file at all
        return
    assert got == {k: v for k, v in _snapshot(local).items() if not k.startswith(b"d1")}
    assert {p for p in failed if p.endswith(".dat")} == {
        os.fsdecode(k) for k in _snapshot(local) if k.startswith(b"d1/") and k.endswith(b".dat")}


def test_without_gnu_dd_head_takes_the_archive(sftp_env, tmp_path, staged_log, monkeypatch):
    """Where dd is not GNU's, ``head -c`` takes the archive off the input
    (smaller reads, the same bytes): every file placed, exactly."""
    real = sftp_batch.batch_command
    monkeypatch.setattr(sftp_batch, "batch_command",
                        lambda *a: real(*a).replace("*coreutils*", "*not-here*"))
    local = tmp_path / "local"
    _tree(local, n=30)
    code, doc, err = _sync(tmp_path, sftp_env, local)
    assert code == 0, (doc, err)
    assert staged_log and all(e is not None for e in staged_log), staged_log
    assert sum(s for _a, s in staged_log) == sum(a for a, _s in staged_log) > 30
    assert _snapshot(sftp_env.root) == _snapshot(local)
    assert _reserved(sftp_env.root) == []


def test_stale_staging_folder_is_removed_by_the_next_sync(sftp_env, tmp_path):
    stale = sftp_env.root / ".syncpane-stage-0123456789ab"
    stale.mkdir()
    (stale / "0").write_bytes(b"half")
    local = tmp_path / "local"
    _tree(local, n=5)
    code, doc, err = _sync(tmp_path, sftp_env, local, remote_commands="off")
    assert code == 0, (doc, err)
    assert not stale.exists()
    assert _snapshot(sftp_env.root) == _snapshot(local)


def _proxy_thread(target_port: int, **settings):
    """A FaultProxy on its own loop in a thread (the command line runs its own loop)."""
    loop = asyncio.new_event_loop()
    proxy = FaultProxy(target_port)
    for k, v in settings.items():
        setattr(proxy, k, v)
    ready = threading.Event()

    def serve():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(proxy.start())
        ready.set()
        loop.run_forever()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    ready.wait(10)

    def stop():
        asyncio.run_coroutine_threadsafe(proxy.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        t.join(5)
    return proxy, stop


def test_cut_mid_batch_leaves_no_partial_file_and_rerun_completes(sftp_env, tmp_path,
                                                                   staged_log):
    local = tmp_path / "local"
    _tree(local, n=200, size=20_000)  # ~4 MB in the tar stream
    proxy, stop = _proxy_thread(sftp_env.server.port, cut_after=1_500_000, cut_times=1)
    try:
        code, doc, err = _sync(tmp_path, sftp_env, local, port=proxy.port)
        # Whatever the run made of it: every file under a real name is whole.
        want = _snapshot(local)
        for rel, value in _snapshot(sftp_env.root).items():
            assert value == want[rel], rel
        assert proxy.connections >= 2  # the cut happened, a new connection took over
        assert None in staged_log  # ... to a batch in mid-stream
        code, doc, err = _sync(tmp_path, sftp_env, local, port=proxy.port)
        assert code == 0, (doc, err)
    finally:
        stop()
    assert _snapshot(sftp_env.root) == _snapshot(local)
    assert _reserved(sftp_env.root) == []


def test_rename_new_never_replaces(sftp_env, tmp_path):
    src = tmp_path / "s.txt"
    src.write_bytes(b"new content")
    (sftp_env.root / "taken.txt").write_bytes(b"someone else's")

    async def body():
        fs = sftp_env.make_fs()
        await fs.open()
        try:
            await fs.write_from_local(str(src), ".syncpane-x.tmp", lambda n: None, CancelToken(),
                                      attrs=(T0 * 10**9, 0o600))
            with pytest.raises(AlreadyExists):
                await fs.rename_new(".syncpane-x.tmp", "taken.txt")
            await fs.rename_new(".syncpane-x.tmp", "free.txt")
        finally:
            await fs.close()
    run_async(body)
    assert (sftp_env.root / "taken.txt").read_bytes() == b"someone else's"
    free = sftp_env.root / "free.txt"
    assert free.read_bytes() == b"new content"
    assert int(free.stat().st_mtime) == T0 and stat.S_IMODE(free.stat().st_mode) == 0o600
    assert sorted(os.listdir(sftp_env.root)) == ["free.txt", "taken.txt"]


@pytest.mark.parametrize("name", [b"a", b"0/f001.dat", "caf\u00e9/\u65e5\u672c".encode(),
                                  b"\xff\xfe bad utf-8", b"n" * 100, b"n" * 101,
                                  b"x/" + b"y" * 300])
@pytest.mark.parametrize("numbers", [(0, 0, 0o644), (4096, 1_700_000_000, 0o7755),
                                     (8**11 - 1, 8**11 - 1, 0o600), (8**11, 8**11 + 5, 0o640)])
def test_tar_header_is_byte_for_byte_what_tarfile_makes(name, numbers):
    import tarfile

    size, mtime, mode = numbers
    for kind, link in ((tarfile.REGTYPE, b""), (tarfile.LNKTYPE, name),
                       (tarfile.SYMTYPE, b"../" + name)):
        info = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
        info.size, info.mtime, info.mode, info.type = size, mtime, mode, kind
        info.linkname = link.decode("utf-8", "surrogateescape")
        want = info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
        assert sftp_batch.tar_header(name, size, mtime, mode, kind, link) == want
    if len(name) < 100:  # a folder (tarfile ends its name with a slash)
        info = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
        info.mtime, info.mode, info.type = mtime, mode, tarfile.DIRTYPE
        want = info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
        assert sftp_batch.tar_header(name + b"/", 0, mtime, mode, tarfile.DIRTYPE) == want


def test_link_archive_reads_back_as_links_through_each_folder():
    import io
    import tarfile

    names = [b"0/a b", b"1/\xff", b"12/" + b"z" * 150]
    with tarfile.open(fileobj=io.BytesIO(sftp_batch.link_archive(names)),
                      encoding="utf-8", errors="surrogateescape") as t:
        got = [(m.name, m.linkname, m.type) for m in t.getmembers()]
    assert got == [(n.replace(b"/", b".to/", 1).decode("utf-8", "surrogateescape"),
                    n.decode("utf-8", "surrogateescape"), tarfile.LNKTYPE) for n in names]


def test_parse_listing_rejects_what_we_did_not_ask_for():
    ok = sftp_batch.parse_listing(b"SYNCPANE-STAGED\x000/a\nb\x005\x001700000000.0000000000"
                                  b"\x00644\x00")
    assert ok == {b"0/a\nb": (5, 1_700_000_000, 0o644)}
    assert sftp_batch.parse_listing(b"0\x005\x001\x00644\x00") is None
    assert sftp_batch.parse_listing(b"SYNCPANE-STAGED\x000\x00five\x001\x00644\x00") is None
    assert sftp_batch.parse_listing(b"SYNCPANE-STAGED\x000\x005\x00") is None


def _split_small(monkeypatch):
    """Spread uploads over several SFTP sessions from 1 MiB on (16 MiB normally)."""
    import app.fs.sftp_transfer as transfer
    monkeypatch.setattr(transfer, "SPLIT_AT", 1024 * 1024)


def test_big_upload_over_several_sessions_is_exact(sftp_env, tmp_path, monkeypatch):
    _split_small(monkeypatch)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(5 * 1024 * 1024 + 12345))

    async def body():
        fs = sftp_env.make_fs()
        await fs.open()
        try:
            await fs.write_from_local(str(src), ".syncpane-b.tmp", lambda n: None, CancelToken(),
                                      attrs=(T0 * 10**9, 0o640))
            await fs.rename_new(".syncpane-b.tmp", "big.bin")
            return len((await fs._entry()).extra_sftp)
        finally:
            await fs.close()
    assert run_async(body) >= 1  # it did use more than one session
    got = sftp_env.root / "big.bin"
    assert got.read_bytes() == src.read_bytes()
    assert int(got.stat().st_mtime) == T0 and stat.S_IMODE(got.stat().st_mode) == 0o640
    assert os.listdir(sftp_env.root) == ["big.bin"]


@pytest.mark.parametrize("times", [1, 10**9], ids=["cut-once", "cut-every-time"])
def test_cut_mid_split_upload(sftp_env, tmp_path, monkeypatch, times):
    from tests.fs.test_sftp_faults import _arm_cut, _via_proxy
    from app.fs.base import ConnectionLost
    _split_small(monkeypatch)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(6 * 1024 * 1024))

    async def body(fs, proxy):
        await _arm_cut(fs, proxy, 2 * 1024 * 1024, times=times)
        try:
            await fs.write_from_local(str(src), ".syncpane-x.tmp", lambda n: None,
                                      CancelToken())
        except ConnectionLost:
            return "lost"
        await fs.rename_new(".syncpane-x.tmp", "big.bin")
        return "done"
    outcome = run_async(_via_proxy, sftp_env, body, limit=10)
    if times == 1:
        assert outcome == "done"
        assert (sftp_env.root / "big.bin").read_bytes() == src.read_bytes()
        assert os.listdir(sftp_env.root) == ["big.bin"]
    else:
        assert outcome == "lost"
        # No file under a real name; only our reserved temporary name may remain.
        assert all(n.startswith(".syncpane") for n in os.listdir(sftp_env.root))


def test_name_taken_before_placement_is_left_alone(sftp_env, tmp_path, monkeypatch):
    """A file that appears under a target name while its batch is on its way is
    never replaced: the hard link refuses, the item is skipped with a warning."""
    real = sftp_batch.batch_command
    intruder = sftp_env.root / "d1" / "f001.dat"
    # Someone writes that name just before the files are linked into place.
    monkeypatch.setattr(sftp_batch, "batch_command", lambda *a: real(*a).replace(
        "tar -x --keep-old-files", f"printf 'not yours' > '{intruder}'; tar -x --keep-old-files"))
    local = tmp_path / "local"
    _tree(local, n=12)
    code, doc, err = _sync(tmp_path, sftp_env, local)
    assert intruder.read_bytes() == b"not yours"
    assert any("appeared" in e["message"] for e in doc.get("errors", []) + doc.get("warnings", [])
               ), doc
    want = _snapshot(local)
    got = _snapshot(sftp_env.root)
    assert got.pop(b"d1/f001.dat")[0] == b"not yours"
    want.pop(b"d1/f001.dat")
    assert got == want
    assert _reserved(sftp_env.root) == []


def test_batch_cut_short_while_placing_is_sorted_out(sftp_env, tmp_path, monkeypatch,
                                                     staged_log):
    """The server command dies after linking, before saying what it placed: the
    files in place are recognised as such, the rest copied the ordinary way."""
    real = sftp_batch.batch_command
    monkeypatch.setattr(sftp_batch, "batch_command", lambda *a: real(*a).replace(
        "printf 'SYNCPANE-PLACED", "exit 9; printf 'SYNCPANE-PLACED"))
    local = tmp_path / "local"
    _tree(local, n=25)
    code, doc, err = _sync(tmp_path, sftp_env, local)
    assert code == 0, (doc, err)
    assert not doc.get("warnings") and not doc.get("errors"), doc
    assert staged_log and all(e is not None and e[1] > 0 for e in staged_log), staged_log
    assert _snapshot(sftp_env.root) == _snapshot(local)
    assert _reserved(sftp_env.root) == []


def test_commands_started_ahead_and_not_used_leave_nothing(sftp_env, tmp_path):
    """Batch commands started ahead wait for an archive; given none, they end
    before making anything on the server."""
    _trust(sftp_env)

    async def body():
        fs = sftp_env.make_fs()
        await fs.open()
        fs.warm_batches(2)
        fs.warm_batches(2)  # (as many as asked for, not more)
        assert len(fs._warm) == 2
        procs = [await task for _f, task in fs._warm]
        fs._warm.clear()
        for p in procs:  # what ending them (sftp_batch.cool) amounts to
            p.stdin.write_eof()
            await asyncio.wait_for(p.wait_closed(), 10)
        await fs.close()
        return [p.exit_status for p in procs]
    assert run_async(body) == [1, 1]  # ended on the missing size line ...
    assert _reserved(sftp_env.root) == []  # ... before making a staging folder


@pytest.fixture(scope="module")
def few_sessions_server(tmp_path_factory, sshd_server):
    """An sshd that allows only five sessions per connection (OpenSSH's
    MaxSessions, here for this user only)."""
    from tests.fixtures.sshd import start_sshd, stop_sshd

    server = start_sshd(tmp_path_factory.mktemp("sshd-few"),
                        f"Match User {sshd_server.user}\n    MaxSessions 5\n",
                        client_key=sshd_server.client_key)
    yield server
    stop_sshd(server)


def test_a_server_with_few_sessions_still_gets_everything(few_sessions_server, tmp_path,
                                                          staged_log, monkeypatch):
    """Four SFTP sessions, the listing and the batch commands started ahead do
    not all fit: whatever is refused is done another way, and every file lands."""
    from tests.fixtures.sshd import SftpEnv

    import app.core.batch_copy as batch_copy

    monkeypatch.setattr(batch_copy, "FIRST_BATCH", 10)  # several batches, so commands
    monkeypatch.setattr(batch_copy, "BATCH_FILES", 20)  # are started ahead as well
    root = tmp_path / "remote"
    root.mkdir()
    env = SftpEnv(server=few_sessions_server, root=root)
    local = tmp_path / "local"
    _tree(local, n=80)
    code, doc, err = _sync(tmp_path, env, local)
    assert code == 0, (doc, err)
    assert _snapshot(root) == _snapshot(local)
    assert _reserved(root) == []
    assert staged_log and any(e is not None and e[1] for e in staged_log), staged_log
