"""The tray controller on real temp folders: menu, quick sync, refusals,
conflicts, watch mode and the per-job lock. The controller is driven directly,
so these run where no system tray exists (offscreen)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from app.core.joblock import job_lock  # noqa: E402
from app.gui.tray.controller import ERROR, IDLE, PAUSED, SYNCING, TrayController  # noqa: E402
from app.gui.tray.menu_model import find  # noqa: E402
from app.gui.tray.settings import TraySettings  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def make_job(path: Path, left: Path, right: Path, name: str, **sections) -> str:
    doc = {"syncpane_job": 1, "name": name,
           "pairs": [{"left": str(left), "right": str(right)}], **sections}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


class Recorder:
    def __init__(self) -> None:
        self.calls: list = []

    def __call__(self, *args) -> None:
        self.calls.append(args[0] if len(args) == 1 else args)


@pytest.fixture
def folders(tmp_path):
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    return jobs, src, dst


@pytest.fixture
def make_controller(qtbot, folders):
    made = []

    def make(**kw):
        jobs = folders[0]
        settings = TraySettings()
        settings.job_folders = [str(jobs)]
        c = TrayController(settings, open_window=kw.pop("open_window", Recorder()),
                           open_log=kw.pop("open_log", Recorder()),
                           window_recent=kw.pop("window_recent", list),
                           set_autostart=kw.pop("set_autostart", Recorder()),
                           is_autostart=kw.pop("is_autostart", lambda: False), **kw)
        made.append(c)
        return c
    yield make
    for c in made:
        c.shutdown()


def sync_and_wait(qtbot, c: TrayController, job: str, *, shows_syncing: bool = True):
    # The icon's states as they were announced (a sync refused at once may be
    # over before this thread looks at the state, so record, don't sample).
    seen: list[tuple[str, str]] = []
    c.state_changed.connect(lambda state, tip: seen.append((state, tip)))
    with qtbot.waitSignal(c.notified, timeout=30_000) as blocker:
        assert c.sync_now(job)
    qtbot.waitUntil(lambda: not c.running, timeout=10_000)
    if shows_syncing:
        assert any(state == SYNCING and "syncing" in tip for state, tip in seen), seen
    return blocker.args[0]


def test_menu_lists_the_job_folder_pinned_first_then_recent(make_controller, folders):
    jobs, src, dst = folders
    a = make_job(jobs / "a.syncjob", src, dst, "Alpha")
    b = make_job(jobs / "b.syncjob", src, dst, "Bravo")
    c_ = make_job(jobs / "c.syncjob", src, dst, "Charlie")
    (jobs / "notes.txt").write_text("not a job")
    c = make_controller()
    c.set_pinned(c_, True)
    c.settings.used(b)
    menu = c.menu_model()
    titles = [m.text for m in menu if m.children]
    assert titles == ["Charlie", "Bravo", "Alpha"]
    for m in menu:
        if m.children:
            labels = [x.text for x in m.children]
            assert labels[:2] == ["Sync now", "Open in window"]
            assert find(m.children, "Sync now").job == m.job
    assert [m.text for m in menu if m.text and not m.children][-4:] == [
        "Open Syncpane", "Pause all", "Start in tray at login", "Quit"]
    # Pinning is remembered in tray.json, not in the job file.
    saved = json.loads(c.settings.path.read_text(encoding="utf-8"))
    assert saved["pinned"] == [os.path.abspath(c_)]
    assert "pinned" not in json.loads(Path(c_).read_text(encoding="utf-8"))
    assert a  # listed by the folder alone


def test_sync_now_syncs_real_folders_and_reports_the_result(qtbot, make_controller, folders):
    jobs, src, dst = folders
    (src / "data").mkdir()
    (src / "data" / "a.csv").write_bytes(b"x" * 1500)
    (src / "b.txt").write_bytes(b"hello")
    for i in range(3):  # already equal on both sides
        (src / f"same{i}").write_bytes(b"s")
        shutil.copy2(src / f"same{i}", dst / f"same{i}")
    (dst / "stale.txt").write_bytes(b"old")
    job = make_job(jobs / "push.syncjob", src, dst, "Push data",
                   sync={"deletion": "permanent"})
    c = make_controller()
    notice = sync_and_wait(qtbot, c, job)
    assert tree(dst) == {"data/a.csv": b"x" * 1500, "b.txt": b"hello",
                         "same0": b"s", "same1": b"s", "same2": b"s"}
    assert notice.title == "Push data: synchronized"
    assert notice.text == "2 files copied (1.5 KiB), 1 deleted, 1 folder created"
    assert notice.level == "info"
    assert c.state() == (IDLE, "Syncpane: idle")
    # A click opens the log of that sync.
    what, log = notice.click
    assert what == "log" and Path(log).is_file()
    assert "copy_to_right" in Path(log).read_text(encoding="utf-8")
    c.notice_clicked(notice)
    assert c._open_log.calls == [log]
    # The job is now the most recent one.
    assert c.settings.recent[0] == os.path.abspath(job)


def test_the_menu_action_starts_the_sync(qtbot, make_controller, folders):
    jobs, src, dst = folders
    (src / "f.txt").write_text("1")
    job = make_job(jobs / "j.syncjob", src, dst, "J")
    c = make_controller()
    item = find(c.menu_model(), "Sync now")
    with qtbot.waitSignal(c.notified, timeout=30_000):
        c.trigger(item.action, item.job, item.value)
    assert (dst / "f.txt").read_text() == "1"
    qtbot.waitUntil(lambda: not c.running)
    assert job


def test_refused_sync_changes_nothing_and_offers_the_window(qtbot, make_controller, folders):
    jobs, src, dst = folders  # src is empty: a mirror would delete everything in dst
    for i in range(4):
        (dst / f"result{i}.bin").write_bytes(b"precious %d" % i)
    before = tree(dst)
    job = make_job(jobs / "mirror.syncjob", src, dst, "Mirror")
    c = make_controller()
    notice = sync_and_wait(qtbot, c, job)
    assert tree(dst) == before
    assert notice.title == "Mirror: not synchronized"
    assert "Nothing was changed" in notice.text
    assert "delet" in notice.text  # the refusal itself is quoted
    assert notice.level == "warning"
    assert notice.click == ("window", os.path.abspath(job))
    assert c.state()[0] == ERROR and "not synchronized" in c.state()[1]
    assert not list((Path(os.environ["SYNCPANE_HOME"]) / "logs").glob("*.log"))
    c.notice_clicked(notice)
    assert c._open_window.calls == [os.path.abspath(job)]
    assert c.state()[0] == IDLE


def test_conflicts_stop_the_whole_quick_sync(qtbot, make_controller, folders):
    jobs, src, dst = folders
    (src / "same.txt").write_text("left version, longer")
    (dst / "same.txt").write_text("right")
    t = time.time() - 100
    os.utime(src / "same.txt", (t, t))
    os.utime(dst / "same.txt", (t, t))
    (src / "new.txt").write_text("would be copied if the sync ran")
    src_before, dst_before = tree(src), tree(dst)
    job = make_job(jobs / "tw.syncjob", src, dst, "Both ways", sync={"variant": "two_way"})
    c = make_controller()
    notice = sync_and_wait(qtbot, c, job)
    assert (tree(src), tree(dst)) == (src_before, dst_before)
    assert notice.title == "Both ways: conflicts, not synchronized"
    assert "same.txt" in notice.text
    assert notice.click == ("window", os.path.abspath(job))


def test_job_that_cannot_run_reports_why(qtbot, make_controller, folders, tmp_path):
    jobs, src, dst = folders
    job = make_job(jobs / "gone.syncjob", tmp_path / "not-mounted", dst, "Gone")
    c = make_controller()
    notice = sync_and_wait(qtbot, c, job)
    assert notice.title == "Gone: sync failed"
    assert "does not exist" in notice.text
    assert notice.level == "error"


def test_watch_mode_runs_the_job_once_after_a_burst(qtbot, make_controller, folders):
    jobs, src, dst = folders
    job = make_job(jobs / "w.syncjob", src, dst, "Watched")
    c = make_controller()
    c.set_watch(job, True, settle_seconds=0.8)
    assert c.settings.schedule(job).watch
    assert c.autorun.status(os.path.abspath(job))["folders"] == [str(src)]
    for i in range(8):  # a burst: far less than the settle time between changes
        (src / f"f{i}.txt").write_text(str(i))
        qtbot.wait(50)
    qtbot.waitUntil(lambda: len(c.results) == 1 and not c.running, timeout=20_000)
    qtbot.wait(1500)  # quiet afterwards: no second run
    assert len(c.results) == 1
    assert sorted(tree(dst)) == [f"f{i}.txt" for i in range(8)]
    assert c.notices[-1].title == "Watched: synchronized"
    assert c.notices[-1].text.startswith("8 files copied")


def test_pause_all_stops_watch_runs(qtbot, make_controller, folders):
    jobs, src, dst = folders
    job = make_job(jobs / "w.syncjob", src, dst, "Watched")
    c = make_controller()
    c.set_watch(job, True, settle_seconds=0.3)
    c.trigger("pause_all")
    assert c.state()[0] == PAUSED
    assert find(c.menu_model(), "Pause all").checked is True
    qtbot.wait(200)
    (src / "x.txt").write_text("x")
    qtbot.wait(1200)
    assert c.results == [] and not (dst / "x.txt").exists()
    c.trigger("pause_all")  # resume: the change seen while paused runs now
    qtbot.waitUntil(lambda: (dst / "x.txt").exists() and not c.running, timeout=20_000)


def test_quick_sync_waits_out_a_cli_run_holding_the_lock(qtbot, make_controller, folders):
    jobs, src, dst = folders
    (src / "f.txt").write_text("new")
    job = make_job(jobs / "j.syncjob", src, dst, "Locked job")
    code = ("import sys\nfrom app.core.joblock import acquire_job_lock\n"
            "l = acquire_job_lock(sys.argv[1], 'cli')\nprint('locked', flush=True)\n"
            "sys.stdin.readline()\n")
    proc = subprocess.Popen([sys.executable, "-c", code, job], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == "locked"
        c = make_controller()
        # refused at the lock: the icon may never have shown "syncing"
        notice = sync_and_wait(qtbot, c, job, shows_syncing=False)
        assert notice.title == "Locked job: already running"
        assert "from the command line" in notice.text and str(proc.pid) in notice.text
        assert not (dst / "f.txt").exists()
    finally:
        proc.communicate("\n", timeout=10)


def test_cli_sync_is_kept_out_while_the_tray_holds_the_lock(folders):
    jobs, src, dst = folders
    (src / "f.txt").write_text("new")
    job = make_job(jobs / "j.syncjob", src, dst, "Tray job")
    with job_lock(job, holder="tray"):
        done = subprocess.run([sys.executable, "-m", "app", "sync", job], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "running in the tray" in done.stderr
    assert f"pid {os.getpid()}" in done.stderr
    assert not (dst / "f.txt").exists()


def test_quit_while_syncing_cancels_and_then_quits(qtbot, make_controller, folders):
    jobs, src, dst = folders
    job = make_job(jobs / "j.syncjob", src, dst, "J")
    c = make_controller()
    with qtbot.waitSignal(c.quit_requested, timeout=30_000):
        c.sync_now(job)
        c.trigger("quit")
    assert not c.running
    assert not c.sync_now(job)  # nothing new starts once quitting


def test_start_at_login_setting(make_controller):
    rec = Recorder()
    c = make_controller(set_autostart=rec)
    c.trigger("toggle_autostart")
    assert rec.calls == [True] and c.settings.start_at_login
    assert TraySettings().start_at_login  # saved
    c.trigger("toggle_autostart")
    assert rec.calls == [True, False] and not c.settings.start_at_login


def test_automatic_runs_repeat_a_failure_notice_only_once(qtbot, make_controller, folders):
    jobs, src, dst = folders
    (dst / "only.bin").write_bytes(b"keep")
    job = make_job(jobs / "m.syncjob", src, dst, "Mirror")
    c = make_controller()
    for k in range(1, 4):  # as the back-off would retry it
        c.sync_now(job, automatic=True)
        # (Its result, not just "not running": the run may not have started yet.)
        qtbot.waitUntil(lambda k=k: len(c.results) == k and not c.running, timeout=30_000)
    assert len(c.results) == 3
    assert [n.title for n in c.notices] == ["Mirror: not synchronized"]
    assert (dst / "only.bin").read_bytes() == b"keep"
    # A manual run always answers.
    sync_and_wait(qtbot, c, job)
    assert len(c.notices) == 2


def test_interval_mode_runs_again_and_again_one_at_a_time(qtbot, make_controller, folders):
    jobs, src, dst = folders
    (src / "f.txt").write_text("1")
    job = make_job(jobs / "i.syncjob", src, dst, "Every so often")
    c = make_controller()
    c.set_interval(job, 0.01)  # 0.6 s, counted from the end of the last run
    assert find(c.menu_model(), "Every so often (automatic)") is not None
    qtbot.waitUntil(lambda: len(c.results) >= 3, timeout=30_000)
    c.set_interval(job, None)
    qtbot.waitUntil(lambda: not c.running, timeout=30_000)
    n = len(c.results)
    qtbot.wait(1500)
    assert len(c.results) == n
    assert {r.kind.value for r in c.results} <= {"done", "nothing"}  # never "busy"
    assert (dst / "f.txt").read_text() == "1"
    # Only the first run had something to say.
    assert [x.title for x in c.notices] == ["Every so often: synchronized"]


def test_start_follows_the_platform_registration(make_controller):
    rec = Recorder()
    c = make_controller(set_autostart=rec, is_autostart=lambda: True)  # e.g. the installer
    c.start()
    assert c.settings.start_at_login and rec.calls == [True]  # command refreshed
    assert find(c.menu_model(), "Start in tray at login").checked is True
    c2 = make_controller(is_autostart=lambda: False)
    c2.settings.start_at_login = True  # removed by hand since
    c2.start()
    assert not c2.settings.start_at_login


def test_a_cancelled_quit_restores_automatic_runs(make_controller):
    c = make_controller()
    c.request_quit()
    assert c.quitting and c.autorun.paused
    c.cancel_quit()
    assert not c.quitting and not c.autorun.paused
    c.pause_all(True)
    c.request_quit()
    c.cancel_quit()
    assert c.autorun.paused  # paused by the person before: stays paused
