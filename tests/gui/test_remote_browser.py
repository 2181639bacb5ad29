"""The SFTP folder browser, driven in the real window against the real sshd:
connection settings, the host-key question, listing, navigating, choosing,
and a compare of the chosen location."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget

from app.gui.dialogs.remote_browser import RemoteFolderDialog, normalize_remote
from app.gui.dialogs.sftp_dialog import SftpDialog
from tests.gui.conftest import compare, rows
from tests.util import make_tree

pytestmark = pytest.mark.sshd

WAIT = 60_000  # a loaded machine may take a while to log in


def _open_connection_dialog(qtbot, window, side: str = "right") -> SftpDialog:
    button = window.findChild(object, f"{side}Browse0")
    sftp_action = next(a for a in button.menu().actions() if a.text().startswith("SFTP"))
    sftp_action.trigger()
    qtbot.waitUntil(lambda: window.findChild(SftpDialog, "sftpDialog") is not None
                    and window.findChild(SftpDialog, "sftpDialog").isVisible())
    return window.findChild(SftpDialog, "sftpDialog")


def _fill(dialog: SftpDialog, sftp_env, folder: str) -> None:
    dialog.host.setText("127.0.0.1")
    dialog.port.setValue(sftp_env.server.port)
    dialog.user.setText(sftp_env.server.user)
    dialog.auth.setCurrentText("key")
    dialog.key_file.setText(str(sftp_env.server.client_key))
    dialog.folder.setText(folder)


def _browse(qtbot, dialog: SftpDialog) -> RemoteFolderDialog:
    qtbot.mouseClick(dialog.findChild(object, "sftpBrowseButton"), Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.browser is not None and dialog.browser.isVisible())
    return dialog.browser


def _names(browser: RemoteFolderDialog) -> list[str]:
    lst = browser.findChild(QListWidget, "remoteFolderList")
    return [lst.item(i).data(Qt.UserRole) for i in range(lst.count())]


def _wait_listed(qtbot, browser: RemoteFolderDialog) -> None:
    qtbot.waitUntil(lambda: not browser.pending, timeout=WAIT)


def _item(browser: RemoteFolderDialog, name: str):
    lst = browser.folder_list
    return next(lst.item(i) for i in range(lst.count()) if lst.item(i).data(Qt.UserRole) == name)


def test_browse_navigate_choose_then_compare(qtbot, window, tmp_path, sftp_env):
    root = sftp_env.root
    make_tree(root, {"projects/run1/model.pt": "weights", "projects/run1/log.txt": "old",
                     "projects/run2/": None, "data/": None, "readme.txt": "not a folder"})
    left = make_tree(tmp_path / "L", {"model.pt": "weights", "new.txt": "fresh"})
    asked = []

    def trust(target, fingerprint, algorithm):
        asked.append((target, fingerprint))
        return True
    window.ask.host_key = trust
    window.jobs.new()
    window.pairs.field(0, "left").setText(str(left))

    dialog = _open_connection_dialog(qtbot, window)
    _fill(dialog, sftp_env, str(root))
    browser = _browse(qtbot, dialog)
    assert browser.pending == str(root)  # listing runs in the background; the dialog is live
    _wait_listed(qtbot, browser)
    assert browser.status.text() == f"2 folders in {root}", browser.status.text()
    assert _names(browser) == ["data", "projects"]  # folders only, no files
    assert len(asked) == 1 and asked[0][0] == f"{sftp_env.server.user}@127.0.0.1:" \
        f"{sftp_env.server.port}" and asked[0][1].startswith("SHA256:")

    # Double-click opens a folder.
    lst = browser.folder_list
    rect = lst.visualItemRect(_item(browser, "projects"))
    # As a real double-click arrives: a press (selects), then the double-click.
    qtbot.mouseClick(lst.viewport(), Qt.LeftButton, pos=rect.center())
    assert browser.choose_button.text() == "Choose projects"
    qtbot.mouseDClick(lst.viewport(), Qt.LeftButton, pos=rect.center())
    _wait_listed(qtbot, browser)
    assert browser.current == f"{root}/projects" and _names(browser) == ["run1", "run2"]
    assert browser.findChild(object, "remotePath").text() == f"{root}/projects"

    # Up goes to the parent.
    qtbot.mouseClick(browser.findChild(object, "remoteUpButton"), Qt.LeftButton)
    _wait_listed(qtbot, browser)
    assert browser.current == str(root) and _names(browser) == ["data", "projects"]

    # A typed path that cannot be listed says why, and nothing can be chosen.
    path_field = browser.findChild(object, "remotePath")
    for typed, why in ((f"{root}/missing", "does not exist"),
                       (f"{root}/readme.txt", "is a file, not a folder")):
        path_field.setText(typed)
        qtbot.keyClick(path_field, Qt.Key_Return)
        _wait_listed(qtbot, browser)
        assert why in browser.status.text(), browser.status.text()
        assert _names(browser) == [] and not browser.choose_button.isEnabled()
    assert dialog.isVisible() and browser.isVisible()  # Enter never chose anything

    # A typed path (relative parts resolved), then Enter on a folder opens it.
    path_field.setText(f"{root}/data/../projects/")
    qtbot.keyClick(path_field, Qt.Key_Return)
    _wait_listed(qtbot, browser)
    assert browser.current == f"{root}/projects"
    lst.setFocus()
    lst.setCurrentItem(_item(browser, "run1"))
    qtbot.keyClick(lst, Qt.Key_Return)
    _wait_listed(qtbot, browser)
    assert browser.current == f"{root}/projects/run1" and _names(browser) == []
    assert browser.isVisible()

    qtbot.mouseClick(browser.choose_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    url = f"sftp://{sftp_env.server.user}@127.0.0.1:{sftp_env.server.port}{root}/projects/run1"
    assert window.pairs.field(0, "right").text() == url
    key = f"{sftp_env.server.user}@127.0.0.1:{sftp_env.server.port}"
    assert window.document.section("connections")[key] == {
        "auth": "key", "key_file": str(sftp_env.server.client_key)}
    assert window.document.pairs()[0] == (str(left), url)

    # The chosen pair compares (the accepted host key is not asked about again).
    compare(qtbot, window, timeout=WAIT)
    grid = rows(window)
    assert grid["new.txt"]["action"] == "copy_to_right"
    assert grid["log.txt"]["action"] == "delete_right"
    assert len(asked) == 1


def test_choose_takes_the_selected_folder(qtbot, window, sftp_env):
    root = sftp_env.root
    make_tree(root, {"a/": None, "b/": None})
    window.ask.host_key = lambda *_a: True
    dialog = _open_connection_dialog(qtbot, window, "left")
    _fill(dialog, sftp_env, str(root))
    browser = _browse(qtbot, dialog)
    _wait_listed(qtbot, browser)
    browser.folder_list.setCurrentItem(_item(browser, "b"))
    assert browser.choose_button.text() == "Choose b"
    qtbot.mouseClick(browser.choose_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert window.pairs.field(0, "left").text() == sftp_env.server.url(f"{root}/b")


def test_rejected_host_key_lists_nothing(qtbot, window, sftp_env):
    asked = []
    window.ask.host_key = lambda t, f, a: asked.append(f) and False
    dialog = _open_connection_dialog(qtbot, window)
    _fill(dialog, sftp_env, str(sftp_env.root))
    browser = _browse(qtbot, dialog)
    _wait_listed(qtbot, browser)
    assert asked and asked[0].startswith("SHA256:")
    assert "not trusted" in browser.status.text() and asked[0] in browser.status.text()
    assert _names(browser) == [] and not browser.choose_button.isEnabled()
    browser.reject()
    dialog.reject()
    assert window.pairs.field(0, "right").text() == ""


def test_changed_host_key_is_refused_with_a_warning(qtbot, window, sftp_env, syncpane_home):
    import asyncssh

    # On record for this server: another key than the one it shows.
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    known = syncpane_home / "data" / "known_hosts"
    known.parent.mkdir(parents=True, exist_ok=True)
    known.write_text(f"[127.0.0.1]:{sftp_env.server.port} {other}\n")
    asked = []
    window.ask.host_key = lambda *a: asked.append(a) or True
    dialog = _open_connection_dialog(qtbot, window)
    _fill(dialog, sftp_env, str(sftp_env.root))
    browser = _browse(qtbot, dialog)
    _wait_listed(qtbot, browser)
    assert "WARNING" in browser.status.text() and "CHANGED" in browser.status.text()
    assert asked == []  # a changed key is refused, never offered for acceptance
    assert _names(browser) == [] and not browser.choose_button.isEnabled()
    assert known.read_text().count("\n") == 1  # nothing was added to trust it


def test_normalize_remote():
    assert normalize_remote("") == "/"
    assert normalize_remote("//srv//data/") == "/srv/data"
    assert normalize_remote("sub/../x", "/home/a") == "/home/a/x"
    assert normalize_remote("/a/..") == "/"
