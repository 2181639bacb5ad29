"""The tray's Qt parts: the icon view, ``syncpane tray`` without a tray, one
instance per user, start at login, tray.json."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QSystemTrayIcon  # noqa: E402

from app.core.autorun import Schedule  # noqa: E402
from app.gui.tray import autostart  # noqa: E402
from app.gui.tray.controller import TrayController  # noqa: E402
from app.gui.tray.notices import Notice  # noqa: E402
from app.gui.tray.settings import TraySettings  # noqa: E402
from app.gui.tray.view import TrayView  # noqa: E402


class FakeTray(QSystemTrayIcon):
    """A real QSystemTrayIcon that remembers its messages (offscreen shows none)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[str, str]] = []

    def showMessage(self, title, text, *args):  # noqa: N802 - Qt's name
        self.messages.append((title, text))


@pytest.fixture
def controller(qtbot, tmp_path):
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    for name in ("alpha", "bravo"):
        (jobs / f"{name}.syncjob").write_text(json.dumps(
            {"syncpane_job": 1, "name": name.title(),
             "pairs": [{"left": str(tmp_path / "a"), "right": str(tmp_path / "b")}]}))
    settings = TraySettings()
    settings.job_folders = [str(jobs)]
    opened: list = []
    c = TrayController(settings, open_window=opened.append, open_log=opened.append,
                       window_recent=list, set_autostart=lambda on: None,
                       is_autostart=lambda: False)
    c.opened = opened
    yield c
    c.shutdown()


def test_offscreen_has_no_system_tray_and_the_test_knows_it(qapp):
    # platform.md: offscreen reports no tray; the controller tests cover the logic.
    assert QSystemTrayIcon.isSystemTrayAvailable() is False


def test_view_renders_the_controller_menu_and_routes_actions(qtbot, controller):
    tray = FakeTray()
    view = TrayView(controller, tray)
    top = [a.text() for a in view.menu.actions() if a.text()]
    assert top[:2] == ["Alpha", "Bravo"]
    assert top[-4:] == ["Open Syncpane", "Pause all", "Start in tray at login", "Quit"]
    alpha = view.menu.actions()[0].menu()
    assert [a.text() for a in alpha.actions()][:2] == ["Sync now", "Open in window"]
    [open_action] = [a for a in alpha.actions() if a.text() == "Open in window"]
    open_action.trigger()
    assert controller.opened == [str(Path(controller.jobs()[0].path))]
    assert tray.toolTip() == "Syncpane: idle"
    assert not tray.icon().isNull()


def test_view_shows_notices_and_a_click_opens_their_target(qtbot, controller):
    tray = FakeTray()
    TrayView(controller, tray)
    notice = Notice("J: synchronized", "1 file copied (5 B)", "info", ("log", "/tmp/x.log"))
    controller._notify(notice)
    assert tray.messages == [("J: synchronized", "1 file copied (5 B)")]
    tray.messageClicked.emit()
    assert controller.opened == ["/tmp/x.log"]


def test_pause_all_checkbox_and_paused_state(qtbot, controller):
    tray = FakeTray()
    view = TrayView(controller, tray)
    [pause] = [a for a in view.menu.actions() if a.text() == "Pause all"]
    pause.trigger()
    view.rebuild()
    [pause] = [a for a in view.menu.actions() if a.text() == "Pause all"]
    assert pause.isChecked()
    assert tray.toolTip() == "Syncpane: automatic runs paused"


def test_schedule_menu_saves_per_job_settings_in_tray_json(qtbot, controller):
    job = controller.jobs()[0].path
    controller.trigger("set_interval", job, 60)
    controller.trigger("toggle_watch", job)
    saved = json.loads(controller.settings.path.read_text(encoding="utf-8"))
    assert saved["schedules"][job] == {"watch": True, "settle_seconds": 10.0,
                                       "interval_minutes": 60}
    assert TraySettings().schedule(job) == Schedule(True, 10.0, 60.0)
    controller.trigger("set_interval", job, None)
    controller.trigger("toggle_watch", job)
    assert job not in TraySettings().schedules
    assert controller.autorun.status(job) is None


def test_damaged_tray_json_falls_back_to_defaults(syncpane_home):
    path = syncpane_home / "config" / "tray.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"pinned": "oops", "schedules": {"/j": {"watch": "yes"}}', "utf-8")
    s = TraySettings()
    assert s.pinned == [] and s.schedules == {} and not s.start_at_login
    path.write_text(json.dumps({"schedules": {"/j": {"watch": True, "settle_seconds": -3}}}))
    assert TraySettings().schedule("/j") == Schedule(watch=True, settle_seconds=10.0)


def test_tray_main_without_a_system_tray_says_so_and_offers_the_window(qtbot, capsys):
    from app.gui.tray.launch import main

    offered, ran = [], []
    code = main(["tray"], tray_available=lambda: False,
                offer_window=lambda app: offered.append(True) or True,
                run_window=lambda argv: ran.append(argv) or 0)
    assert code == 0 and offered and ran == [[]]
    assert "no system tray" in capsys.readouterr().err
    code = main([], tray_available=lambda: False, offer_window=lambda app: False)
    assert code == 2


def test_second_instance_asks_the_first_to_show_itself(qtbot):
    from app.gui.tray.instance import SingleInstance

    first = SingleInstance()
    assert first.claim()
    try:
        with qtbot.waitSignal(first.show_requested, timeout=5000):
            assert SingleInstance().claim() is False
    finally:
        first.release()
    # Gone: the next one becomes the first.
    again = SingleInstance()
    assert again.claim()
    again.release()


