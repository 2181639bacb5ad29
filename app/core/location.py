"""Locations: a local folder or ``sftp://USER@HOST[:PORT]/ABSOLUTE/PATH``."""

from __future__ import annotations

import ntpath
import os
import re
from dataclasses import dataclass
from urllib.parse import unquote

_SFTP = re.compile(
    r"^sftp://(?P<user>[^@/\s]+)@(?:\[(?P<ip6>[0-9A-Fa-f:.%]+)\]|(?P<host>[^:/\[\]\s]+))"
    r"(?::(?P<port>\d+))?(?P<path>/.*)?$")
_WINDOWS_ABS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\[^\\]+\\[^\\]+)")


class LocationError(ValueError):
    """A location string that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where one side of a pair lives.

    ``raw`` is what the person wrote (saved back unchanged); ``path`` is the
    resolved local path, or the absolute remote path for SFTP.
    """

    raw: str
    scheme: str  # "local" | "sftp"
    path: str
    user: str | None = None
    host: str | None = None
    port: int = 22

    @property
    def is_sftp(self) -> bool:
        return self.scheme == "sftp"

    @property
    def server_key(self) -> str | None:
        """``USER@HOST:PORT``: the key of ``connections`` and of the keyring."""
        if not self.is_sftp:
            return None
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"{self.user}@{host}:{self.port}"

    @property
    def display(self) -> str:
        if self.is_sftp:
            host = f"[{self.host}]" if self.host and ":" in self.host else self.host
            port = "" if self.port == 22 else f":{self.port}"
            return f"sftp://{self.user}@{host}{port}{self.path}"
        return self.path


def parse_location(raw: str, base_dir: str | None, *, windows: bool | None = None) -> Location:
    """Parse a location as written in a job or on the command line.

    Relative local paths resolve against ``base_dir`` (the job file's folder,
    or the current folder for command-line locations); ``~`` expands.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise LocationError("a location must be a non-empty string")
    text = raw.strip()
    windows = (os.name == "nt") if windows is None else windows
    if text.lower().startswith("sftp:"):
        m = _SFTP.match(text)
        if not m:
            raise LocationError(
                f'"{raw}" is not a valid SFTP location; expected sftp://USER@HOST[:PORT]/PATH')
        port = int(m["port"]) if m["port"] else 22
        if not 0 < port < 65536:
            raise LocationError(f'"{raw}": port {port} is out of range')
        path = unquote(m["path"] or "/")
        if len(path) > 1:
            path = path.rstrip("/")
        return Location(raw, "sftp", path, unquote(m["user"]), m["ip6"] or m["host"], port)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise LocationError(f'"{raw}": the scheme "{scheme}://" is not supported '
                            "(use a local folder or sftp://USER@HOST/PATH)")
    expanded = os.path.expanduser(text)
    if windows:
        if not ntpath.isabs(expanded):
            expanded = ntpath.join(base_dir or os.getcwd(), expanded)
        return Location(raw, "local", ntpath.normpath(expanded))
    if _WINDOWS_ABS.match(expanded):
        raise LocationError(f'"{raw}" is a Windows path; it cannot be used on this system')
    if not os.path.isabs(expanded):
        expanded = os.path.join(base_dir or os.getcwd(), expanded)
    return Location(raw, "local", os.path.normpath(expanded))
