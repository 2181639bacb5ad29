"""Every variant and direction, asserted on the files on disk."""

from __future__ import annotations

from tests.util import T0, cli, cli_json, items_by_path, make_tree, read_tree, write_job


def _pair(tmp_path):
    left = make_tree(tmp_path / "L", {
        "same.txt": "same",
        "left_only.txt": ("L only", T0 + 7),
        "newer_left.txt": ("left v2", T0 + 100),
        "newer_right.txt": ("right v1", T0),
        "sub/deep/file.bin": b"\x00\x01\x02",
        "emptydir/": None,
    })
    right = make_tree(tmp_path / "R", {
        "same.txt": "same",
        "right_only.txt": "R only",
        "newer_left.txt": ("left v1", T0),
        "newer_right.txt": ("right v2!", T0 + 100),
        "rdir/x.txt": "x",
    })
    return left, right


def test_mirror_to_right_makes_right_an_exact_copy(tmp_path):
    left, right = _pair(tmp_path)
    code, doc = cli_json("sync", "--left", str(left), "--right", str(right), "--force")
    assert code == 0, doc
    assert read_tree(right, with_dirs=True) == read_tree(left, with_dirs=True)
    s = doc["summary"]
    assert s["copy_to_right"] == 4  # left_only, newer_left, newer_right (mirror), sub/deep/file
    assert s["delete_right"] == 3  # right_only.txt, rdir/x.txt, rdir


def test_mirror_to_left_makes_left_an_exact_copy(tmp_path):
    left, right = _pair(tmp_path)
    code, _ = cli_json("sync", "--left", str(left), "--right", str(right),
                       "--direction", "to_left", "--force")
    assert code == 0
    assert read_tree(left, with_dirs=True) == read_tree(right, with_dirs=True)


def test_update_to_right_copies_new_and_newer_and_deletes_nothing(tmp_path):
    left, right = _pair(tmp_path)
    code, doc = cli_json("sync", "--left", str(left), "--right", str(right),
                         "--variant", "update")
    assert code == 0, doc
    r = read_tree(right)
    assert r["left_only.txt"] == b"L only"
    assert r["newer_left.txt"] == b"left v2"
    assert r["newer_right.txt"] == b"right v2!"  # newer on the target: left alone
    assert r["right_only.txt"] == b"R only"  # nothing deleted
    assert r["rdir/x.txt"] == b"x"
    assert r["sub/deep/file.bin"] == b"\x00\x01\x02"
    assert doc["summary"]["delete_right"] == 0


def test_update_to_left(tmp_path):
    left, right = _pair(tmp_path)
    code, _ = cli_json("sync", "--left", str(left), "--right", str(right),
                       "--variant", "update", "--direction", "to_left")
    assert code == 0
    lt = read_tree(left)
    assert lt["right_only.txt"] == b"R only"
    assert lt["newer_right.txt"] == b"right v2!"
    assert lt["newer_left.txt"] == b"left v2"
    assert lt["left_only.txt"] == b"L only"


def test_custom_variant_follows_the_category_map(tmp_path):
    left, right = _pair(tmp_path)
    job = write_job(tmp_path / "j.syncjob", {
        "syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}],
        "sync": {"variant": "custom", "max_delete_percent": 100,
                 "custom": {"left_only": "to_right", "right_only": "to_right",
                            "right_newer": "to_left"}}})
    code, doc = cli_json("sync", str(job))
    assert code == 0, doc
    r, lt = read_tree(right), read_tree(left)
    assert r["left_only.txt"] == b"L only"  # left_only -> copied right
    assert "right_only.txt" not in r  # right_only: to_right means "make right lack it too"
    assert lt["newer_right.txt"] == b"right v2!"  # right_newer -> copied left
    assert r["newer_left.txt"] == b"left v1"  # left_newer not in the map: none


def test_compare_changes_nothing_and_lists_every_difference(tmp_path):
    left, right = _pair(tmp_path)
    before_l, before_r = read_tree(left), read_tree(right)
    code, doc = cli_json("compare", "--left", str(left), "--right", str(right))
    assert code == 0
    assert read_tree(left) == before_l and read_tree(right) == before_r
    items = items_by_path(doc)
    assert items["left_only.txt"]["category"] == "left_only"
    assert items["right_only.txt"]["action"] == "delete_right"
    assert items["newer_left.txt"]["category"] == "left_newer"
    assert items["newer_right.txt"]["category"] == "right_newer"
    assert items["sub"]["kind"] == "dir" and items["sub"]["action"] == "create_dir_right"
    assert "same.txt" not in items  # equal items are not listed


def test_dry_run_changes_nothing(tmp_path):
    left, right = _pair(tmp_path)
    before = read_tree(right, with_dirs=True)
    code, doc = cli_json("sync", "--left", str(left), "--right", str(right), "--dry-run",
                         "--force")
    assert code == 0
    assert read_tree(right, with_dirs=True) == before
    assert doc["summary"]["copy_to_right"] == 4


def test_human_output_has_preview_and_summary(tmp_path):
    left, right = _pair(tmp_path)
    code, out, err = cli("compare", "--left", str(left), "--right", str(right))
    assert code == 0
    assert "left_only.txt" in out and "copy ->" in out
    assert "Would do:" in out
    assert err == ""  # stderr is not a terminal: no progress output


def test_target_root_missing_is_created(tmp_path):
    left = make_tree(tmp_path / "L", {"a/b.txt": "b"})
    code, _ = cli_json("sync", "--left", str(left), "--right", str(tmp_path / "new" / "R"))
    assert code == 0
    assert read_tree(tmp_path / "new" / "R") == {"a/b.txt": b"b"}
