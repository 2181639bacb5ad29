"""The engine's door to SFTP: turn a job's location and connection settings
into an open :class:`SftpFS` (used by :class:`app.fs.factory.LocationOpener`)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from app.config.credentials import CredentialStore, KeyringCredentials
from app.config.known_hosts import KnownHosts
from app.fs.sftp import SftpFS
from app.fs.sftp_conn import SftpPool, UnknownHostKey
from app.fs.sftp_url import ConnectionOptions, SftpLocation

# (``USER@HOST:PORT``, "SHA256:..." fingerprint, key algorithm) -> accept?
HostKeyPrompt = Callable[[str, str, str], bool | Awaitable[bool]]


def new_pool() -> SftpPool:
    """A connection pool; close it with ``await pool.close_all()`` at the end of a run."""
    return SftpPool()


def options_from_settings(settings: Any) -> ConnectionOptions:
    """ConnectionOptions from a job's ``ConnectionSettings`` (or None: defaults)."""
    if settings is None:
        return ConnectionOptions()
    auth = getattr(settings, "auth", None)
    auth = getattr(auth, "value", auth)
    key_file = getattr(settings, "key_file", None)
    if auth == "key" and not key_file:
        auth = None  # no key named: the agent and the usual ~/.ssh keys, like ssh
    rc = getattr(settings, "remote_commands", "auto")
    return ConnectionOptions(auth=auth, key_file=key_file,
                             parallel=int(getattr(settings, "parallel", 8)),
                             timeout_seconds=float(getattr(settings, "timeout_seconds", 20)),
                             remote_commands=getattr(rc, "value", rc))


async def open_sftp_location(loc: Any, settings: Any, pool: SftpPool, *,
                             credentials: CredentialStore | None = None,
                             accept_new_host_key: bool = False,
                             host_key_prompt: HostKeyPrompt | None = None,
                             known_hosts: KnownHosts | None = None) -> SftpFS:
    """Connect (or join the pool's connection) and return the open SftpFS.

    ``loc`` is an :class:`app.core.location.Location` (or an SftpLocation).
    An unknown host key raises :class:`UnknownHostKey` (an ``Unavailable``)
    unless ``accept_new_host_key``, or ``host_key_prompt`` says yes (the
    GUI's dialog); a changed key is always refused.
    """
    fs = new_sftp_fs(loc, settings, pool, credentials=credentials,
                     accept_new_host_key=accept_new_host_key, known_hosts=known_hosts)
    return await open_sftp_fs(fs, host_key_prompt)


def new_sftp_fs(loc: Any, settings: Any, pool: SftpPool, *,
                credentials: CredentialStore | None = None, accept_new_host_key: bool = False,
                known_hosts: KnownHosts | None = None) -> SftpFS:
    """The SftpFS of ``loc``, not connected yet (see :func:`open_sftp_fs`)."""
    location = SftpLocation(user=loc.user, host=loc.host, port=loc.port, path=loc.path)
    return SftpFS(location, options_from_settings(settings), pool,
                  credentials if credentials is not None else KeyringCredentials(),
                  known_hosts or KnownHosts(), accept_new_host_key)


async def open_sftp_fs(fs: SftpFS, host_key_prompt: HostKeyPrompt | None = None) -> SftpFS:
    """Open ``fs`` (see :func:`open_sftp_location`)."""
    location = fs.location
    try:
        await fs.open()
    except UnknownHostKey as exc:
        if host_key_prompt is None:
            raise
        answer = host_key_prompt(location.key, exc.fingerprint, exc.algorithm)
        if inspect.isawaitable(answer):
            answer = await answer
        if not answer:
            raise
        # Record exactly the key the person saw; if the server shows another
        # one on the next connection, that is a changed key and is refused.
        fs.known_hosts.accept(location.host, location.port, exc.key)
        await fs.open()
    return fs
