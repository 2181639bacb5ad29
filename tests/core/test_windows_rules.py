"""Windows is our users' desktop: its naming rules, proven on this machine.

The local backend applies Windows rules when told to (``windows=True``,
``case_sensitive=False``), as it does by itself on Windows; these tests
drive the real engine with such a target on real temp folders.
"""

from __future__ import annotations

import asyncio

import pytest

from app.config.paths import app_paths
from app.core.engine import SyncSession
from app.core.job import job_from_dict
from app.fs.factory import LocationOpener
from app.fs.local import LocalFS
from app.fs.winnames import extended_path, windows_name_problem
from tests.util import T0, make_tree, read_tree


class WindowsLikeOpener(LocationOpener):
    """Opens the right side with Windows rules, as on a Windows laptop."""

    async def open(self, loc):
        if loc.path.endswith("win"):
            return LocalFS(loc.path, windows=True, case_sensitive=False)
        return await super().open(loc)


def _sync(tmp_path, **sync):
    doc = {"syncpane_job": 1, "pairs": [{"left": "server", "right": "win"}],
           "sync": {"max_delete_percent": 100, **sync}, "errors": "continue"}
    job = job_from_dict(doc, str(tmp_path))
    session = SyncSession(job, opener=WindowsLikeOpener(job), state_dir=app_paths().state)

    async def run():
        runs = await session.compare()
        result = await session.execute()
        await session.close()
        return runs, result
    return asyncio.run(run())


@pytest.mark.parametrize("name,reason", [
    ("CON", "reserved device name"), ("con.txt", "reserved device name"),
    ("LPT1.log", "reserved device name"), ("a:b", "characters Windows does not allow"),
    ("what?.txt", "characters"), ('say "hi"', "characters"), ("notes.", "ends with a dot"),
    ("trailing ", "ends with a dot or a space"), ("dir/aux/x.txt", "reserved device name"),
    ("tab\there", "characters"),
])
def test_forbidden_names_are_recognized(name, reason):
    assert reason in windows_name_problem(name)


@pytest.mark.parametrize("name", ["CONSOLE.txt", "con-tents", "a.b.c", "…", "ok name.txt",
                                  ".hidden", "COM0"])
def test_allowed_names_pass(name):
    assert windows_name_problem(name) is None


def test_extended_paths_for_long_and_unc_paths():
    assert extended_path("C:\\data\\x") == "\\\\?\\C:\\data\\x"
    assert extended_path("\\\\server\\share\\x") == "\\\\?\\UNC\\server\\share\\x"
    assert extended_path("\\\\?\\C:\\x") == "\\\\?\\C:\\x"


def test_names_windows_forbids_fail_one_by_one_and_nothing_else_is_harmed(tmp_path):
    make_tree(tmp_path / "server", {"CON": "device", "a:b": "stream", "notes.": "dot",
                                    "notes": "the real notes", "ok.txt": "fine",
                                    "sub/PRN.txt": "printer"})
    make_tree(tmp_path / "win", {"notes": ("windows notes", T0 - 100)})
    runs, result = _sync(tmp_path)
    r = read_tree(tmp_path / "win")
    # no file "a" (an NTFS stream would have made one), and "notes." did not
    # land on "notes": that holds the server's "notes", copied under its own name
    assert r == {"ok.txt": b"fine", "notes": b"the real notes"}
    assert result.exit_code == 2
    failed = {p.path: p.message for p in result.problems if not p.warning}
    assert set(failed) == {"CON", "a:b", "notes.", "sub/PRN.txt"}
    assert "reserved device name" in failed["CON"]
    assert "characters Windows does not allow" in failed["a:b"]
    assert "ends with a dot" in failed["notes."]


def test_case_insensitive_target_matches_names_regardless_of_case(tmp_path):
    # On Windows "Readme.md" and "README.md" are one file: comparing them as two
    # would copy one and then delete it, losing the file.
    make_tree(tmp_path / "server", {"Readme.md": ("new", T0 + 10), "Data/x.csv": "x"})
    make_tree(tmp_path / "win", {"README.md": ("old", T0), "data/x.csv": "x"})
    runs, result = _sync(tmp_path)
    assert result.exit_code == 0, result.problems
    items = {i.path: i.action.value for i in runs[0].plan.items}
    assert items == {"Readme.md": "copy_to_right"}
    assert read_tree(tmp_path / "win") == {"README.md": b"new", "data/x.csv": b"x"}


def test_case_twins_from_a_linux_server_are_left_alone_on_windows(tmp_path):
    make_tree(tmp_path / "server", {"Model.pt": "one", "model.pt": "two", "other.txt": "o"})
    make_tree(tmp_path / "win", {"model.pt": ("local", T0)})
    runs, result = _sync(tmp_path)
    assert read_tree(tmp_path / "win") == {"model.pt": b"local", "other.txt": b"o"}
    warnings = [p.message for p in runs[0].plan.problems if p.warning]
    assert any("differ only by case" in w and "left alone" in w for w in warnings)
    assert result.exit_code == 1  # finished, with a warning the person should read


def test_crlf_text_files_are_copied_byte_for_byte(tmp_path):
    make_tree(tmp_path / "server", {"report.csv": b"a,b\r\n1,2\r\n", "unix.txt": b"x\ny\n"})
    _sync(tmp_path)
    assert (tmp_path / "win" / "report.csv").read_bytes() == b"a,b\r\n1,2\r\n"
    assert (tmp_path / "win" / "unix.txt").read_bytes() == b"x\ny\n"
