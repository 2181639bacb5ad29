"""An SFTP pair in the window, against the real sshd of the test fixture:
the unknown host key is shown to the person, then compare and sync."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import compare, rows, write_job
from tests.util import make_tree, read_tree

pytestmark = pytest.mark.sshd


def _job(tmp_path, sftp_env, left):
    key = f"{sftp_env.server.user}@127.0.0.1:{sftp_env.server.port}"
    return write_job(tmp_path / "remote.syncjob", left, sftp_env.url,
                     connections={key: {"auth": "key",
                                        "key_file": str(sftp_env.server.client_key),
                                        "timeout_seconds": 10}})


def test_sftp_pair_asks_about_the_host_key_then_syncs(qtbot, window, tmp_path, sftp_env):
    left = make_tree(tmp_path / "L", {"data/a.csv": "1,2\n", "notes.txt": "hello"})
    make_tree(sftp_env.root, {"old.txt": "remove me", "notes.txt": "hello"})
    asked = []

    def trust(target, fingerprint, algorithm):
        asked.append((target, fingerprint))
        return True

    window.ask.host_key = trust
    window.jobs.open(str(_job(tmp_path, sftp_env, left)), ask=False)
    compare(qtbot, window, timeout=60_000)

    assert len(asked) == 1 and asked[0][1].startswith("SHA256:")
    grid = rows(window)
    assert grid["data/a.csv"]["action"] == "copy_to_right"
    assert grid["old.txt"]["action"] == "delete_right"

    with qtbot.waitSignal(window.controller.sync_finished, timeout=60_000) as done:
        qtbot.mouseClick(window.findChild(object, "syncButton"), Qt.LeftButton)
    assert done.args[0].exit_code == 0, done.args[0].log_text
    remote = read_tree(sftp_env.root)
    assert remote.get("data/a.csv") == b"1,2\n" and "old.txt" not in remote
    # The accepted key was remembered: the refreshing compare did not ask again.
    qtbot.waitUntil(lambda: window.controller.has_plan, timeout=60_000)
    assert len(asked) == 1


def test_rejected_host_key_changes_nothing(qtbot, window, tmp_path, sftp_env):
    left = make_tree(tmp_path / "L", {"a.txt": "a"})
    make_tree(sftp_env.root, {"keep.txt": "precious"})
    window.ask.host_key = lambda *_a: False
    window.jobs.open(str(_job(tmp_path, sftp_env, left)), ask=False)
    with qtbot.waitSignal(window.controller.failed, timeout=60_000) as failed:
        qtbot.mouseClick(window.findChild(object, "compareButton"), Qt.LeftButton)
    assert "key" in failed.args[1].lower()
    assert not window.findChild(object, "syncButton").isEnabled()
    assert read_tree(sftp_env.root) == {"keep.txt": b"precious"}


def test_connection_dialog_tests_and_fills_the_location(qtbot, window, sftp_env):
    from app.gui.dialogs.sftp_dialog import SftpDialog

    window.ask.host_key = lambda *_a: True
    dialog = SftpDialog(window.runner, {}, "", window.controller.host_key_prompt, window)
    qtbot.addWidget(dialog)
    dialog.host.setText("127.0.0.1")
    dialog.port.setValue(sftp_env.server.port)
    dialog.user.setText(sftp_env.server.user)
    dialog.auth.setCurrentText("key")
    dialog.key_file.setText(str(sftp_env.server.client_key))
    dialog.folder.setText(str(sftp_env.root))
    qtbot.mouseClick(dialog.test_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text().startswith(("Connected", "Failed")),
                    timeout=30_000)
    assert dialog.status.text() == "Connected. The folder: ok."
    assert dialog.location() == sftp_env.url
    assert dialog.connection() == {"auth": "key", "key_file": str(sftp_env.server.client_key)}
    assert "password" not in str(dialog.connection())


def test_connection_dialog_reports_a_wrong_key(qtbot, window, sftp_env, tmp_path):
    from app.gui.dialogs.sftp_dialog import SftpDialog

    window.ask.host_key = lambda *_a: True
    dialog = SftpDialog(window.runner, {}, sftp_env.url, window.controller.host_key_prompt,
                        window)
    qtbot.addWidget(dialog)
    assert dialog.host.text() == "127.0.0.1" and dialog.folder.text() == str(sftp_env.root)
    wrong = tmp_path / "not_a_key"
    wrong.write_text("nonsense")
    dialog.key_file.setText(str(wrong))
    qtbot.mouseClick(dialog.test_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text().startswith(("Connected", "Failed")),
                    timeout=30_000)
    assert dialog.status.text().startswith("Failed")
