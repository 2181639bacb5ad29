"""Two-way with last-sync state, and move detection."""

from __future__ import annotations

import os

from tests.util import T0, cli_json, items_by_path, make_tree, read_tree, write_job


def _two_way_job(tmp_path, **sync):
    return write_job(tmp_path / "tw.syncjob", {
        "syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}],
        "sync": {"variant": "two_way", "max_delete_percent": 100, **sync}})


def test_first_two_way_sync_copies_both_ways_newer_wins(tmp_path):
    make_tree(tmp_path / "L", {"l.txt": "l", "both.txt": ("new", T0 + 50), "tie.txt": "ab"})
    make_tree(tmp_path / "R", {"r.txt": "r", "both.txt": ("old", T0), "tie.txt": "abc"})
    code, doc = cli_json("sync", str(_two_way_job(tmp_path)))
    assert code == 1, doc  # the same-time conflict is left for the person
    lt, rt = read_tree(tmp_path / "L"), read_tree(tmp_path / "R")
    assert lt["r.txt"] == b"r" and rt["l.txt"] == b"l"
    assert rt["both.txt"] == b"new"
    assert items_by_path(doc)["tie.txt"]["action"] == "conflict"
    assert lt["tie.txt"] == b"ab" and rt["tie.txt"] == b"abc"  # untouched


def test_two_way_propagates_deletions_using_the_last_sync_state(tmp_path):
    make_tree(tmp_path / "L", {"keep.txt": "k", "del_on_left.txt": "x", "del_on_right.txt": "y"})
    job = _two_way_job(tmp_path)
    assert cli_json("sync", str(job))[0] == 0
    assert read_tree(tmp_path / "R") == read_tree(tmp_path / "L")
    os.unlink(tmp_path / "L" / "del_on_left.txt")
    os.unlink(tmp_path / "R" / "del_on_right.txt")
    make_tree(tmp_path / "R", {"new_on_right.txt": "n"})
    code, doc = cli_json("sync", str(job))
    assert code == 0, doc
    items = items_by_path(doc)
    assert items["del_on_left.txt"]["action"] == "delete_right"
    assert items["del_on_right.txt"]["action"] == "delete_left"
    assert items["new_on_right.txt"]["action"] == "copy_to_left"
    expected = {"keep.txt": b"k", "new_on_right.txt": b"n"}
    assert read_tree(tmp_path / "L") == expected == read_tree(tmp_path / "R")


def test_two_way_conflicts_are_left_untouched(tmp_path):
    make_tree(tmp_path / "L", {"both.txt": "base", "edit_vs_delete.txt": "base"})
    job = _two_way_job(tmp_path)
    assert cli_json("sync", str(job))[0] == 0
    make_tree(tmp_path / "L", {"both.txt": ("left edit", T0 + 10),
                               "edit_vs_delete.txt": ("edited", T0 + 10)})
    make_tree(tmp_path / "R", {"both.txt": ("right edit!", T0 + 20)})
    os.unlink(tmp_path / "R" / "edit_vs_delete.txt")
    code, doc = cli_json("sync", str(job))
    assert code == 1
    items = items_by_path(doc)
    assert items["both.txt"]["category"] == "conflict"
    assert items["edit_vs_delete.txt"]["action"] == "conflict"
    assert (tmp_path / "L" / "both.txt").read_text() == "left edit"
    assert (tmp_path / "R" / "both.txt").read_text() == "right edit!"
    assert not (tmp_path / "R" / "edit_vs_delete.txt").exists()
    assert (tmp_path / "L" / "edit_vs_delete.txt").read_text() == "edited"
    # and they stay conflicts on the next run (state kept their old memory)
    code, doc = cli_json("sync", str(job))
    assert items_by_path(doc)["both.txt"]["action"] == "conflict"


def test_two_way_missing_root_with_state_is_refused(tmp_path):
    make_tree(tmp_path / "L", {"a.txt": "a"})
    job = _two_way_job(tmp_path)
    assert cli_json("sync", str(job))[0] == 0
    (tmp_path / "R" / "a.txt").unlink()
    (tmp_path / "R").rmdir()  # the drive is "not mounted"
    code, doc = cli_json("sync", str(job))
    assert code == 2
    assert "does not exist" in doc["errors"][0]["message"]
    assert (tmp_path / "L" / "a.txt").read_text() == "a"


def test_rename_in_source_becomes_a_move_on_the_target(tmp_path):
    make_tree(tmp_path / "L", {"models/run1/model.pt": (b"W" * 100_000, T0 + 1)})
    assert cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"))[0] == 0
    inode = os.stat(tmp_path / "R" / "models/run1/model.pt").st_ino
    os.renames(tmp_path / "L" / "models/run1/model.pt", tmp_path / "L" / "best/model-final.pt")
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"),
                         "--force")
    assert code == 0, doc
    item = items_by_path(doc)["best/model-final.pt"]
    assert item["action"] == "move_right" and item["from"] == "models/run1/model.pt"
    assert doc["summary"]["move_right"] == 1 and doc["summary"]["copy_to_right"] == 0
    assert os.stat(tmp_path / "R" / "best/model-final.pt").st_ino == inode  # renamed, not copied
    assert read_tree(tmp_path / "R") == read_tree(tmp_path / "L")


def test_ambiguous_moves_are_resolved_by_content(tmp_path):
    # two files with the same size and time: only the hash tells which is which
    make_tree(tmp_path / "L", {"a.bin": (b"A" * 4096, T0), "b.bin": (b"B" * 4096, T0)})
    assert cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"))[0] == 0
    os.rename(tmp_path / "L" / "a.bin", tmp_path / "L" / "a-renamed.bin")
    os.rename(tmp_path / "L" / "b.bin", tmp_path / "L" / "b-renamed.bin")
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"),
                         "--force")
    assert code == 0, doc
    items = items_by_path(doc)
    assert items["a-renamed.bin"]["from"] == "a.bin"
    assert items["b-renamed.bin"]["from"] == "b.bin"
    assert read_tree(tmp_path / "R") == read_tree(tmp_path / "L")


def test_content_method_never_moves_a_file_with_other_bytes(tmp_path):
    make_tree(tmp_path / "L", {"new.bin": (b"1" * 100, T0)})
    make_tree(tmp_path / "R", {"old.bin": (b"2" * 100, T0)})
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"),
                         "--method", "content", "--force")
    assert code == 0
    assert doc["summary"]["move_right"] == 0
    assert read_tree(tmp_path / "R") == {"new.bin": b"1" * 100}


def test_two_way_move_on_one_side_is_replayed_on_the_other(tmp_path):
    make_tree(tmp_path / "L", {"data/train.jsonl": (b"x" * 5000, T0 + 3)})
    job = _two_way_job(tmp_path)
    assert cli_json("sync", str(job))[0] == 0
    inode = os.stat(tmp_path / "L" / "data/train.jsonl").st_ino
    os.renames(tmp_path / "R" / "data/train.jsonl", tmp_path / "R" / "archive/train-v1.jsonl")
    code, doc = cli_json("sync", str(job))
    assert code == 0, doc
    assert doc["summary"]["move_left"] == 1
    assert os.stat(tmp_path / "L" / "archive/train-v1.jsonl").st_ino == inode
    assert read_tree(tmp_path / "L") == read_tree(tmp_path / "R")
