"""The one filesystem protocol every location backend implements.

All paths given to a backend are *relative* to its root, '/'-separated, as
spelled on that side ('' is the root itself). Every method is a coroutine
except the cheap, pure ones. Backends raise :class:`FsError` subclasses,
never raw ``OSError``/library exceptions, so the engine can turn any failure
into a clear per-item message.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from collections.abc import Callable

from app.core.events import CancelToken
from app.core.model import Entry

# Names starting with this are Syncpane's own (temporary files, the SFTP
# versions folder, probes): never compared, never synced, at every depth.
RESERVED_PREFIX = ".syncpane"
TEMP_SUFFIX = ".tmp"
VERSIONS_DIR = ".syncpane-versions"

# A local copy this big is flushed to disk before its rename shows it under
# its real name. A smaller one is not: an fsync each (about a millisecond
# here) costs more than the whole copy of thousands of small files. The
# rename still shows only a complete file; only a system crash just after it
# can leave a short or empty file under the name, which the next compare
# finds different from its source (which still has it) and copies again.
FLUSH_AT = 8 * 1024 * 1024


def flush_if_big(fd: int) -> None:
    """Flush an open file a copy wrote to disk when it is big (FLUSH_AT)."""
    try:
        if os.fstat(fd).st_size >= FLUSH_AT:
            os.fsync(fd)
    except OSError:
        pass


ProgressFn = Callable[[int, str], None]  # (items seen so far, current folder)
BytesFn = Callable[[int], None]  # bytes done since the last call


class FsError(Exception):
    """A filesystem operation failed; ``str()`` is a message fit for a person."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class NotFound(FsError):
    pass


class AccessDenied(FsError):
    pass


class NoSpace(FsError):
    pass


class AlreadyExists(FsError):
    pass


class NotEmpty(FsError):
    """A folder to remove still holds something (e.g. items outside the filter)."""


class BadName(FsError):
    """The name cannot exist on this side (e.g. ``CON`` or ``a:b`` on Windows)."""


class ConnectionLost(FsError):
    """The link to a remote side dropped and could not be restored."""


class Unavailable(FsError):
    """The location cannot be used at all (unreachable host, failed login,
    unknown host key...). The whole job stops, nothing is changed."""


class RootState(enum.Enum):
    OK = "ok"
    MISSING = "missing"
    NOT_A_FOLDER = "not_a_folder"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What a scan should see.

    ``symlinks``: "skip" | "follow" | "as_link". ``filter`` is a
    :class:`app.core.filters.PathFilter` (picklable, so a scan can run in a
    worker process); None means everything.
    """

    symlinks: str = "skip"
    filter: object | None = None


@dataclass(slots=True)
class ScanResult:
    """Everything below a root that passed the filter.

    ``problems`` are folders or items that could not be read (the scan goes
    on); ``leftovers`` are relative paths of temporary files an interrupted
    run left behind (``.syncpane*.tmp``), to be removed by the next sync.
    ``hidden_dirs`` are folders holding something the scan left out (filtered,
    a skipped link, a reserved name): a sync must never remove them.
    """

    entries: list[Entry] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    leftovers: list[str] = field(default_factory=list)
    hidden_dirs: set[str] = field(default_factory=set)


@runtime_checkable
class FileSystem(Protocol):
    """A location: a local folder or a folder on an SFTP server."""

    #: How the person wrote the location (shown in messages and logs).
    display: str
    #: False when "a" and "A" are the same name on this side.
    case_sensitive: bool
    #: Suggested number of operations in flight at once.
    parallel: int

    async def open(self) -> None:
        """Connect (remote) or prepare; raise :class:`Unavailable` if impossible."""

    async def close(self) -> None:
        """Release connections; safe to call twice."""

    async def root_state(self) -> RootState:
        """Whether the root exists, is a folder and can be listed."""

    async def make_root(self) -> None:
        """Create the root folder (and its parents) for a copy target."""

    async def scan(self, options: ScanOptions, progress: ProgressFn,
                   cancel: CancelToken) -> ScanResult:
        """List the whole tree below the root, honouring ``options``."""

    async def list_dir(self, rel: str) -> list[Entry]:
        """The direct children of folder ``rel``, sorted by name, as ``lstat``
        sees them (a symlink is a ``SYMLINK`` entry; its ``link_target`` is not
        read). Names are relative to the root, as a scan gives them; Syncpane's
        own reserved names and special files (sockets, devices) are left out.
        :class:`NotFound` if ``rel`` does not exist, another :class:`FsError`
        if it cannot be listed (not a folder, access denied)."""

    async def stat(self, rel: str, follow: bool = False) -> Entry | None:
        """The item at ``rel``, or None. A final symlink is reported as a link
        unless ``follow`` (then its target is described, as a scan with
        ``symlinks: follow`` saw it)."""

    def check_name(self, rel: str) -> str | None:
        """Why ``rel`` cannot be created on this side, or None if it can."""

    async def mkdir(self, rel: str) -> None:
        """Create a folder and any missing parents; fine if it exists."""

    async def remove_file(self, rel: str) -> None:
        """Delete one file or symlink for good."""

    async def remove_dir(self, rel: str) -> None:
        """Delete an empty folder for good; :class:`NotEmpty` if it is not empty."""

    async def remove_tree(self, rel: str) -> None:
        """Delete a folder and everything in it for good."""

    async def rename(self, src: str, dst: str) -> None:
        """Atomically rename ``src`` to ``dst``, replacing a file at ``dst``."""

    async def set_mtime(self, rel: str, mtime_ns: int) -> None:
        """Set the modification time (access time may be set to the same)."""

    async def set_mode(self, rel: str, mode: int) -> None:
        """Set permission bits where the side has them; otherwise do nothing."""

    async def make_link(self, rel: str, target: str) -> None:
        """Create a symbolic link ``rel`` pointing at ``target``."""

    async def recycle(self, rel: str, stamp: str) -> None:
        """Move a file or folder to this side's recycle bin (local: the OS's;
        SFTP: ``.syncpane-versions/`` at the root, named with ``stamp``)."""

    async def hash_kinds(self) -> tuple[str, ...]:
        """The hashes (:mod:`app.fs.hashing`) this side computes where its
        files are, without sending them anywhere; best first."""

    async def hash_files(self, rels: list[str], cancel: CancelToken,
                         kind: str = "sha256") -> dict[str, str]:
        """Hex digests (``kind``: "sha256" or "blake3") of the given files
        (missing ones left out)."""

    async def write_from_local(self, local_path: str, rel: str, on_bytes: BytesFn,
                               cancel: CancelToken) -> None:
        """Copy a local file to a *new* file ``rel`` on this side; raise if the
        bytes written are not all the bytes read (a partial file is removed)."""

    async def read_to_local(self, rel: str, local_path: str, on_bytes: BytesFn,
                            cancel: CancelToken) -> None:
        """Copy file ``rel`` of this side to a *new* local file (same guarantees)."""

    def local_path(self, rel: str) -> str | None:
        """The OS path of ``rel`` when this side is a local folder, else None."""
