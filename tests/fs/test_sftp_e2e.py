"""End to end through the command line: jobs with an SFTP side, run against the
real sshd; results checked on both folders on disk."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from app.cli import run_headless
from app.config.paths import app_paths

pytestmark = pytest.mark.sshd
T0 = 1_700_000_000


def _trust(env) -> None:
    """Record the test server's key in the app's own known_hosts."""
    f = app_paths().known_hosts
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(env.server.known_hosts.read_text())


def _job(tmp_path: Path, env, left: str, right: str, **sections) -> str:
    doc = {"syncpane_job": 1, "pairs": [{"left": left, "right": right}],
           "connections": {f"{env.server.user}@127.0.0.1:{env.server.port}": {
               "auth": "key", "key_file": str(env.server.client_key), "timeout_seconds": 10}}}
    doc.update(sections)
    path = tmp_path / "job.syncjob"
    path.write_text(json.dumps(doc))
    return str(path)


def _run(command: str, *argv: str) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_headless(command, [*argv, "--json"], out, err)
    text = out.getvalue()
    return code, (json.loads(text) if text.strip() else {}), err.getvalue()


def _write(p: Path, data: bytes, t: int = T0) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    os.utime(p, (t, t))


def _files(root: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".syncpane")]
        for name in filenames:
            p = Path(dirpath) / name
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


@pytest.fixture
def local(tmp_path):
    d = tmp_path / "local"
    d.mkdir()
    return d


def test_mirror_to_server_then_update_with_versions(sftp_env, local, tmp_path):
    _trust(sftp_env)
    _write(local / "a.txt", b"alpha")
    _write(local / "deep" / "er" / "b c.bin", os.urandom(300_000))
    _write(local / "ünï.txt", b"unicode")
    job = _job(tmp_path, sftp_env, str(local), sftp_env.url)

    code, doc, err = _run("sync", job)
    assert code == 0, (doc, err)
    assert _files(sftp_env.root) == _files(local)
    assert os.stat(sftp_env.root / "a.txt").st_mtime == T0

    code, doc, err = _run("compare", job)  # whole-second server times still count as equal
    assert code == 0 and doc["summary"]["copy_to_right"] == 0, doc

    _write(local / "a.txt", b"alpha v2", T0 + 100)
    (local / "ünï.txt").unlink()
    code, doc, err = _run("sync", job)
    assert code == 0, (doc, err)
    assert _files(sftp_env.root) == _files(local)
    versions = sftp_env.root / ".syncpane-versions"
    kept = sorted(p.name for p in versions.iterdir())
    assert len(kept) == 2, kept  # the overwritten a.txt and the deleted ünï.txt
    assert any(n.startswith("a ") and n.endswith(".txt") for n in kept)
    old = next(p for p in versions.iterdir() if p.name.startswith("a "))
    assert old.read_bytes() == b"alpha"
    assert [n for n in os.listdir(sftp_env.root) if n.endswith(".tmp")] == []


def test_mirror_from_server_to_local(sftp_env, local, tmp_path):
    _trust(sftp_env)
    _write(sftp_env.root / "x" / "y.txt", b"from server")
    _write(sftp_env.root / "z.bin", os.urandom(2_000_000))
    _write(local / "stale.txt", b"to be removed")
    job = _job(tmp_path, sftp_env, str(local), sftp_env.url,
               sync={"variant": "mirror", "direction": "to_left", "deletion": "permanent",
                     "max_delete_percent": 100})
    code, doc, err = _run("sync", job)
    assert code == 0, (doc, err)
    assert _files(local) == _files(sftp_env.root)
    assert not (local / "stale.txt").exists()


def test_update_never_deletes(sftp_env, local, tmp_path):
    _trust(sftp_env)
    _write(local / "new.txt", b"n")
    _write(sftp_env.root / "only_there.txt", b"keep me")
    job = _job(tmp_path, sftp_env, str(local), sftp_env.url,
               sync={"variant": "update", "direction": "to_right"})
    code, doc, err = _run("sync", job)
    assert code == 0, (doc, err)
    assert _files(sftp_env.root) == {"new.txt": b"n", "only_there.txt": b"keep me"}


def test_two_way_between_two_server_folders(sftp_env, tmp_path):
    _trust(sftp_env)
    left, right = sftp_env.root / "L", sftp_env.root / "R"
    _write(left / "l.txt", b"left")
    _write(right / "r.txt", b"right")
    job = _job(tmp_path, sftp_env, sftp_env.server.url(left), sftp_env.server.url(right),
               sync={"variant": "two_way"})
    code, doc, err = _run("sync", job)
    assert code == 0, (doc, err)
    assert _files(left) == _files(right) == {"l.txt": b"left", "r.txt": b"right"}
    _write(right / "r.txt", b"right v2", T0 + 500)
    code, doc, err = _run("sync", job)
    assert code == 0, (doc, err)
    assert (left / "r.txt").read_bytes() == b"right v2"


@pytest.mark.parametrize("remote_commands", ["auto", "off"])
def test_content_compare_finds_same_size_same_time_change(sftp_env, local, tmp_path,
                                                          remote_commands):
    _trust(sftp_env)
    _write(local / "same.txt", b"AAAA")
    _write(sftp_env.root / "same.txt", b"AAAA")
    _write(local / "changed.txt", b"BBBB")
    _write(sftp_env.root / "changed.txt", b"CCCC")  # same size, same time
    job = _job(tmp_path, sftp_env, str(local), sftp_env.url,
               compare={"method": "content"})
    doc = json.loads(Path(job).read_text())
    doc["connections"][next(iter(doc["connections"]))]["remote_commands"] = remote_commands
    Path(job).write_text(json.dumps(doc))
    code, out, err = _run("compare", job)
    assert code == 0, (out, err)
    paths = {i["path"]: i["category"] for i in out["pairs"][0]["items"]}
    assert paths.get("changed.txt") not in (None, "equal") and paths.get("same.txt") in (
        None, "equal")
    code, out, err = _run("sync", job)
    assert code == 0, (out, err)
    assert (sftp_env.root / "changed.txt").read_bytes() == b"BBBB"


def test_unknown_host_key_exit_2_then_accept(sftp_env, local, tmp_path):
    _write(local / "a.txt", b"a")
    job = _job(tmp_path, sftp_env, str(local), sftp_env.url)
    code, doc, err = _run("sync", job)
    assert code == 2
    text = json.dumps(doc) + err
    assert "SHA256:" in text and "--accept-new-host-key" in text
    assert os.listdir(sftp_env.root) == []  # nothing changed
    code, doc, err = _run("sync", job, "--accept-new-host-key")
    assert code == 0, (doc, err)
    assert (sftp_env.root / "a.txt").read_bytes() == b"a"
    assert app_paths().known_hosts.read_text().startswith(f"[127.0.0.1]:{sftp_env.server.port} ")


def test_wrong_key_exit_2_names_the_cause(sftp_env, local, tmp_path):
    _trust(sftp_env)
    import subprocess
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(tmp_path / "stranger")], check=True)
    _write(local / "a.txt", b"a")
    job = _job(tmp_path, sftp_env, str(local), sftp_env.url)
    doc = json.loads(Path(job).read_text())
    doc["connections"][next(iter(doc["connections"]))]["key_file"] = str(tmp_path / "stranger")
    Path(job).write_text(json.dumps(doc))
    code, out, err = _run("sync", job)
    assert code == 2
    assert "did not accept the key file" in json.dumps(out) + err
    assert os.listdir(sftp_env.root) == []
