"""Browse the folders of an SFTP server and choose one.

The connection comes from the SFTP connection dialog (server, login, key,
host-key question). Every listing runs on the window's engine runner (one
QThread owning an asyncio loop), so the dialog stays live however slow the
server is; answers to listings the person has already moved away from are
dropped. One connection serves the whole browsing session and is closed,
on the runner's loop, when the dialog closes.
"""

from __future__ import annotations

import asyncio
import posixpath
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QPushButton, QVBoxLayout, QWidget)

from app.core.model import Kind
from app.gui.icons import icon

ERROR_STYLE = "color: #b91c1c;"


def normalize_remote(path: str, current: str = "/") -> str:
    """An absolute, normalized server path; a relative one is taken below ``current``."""
    path = path.strip() or "/"
    if not path.startswith("/"):
        path = posixpath.join(current, path)
    path = posixpath.normpath(path)
    return "/" + path.lstrip("/")  # normpath keeps a leading '//'


class RemoteFolderLister:
    """The browsing session's connection; its coroutines run on the runner's loop only."""

    def __init__(self, job: Any, opener: Any) -> None:
        self.job = job
        self.opener = opener
        self._fs = None
        self._lock = asyncio.Lock()  # one listing at a time: one connection, opened once

    async def folders(self, path: str) -> list[tuple[str, bool]]:
        """``(name, is_link)`` of the folders (and links, which may lead to one) in ``path``."""
        from app.fs.base import AccessDenied, FsError, NotFound

        async with self._lock:
            if self._fs is None:
                self._fs = await self.opener.open(self.job.pairs[0].left)  # root: '/'
            rel = path.lstrip("/")
            try:
                entries = await self._fs.list_dir(rel)
            except FsError as exc:
                # OpenSSH answers "no such file" for a file too: look before saying why.
                entry = await self._stat_quietly(rel)
                if entry is not None and entry.kind is not Kind.DIR:
                    raise FolderNotListable(f"{path} is a file, not a folder.") from None
                if isinstance(exc, NotFound):
                    raise FolderNotListable(f"{path} does not exist on the server.") from None
                if isinstance(exc, AccessDenied):
                    raise FolderNotListable(f"{path} cannot be listed: permission denied."
                                            ) from None
                raise FolderNotListable(f"{path} cannot be listed: {exc}") from None
        return [(posixpath.basename(e.name), e.kind is Kind.SYMLINK) for e in entries
                if e.kind in (Kind.DIR, Kind.SYMLINK)]

    async def _stat_quietly(self, rel: str):
        from app.fs.base import FsError

        try:
            return await self._fs.stat(rel, follow=True)
        except FsError:
            return None

    async def close(self) -> None:
        async with self._lock:  # after a listing under way, so its connection closes too
            self._fs = None
            await self.opener.close()


class FolderNotListable(Exception):
    """A path that cannot be shown as a folder; ``str()`` says why, for a person."""


