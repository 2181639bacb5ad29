"""Safety before any change: refusals, re-checks, all pairs checked first."""

from __future__ import annotations

import asyncio
import os

from app.config.paths import app_paths
from app.core.engine import SyncSession
from app.core.job import job_from_dict
from app.core.model import Action
from app.fs.base import RootState
from app.fs.factory import LocationOpener
from app.fs.local import LocalFS
from tests.util import T0, cli_json, make_tree, read_tree, snapshot, write_job


def test_missing_source_root_is_refused_and_target_untouched(tmp_path):
    right = make_tree(tmp_path / "R", {"precious.txt": "data"})
    before = snapshot(right)
    code, doc = cli_json("sync", "--left", str(tmp_path / "unmounted"), "--right", str(right),
                         "--force")
    assert code == 2
    assert doc["pairs"] == []
    assert "left folder" in doc["errors"][0]["message"]
    assert "does not exist" in doc["errors"][0]["message"]
    assert snapshot(right) == before


def test_source_root_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "notadir").write_text("x")
    right = make_tree(tmp_path / "R", {"precious.txt": "data"})
    code, doc = cli_json("sync", "--left", str(tmp_path / "notadir"), "--right", str(right))
    assert code == 2 and "is not a folder" in doc["errors"][0]["message"]
    assert read_tree(right) == {"precious.txt": b"data"}


def test_unreadable_source_root_is_refused(tmp_path, monkeypatch):
    # Tests run as root here, where permissions cannot make a folder
    # unreadable, so this one fault is simulated at the backend.
    right = make_tree(tmp_path / "R", {"precious.txt": "data"})
    make_tree(tmp_path / "L", {"a.txt": "a"})

    async def unreadable(self):
        return RootState.UNREADABLE if self.root.endswith("L") else RootState.OK
    monkeypatch.setattr(LocalFS, "root_state", unreadable)
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(right))
    assert code == 2 and "cannot be read" in doc["errors"][0]["message"]
    assert read_tree(right) == {"precious.txt": b"data"}


def test_empty_source_mirror_is_refused_unless_forced(tmp_path):
    (tmp_path / "L").mkdir()  # an empty (or freshly mounted, empty-looking) source
    right = make_tree(tmp_path / "R", {f"f{i}.txt": str(i) for i in range(10)})
    before = snapshot(right)
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(right))
    assert code == 2
    assert "would delete 10 of 10 files" in doc["errors"][-1]["message"]
    assert doc["summary"]["delete_right"] == 0
    assert snapshot(right) == before
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(right), "--force")
    assert code == 0 and os.listdir(right) == []


def test_deletions_under_the_limit_need_no_confirmation(tmp_path):
    make_tree(tmp_path / "L", {f"f{i}.txt": str(i) for i in range(8)})
    make_tree(tmp_path / "R", {f"f{i}.txt": str(i) for i in range(10)})
    code, doc = cli_json("sync", "--left", str(tmp_path / "L"), "--right", str(tmp_path / "R"))
    assert code == 0 and doc["summary"]["delete_right"] == 2


def test_one_refused_pair_stops_the_whole_job_before_any_change(tmp_path):
    make_tree(tmp_path / "A", {"new.txt": "n"})
    (tmp_path / "B").mkdir()
    (tmp_path / "C").mkdir()  # empty source for pair 2
    make_tree(tmp_path / "D", {"x.txt": "x", "y.txt": "y"})
    job = write_job(tmp_path / "j.syncjob", {"syncpane_job": 1, "pairs": [
        {"left": "A", "right": "B"}, {"left": "C", "right": "D"}]})
    code, doc = cli_json("sync", str(job))
    assert code == 2
    assert os.listdir(tmp_path / "B") == []  # pair 1 was fine but nothing ran
    assert sorted(os.listdir(tmp_path / "D")) == ["x.txt", "y.txt"]


def _session(tmp_path, doc):
    job = job_from_dict(doc, str(tmp_path))
    return SyncSession(job, opener=LocationOpener(job), state_dir=app_paths().state)