def test_second_tray_main_exits_after_telling_the_first(qtbot, capsys):
    from app.gui.tray.instance import SingleInstance
    from app.gui.tray.launch import main

    first = SingleInstance()
    assert first.claim()
    try:
        with qtbot.waitSignal(first.show_requested, timeout=5000):
            assert main(["tray"], tray_available=lambda: True) == 0
        assert "already running" in capsys.readouterr().err
    finally:
        first.release()


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG autostart")
def test_xdg_autostart_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg config"))
    path = tmp_path / "xdg config" / "autostart" / "syncpane-tray.desktop"
    assert not autostart.autostart_enabled()
    cmd = ["/opt/my apps/python3", "-m", "app", "tray"]
    autostart.set_autostart(True, cmd)
    assert autostart.autostart_enabled()
    text = path.read_text(encoding="utf-8")
    assert text.startswith("[Desktop Entry]\n")
    fields = dict(line.split("=", 1) for line in text.splitlines()[1:] if "=" in line)
    assert fields["Type"] == "Application"
    assert shlex.split(fields["Exec"]) == cmd
    autostart.set_autostart(False)
    assert not path.exists() and not autostart.autostart_enabled()
    autostart.set_autostart(False)  # already off: fine


def test_default_autostart_command_starts_the_tray():
    cmd = autostart.tray_command()
    assert cmd[-1] == "tray" and cmd[0] == sys.executable


def test_open_in_window_shows_the_job_compared_in_the_grid(qtbot, tmp_path):
    """What a click on a refused sync's notice does: the real window, in this
    process, on that job, with the plan the quick sync did not carry out."""
    from app.gui.tray.window_link import open_window

    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    for i in range(3):
        (dst / f"r{i}.bin").write_bytes(b"keep")
    job = tmp_path / "mirror.syncjob"
    job.write_text(json.dumps({"syncpane_job": 1, "name": "Mirror",
                               "pairs": [{"left": str(src), "right": str(dst)}]}))
    window = open_window(str(job), compare=False)
    assert window is not None
    try:
        qtbot.addWidget(window)
        assert window.isVisible()
        assert Path(window.document.path) == job
        with qtbot.waitSignal(window.controller.compared, timeout=30_000):
            again = open_window(str(job))  # the same job again: raised and compared
        assert again is window
        qtbot.waitUntil(lambda: window.controller.busy == "", timeout=30_000)
        assert window.grid.model.rowCount() == 3
        assert sorted(p.name for p in dst.iterdir()) == ["r0.bin", "r1.bin", "r2.bin"]
    finally:
        window.document.dirty = False
        window.close()


def test_single_instance_without_qtnetwork_uses_a_lock_file(qtbot):
    from app.gui.tray.launch import _LockFileInstance

    first, second = _LockFileInstance(), _LockFileInstance()
    assert first.claim()
    assert not second.claim()
    first.release()
    assert second.claim()
    second.release()


def test_tooltip_shows_the_progress_of_a_running_sync(qtbot, controller):
    from app.core.events import BytesDone, ItemDone, PhaseStarted, ScanProgress
    from app.gui.tray.controller import SYNCING, _Running

    run = _Running("Push data", automatic=False)
    controller.running["/j"] = run
    run.progress(ScanProgress(0, "left", 120, "a/b"))
    assert controller.state() == (SYNCING, "Syncpane: syncing\n"
                                           "Push data: comparing (120 items scanned)")
    run.progress(PhaseStarted("sync", None, 10, 4 * 1024 * 1024))
    run.progress(BytesDone(0, "a", 1024 * 1024))
    for _ in range(3):
        run.progress(ItemDone(0, "a", "copy_to_right", True))
    assert controller.state()[1].endswith("Push data: 3 of 10 items, 1.0 MiB of 4.0 MiB")
    controller.running.clear()


def test_syncpane_tray_reaches_the_tray_entry_point():
    import subprocess

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "app", "tray", "--help"], cwd=root,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage: syncpane tray" in done.stdout


def test_rebuilding_the_menu_does_not_pile_up_submenus(qtbot, controller):
    from PySide6.QtWidgets import QMenu

    view = TrayView(controller, FakeTray())
    for _ in range(5):
        view.rebuild()
    qtbot.wait(10)  # deleteLater runs
    live = [m for m in view.menu.findChildren(QMenu)]
    assert len(live) <= 2 * 2  # two jobs, each with a submenu and its schedule submenu


def test_thousands_of_signal_emits_leave_true_alive(qtbot, controller):
    """PySide6 6.12 on Python 3.11 drops a reference to True per emit(); the
    tray installs a fix (app.gui.tray.qtfix) so a long-running tray survives."""
    before = sys.getrefcount(True)
    for _ in range(3000):
        controller.state_changed.emit("idle", "Syncpane: idle")
    # Other threads may hold a few references to True at either moment; without
    # the fix the count would have dropped by 3000 (and the process aborted).
    assert sys.getrefcount(True) > before - 100


def test_frozen_autostart_uses_the_window_program(tmp_path, monkeypatch):
    gui = tmp_path / ("Syncpane.exe" if sys.platform == "win32" else "Syncpane")
    cli = tmp_path / "syncpane-cli"
    gui.write_text("")
    cli.write_text("")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(cli))
    assert autostart.tray_command() == [str(gui), "tray"]
