"""Settings dialogs edit the job document; the engine validates every change."""

from __future__ import annotations

from app.core.filters import DEFAULT_EXCLUDE
from app.gui.dialogs.settings import (ML_PRESET, CompareSettingsDialog, FilterSettingsDialog,
                                      SyncSettingsDialog)
from tests.gui.conftest import compare, rows, write_job
from tests.util import make_tree


def _accepting(dialog, change=None):
    """Make ``exec()`` return as if the person changed things and clicked OK."""
    def exec_():
        if change:
            change(dialog)
        return 1
    dialog.exec = exec_
    return dialog


def test_ml_preset_goes_into_the_job_and_the_next_compare(qtbot, window, tmp_path):
    left = make_tree(tmp_path / "L", {"train.py": "x", "wandb/run-1/log": "l",
                                      ".ipynb_checkpoints/a.ipynb": "{}", "data.csv": "1"})
    right = make_tree(tmp_path / "R", {})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    dialog = FilterSettingsDialog(window.document.section("filter"), DEFAULT_EXCLUDE, window)
    qtbot.addWidget(dialog)
    dialog.findChild(object, "mlPresetButton").click()
    window.settings_actions.edit_section("filter", _accepting(dialog))
    # The defaults stay first, the preset adds what they lack, nothing twice.
    assert window.document.doc["filter"]["exclude"] == list(DEFAULT_EXCLUDE) + [
        ".ipynb_checkpoints/", "wandb/"]
    assert set(ML_PRESET) <= set(window.document.doc["filter"]["exclude"])
    assert window.document.dirty
    compare(qtbot, window)
    assert set(rows(window)) == {"train.py", "data.csv"}


def test_invalid_settings_are_refused_and_change_nothing(qtbot, window, tmp_path):
    left, right = make_tree(tmp_path / "L", {}), make_tree(tmp_path / "R", {})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    before = dict(window.document.doc)
    dialog = CompareSettingsDialog({}, window)
    qtbot.addWidget(dialog)
    window.settings_actions.edit_section("compare",
                                         _accepting(dialog, lambda d: d.shift.setText("one")))
    assert window.ask.errors and "ignore_time_shift_hours" in window.ask.errors[0][1]
    assert window.document.doc == before and not window.document.dirty

    ok = CompareSettingsDialog({}, window)
    qtbot.addWidget(ok)

    def content_method(d):
        d.method.setCurrentText("content")
        d.shift.setText("1")
    window.settings_actions.edit_section("compare", _accepting(ok, content_method))
    assert window.document.doc["compare"]["method"] == "content"
    assert window.document.doc["compare"]["ignore_time_shift_hours"] == [1]


def test_sync_dialog_pictures_the_variant(qtbot):
    dialog = SyncSettingsDialog({"variant": "mirror", "direction": "to_right"})
    qtbot.addWidget(dialog)
    assert "━━━▶" in dialog.picture.text() and "deleted" in dialog.picture.text()
    assert not dialog.image.pixmap().isNull()  # the drawn picture was found and rendered
    dialog.direction.setCurrentText("to_left")
    assert "◀━━━" in dialog.picture.text()
    dialog.variant.setCurrentText("two_way")
    assert "◀━━━▶" in dialog.picture.text() and not dialog.direction.isEnabled()
    dialog.deletion.setCurrentText("versioning")
    assert dialog.versioning.isEnabled()


def test_pair_override_changes_only_that_pair(qtbot, window, tmp_path, monkeypatch):
    left = make_tree(tmp_path / "L", {"a.txt": "a", "b.txt": "b"})
    right = make_tree(tmp_path / "R", {"a.txt": "a", "b.txt": "b", "extra.txt": "keep"})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)

    def choose_update(self):
        self.variant.setCurrentText("update")
        return 1
    monkeypatch.setattr(SyncSettingsDialog, "exec", choose_update)
    window.settings_actions.edit_pair_sync(0)
    assert window.document.doc["pairs"][0]["sync"] == {"variant": "update"}
    assert "sync" not in window.document.doc or \
        window.document.doc["sync"].get("variant", "mirror") == "mirror"
    compare(qtbot, window)
    assert rows(window)["extra.txt"]["action"] == "none"  # update never deletes


def test_sftp_dialog_remembers_the_password_only_in_the_keyring(qtbot, window, monkeypatch):
    import app.config.credentials as credentials
    from app.gui.dialogs.sftp_dialog import SftpDialog

    stored = {}

    class FakeKeyring:
        def set(self, target, secret):
            stored[target] = secret

    monkeypatch.setattr(credentials, "KeyringCredentials", FakeKeyring)
    dialog = SftpDialog(window.runner, {}, "", None, window)
    qtbot.addWidget(dialog)
    dialog.host.setText("gpu.example.org")
    dialog.user.setText("alice")
    dialog.auth.setCurrentText("password")
    dialog.password.setText("s3cret")
    dialog.remember.setChecked(True)
    dialog.folder.setText("/home/alice/data")
    dialog._accept()
    assert dialog.result() == 1
    assert stored == {"alice@gpu.example.org:22": "s3cret"}
    assert dialog.location() == "sftp://alice@gpu.example.org/home/alice/data"
    assert dialog.connection() == {"auth": "password"}  # no secret in the job


def test_sftp_dialog_without_a_keyring_stores_nothing(qtbot, window, monkeypatch):
    import app.config.credentials as credentials
    from app.gui.dialogs.sftp_dialog import SftpDialog

    class NoKeyring:
        def set(self, target, secret):
            raise credentials.NoKeyringAvailable()

    monkeypatch.setattr(credentials, "KeyringCredentials", NoKeyring)
    dialog = SftpDialog(window.runner, {}, "sftp://bob@host.example/srv", None, window)
    qtbot.addWidget(dialog)
    dialog.password.setText("pw")
    dialog.remember.setChecked(True)
    dialog._accept()
    assert dialog.result() == 0 and "not stored" in dialog.status.text()
