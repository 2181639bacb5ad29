"""Compare methods, tolerance, time shifts, symlinks, names."""

from __future__ import annotations

import os
import unicodedata

import pytest

from tests.util import T0, cli_json, items_by_path, make_tree, read_tree


def test_time_tolerance(tmp_path):
    make_tree(tmp_path / "L", {"within.txt": ("x", T0 + 2), "beyond.txt": ("x", T0 + 3)})
    make_tree(tmp_path / "R", {"within.txt": ("x", T0), "beyond.txt": ("x", T0)})
    _, doc = cli_json("compare", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"))
    items = items_by_path(doc)
    assert "within.txt" not in items
    assert items["beyond.txt"]["category"] == "left_newer"


def test_same_time_other_size_is_different(tmp_path):
    make_tree(tmp_path / "L", {"f.txt": "abc"})
    make_tree(tmp_path / "R", {"f.txt": "abcd"})
    _, doc = cli_json("compare", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"))
    assert items_by_path(doc)["f.txt"]["category"] == "different"


def test_ignore_time_shift_hours(tmp_path):
    make_tree(tmp_path / "L", {"a.txt": ("x", T0 + 3600), "b.txt": ("x", T0 + 7200)})
    make_tree(tmp_path / "R", {"a.txt": ("x", T0), "b.txt": ("x", T0)})
    job = tmp_path / "j.syncjob"
    job.write_text('{"syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}],'
                   ' "compare": {"ignore_time_shift_hours": [1]}}')
    _, doc = cli_json("compare", str(job))
    items = items_by_path(doc)
    assert "a.txt" not in items  # exactly one hour: equal
    assert items["b.txt"]["category"] == "left_newer"  # two hours: not


def test_clock_shift_is_detected_and_sync_refused_unless_forced(tmp_path):
    files = {f"f{i:02}.txt": (f"{i}", T0 + 3600) for i in range(25)}
    make_tree(tmp_path / "L", files)
    make_tree(tmp_path / "R", {k: (v, T0) for k, (v, _) in files.items()})
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"))
    assert code == 2
    assert any("exactly 1 hour" in e["message"] for e in doc["errors"])
    assert os.stat(tmp_path / "R" / "f00.txt").st_mtime == T0  # untouched
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"),
                         "--force")
    assert code == 0
    assert os.stat(tmp_path / "R" / "f00.txt").st_mtime == T0 + 3600


def test_size_method_ignores_time(tmp_path):
    make_tree(tmp_path / "L", {"a.txt": ("same", T0 + 500), "b.txt": ("longer", T0)})
    make_tree(tmp_path / "R", {"a.txt": ("SAME", T0), "b.txt": ("short", T0 + 9)})
    _, doc = cli_json("compare", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"),
                      "--method", "size")
    items = items_by_path(doc)
    assert "a.txt" not in items
    assert items["b.txt"]["category"] == "right_newer"


def test_content_method_reads_bytes_only_when_sizes_match(tmp_path):
    make_tree(tmp_path / "L", {"same.bin": (b"\x01" * 5000, T0 + 99),
                               "diff.bin": (b"\x01" * 4999 + b"\x02", T0),
                               "size.bin": (b"abc", T0 + 5)})
    make_tree(tmp_path / "R", {"same.bin": (b"\x01" * 5000, T0),
                               "diff.bin": (b"\x01" * 5000, T0),
                               "size.bin": (b"abcd", T0)})
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"),
                         "--method", "content")
    assert code == 0, doc
    items = items_by_path(doc)
    assert "same.bin" not in items  # different times, same bytes: equal
    assert items["diff.bin"]["category"] == "different"
    assert items["size.bin"]["category"] == "left_newer"
    assert read_tree(tmp_path / "R") == read_tree(tmp_path / "L")


def test_nfd_and_nfc_names_are_one_file_and_target_spelling_kept(tmp_path):
    nfc = unicodedata.normalize("NFC", "café.txt")
    nfd = unicodedata.normalize("NFD", "café.txt")
    assert nfc != nfd
    make_tree(tmp_path / "L", {nfd: ("v2", T0 + 10)})
    make_tree(tmp_path / "R", {nfc: ("v1", T0)})
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"))
    assert code == 0, doc
    assert doc["summary"]["copy_to_right"] == 1 and doc["summary"]["delete_right"] == 0
    assert os.listdir(tmp_path / "R") == [nfc]  # not renamed, not duplicated
    assert (tmp_path / "R" / nfc).read_text() == "v2"


def test_case_twins_on_linux_are_reported_and_still_synced(tmp_path):
    make_tree(tmp_path / "L", {"Data.csv": "1", "data.csv": "2"})
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"))
    assert code == 0
    assert any("differ only by case" in e["message"] for e in doc["errors"])
    assert read_tree(tmp_path / "R") == {"Data.csv": b"1", "data.csv": b"2"}


def test_unicode_long_and_deep_names(tmp_path):
    deep = "/".join(f"level{i:02d}-ünïcødé-名前" for i in range(30))
    long_name = "x" * 200 + ".jsonl"
    spec = {f"{deep}/{long_name}": "deep", "emoji 🧪 data.parquet": b"\x00PAR1",
            "spaces  and\ttabs.txt": "t"}
    make_tree(tmp_path / "L", spec)
    assert len(str(tmp_path / "L" / deep / long_name)) > 600  # far past 260
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"))
    assert code == 0, doc
    assert read_tree(tmp_path / "R") == read_tree(tmp_path / "L")


