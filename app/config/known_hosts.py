"""Who is the server? Host keys checked against the person's and the app's lists.

Keys are looked up in ``~/.ssh/known_hosts`` (read only) and in the app's own
``known_hosts`` (``app_paths().known_hosts``), where keys the person accepts in
Syncpane are appended. A host with no key on record is *unknown* (shown with
its SHA256 fingerprint, accepted only on request); a host whose recorded keys
all differ from the one presented has *changed* and is refused every time.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path

from app.sshlib import asyncssh

from app.config.paths import app_paths


class HostKeyStatus(enum.Enum):
    TRUSTED = "trusted"
    UNKNOWN = "unknown"
    CHANGED = "changed"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class HostKeyVerdict:
    status: HostKeyStatus
    host: str
    port: int
    fingerprint: str  # "SHA256:..."
    algorithm: str

    def message(self, target: str) -> str:
        """A sentence for the person (no secret in it, by construction)."""
        if self.status is HostKeyStatus.UNKNOWN:
            return (f"the host key of {target} is not known yet ({self.algorithm} key "
                    f"{self.fingerprint}); check the fingerprint with the server's owner, "
                    "then run again with --accept-new-host-key to trust it")
        if self.status is HostKeyStatus.CHANGED:
            return (f"WARNING: the host key of {target} has CHANGED ({self.algorithm} key "
                    f"{self.fingerprint} does not match the key on record). Someone may be "
                    "intercepting the connection, or the server was reinstalled. Refusing to "
                    "connect; if the change is expected, remove the old key from known_hosts")
        if self.status is HostKeyStatus.REVOKED:
            return f"the host key of {target} ({self.fingerprint}) is marked revoked; refusing"
        return f"the host key of {target} is trusted ({self.fingerprint})"


def host_pattern(host: str, port: int) -> str:
    """How known_hosts spells a host: ``host`` on port 22, else ``[host]:port``."""
    return host if port == 22 else f"[{host}]:{port}"


class KnownHosts:
    """The two known_hosts files; ``app_file`` receives accepted keys."""

    def __init__(self, user_file: Path | None = None, app_file: Path | None = None) -> None:
        self.user_file = user_file if user_file is not None else (
            Path(os.path.expanduser("~")) / ".ssh" / "known_hosts")
        self.app_file = app_file if app_file is not None else app_paths().known_hosts

    def _load(self) -> list[asyncssh.SSHKnownHosts]:
        tables = []
        for path in (self.user_file, self.app_file):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except FileNotFoundError:
                continue
            except OSError:
                continue  # unreadable: as if absent; the other file may still know the host
            tables.append(_parse_tolerant(text))
        return tables

    def known_keys(self, host: str, port: int, addr: str = "") -> tuple[list, list]:
        """(trusted keys, revoked keys) on record for this host and port."""
        trusted: list = []
        revoked: list = []
        for table in self._load():
            keys, _ca, bad, *_ = table.match(host, addr, port if port != 22 else None)
            trusted.extend(keys)
            revoked.extend(bad)
        return trusted, revoked

    def preferred_algorithms(self, host: str, port: int) -> list[str]:
        """Host key algorithms on record, so the server is asked for a key we can check."""
        algs: list[str] = []
        for key in self.known_keys(host, port)[0]:
            for alg in key.sig_algorithms:
                name = alg.decode("ascii")
                if name not in algs:
                    algs.append(name)
        return algs

    def check(self, host: str, port: int, key: asyncssh.SSHKey, addr: str = "") -> HostKeyVerdict:
        """Classify the key the server presented."""
        trusted, revoked = self.known_keys(host, port, addr)
        blob = key.public_data
        if any(k.public_data == blob for k in revoked):
            status = HostKeyStatus.REVOKED
        elif any(k.public_data == blob for k in trusted):
            status = HostKeyStatus.TRUSTED
        elif trusted:
            status = HostKeyStatus.CHANGED
        else:
            status = HostKeyStatus.UNKNOWN
        return HostKeyVerdict(status, host, port, fingerprint(key), key.get_algorithm())

    def accept(self, host: str, port: int, key: asyncssh.SSHKey) -> None:
        """Record ``key`` for this host in the app's own file (never in ~/.ssh)."""
        self.app_file.parent.mkdir(parents=True, exist_ok=True)
        line = f"{host_pattern(host, port)} {key.export_public_key('openssh').decode().strip()}\n"
        with open(self.app_file, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())


def fingerprint(key: asyncssh.SSHKey) -> str:
    """``SHA256:...`` as OpenSSH shows it."""
    return key.get_fingerprint("sha256")


def _parse_tolerant(text: str) -> asyncssh.SSHKnownHosts:
    # One bad line must not hide every other key (OpenSSH skips bad lines too).
    table = asyncssh.SSHKnownHosts()
    for line in text.splitlines():
        try:
            table.load(line)
        except (ValueError, asyncssh.KeyImportError):
            continue
    return table
