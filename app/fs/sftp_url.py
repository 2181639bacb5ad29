"""SFTP locations and per-server connection options (pure, no I/O).

A location is written ``sftp://USER@HOST[:PORT]/ABSOLUTE/PATH``; IPv6 hosts go
in brackets (``sftp://u@[::1]:2222/srv``). The options mirror one entry of a
job's ``connections`` table (keyed by ``USER@HOST:PORT``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import unquote

DEFAULT_PORT = 22
AUTH_METHODS = ("key", "agent", "password")
REMOTE_COMMANDS = ("auto", "off")


@dataclass(frozen=True, slots=True)
class SftpLocation:
    """Where an SFTP side lives: who, which server, which folder."""

    user: str
    host: str
    port: int
    path: str  # absolute, '/'-separated, no trailing '/' except for '/' itself

    @property
    def key(self) -> str:
        """``USER@HOST:PORT``: the connection table key and keyring user name."""
        return f"{self.user}@{_host_for_key(self.host)}:{self.port}"

    @property
    def display(self) -> str:
        """The location as a person would write it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port == DEFAULT_PORT else f":{self.port}"
        return f"sftp://{self.user}@{host}{port}{self.path}"


def _host_for_key(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def parse_sftp_url(s: str) -> SftpLocation:
    """Parse ``sftp://USER@HOST[:PORT]/ABS/PATH``; raise ValueError saying what is wrong."""
    prefix = "sftp://"
    if not s.lower().startswith(prefix):
        raise ValueError(f"not an SFTP location (expected sftp://USER@HOST/PATH): {s!r}")
    rest = s[len(prefix):]
    slash = rest.find("/")
    if slash < 0:
        raise ValueError(f"SFTP location has no absolute path after the host: {s!r}")
    authority, path = rest[:slash], rest[slash:]
    user, at, hostport = authority.rpartition("@")
    if not at or not user:
        raise ValueError(f"SFTP location needs a user name (USER@HOST): {s!r}")
    host, port = _split_host_port(hostport, s)
    path = unquote(path)
    if "\x00" in path:
        raise ValueError(f"SFTP path contains a NUL character: {s!r}")
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return SftpLocation(user=unquote(user), host=host, port=port, path=path)


def _split_host_port(hostport: str, original: str) -> tuple[str, int]:
    port_text = ""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise ValueError(f"unclosed '[' in IPv6 host: {original!r}")
        host = hostport[1:end]
        tail = hostport[end + 1:]
        if tail:
            if not tail.startswith(":"):
                raise ValueError(f"unexpected text after IPv6 host: {original!r}")
            port_text = tail[1:]
        try:
            ipaddress.IPv6Address(host.split("%")[0])
        except ValueError:
            raise ValueError(f"not an IPv6 address in brackets: {host!r}") from None
    else:
        if hostport.count(":") > 1:
            raise ValueError(f"IPv6 hosts must be in brackets, e.g. [::1]: {original!r}")
        host, _, port_text = hostport.partition(":")
        if _ and not port_text:
            raise ValueError(f"empty port after ':': {original!r}")
    if not host:
        raise ValueError(f"SFTP location has no host: {original!r}")
    if port_text == "":
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"port must be a number from 1 to 65535, got {port_text!r}")
    return host, int(port_text)


@dataclass(frozen=True, slots=True)
class ConnectionOptions:
    """One ``connections`` entry of a job (all fields optional there).

    ``auth`` None means: ``key`` when ``key_file`` is given, else the SSH
    agent together with the usual ``~/.ssh/id_*`` keys (like ``ssh`` does).
    """

    auth: str | None = None
    key_file: str | None = None
    parallel: int = 8
    timeout_seconds: float = 20
    remote_commands: str = "auto"

    def __post_init__(self) -> None:
        if self.auth is not None and self.auth not in AUTH_METHODS:
            raise ValueError(f"auth must be one of {', '.join(AUTH_METHODS)}, got {self.auth!r}")
        if self.auth == "key" and not self.key_file:
            raise ValueError("auth 'key' needs key_file")
        if self.remote_commands not in REMOTE_COMMANDS:
            raise ValueError("remote_commands must be 'auto' or 'off', "
                             f"got {self.remote_commands!r}")
        if not isinstance(self.parallel, int) or self.parallel < 1:
            raise ValueError(f"parallel must be a positive whole number, got {self.parallel!r}")
        if not self.timeout_seconds or self.timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {self.timeout_seconds!r}")

    @property
    def effective_auth(self) -> str:
        """The method actually used."""
        if self.auth:
            return self.auth
        return "key" if self.key_file else "agent"

    @classmethod
    def from_json(cls, data: dict) -> ConnectionOptions:
        """Build from a job file's ``connections`` entry; ValueError on unknown keys."""
        known = {"auth", "key_file", "parallel", "timeout_seconds", "remote_commands"}
        extra = set(data) - known
        if extra:
            raise ValueError(f"unknown connection settings: {', '.join(sorted(extra))}")
        return cls(**data)
