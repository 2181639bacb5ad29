"""Filter semantics (.gitignore syntax) on real trees."""

from __future__ import annotations

import pickle

import pytest

from app.core.filters import FilterSettings, PathFilter
from tests.util import cli_json, make_tree, read_tree, write_job

TREE = {
    "README.md": "r", "data/train.jsonl": "t", "data/tmp/x.jsonl": "x", "data/debug.log": "d",
    "logs/run.log": "l", "models/best.pt": "m", "models/keep.log": "k", "src/a.py": "a",
    "src/__pycache__/a.cpython-311.pyc": "c", "deep/logs/inner.txt": "i",
}


def _run(tmp_path, **flt):
    make_tree(tmp_path / "L", TREE)
    job = write_job(tmp_path / "j.syncjob", {"syncpane_job": 1,
                                             "pairs": [{"left": "L", "right": "R"}],
                                             "filter": flt})
    code, doc = cli_json("sync", str(job))
    assert code == 0, doc
    return set(read_tree(tmp_path / "R"))


def test_default_excludes_python_caches(tmp_path):
    got = _run(tmp_path)
    assert "src/__pycache__/a.cpython-311.pyc" not in got
    assert "src/a.py" in got and "README.md" in got


def test_gitignore_rules_anchoring_folders_and_negation(tmp_path):
    got = _run(tmp_path, exclude=["*.log", "!models/keep.log", "/logs/", "data/tmp/"])
    assert got == {"README.md", "data/train.jsonl", "models/best.pt", "models/keep.log",
                   "src/a.py", "src/__pycache__/a.cpython-311.pyc", "deep/logs/inner.txt"}


def test_include_selects_files_and_keeps_their_folders_only(tmp_path):
    # "models/" names a folder: as in a .gitignore, it covers what the folder holds
    make_tree(tmp_path / "L", TREE)
    job = write_job(tmp_path / "j.syncjob", {"syncpane_job": 1,
                                             "pairs": [{"left": "L", "right": "R"}],
                                             "filter": {"include": ["*.jsonl", "models/"],
                                                        "exclude": []}})
    assert cli_json("sync", str(job))[0] == 0
    assert read_tree(tmp_path / "R", with_dirs=True) == {
        "data/": None, "data/tmp/": None, "data/train.jsonl": b"t", "data/tmp/x.jsonl": b"x",
        "models/": None, "models/best.pt": b"m", "models/keep.log": b"k"}


def test_filter_survives_pickling_for_scan_workers():
    f = PathFilter(FilterSettings(include=("**",), exclude=("*.tmp", "!keep.tmp"),
                                  min_size_bytes=2, max_size_bytes=None), ignore_case=True)
    g = pickle.loads(pickle.dumps(f))
    for rel, size in [("a.TMP", 5), ("keep.tmp", 5), ("b.txt", 1), ("b.txt", 2)]:
        assert g.includes_file(rel, size) == f.includes_file(rel, size)
    assert not g.includes_file("a.TMP", 5) and g.includes_file("keep.tmp", 5)
    assert not g.includes_file("b.txt", 1) and g.includes_file("b.txt", 2)


@pytest.mark.parametrize("exclude,ignore_case,expected", [
    ((".git/", "*.pyc"), False, ["a.PYC", "b.txt", "d.tar.gz"]),
    ((".git/", "*.pyc"), True, ["b.txt", "d.tar.gz"]),
    (("*.pyc", "*.tar.gz"), False, ["a.PYC", "b.txt"]),
])
def test_a_scan_decides_suffix_excludes_by_the_name_alone(tmp_path, exclude, ignore_case,
                                                          expected):
    """The scan's inline suffix test gives what the filter itself says."""
    from app.fs.local_scan import _walk_all

    names = ["a.PYC", "b.txt", "c.pyc", "d.tar.gz"]
    make_tree(tmp_path, {n: "x" for n in names})
    flt = PathFilter(FilterSettings(exclude=exclude), ignore_case=ignore_case)
    assert flt.suffix_test() is not None
    rows = _walk_all([("", str(tmp_path), frozenset())], "skip", flt)[0]
    assert sorted(r[0] for r in rows) == expected
    assert expected == [n for n in names if flt.includes_file(n, 1)]


def test_size_limits_and_narrow_includes_are_not_decided_by_suffix(tmp_path):
    assert PathFilter(FilterSettings(min_size_bytes=10)).suffix_test() is None
    assert PathFilter(FilterSettings(include=("data/",))).suffix_test() is None
    assert PathFilter(FilterSettings(exclude=("logs/*.txt",))).suffix_test() is None


def test_a_filter_without_patterns_needs_no_pattern_library():
    """Everything included, nothing (or only comments) excluded: the filter
    answers without loading pathspec (tens of milliseconds of every run)."""
    import subprocess
    import sys

    code = ("import sys; from app.core.filters import FilterSettings, PathFilter\n"
            "f = PathFilter(FilterSettings(include=('**',), exclude=('# none', '  ')))\n"
            "assert f.includes_file('a/b.txt', 1) and not f.excludes_dir('a')\n"
            "print('pathspec' in sys.modules)\n"
            "g = PathFilter(FilterSettings(include=('**',), exclude=('build/', '*.tmp')))\n"
            "assert g.excludes_dir('x/build') and not g.includes_file('x/a.tmp', 1)\n"
            "assert g.includes_file('x/a.txt', 1)\n"
            "print('pathspec' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]
