"""The command line as outside tools see it: a real child process."""

from __future__ import annotations

import json
import subprocess
import sys

from app import __version__
from tests.util import REPO, T0, make_tree, run_subprocess

SUMMARY_KEYS = {"copy_to_right", "copy_to_left", "delete_left", "delete_right", "move_left",
                "move_right", "conflicts", "bytes_to_right", "bytes_to_left", "failed",
                "skipped"}


def test_engine_packages_never_import_qt_or_keyring():
    code = ("import sys, app.core.engine, app.core.job, app.core.compare, app.core.plan, "
            "app.core.execute, app.core.state, app.core.moves, app.core.filters, "
            "app.fs.local, app.fs.base, app.fs.factory, app.cli\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', "
            "'keyring')]\nprint(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_version():
    p = run_subprocess("--version")
    assert p.returncode == 0 and p.stdout.strip() == f"syncpane {__version__}"


def test_version_verbose_names_libraries_and_speed_ups():
    import asyncssh

    from app.fs import sftp_conn, ssh_speed  # noqa: F401

    p = run_subprocess("--version", "--verbose")
    lines = p.stdout.splitlines()
    assert p.returncode == 0 and lines[0] == f"syncpane {__version__}"
    assert lines[1].startswith("python ")
    off = [name for name, on in ssh_speed.active().items() if not on]
    taken = "all" if not off else "all but " + ", ".join(off)
    assert lines[2] == f"asyncssh {asyncssh.__version__} (speed-ups: {taken})"
    assert lines[3] == "content hashes: blake3, sha256"  # blake3 is a dependency
    assert lines[4].startswith("PySide6 ")


def test_json_output_is_exactly_one_object_with_the_specified_shape(tmp_path):
    make_tree(tmp_path / "L", {"models/a.pt": ("0123456789", T0 + 100), "new/x.txt": "x"})
    make_tree(tmp_path / "R", {"models/a.pt": ("012345678", T0), "old.txt": "o"})
    p = run_subprocess("compare", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"),
                       "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)  # the whole of stdout is one JSON document
    assert set(doc) == {"pairs", "summary", "errors"}
    assert set(doc["summary"]) == SUMMARY_KEYS
    pair = doc["pairs"][0]
    assert set(pair) == {"left", "right", "items"}
    item = next(i for i in pair["items"] if i["path"] == "models/a.pt")
    assert item == {"path": "models/a.pt", "kind": "file", "category": "left_newer",
                    "action": "copy_to_right", "left": {"size": 10, "mtime": float(T0 + 100)},
                    "right": {"size": 9, "mtime": float(T0)}}
    assert doc["summary"]["copy_to_right"] == 2 and doc["summary"]["bytes_to_right"] == 11
    assert doc["summary"]["delete_right"] == 1
    assert p.stderr == ""  # not a terminal: no progress


def test_bad_job_exit_2_with_json_and_message_on_stderr(tmp_path):
    job = tmp_path / "bad.syncjob"
    job.write_text('{"syncpane_job": 1, "pairs": [{"left": "a", "right": "b", "lft": 1}]}')
    p = run_subprocess("sync", str(job), "--json")
    assert p.returncode == 2
    doc = json.loads(p.stdout)
    assert doc["pairs"] == [] and doc["errors"][0] == {
        "path": None, "message": 'unknown key "lft" at pairs[0]'}
    assert 'unknown key "lft" at pairs[0]' in p.stderr


def test_sync_from_flags_in_a_child_process(tmp_path):
    make_tree(tmp_path / "L", {"data/train.jsonl": "{}\n"})
    p = run_subprocess("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"))
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "R" / "data" / "train.jsonl").read_text() == "{}\n"
    assert "Done:" in p.stdout


def test_warnings_exit_1(tmp_path):
    make_tree(tmp_path / "L", {"tie.txt": "ab"})
    make_tree(tmp_path / "R", {"tie.txt": "abc"})
    p = run_subprocess("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"),
                       "--variant", "two_way", "--json")
    assert p.returncode == 1
    assert json.loads(p.stdout)["summary"]["conflicts"] == 1


def test_progress_goes_to_stderr_only_when_it_is_a_terminal(tmp_path):
    import os
    import pty

    make_tree(tmp_path / "L", {f"d{i}/f{j}.bin": b"x" * 1000 for i in range(30)
                               for j in range(40)})
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "app", "sync", "--left",
                                 str(tmp_path / "L"), "--right", str(tmp_path / "R"), "--json"],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        out, _ = proc.communicate(timeout=120)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    assert proc.returncode == 0
    assert json.loads(out)["summary"]["copy_to_right"] == 1200  # stdout: JSON only
    terminal = b"".join(chunks).decode(errors="replace")
    assert "items" in terminal or "scanned" in terminal  # progress was drawn on the terminal


def test_freefilesync_import_warnings_are_listed_before_running(tmp_path):
    make_tree(tmp_path / "L", {"a.txt": "a"})
    ffs = tmp_path / "job.ffs_batch"
    ffs.write_text(f"""<?xml version="1.0" encoding="utf-8"?>
<FreeFileSync XmlType="BATCH" XmlFormat="17">
  <Compare><Variant>TimeAndSize</Variant></Compare>
  <Synchronize><Variant>Update</Variant><DeletionPolicy>RecycleBin</DeletionPolicy></Synchronize>
  <Filter><Include><Item>*</Item></Include><Exclude/>
    <TimeSpan Type="LastDays">7</TimeSpan></Filter>
  <FolderPairs>
    <Pair><Left>{tmp_path / "L"}</Left><Right>{tmp_path / "R"}</Right></Pair>
    <Pair><Left>{tmp_path / "L"}</Left><Right>ftp://user@host/x</Right></Pair>
  </FolderPairs>
</FreeFileSync>""", encoding="utf-8")
    p = run_subprocess("sync", str(ffs), "--json")
    doc = json.loads(p.stdout)
    messages = [e["message"] for e in doc["errors"] if e["path"] is None]
    assert any("FreeFileSync import" in m and "pair skipped" in m for m in messages)
    assert any("FreeFileSync import" in m and "TimeSpan" in m for m in messages), messages
    assert len(doc["pairs"]) == 1  # only the pair that can run
    assert (tmp_path / "R" / "a.txt").read_text() == "a"
    assert "warning: FreeFileSync import" in p.stderr
