"""``syncpane import FILE [-o OUT] [--json]`` through ``import_command``."""

from __future__ import annotations

import io
import json
from pathlib import Path

from app.core.ffs_import import import_command
from app.core.job import load_job

DATA = Path(__file__).parents[1] / "data" / "ffs"

CLEAN = b"""<?xml version="1.0" encoding="utf-8"?>
<FreeFileSync XmlType="GUI" XmlFormat="23">
    <Synchronize><Differences LeftOnly="right" LeftNewer="right" RightNewer="none"
        RightOnly="none"/><DeletionPolicy>RecycleBin</DeletionPolicy></Synchronize>
    <FolderPairs><Pair><Left>/src</Left><Right>/dst</Right></Pair></FolderPairs>
</FreeFileSync>
"""


def run(*args, **kw):
    out, err = io.StringIO(), io.StringIO()
    code = import_command(*args, stdout=out, stderr=err, **kw)
    return code, out.getvalue(), err.getvalue()


def test_clean_file_prints_the_job_and_exits_0(tmp_path):
    src = tmp_path / "clean.ffs_gui"
    src.write_bytes(CLEAN)
    code, out, err = run(str(src), None, False)
    assert code == 0 and err == ""
    job = json.loads(out)
    assert job["sync"] == {"variant": "update", "direction": "to_right", "detect_moves": False,
                           "deletion": "recycle"}
    assert out.endswith("}\n")


def test_warnings_go_to_stderr_and_exit_1():
    code, out, err = run(str(DATA / "current-custom.ffs_batch"), None, False)
    assert code == 1
    assert json.loads(out)["name"] == "current-custom"
    assert "syncpane: warning: pair 3: skipped" in err
    assert "syncpane: warning: Batch/PostSyncAction:" in err


def test_json_output_has_job_warnings_and_skipped_pairs():
    code, out, _err = run(str(DATA / "old-custom.ffs_gui"), None, True)
    assert code == 1
    doc = json.loads(out)
    assert set(doc) == {"job", "warnings", "skipped_pairs"}
    assert doc["job"]["syncpane_job"] == 1
    assert any(w["where"] == "GuiConfig/HandleError" and "asked" in w["message"]
               for w in doc["warnings"])
    (skipped,) = doc["skipped_pairs"]
    assert (skipped["number"], skipped["left"], skipped["right"]) == (
        2, "mtp:\\Galaxy S7\\Phone\\DCIM", "/home/carol/Phone")
    assert "MTP" in doc["skipped_pairs"][0]["reason"]


def test_output_file_is_written_and_loads_as_a_job(tmp_path):
    out_path = tmp_path / "sub.syncjob"
    code, out, err = run(str(DATA / "current-custom.ffs_batch"), str(out_path), False)
    assert code == 1 and out == ""
    assert f"wrote {out_path} (2 folder pairs" in err
    job = load_job(str(out_path))
    assert [p.right.display for p in job.pairs] == [
        "/backup/photos", "sftp://alice@gpu.example.org:2222/srv/models"]


def test_bad_input_exits_2_with_the_problem_named(tmp_path):
    src = tmp_path / "notes.ffs_batch"
    src.write_text("just some text")
    code, out, err = run(str(src), str(tmp_path / "x.syncjob"), False)
    assert code == 2 and out == ""
    assert "notes.ffs_batch is not usable XML" in err
    assert not (tmp_path / "x.syncjob").exists()


def test_bad_input_with_json_still_prints_one_object(tmp_path):
    src = tmp_path / "global.ffs_gui"
    src.write_text('<FreeFileSync XmlType="GLOBAL" XmlFormat="27"/>')
    code, out, _err = run(str(src), None, True)
    assert code == 2
    doc = json.loads(out)
    assert doc["job"] is None and 'unsupported XmlType "GLOBAL"' in doc["error"]


def test_unwritable_output_exits_2(tmp_path):
    code, _out, err = run(str(DATA / "current-custom.ffs_batch"),
                          str(tmp_path / "missing-folder" / "x.syncjob"), False)
    assert code == 2 and "cannot write" in err
