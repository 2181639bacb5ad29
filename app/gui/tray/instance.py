"""One tray per user: the first ``syncpane tray`` listens on a local socket; a
second one finds it there, asks it to show itself, and exits.

Uses QtNetwork's QLocalServer / QLocalSocket (a named pipe on Windows, a Unix
socket elsewhere). The name includes a hash of the user's config folder, so two
users, or a test with its own ``SYNCPANE_HOME``, never meet.
"""

from __future__ import annotations

import getpass
import hashlib

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.config.paths import app_paths

SHOW = b"show\n"


def server_name() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name: the folder still separates
        user = ""
    key = f"{user}|{app_paths().config}".encode("utf-8", "surrogatepass")
    return "syncpane-tray-" + hashlib.sha256(key).hexdigest()[:16]


class SingleInstance(QObject):
    """``claim()`` → True in the first instance; ``show_requested`` fires there
    each time a later instance starts."""

    show_requested = Signal()

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self.server: QLocalServer | None = None
        self._clients: list[QLocalSocket] = []

    def notify_running(self, timeout_ms: int = 1000) -> bool:
        """Tell a running instance to show itself; False when none answers."""
        sock = QLocalSocket()
        try:
            sock.connectToServer(self.name)
            if not sock.waitForConnected(timeout_ms):
                return False
            sock.write(SHOW)
            sock.waitForBytesWritten(timeout_ms)
            sock.disconnectFromServer()
            if sock.state() != QLocalSocket.LocalSocketState.UnconnectedState:
                sock.waitForDisconnected(timeout_ms)
            return True
        finally:
            sock.abort()

    def claim(self) -> bool:
        if self.notify_running():
            return False
        QLocalServer.removeServer(self.name)  # a socket left behind by a crash
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # Someone claimed it in between: let that one be the tray.
            return not self.notify_running()
        server.newConnection.connect(self._accept)
        self.server = server
        return True

    def _accept(self) -> None:
        while self.server is not None and self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            self._clients.append(sock)
            sock.readyRead.connect(self._on_ready)
            sock.disconnected.connect(self._on_gone)
            if sock.bytesAvailable():
                self._read(sock)

    def _on_ready(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket):
            self._read(sock)

    def _on_gone(self) -> None:
        sock = self.sender()
        if sock in self._clients:
            self._clients.remove(sock)
            sock.deleteLater()

    def _read(self, sock: QLocalSocket) -> None:
        data = bytes(sock.readAll())
        if SHOW.strip() in data:
            self.show_requested.emit()

    def release(self) -> None:
        for sock in self._clients:
            sock.readyRead.disconnect(self._on_ready)
            sock.disconnected.disconnect(self._on_gone)
            sock.abort()
            sock.deleteLater()
        self._clients = []
        if self.server is not None:
            self.server.close()
            self.server.deleteLater()
            self.server = None
