"""Job files: every mistake is an exit-2 error naming the key, nothing touched."""

from __future__ import annotations

import json

import pytest

from app.core.job import JobError, job_from_dict, job_to_dict, load_job, save_job
from tests.util import cli_json, make_tree, snapshot, write_job

GOOD = {"syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}]}


def _with(**changes):
    doc = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        cur = doc
        keys = path.split("__")
        for k in keys[:-1]:
            cur = cur[int(k)] if isinstance(cur, list) else cur.setdefault(k, {})
        cur[keys[-1]] = value
    return doc


BAD_JOBS = [
    (_with(pairs__0__x=1), 'unknown key "x" at pairs[0]'),
    (_with(colour="blue"), 'unknown key "colour" at the top level'),
    (_with(sync__variant="mirorr"), 'sync.variant: expected one of "mirror"'),
    (_with(sync__direction="up"), "sync.direction"),
    (_with(compare__method="hash"), "compare.method"),
    (_with(compare__time_tolerance_seconds="2"),
     "compare.time_tolerance_seconds: expected a number"),
    (_with(compare__ignore_time_shift_hours=[1.5]), "compare.ignore_time_shift_hours[0]"),
    (_with(compare__symlinks="maybe"), "compare.symlinks"),
    (_with(sync__deletion="versioning"), "sync.versioning_folder: required"),
    (_with(sync__max_delete_percent=150),
     "sync.max_delete_percent: expected a number from 0 to 100"),
    (_with(sync__max_delete_percent=True), "sync.max_delete_percent"),
    (_with(sync__detect_moves="yes"), "sync.detect_moves: expected true or false"),
    (_with(sync__custom={"left_only": "to_right"}), "sync.custom: only allowed"),
    (_with(sync__variant="custom", sync__custom={"equal": "to_right"}),
     'unknown key "equal" at sync.custom'),
    (_with(filter__exclude="*.tmp"), "filter.exclude: expected a list of strings"),
    (_with(filter__include=[3]), "filter.include[0]: expected a string"),
    (_with(filter__min_size_bytes=-1), "filter.min_size_bytes"),
    (_with(errors="ignore"), 'errors: expected one of "stop", "continue"'),
    (_with(parallel_local=0), "parallel_local"),
    (_with(pairs__0__sync={"variant": "sideways"}), "pairs[0].sync.variant"),
    (_with(pairs__0__left=5), "pairs[0].left: expected a string"),
    (_with(pairs__0__right="ftp://host/x"), "pairs[0].right"),
    (_with(pairs__0__right="sftp://nohost"), "pairs[0].right"),
    (_with(connections={"alice@host:22": {"auth": "magic"}}), 'connections["alice@host:22"].auth'),
    (_with(connections={"alice@host:22": {"password": "x"}}), 'unknown key "password"'),
    (_with(connections={"nohost": {}}), "USER@HOST:PORT"),
    (_with(syncpane_job=2), "syncpane_job: expected 1"),
    ({"syncpane_job": 1}, 'missing key "pairs"'),
    ({"pairs": []}, 'missing key "syncpane_job"'),
    (_with(pairs=[]), "pairs: expected a non-empty list"),
    ({"syncpane_job": 1, "pairs": [{"left": "L"}]}, 'missing key "right" at pairs[0]'),
    ([1, 2], "expected an object"),
]


@pytest.mark.parametrize("doc,message", BAD_JOBS, ids=[m for _, m in BAD_JOBS])
def test_bad_job_is_exit_2_naming_the_key_and_nothing_is_touched(tmp_path, doc, message):
    left = make_tree(tmp_path / "L", {"a.txt": "a", "only-left.txt": "x"})
    right = make_tree(tmp_path / "R", {"b.txt": "b"})
    before = (snapshot(left), snapshot(right))
    job = write_job(tmp_path / "bad.syncjob", doc)
    code, out = cli_json("sync", str(job), "--force")
    assert code == 2
    assert out["pairs"] == []
    assert out["errors"][0]["path"] is None
    assert message in out["errors"][0]["message"]
    assert (snapshot(left), snapshot(right)) == before


def test_malformed_json_names_line_and_column(tmp_path):
    job = tmp_path / "broken.syncjob"
    job.write_text('{"syncpane_job": 1,\n "pairs": [\n', encoding="utf-8")
    code, out = cli_json("compare", str(job))
    assert code == 2
    assert "is not valid JSON" in out["errors"][0]["message"]
    assert "line" in out["errors"][0]["message"]


def test_duplicate_keys_are_an_error(tmp_path):
    job = tmp_path / "dup.syncjob"
    job.write_text('{"syncpane_job": 1, "pairs": [{"left": "a", "right": "b"}], '
                   '"sync": {"variant": "update", "variant": "mirror"}}')
    with pytest.raises(JobError, match='"variant" appears twice'):
        load_job(str(job))


def test_missing_job_file(tmp_path):
    code, out = cli_json("sync", str(tmp_path / "nope.syncjob"))
    assert code == 2 and "cannot read job file" in out["errors"][0]["message"]


def test_crlf_and_bom_job_file_loads(tmp_path):
    text = json.dumps(GOOD, indent=2).replace("\n", "\r\n")
    job = tmp_path / "win.syncjob"
    job.write_bytes(b"\xef\xbb\xbf" + text.encode())
    loaded = load_job(str(job))
    assert loaded.pairs[0].left.path == str(tmp_path / "L")


def test_relative_paths_resolve_against_the_job_folder(tmp_path, monkeypatch):
    make_tree(tmp_path / "proj" / "data", {"x.jsonl": "1"})
    job = write_job(tmp_path / "proj" / "j.syncjob",
                    {"syncpane_job": 1, "pairs": [{"left": "data", "right": "../out"}]})
    monkeypatch.chdir(tmp_path)  # elsewhere on purpose
    code, out = cli_json("sync", str(job))
    assert code == 0, out
    assert (tmp_path / "out" / "x.jsonl").read_text() == "1"


def test_windows_path_on_posix_is_a_clear_error(tmp_path):
    job = write_job(tmp_path / "j.syncjob", {"syncpane_job": 1, "pairs": [
        {"left": "C:\\local_dev\\data", "right": "R"}]})
    code, out = cli_json("compare", str(job))
    assert code == 2
    assert "Windows path" in out["errors"][0]["message"]


def test_pair_overrides_and_save_round_trip(tmp_path):
    doc = {"syncpane_job": 1, "name": "ml data",
           "pairs": [{"left": "a", "right": "sftp://alice@gpu.example.org/home/alice/x",
                      "sync": {"variant": "update"}},
                     {"left": "b", "right": "c"}],
           "sync": {"variant": "mirror", "deletion": "versioning", "versioning_folder": "old"},
           "connections": {"alice@gpu.example.org:22": {"key_file": "~/.ssh/id_ed25519"}}}
    job = job_from_dict(doc, str(tmp_path))
    assert job.pairs[0].sync.variant.value == "update"
    assert job.pairs[0].sync.deletion.value == "versioning"  # inherited
    assert job.pairs[1].sync.variant.value == "mirror"
    assert job.pairs[0].right.server_key == "alice@gpu.example.org:22"
    assert job.connections["alice@gpu.example.org:22"].auth == "key"
    out = tmp_path / "saved.syncjob"
    save_job(job, str(out))
    again = load_job(str(out))
    assert job_to_dict(again) == job_to_dict(job)
    assert again.pairs[0].left.path == str(tmp_path / "a")


def test_exclude_flags_add_to_the_job(tmp_path):
    make_tree(tmp_path / "L", {"keep.txt": "k", "skip.log": "s", "venv/x.py": "v"})
    job = write_job(tmp_path / "j.syncjob", GOOD)
    code, out = cli_json("sync", str(job), "--exclude", "*.log")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "R").iterdir()) == ["keep.txt"]