def test_items_changed_after_the_comparison_are_skipped_with_a_warning(tmp_path):
    make_tree(tmp_path / "L", {"a.txt": ("new", T0 + 10), "b.txt": ("new", T0 + 10),
                               "c.txt": "c"})
    make_tree(tmp_path / "R", {"a.txt": ("old", T0), "b.txt": ("old", T0), "gone.txt": "gg"})
    session = _session(tmp_path, {"syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}],
                                  "sync": {"max_delete_percent": 100}})

    async def scenario():
        await session.compare()
        # Someone edits the target and the source while the person looks at the plan:
        make_tree(tmp_path / "R", {"a.txt": ("edited on the server", T0 + 20)})
        make_tree(tmp_path / "L", {"b.txt": ("edited again", T0 + 30)})
        make_tree(tmp_path / "R", {"gone.txt": ("recreated", T0 + 40)})
        result = await session.execute()
        await session.close()
        return result
    result = asyncio.run(scenario())
    assert result.exit_code == 1
    assert result.summary.skipped == 3 and result.summary.copy_to_right == 1
    r = read_tree(tmp_path / "R")
    assert r["a.txt"] == b"edited on the server"  # not overwritten
    assert r["b.txt"] == b"old"  # source changed: not copied half-known content
    assert r["gone.txt"] == b"recreated"  # not deleted
    assert r["c.txt"] == b"c"
    messages = " ".join(p.message for p in result.problems)
    assert "changed on the right side since the comparison" in messages


def test_overrides_change_the_plan(tmp_path):
    make_tree(tmp_path / "L", {"a.txt": ("left", T0 + 10), "b.txt": "b"})
    make_tree(tmp_path / "R", {"a.txt": ("right", T0)})
    session = _session(tmp_path, {"syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}]})

    async def scenario():
        runs = await session.compare()
        session.replan(runs[0], {"a.txt": Action.COPY_TO_LEFT, "b.txt": Action.NONE})
        result = await session.execute()
        await session.close()
        return result
    result = asyncio.run(scenario())
    assert result.exit_code == 0
    assert read_tree(tmp_path / "L")["a.txt"] == b"right"
    assert read_tree(tmp_path / "R") == {"a.txt": b"right"}


def test_new_folder_whose_name_was_taken_meanwhile_is_skipped(tmp_path):
    """A folder to be made where nothing was: made without looking first. If a
    file took the name meanwhile it is left alone (a Skip, with a warning); a
    folder someone made meanwhile is simply used."""
    make_tree(tmp_path / "L", {"new/a.txt": "a", "also/b.txt": "b"})
    (tmp_path / "R").mkdir()
    session = _session(tmp_path, {"syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}]})

    async def scenario():
        await session.compare()
        (tmp_path / "R" / "new").write_text("someone's file")
        (tmp_path / "R" / "also").mkdir()
        result = await session.execute()
        await session.close()
        return result
    result = asyncio.run(scenario())
    r = read_tree(tmp_path / "R")
    assert r["new"] == b"someone's file"
    assert r["also/b.txt"] == b"b"
    by_path = {p.path: p.message for p in result.problems}
    assert "appeared" in by_path["new"]  # the folder: a Skip
    assert "cannot create folder new" in by_path["new/a.txt"]  # its file has nowhere to go
    assert result.exit_code == 2 and result.summary.copy_to_right == 1


def test_a_cancelled_run_ends_only_after_every_copy_has_cleaned_up(tmp_path, monkeypatch):
    """Two big local copies at once, cancelled mid-way; one of them is slow to
    remove its temporary file. The run must not end (and, on the command line,
    the process exit) before that removal: nothing may be left behind."""
    from app.core.events import BytesDone

    big = os.urandom(1024 * 1024) * 24
    make_tree(tmp_path / "L", {"fast/big1.bin": big, "slow/big2.bin": big})
    (tmp_path / "R").mkdir()
    import time

    import app.fs.local as local_fs
    real_stream = local_fs._copy_stream

    def slow_to_stop(fin, fout, on_bytes, cancel):
        try:
            return real_stream(fin, fout, on_bytes, cancel)
        except BaseException:
            if "slow" in fout.name:
                time.sleep(0.5)  # this copy takes a while to notice and clean up
            raise
    monkeypatch.setattr(local_fs, "_copy_stream", slow_to_stop)
    session = _session(tmp_path, {"syncpane_job": 1, "pairs": [{"left": "L", "right": "R"}]})

    def report(event):
        if isinstance(event, BytesDone):
            session.cancel.cancel()
    session.report = report

    async def scenario():
        await session.compare()
        result = await session.execute()
        left_behind = [n for _d, _s, files in os.walk(tmp_path / "R") for n in files]
        await session.close()
        return result, left_behind
    result, left_behind = asyncio.run(scenario())
    assert result.cancelled
    assert left_behind == []
