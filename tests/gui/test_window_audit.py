"""Parts of the window's brief not proven elsewhere: Ctrl+S on an opened job,
"Ignore all" on failures, and a server whose host key changed."""

from __future__ import annotations

import errno

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import compare, write_job
from tests.util import make_tree, read_tree


def test_ctrl_s_saves_the_opened_job(qtbot, window, tmp_path):
    from app.core.job import load_job

    left = make_tree(tmp_path / "L", {"a.txt": "a"})
    right, other = make_tree(tmp_path / "R", {}), make_tree(tmp_path / "O", {})
    job = write_job(tmp_path / "j.syncjob", left, right)
    window.jobs.open(str(job), ask=False)
    field = window.findChild(object, "rightPath0")
    field.setText(str(other))
    field.textEdited.emit(str(other))
    assert window.document.dirty and "•" in window.windowTitle()
    qtbot.keyClick(window, Qt.Key_S, Qt.ControlModifier)
    assert load_job(str(job)).pairs[0].right.path == str(other)
    assert not window.document.dirty and "•" not in window.windowTitle()


def test_ignore_all_asks_once_and_reports_every_failure(qtbot, window, tmp_path, monkeypatch):
    import app.fs.local as local

    left = make_tree(tmp_path / "L", {"a.bad": "1", "b.bad": "2", "c.bad": "3", "ok.txt": "ok"})
    right = make_tree(tmp_path / "R", {})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    compare(qtbot, window)
    real_copy = local.copy_local_file

    def broken_copy(src, dst, rel, on_bytes, cancel):
        if src.endswith(".bad"):
            raise OSError(errno.EIO, "simulated disk failure")
        return real_copy(src, dst, rel, on_bytes, cancel)
    monkeypatch.setattr(local, "copy_local_file", broken_copy)
    window.ask.error_decisions = ["ignore_all"]
    with qtbot.waitSignal(window.controller.sync_finished, timeout=30_000) as done:
        qtbot.mouseClick(window.findChild(object, "syncButton"), Qt.LeftButton)
    outcome = done.args[0]
    assert len(window.ask.failures) == 1  # asked once, then the rest ignored silently
    assert outcome.exit_code == 2 and outcome.result.summary.failed == 3
    assert read_tree(right) == {"ok.txt": b"ok"}
    log = window.findChild(object, "resultLog").toPlainText()
    assert all(name in log for name in ("a.bad", "b.bad", "c.bad"))


def _record_other_key(syncpane_home, port: int):
    import asyncssh

    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    known = syncpane_home / "data" / "known_hosts"
    known.parent.mkdir(parents=True, exist_ok=True)
    known.write_text(f"[127.0.0.1]:{port} {other}\n")
    return known


@pytest.mark.sshd
def test_changed_host_key_stops_the_compare_with_a_warning(qtbot, window, tmp_path, sftp_env,
                                                           syncpane_home):
    known = _record_other_key(syncpane_home, sftp_env.server.port)
    left = make_tree(tmp_path / "L", {"a.txt": "a"})
    make_tree(sftp_env.root, {"keep.txt": "precious"})
    asked = []
    window.ask.host_key = lambda *a: asked.append(a) or True
    key = f"{sftp_env.server.user}@127.0.0.1:{sftp_env.server.port}"
    job = write_job(tmp_path / "remote.syncjob", left, sftp_env.url,
                    connections={key: {"auth": "key", "key_file": str(sftp_env.server.client_key),
                                       "timeout_seconds": 10}})
    window.jobs.open(str(job), ask=False)
    with qtbot.waitSignal(window.controller.failed, timeout=60_000) as failed:
        qtbot.mouseClick(window.findChild(object, "compareButton"), Qt.LeftButton)
    assert "WARNING" in failed.args[1] and "CHANGED" in failed.args[1]
    assert window.ask.errors and "CHANGED" in window.ask.errors[-1][1]  # shown to the person
    assert asked == []  # never offered for acceptance
    assert not window.findChild(object, "syncButton").isEnabled()
    assert read_tree(sftp_env.root) == {"keep.txt": b"precious"}
    assert known.read_text().count("\n") == 1


@pytest.mark.sshd
def test_connection_dialog_test_refuses_a_changed_key(qtbot, window, sftp_env, syncpane_home):
    from app.gui.dialogs.sftp_dialog import SftpDialog

    _record_other_key(syncpane_home, sftp_env.server.port)
    window.ask.host_key = lambda *_a: True
    dialog = SftpDialog(window.runner, {}, sftp_env.url, window.controller.host_key_prompt,
                        window)
    qtbot.addWidget(dialog)
    dialog.auth.setCurrentText("key")
    dialog.key_file.setText(str(sftp_env.server.client_key))
    qtbot.mouseClick(dialog.test_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text().startswith(("Connected", "Failed")),
                    timeout=60_000)
    assert dialog.status.text().startswith("Failed") and "CHANGED" in dialog.status.text()


def test_parallel_failures_ask_one_question_at_a_time(qtbot, window, tmp_path, monkeypatch):
    """A real question runs its own event loop; failures of items copied in
    parallel must wait for it instead of opening a second dialog on top."""
    from PySide6.QtCore import QEventLoop, QTimer

    import app.fs.local as local

    left = make_tree(tmp_path / "L", {f"{n}.bad": str(n) for n in range(4)})
    right = make_tree(tmp_path / "R", {})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    compare(qtbot, window)

    def broken_copy(src, dst, rel, on_bytes, cancel):
        raise OSError(errno.EIO, "simulated disk failure")
    monkeypatch.setattr(local, "copy_local_file", broken_copy)
    open_now, most_open, asked = [0], [0], []

    def modal_question(path, message):
        asked.append(path)
        open_now[0] += 1
        most_open[0] = max(most_open[0], open_now[0])
        loop = QEventLoop()  # like QMessageBox.exec(): events go on while it is open
        QTimer.singleShot(100, loop.quit)
        loop.exec()
        open_now[0] -= 1
        return "ignore"
    window.ask.on_error = modal_question
    with qtbot.waitSignal(window.controller.sync_finished, timeout=30_000) as done:
        qtbot.mouseClick(window.findChild(object, "syncButton"), Qt.LeftButton)
    assert most_open[0] == 1
    assert sorted(asked) == [f"{n}.bad" for n in range(4)]
    assert done.args[0].result.summary.failed == 4
