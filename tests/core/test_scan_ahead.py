"""A local folder paired with a server folder is scanned while the server's
login is still going on; the head start is used only when it is valid."""

from __future__ import annotations

import asyncio

import pytest

from app.config.paths import app_paths
from app.core.engine import JobCannotRun, SyncSession
from app.core.job import job_from_dict
from app.fs.base import Unavailable
from app.fs.factory import LocationOpener
from app.fs.local import LocalFS


class SlowServerOpener(LocationOpener):
    """Opens the ``sftp://`` side as a local folder after a pretend login."""

    def __init__(self, job, *, login_seconds=0.3, case_sensitive=True, fail=False):
        super().__init__(job)
        self.login_seconds = login_seconds
        self.case_sensitive = case_sensitive
        self.fail = fail
        self.log: list[str] = []

    def prepare_sftp(self, loc):
        return None  # no real server behind these locations to list early

    async def open(self, loc):
        if not loc.is_sftp:
            fs = await super().open(loc)
            log = self.log
            real_scan = fs.scan

            async def scan(*a, **kw):
                log.append("local scan starts")
                return await real_scan(*a, **kw)
            fs.scan = scan
            return fs
        self.log.append("login starts")
        await asyncio.sleep(self.login_seconds)
        if self.fail:
            raise Unavailable("login to u@example:22 failed: wrong key")
        self.log.append("login done")
        return ServerLike(loc.path, self.log, case_sensitive=self.case_sensitive)


class ServerLike(LocalFS):
    """A folder whose root check takes a few round trips, as on a far server."""

    def __init__(self, path, log, **kw):
        super().__init__(path, **kw)
        self.log = log

    async def root_state(self):
        await asyncio.sleep(0.2)
        state = await super().root_state()
        self.log.append("server root checked")
        return state

    async def scan(self, *a, **kw):
        self.log.append("server scan starts")
        return await super().scan(*a, **kw)


def _session(tmp_path, **opener_kw):
    left, right = tmp_path / "left", tmp_path / "right"
    left.mkdir()
    right.mkdir()
    (left / "same.txt").write_text("s")
    (right / "same.txt").write_text("s")
    (left / "Case.txt").write_text("c")
    (right / "case.txt").write_text("c")
    (left / "only-left.txt").write_text("l")
    doc = {"syncpane_job": 1, "pairs": [{"left": str(left), "right": f"sftp://u@example{right}"}]}
    job = job_from_dict(doc, str(tmp_path))
    opener = SlowServerOpener(job, **opener_kw)
    return SyncSession(job, opener=opener, state_dir=app_paths().state), opener


def _categories(runs):
    return {i.path: i.category.value for i in runs[0].comparison.items}


def test_local_scan_starts_before_the_login_ends(tmp_path):
    session, opener = _session(tmp_path)
    runs = asyncio.run(session.compare())
    assert opener.log.index("local scan starts") < opener.log.index("login done")
    assert opener.log.count("local scan starts") == 1  # the head start was used
    assert _categories(runs) == {"Case.txt": "left_only", "case.txt": "right_only",
                                 "only-left.txt": "left_only"}


def test_head_start_is_redone_when_the_other_side_ignores_case(tmp_path):
    session, opener = _session(tmp_path, case_sensitive=False)
    runs = asyncio.run(session.compare())
    assert opener.log.count("local scan starts") == 2  # scanned again with case folded
    cats = _categories(runs)
    assert "only-left.txt" in cats and cats["only-left.txt"] == "left_only"
    assert not any(c in ("left_only", "right_only") for p, c in cats.items()
                   if p.lower() == "case.txt")


def test_a_failed_login_stops_the_head_start(tmp_path):
    session, opener = _session(tmp_path, fail=True)

    async def run():
        with pytest.raises(JobCannotRun, match="wrong key"):
            await session.compare()
        # Nothing of the head start is left running on the loop.
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return others
    assert asyncio.run(run()) == []
    assert "local scan starts" in opener.log


def test_server_side_lists_while_its_root_is_checked(tmp_path):
    session, opener = _session(tmp_path)
    runs = asyncio.run(session.compare())
    assert opener.log.index("server scan starts") < opener.log.index("server root checked")
    assert opener.log.count("server scan starts") == 1
    assert "only-left.txt" in _categories(runs)


def test_missing_server_root_ignores_the_head_start(tmp_path):
    session, opener = _session(tmp_path)
    right = tmp_path / "right"
    for f in right.iterdir():
        f.unlink()
    right.rmdir()  # a first mirror into a folder that does not exist yet
    runs = asyncio.run(session.compare())
    assert set(_categories(runs).values()) == {"left_only"}
    assert len(_categories(runs)) == 3


def test_the_side_done_first_is_keyed_while_the_other_is_scanned(tmp_path, monkeypatch):
    """The local side's scan is done long before the server's: it is keyed in
    the meantime, and the comparison is the same as without that head start."""
    import app.core.engine as engine

    real = engine.compare_pair
    got: dict = {}

    async def spy(*a, **kw):
        got.update(kw.get("indexed") or {})
        return await real(*a, **kw)
    monkeypatch.setattr(engine, "compare_pair", spy)

    class SlowListing(ServerLike):
        async def scan(self, *a, **kw):
            await asyncio.sleep(0.3)  # a server that takes a while to list
            return await super().scan(*a, **kw)

    session, opener = _session(tmp_path)
    monkeypatch.setattr(opener, "open", _open_with(opener, SlowListing))
    runs = asyncio.run(session.compare())
    assert set(got) == {"left"} and "only-left.txt" in got["left"].by_key
    assert _categories(runs) == {"Case.txt": "left_only", "case.txt": "right_only",
                                 "only-left.txt": "left_only"}


def _open_with(opener, server_class):
    """``opener.open`` with its server side served by ``server_class``."""
    real_open = opener.open

    async def open_(loc):
        if not loc.is_sftp:
            return await real_open(loc)
        return server_class(loc.path, opener.log)
    return open_
