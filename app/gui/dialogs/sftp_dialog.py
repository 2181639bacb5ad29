"""The SFTP connection dialog: a server, how to log in, which folder.

It edits one entry of the job's ``connections`` table (keyed
``USER@HOST:PORT``) and yields an ``sftp://`` location. A password is never
written to the job: "remember" puts it into the OS keyring, otherwise it is
used for the test only. "Test connection" opens the location through the
engine's ``LocationOpener`` on the runner's loop, so the dialog stays live.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from app.core.job import JobError, job_from_dict


def _host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class SftpDialog(QDialog):
    """Returns ``location()`` and ``connection()`` after ``exec()``."""

    def __init__(self, runner, connections: dict[str, Any], initial: str = "",
                 host_key_prompt: Callable | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sftpDialog")
        self.setWindowTitle("SFTP server")
        self.runner = runner
        self.host_key_prompt = host_key_prompt
        self.host = QLineEdit()
        self.host.setObjectName("sftpHost")
        self.port = QSpinBox()
        self.port.setObjectName("sftpPort")
        self.port.setRange(1, 65535)
        self.port.setValue(22)
        self.user = QLineEdit()
        self.user.setObjectName("sftpUser")
        self.auth = QComboBox()
        self.auth.setObjectName("sftpAuth")
        self.auth.addItems(["key", "agent", "password"])
        self.key_file = QLineEdit()
        self.key_file.setObjectName("sftpKeyFile")
        self.key_file.setPlaceholderText("~/.ssh/id_ed25519")
        browse = QPushButton("…")
        browse.clicked.connect(self._browse_key)
        self.password = QLineEdit()
        self.password.setObjectName("sftpPassword")
        self.password.setEchoMode(QLineEdit.Password)
        self.remember = QCheckBox("Remember the password in the system keyring")
        self.remember.setObjectName("sftpRemember")
        self.folder = QLineEdit("/")
        self.folder.setObjectName("sftpFolder")
        browse_folders = QPushButton("Browse…")
        browse_folders.setObjectName("sftpBrowseButton")
        browse_folders.setAccessibleName("Browse the folders on the server")
        browse_folders.clicked.connect(self.browse_folders)
        self.browse_button = browse_folders
        self.status = QLabel("")
        self.status.setObjectName("sftpStatus")
        self.status.setWordWrap(True)
        test = QPushButton("Test connection")
        test.setObjectName("sftpTestButton")
        test.clicked.connect(self.test_connection)
        self.test_button = test

        form = QFormLayout()
        form.addRow("Server", self.host)
        form.addRow("Port", self.port)
        form.addRow("User", self.user)
        form.addRow("Log in with", self.auth)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_file)
        key_row.addWidget(browse)
        form.addRow("Key file", key_row)
        form.addRow("Password / passphrase", self.password)
        form.addRow("", self.remember)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder)
        folder_row.addWidget(browse_folders)
        form.addRow("Remote folder", folder_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(test)
        row.addWidget(self.status, 1)
        layout.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._connections = connections
        self._closed = False
        self.browser = None
        self._load(initial)

    def done(self, result: int) -> None:  # noqa: D401 - Qt's name
        self._closed = True  # a late "Test connection" answer must not touch a closed dialog
        super().done(result)

    # -- values ------------------------------------------------------------------
    def _load(self, url: str) -> None:
        if not url.startswith("sftp://"):
            return
        try:
            from app.fs.sftp_url import parse_sftp_url

            loc = parse_sftp_url(url)
        except Exception:  # noqa: BLE001 - a half-typed URL just leaves the form empty
            return
        self.host.setText(loc.host)
        self.port.setValue(loc.port)
        self.user.setText(loc.user)
        self.folder.setText(loc.path)
        conn = self._connections.get(self.key(), {})
        self.auth.setCurrentText(conn.get("auth", "key" if conn.get("key_file") else "agent"))
        self.key_file.setText(conn.get("key_file") or "")

    def key(self) -> str:
        return f"{self.user.text().strip()}@{self.host.text().strip()}:{self.port.value()}"

    def location(self, folder: str | None = None) -> str:
        """The ``sftp://`` URL of ``folder`` (default: the Remote folder field)."""
        port = "" if self.port.value() == 22 else f":{self.port.value()}"
        if folder is None:
            folder = self.folder.text()
        folder = folder.strip() or "/"
        if not folder.startswith("/"):
            folder = "/" + folder
        folder = folder.replace("%", "%25")  # the URL's path is percent-decoded when read
        return (f"sftp://{self.user.text().strip()}@{_host_in_url(self.host.text().strip())}"
                f"{port}{folder}")

    def connection(self) -> dict[str, Any]:
        conn = dict(self._connections.get(self.key(), {}))
        conn["auth"] = self.auth.currentText()
        if self.key_file.text().strip():
            conn["key_file"] = self.key_file.text().strip()
        else:
            conn.pop("key_file", None)
        return conn

    def _browse_key(self) -> None:
        path, _f = QFileDialog.getOpenFileName(self, "Private key file")
        if path:
            self.key_file.setText(path)

    def _job(self, folder: str | None = None):
        url = self.location(folder)
        doc = {"syncpane_job": 1, "pairs": [{"left": url, "right": url}],
               "connections": {self.key(): self.connection()}}
        return job_from_dict(doc, None)

    def opener(self, job):
        """A ``LocationOpener`` for ``job`` with this form's password (used for
        this session only) and the window's host-key question."""
        from app.fs.factory import LocationOpener

        creds = None
        if self.password.text():
            from app.config.credentials import InMemoryCredentials

            creds = InMemoryCredentials({self.key(): self.password.text()})
        return LocationOpener(job, credentials=creds, host_key_prompt=self.host_key_prompt)

    def _sftp_available(self) -> bool:
        try:
            import app.fs.sftp_open  # noqa: F401 - present once SFTP support is installed
        except ImportError as exc:
            self.status.setText(f"SFTP is not available in this build yet ({exc}).")
            return False
        return True

    # -- actions -------------------------------------------------------------------
    def test_connection(self) -> None:
        try:
            job = self._job()
        except JobError as exc:
            self.status.setText(f"Check the fields: {exc}")
            return
        if not self._sftp_available():
            return
        self.status.setText("Connecting…")
        self.test_button.setEnabled(False)
        self.runner.submit(self._try_open(job), self._tested)

    async def _try_open(self, job) -> str:
        opener = self.opener(job)
        try:
            fs = await opener.open(job.pairs[0].left)
            state = await fs.root_state()
            return f"Connected. The folder: {state.name.lower().replace('_', ' ')}."
        finally:
            await opener.close()

    def browse_folders(self) -> None:
        """Open the folder browser on this server; its choice fills the Remote
        folder field and accepts this dialog."""
        from app.gui.dialogs.remote_browser import RemoteFolderDialog, RemoteFolderLister

        try:
            job = self._job("/")
        except JobError as exc:
            self.status.setText(f"Check the fields: {exc}")
            return
        if not self._sftp_available():
            return
        self.status.setText("")
        browser = RemoteFolderDialog(self.runner, RemoteFolderLister(job, self.opener(job)),
                                     self.folder.text().strip() or "/", self.key(), self)
        self.browser = browser

        def chosen() -> None:
            self.folder.setText(browser.chosen_path())
            self._accept()
        browser.accepted.connect(chosen)
        browser.finished.connect(browser.deleteLater)
        browser.open()

    def _tested(self, message, error) -> None:
        if self._closed:
            return
        self.test_button.setEnabled(True)
        self.status.setText(message if error is None else f"Failed: {error}")

    def _accept(self) -> None:
        try:
            self._job()
        except JobError as exc:
            self.status.setText(f"Check the fields: {exc}")
            return
        if self.remember.isChecked() and self.password.text():
            try:
                from app.config.credentials import KeyringCredentials

                KeyringCredentials().set(self.key(), self.password.text())
            except Exception as exc:  # noqa: BLE001 - no keyring: say so, store nothing
                self.status.setText(f"The password was not stored: {exc}")
                return
        self.accept()