class RemoteFolderDialog(QDialog):
    """``remoteBrowser``: lists the folders of a server path; ``chosen_path()`` after accept.

    Double-click or Enter on a folder opens it, "Up" goes to the parent, a
    path typed into the field is listed on Enter. "Choose" takes the selected
    folder, or the shown one when none is selected.
    """

    def __init__(self, runner, lister: RemoteFolderLister, start: str, title: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("remoteBrowser")
        self.setWindowTitle(f"Folders on {title}")
        self.setAccessibleName(f"Folders on {title}")
        self.runner = runner
        self.lister = lister
        self.current = ""  # the path whose folders are shown ('' until one was listed)
        self.pending = ""  # the path being listed ('' when idle)
        self._generation = 0
        self._closed = False

        self.path_field = QLineEdit()
        self.path_field.setObjectName("remotePath")
        self.path_field.setAccessibleName("Remote path")
        self.path_field.returnPressed.connect(lambda: self.go(self.path_field.text()))
        self.up_button = QPushButton("Up")
        self.up_button.setObjectName("remoteUpButton")
        self.up_button.setAccessibleName("Go to the parent folder")
        self.up_button.clicked.connect(self.go_up)
        self.folder_list = QListWidget()
        self.folder_list.setObjectName("remoteFolderList")
        self.folder_list.setAccessibleName("Folders")
        self.folder_list.itemActivated.connect(self._open_item)
        self.folder_list.itemSelectionChanged.connect(self._update_buttons)
        self.status = QLabel("")
        self.status.setObjectName("remoteStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.choose_button = QPushButton("Choose")
        self.choose_button.setObjectName("remoteChooseButton")
        self.choose_button.clicked.connect(self.choose)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        # No default button: Enter opens a folder or lists the typed path, it never chooses.
        for b in (self.up_button, self.choose_button, cancel):
            b.setAutoDefault(False)

        top = QHBoxLayout()
        top.addWidget(QLabel("Path"))
        top.addWidget(self.path_field, 1)
        top.addWidget(self.up_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.choose_button)
        bottom.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.folder_list, 1)
        layout.addLayout(bottom)
        self.resize(520, 420)
        self.go(start)

    # -- navigation ----------------------------------------------------------------
    def go(self, path: str) -> None:
        """List ``path`` (absolute, or relative to the shown folder) in the background."""
        target = normalize_remote(path, self.current or "/")
        self._generation += 1
        generation = self._generation
        self.pending = target
        self.path_field.setText(target)
        self.status.setStyleSheet("")
        self.status.setText(f"Listing {target}…")
        self._update_buttons()
        self.runner.submit(self.lister.folders(target),
                           lambda result, error: self._listed(generation, target, result, error))

    def go_up(self) -> None:
        base = self.current or self.pending or "/"
        self.go(posixpath.dirname(base.rstrip("/")) or "/")

    def _open_item(self, item: QListWidgetItem) -> None:
        self.go(posixpath.join(self.current or "/", item.data(Qt.UserRole)))

    def _listed(self, generation: int, path: str, result, error) -> None:
        if self._closed or generation != self._generation:
            return  # the person has moved on (or left)
        self.pending = ""
        self.folder_list.clear()
        if error is not None:
            self.current = ""
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(_describe(error))
            self._update_buttons()
            return
        self.current = path
        folder = icon("folder")
        for name, is_link in sorted(result, key=lambda r: r[0].lower()):
            # A link may lead to a folder; opening it shows whether it does.
            item = QListWidgetItem(folder, f"{name}  (link)" if is_link else name)
            item.setData(Qt.UserRole, name)
            self.folder_list.addItem(item)
        count = len(result)
        self.status.setText(f"{count:,} folder{'s' if count != 1 else ''} in {path}")
        self._update_buttons()

    # -- choosing ----------------------------------------------------------------
    def chosen_path(self) -> str:
        """The selected folder, or the shown one when none is selected ('' if none)."""
        if not self.current:
            return ""
        selected = self.folder_list.selectedItems()
        if selected:
            return posixpath.join(self.current, selected[0].data(Qt.UserRole))
        return self.current

    def choose(self) -> None:
        if self.chosen_path() and not self.pending:
            self.accept()

    def _update_buttons(self) -> None:
        path = self.chosen_path()
        self.choose_button.setEnabled(bool(path) and not self.pending)
        self.choose_button.setText(f"Choose {posixpath.basename(path) or path}" if path
                                   else "Choose")
        self.up_button.setEnabled((self.current or self.pending or "/") != "/")

    def done(self, result: int) -> None:  # noqa: D401 - Qt's name
        if not self._closed:
            self._closed = True
            self.runner.submit(self.lister.close())
        super().done(result)


def _describe(error: BaseException) -> str:
    if isinstance(error, FolderNotListable):
        return str(error)
    from app.fs.base import Unavailable
    from app.fs.sftp_conn import UnknownHostKey

    if isinstance(error, UnknownHostKey):
        return ("The server's key was not trusted, so nothing was listed. "
                f"Its fingerprint: {error.fingerprint}.")
    if isinstance(error, Unavailable):
        text = str(error)
        if "CHANGED" in text:
            return text  # already a warning in capitals, word for word
        return f"Cannot connect: {text}"
    return f"Cannot list: {type(error).__name__}: {error}"
