"""Deletion handling, fail-safe copies, leftovers, kill and cancel, logs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from app.config.paths import app_paths
from app.core.execute import versioned_name
from tests.util import REPO, T0, cli_json, make_tree, read_tree, write_job


def _job(tmp_path, **sync):
    return write_job(tmp_path / "j.syncjob", {
        "syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}],
        "sync": {"max_delete_percent": 100, **sync}})


def test_recycle_moves_deleted_and_overwritten_files_to_the_trash(tmp_path, trash_dir):
    make_tree(tmp_path / "L", {"changed.txt": ("new", T0 + 10)})
    make_tree(tmp_path / "R", {"changed.txt": ("old content", T0), "extra.txt": "extra"})
    code, _ = cli_json("sync", str(_job(tmp_path)))
    assert code == 0
    assert read_tree(tmp_path / "R") == {"changed.txt": b"new"}
    trashed = {p.name: p.read_bytes() for p in trash_dir.iterdir()}
    assert trashed == {"changed.txt": b"old content", "extra.txt": b"extra"}


def test_versioning_keeps_old_versions_with_a_timestamp(tmp_path):
    make_tree(tmp_path / "L", {"models/a.pt": ("v2", T0 + 10), "notes": ("n2", T0 + 10)})
    make_tree(tmp_path / "R", {"models/a.pt": ("v1", T0), "notes": ("n1", T0),
                               "old/gone.tar.gz": "g"})
    code, doc = cli_json("sync", str(_job(tmp_path, deletion="versioning",
                                          versioning_folder="versions")))
    assert code == 0, doc
    versions = read_tree(tmp_path / "versions")
    stamp = r"\d{4}-\d{2}-\d{2} \d{6}"
    names = sorted(versions)
    assert len(names) == 3
    assert re.fullmatch(rf"models/a {stamp}\.pt", names[0]) and versions[names[0]] == b"v1"
    assert re.fullmatch(rf"notes {stamp}", names[1]) and versions[names[1]] == b"n1"
    assert re.fullmatch(rf"old/gone\.tar {stamp}\.gz", names[2])
    assert read_tree(tmp_path / "R") == read_tree(tmp_path / "L")


def test_versioning_folder_inside_the_target_is_never_synced(tmp_path):
    make_tree(tmp_path / "L", {"a.txt": ("v2", T0 + 10)})
    make_tree(tmp_path / "R", {"a.txt": ("v1", T0)})
    job = write_job(tmp_path / "j.syncjob", {
        "syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}],
        "sync": {"deletion": "versioning", "versioning_folder": "R/.old"}})
    assert cli_json("sync", str(job))[0] == 0
    assert cli_json("sync", str(job))[0] == 0  # the second run must not delete R/.old
    assert len(os.listdir(tmp_path / "R" / ".old")) == 1


def test_versioned_name_rules():
    s = "2026-11-22 101530"
    assert versioned_name("a/model.pt", s) == "a/model 2026-11-22 101530.pt"
    assert versioned_name("archive.tar.gz", s) == "archive.tar 2026-11-22 101530.gz"
    assert versioned_name("Makefile", s) == "Makefile 2026-11-22 101530"
    assert versioned_name(".bashrc", s) == ".bashrc 2026-11-22 101530"
    assert versioned_name("x.txt", s, 2) == "x 2026-11-22 101530 (2).txt"


def test_permanent_deletion_leaves_nothing_behind(tmp_path, trash_dir):
    make_tree(tmp_path / "L", {"a.txt": ("new", T0 + 10)})
    make_tree(tmp_path / "R", {"a.txt": ("old", T0), "b.txt": "b"})
    assert cli_json("sync", str(_job(tmp_path, deletion="permanent")))[0] == 0
    assert read_tree(tmp_path / "R") == {"a.txt": b"new"}
    assert not trash_dir.exists() or not list(trash_dir.iterdir())


def test_copies_keep_time_and_permissions(tmp_path):
    make_tree(tmp_path / "L", {"run.sh": ("#!/bin/sh\n", T0 + 123)})
    os.chmod(tmp_path / "L" / "run.sh", 0o750)
    assert cli_json("sync", str(_job(tmp_path)))[0] == 0
    st = os.stat(tmp_path / "R" / "run.sh")
    assert st.st_mtime == T0 + 123
    assert st.st_mode & 0o777 == 0o750


def test_excluded_items_are_invisible_to_mirror_and_never_deleted(tmp_path):
    make_tree(tmp_path / "L", {"data/a.jsonl": "a"})
    make_tree(tmp_path / "R", {"data/a.jsonl": "a", "data/.git/HEAD": "ref",
                               "venv/lib/x.py": "x", "cache.pyc": "c", "extra.txt": "e",
                               "old/.git/config": "keep me"})
    code, doc = cli_json("sync", str(_job(tmp_path)))
    assert code == 0, doc
    r = read_tree(tmp_path / "R")
    assert r == {"data/a.jsonl": b"a", "data/.git/HEAD": b"ref", "venv/lib/x.py": b"x",
                 "cache.pyc": b"c", "old/.git/config": b"keep me"}
    assert all(".git" not in e["path"] for e in doc["pairs"][0]["items"])


def test_include_patterns_and_size_limits(tmp_path):
    make_tree(tmp_path / "L", {"data/a.jsonl": "a" * 10, "data/b.csv": "b", "big.jsonl": "x" * 5000,
                               "tiny.jsonl": "", "other/c.jsonl": "c" * 10})
    job = write_job(tmp_path / "j.syncjob", {
        "syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}],
        "filter": {"include": ["*.jsonl"], "exclude": ["other/"], "min_size_bytes": 1,
                   "max_size_bytes": 1000}})
    assert cli_json("sync", str(job))[0] == 0
    assert read_tree(tmp_path / "R", with_dirs=True) == {"data/": None, "data/a.jsonl": b"a" * 10}


def test_leftover_temporary_files_are_cleaned_and_never_synced(tmp_path):
    make_tree(tmp_path / "L", {"a.txt": "a", ".syncpane.deadbeef0000.tmp": "partial"})
    make_tree(tmp_path / "R", {"sub/.syncpane.0123456789ab.tmp": "partial from a killed run"})
    code, doc = cli_json("sync", str(_job(tmp_path)))
    assert code == 0, doc
    assert read_tree(tmp_path / "R") == {"a.txt": b"a"}  # leftover removed, none copied
    assert all(".syncpane" not in e["path"] for e in doc["pairs"][0]["items"])


def test_stop_and_continue_on_errors(tmp_path, monkeypatch):
    from app.fs import local

    make_tree(tmp_path / "L", {f"f{i}.txt": str(i) for i in range(6)})
    real = local.copy_local_file

    def failing(src, dst, rel, on_bytes, cancel):
        if src.endswith("f2.txt"):
            raise local.NoSpace(f"cannot write {rel}: the disk is full", rel)
        return real(src, dst, rel, on_bytes, cancel)
    monkeypatch.setattr(local, "copy_local_file", failing)
    write_job(tmp_path / "c.syncjob", {"syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}],
                                        "errors": "continue"})
    code, doc = cli_json("sync", str(tmp_path / "c.syncjob"))
    assert code == 2
    assert doc["summary"]["failed"] == 1 and doc["summary"]["copy_to_right"] == 5
    assert doc["errors"] == [{"path": "f2.txt", "message": "cannot write f2.txt: the disk is full"}]
    assert sorted(os.listdir(tmp_path / "R")) == ["f0.txt", "f1.txt", "f3.txt", "f4.txt",
                                                  "f5.txt"]
    for p in (tmp_path / "R").iterdir():
        p.unlink()
    write_job(tmp_path / "s.syncjob", {"syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}],
                                        "errors": "stop", "parallel_local": 1})
    code, doc = cli_json("sync", str(tmp_path / "s.syncjob"))
    assert code == 2 and doc["summary"]["failed"] == 1
    assert sorted(os.listdir(tmp_path / "R")) == ["f0.txt", "f1.txt"]  # stopped at f2


def test_a_log_is_written_per_sync_and_only_50_kept(tmp_path):
    make_tree(tmp_path / "L", {"a.txt": "a"})
    logs = app_paths().logs
    logs.mkdir(parents=True)
    for i in range(55):
        (logs / f"sync-20200101-0000{i:02}-1-old.log").write_text("old")
        os.utime(logs / f"sync-20200101-0000{i:02}-1-old.log", (T0 + i, T0 + i))
    assert cli_json("sync", str(_job(tmp_path)))[0] == 0
    files = sorted(logs.glob("sync-*.log"))
    assert len(files) == 50
    newest = max(files, key=lambda p: p.stat().st_mtime)
    text = newest.read_text()
    assert "done" in text and "copy_to_right" in text and "a.txt" in text


def _big_sync_process(tmp_path, size_mb: int):
    big = tmp_path / "L" / "model.safetensors"
    big.parent.mkdir(parents=True)
    with open(big, "wb") as f:
        chunk = os.urandom(1024 * 1024)
        for _ in range(size_mb):
            f.write(chunk)
    make_tree(tmp_path / "R", {"model.safetensors": ("old weights", T0)})
    job = _job(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return big, job, env


def _wait_for_temp(folder, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(n.startswith(".syncpane.") for n in os.listdir(folder)):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


@pytest.mark.slow
def test_sigkill_mid_copy_leaves_no_partial_file_and_the_rerun_completes(tmp_path):
    big, job, env = _big_sync_process(tmp_path, 400)
    proc = subprocess.Popen([sys.executable, "-m", "app", "sync", str(job), "--json"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    assert _wait_for_temp(tmp_path / "R", proc), "the copy never started"
    proc.kill()
    proc.wait()
    names = os.listdir(tmp_path / "R")
    assert "model.safetensors" in names
    assert (tmp_path / "R" / "model.safetensors").read_bytes() == b"old weights"  # intact
    assert any(n.startswith(".syncpane.") for n in names)  # killed mid-copy, for real
    code, doc = cli_json("sync", str(job))
    assert code == 0, doc
    assert os.listdir(tmp_path / "R") == ["model.safetensors"]
    assert os.path.getsize(tmp_path / "R" / "model.safetensors") == big.stat().st_size
    assert os.stat(tmp_path / "R" / "model.safetensors").st_mtime == big.stat().st_mtime


@pytest.mark.slow
def test_ctrl_c_cancels_cleanly_with_exit_3(tmp_path):
    big, job, env = _big_sync_process(tmp_path, 400)
    proc = subprocess.Popen([sys.executable, "-m", "app", "sync", str(job), "--json"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert _wait_for_temp(tmp_path / "R", proc), "the copy never started"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert os.listdir(tmp_path / "R") == ["model.safetensors"]  # temp file removed
    # Cancelled mid-copy the old file stays; a signal that arrives only as the
    # rename completes may find the new file whole. Never anything in between.
    target = tmp_path / "R" / "model.safetensors"
    if target.stat().st_size != big.stat().st_size:
        assert target.read_bytes() == b"old weights"
    else:
        assert target.read_bytes() == big.read_bytes()


def _descendants(pid: int) -> set[int]:
    out = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            kids = []
        out.update(kids)
        todo += kids
    return out


def _still_running(pids: set[int], within: float) -> set[int]:
    """Those of ``pids`` still alive (not gone, not a zombie) after waiting
    up to ``within`` seconds for them to end."""
    deadline = time.monotonic() + within
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {p for p in alive if os.path.exists(f"/proc/{p}") and
                 "zombie" not in open(f"/proc/{p}/status").read().lower()}
        time.sleep(0.05)
    return alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_syncpane_leaves_no_scan_workers_behind(tmp_path):
    make_tree(tmp_path / "L", {f"d{i:03}/f{j:02}.txt": "x" for i in range(150) for j in range(40)})
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "app", "compare", "--left",
                             str(tmp_path / "L"), "--right", str(tmp_path / "R")], cwd=REPO,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    helpers: set[int] = set()
    workers = os.cpu_count() or 1
    while time.monotonic() < deadline and len(helpers) < workers and proc.poll() is None:
        helpers = _descendants(proc.pid)  # the workers (forked from the command line)
        time.sleep(0.01)
    assert len(helpers) >= workers, "the scan never started its worker processes"
    proc.kill()
    proc.wait()
    alive = _still_running(helpers, within=10)
    assert not alive, f"left running after the kill: {sorted(alive)}"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_scan_workers_leave_ctrl_c_to_the_command_line(tmp_path):
    """Ctrl+C reaches every process of the terminal's group: the workers
    ignore it (the command line cancels cleanly), so none dies with a
    traceback and the pool still answers afterwards."""
    make_tree(tmp_path / "L", {f"d{i}/f.txt": "x" for i in range(3)})
    code = (
        "import os, signal, sys, time\n"
        "from app.fs import local_scan as ls\n"
        "ls.warm_up_pool()\n"
        "pool = ls._get_pool()\n"
        "time.sleep(0.5)\n"
        "pids = list(pool._processes)\n"
        "assert pids, 'no workers'\n"
        "for p in pids: os.kill(p, signal.SIGINT)\n"
        "time.sleep(0.5)\n"
        "rows = pool.submit(ls._walk_all, [('', sys.argv[1], frozenset())], 'skip', None)"
        ".result(30)[0]\n"
        "print(len(rows), sorted(pool._processes) == sorted(pids))\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "L")], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["6", "True"]  # 3 folders + 3 files, the same workers
    assert "KeyboardInterrupt" not in out.stderr and "Traceback" not in out.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_finished_command_leaves_no_scan_workers_and_its_output_whole(tmp_path):
    """The command line ends without the interpreter's teardown once its work
    is done: the JSON must still arrive whole, and the workers must go too."""
    make_tree(tmp_path / "L", {f"d{i:03}/f{j:02}.txt": "x" for i in range(150) for j in range(40)})
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out_path, err_path = tmp_path / "out.json", tmp_path / "err.txt"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "app", "compare", "--left",
                                 str(tmp_path / "L"), "--right", str(tmp_path / "R"), "--json"],
                                cwd=REPO, env=env, stdout=out, stderr=err)
        helpers: set[int] = set()
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            helpers |= _descendants(proc.pid)
            time.sleep(0.005)
        proc.wait(10)
    assert proc.returncode == 0, err_path.read_text()
    doc = json.loads(out_path.read_text())
    assert len(doc["pairs"][0]["items"]) == 150 * 41  # every folder and file, left only
    assert helpers, "the scan never started its worker processes"
    alive = _still_running(helpers, within=10)
    assert not alive, f"left running after the command ended: {sorted(alive)}"