def test_symlinks_skipped_by_default(tmp_path):
    make_tree(tmp_path / "L", {"real.txt": "r"})
    os.symlink("real.txt", tmp_path / "L" / "link.txt")
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"))
    assert code == 0 and doc["errors"] == []  # skipped links are not warnings
    assert read_tree(tmp_path / "R") == {"real.txt": b"r"}


def test_symlinks_as_link_are_copied_as_links(tmp_path):
    make_tree(tmp_path / "L", {"real.txt": "r"})
    os.symlink("real.txt", tmp_path / "L" / "link.txt")
    job = tmp_path / "j.syncjob"
    job.write_text('{"syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}],'
                   ' "compare": {"symlinks": "as_link"}}')
    code, doc = cli_json("sync", str(job))
    assert code == 0, doc
    assert items_by_path(doc)["link.txt"]["kind"] == "symlink"
    assert os.readlink(tmp_path / "R" / "link.txt") == "real.txt"


def test_symlinks_follow_copies_targets_and_a_loop_never_hangs(tmp_path):
    make_tree(tmp_path / "L", {"data/a.txt": "a"})
    os.symlink("..", tmp_path / "L" / "data" / "up")  # a loop
    os.symlink("data", tmp_path / "L" / "alias")  # a second way in
    job = tmp_path / "j.syncjob"
    job.write_text('{"syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}],'
                   ' "compare": {"symlinks": "follow"}}')
    code, doc = cli_json("sync", str(job))
    assert code in (0, 1), doc
    r = read_tree(tmp_path / "R")
    assert r["data/a.txt"] == b"a" and r["alias/a.txt"] == b"a"
    assert not os.path.islink(tmp_path / "R" / "alias")
    assert any("loop" in e["message"] for e in doc["errors"])
    assert all(len(p.split("/")) < 6 for p in r)


@pytest.mark.parametrize("variant", ["mirror", "update"])
def test_file_versus_folder(tmp_path, variant):
    make_tree(tmp_path / "L", {"thing": "now a file"})
    make_tree(tmp_path / "R", {"thing/inside.txt": "was a folder"})
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"),
                         "--variant", variant, "--force")
    items = items_by_path(doc)
    assert items["thing"]["category"] == "conflict"
    if variant == "mirror":
        assert code == 0, doc
        assert read_tree(tmp_path / "R") == {"thing": b"now a file"}
    else:
        assert code == 1
        assert read_tree(tmp_path / "R") == {"thing/inside.txt": b"was a folder"}


@pytest.mark.parametrize("method", ["time_size", "size"])
def test_the_quick_pass_over_identical_rows_counts_what_the_full_pass_counts(tmp_path, method):
    """Rows identical on both sides are settled in one pass; the categories,
    the equal count and the number of compared files (which decides the
    clock-shift advice) must be those of the row-by-row comparison."""
    import asyncio

    from app.core.compare import compare_pair
    from app.core.events import CancelToken
    from app.core.job import CompareSettings, Method
    from app.fs.base import ScanOptions
    from app.fs.local_scan import scan_local_tree

    same = {f"d{i}/f{j}.bin": ("x" * j, T0 + j) for i in range(3) for j in range(10)}
    left = dict(same, **{"only_left.txt": "l", "d0/changed.txt": ("new!", T0 + 500),
                         "d1/shifted.txt": ("abc", T0 + 3600), "d2/mode.txt": ("m", T0)})
    right = dict(same, **{"only_right.txt": "r", "d0/changed.txt": ("old", T0),
                          "d1/shifted.txt": ("abc", T0), "d2/mode.txt": ("m", T0)})
    make_tree(tmp_path / "L", left)
    make_tree(tmp_path / "R", right)
    os.chmod(tmp_path / "R" / "d2" / "mode.txt", 0o600)  # same file, other permissions
    os.chmod(tmp_path / "L" / "d2" / "mode.txt", 0o644)
    scans = [scan_local_tree(str(tmp_path / s), ScanOptions(), lambda n, c: None, CancelToken())
             for s in ("L", "R")]
    settings = CompareSettings(method=Method(method))

    def run(keep_equal: bool):
        return asyncio.run(compare_pair(0, *scans, settings, ignore_case=False, left_fs=None,
                                        right_fs=None, cancel=CancelToken(),
                                        keep_equal=keep_equal))

    quick, full = run(False), run(True)
    assert {i.path: i.category for i in quick.items} == {
        i.path: i.category for i in full.items if i.category.value != "equal"}
    assert quick.equal_count == full.equal_count == len(full.items) - len(quick.items)
    assert quick.compared_files == full.compared_files == 3 * 10 + 3
    cats = {i.path: i.category.value for i in quick.items}
    assert cats["only_left.txt"] == "left_only" and cats["only_right.txt"] == "right_only"
    assert "d2/mode.txt" not in cats  # permissions alone do not make files differ
    if method == "time_size":
        assert cats["d0/changed.txt"] == "left_newer" and cats["d1/shifted.txt"] == "left_newer"
    else:
        assert cats["d0/changed.txt"] == "left_newer" and "d1/shifted.txt" not in cats
