"""SSH connections for SFTP locations: login, host-key check, and a shared pool.

One connection (and one SFTP session on it) per ``USER@HOST:PORT``, shared by
every side of every pair on that server. Every failure to connect becomes
:class:`Unavailable` with the cause in words; no secret is ever put in a
message (asyncssh's own messages carry none either).
"""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass, field

from app.sshlib import asyncssh

from app.config.credentials import CredentialError, CredentialStore
from app.config.known_hosts import HostKeyStatus, HostKeyVerdict, KnownHosts
from app.fs.base import Unavailable
from app.fs.sftp_url import ConnectionOptions, SftpLocation
from app.fs.sftp_wire import GatheringConnector
from app.fs.ssh_speed import install as _speed_up, skip_ignore_packets

_speed_up()

# aes128-gcm first: about 1.6x the throughput of asyncssh's default
# (chacha20) against OpenSSH over loopback, and still an AEAD cipher.
CIPHERS = ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
           "chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr", "aes192-ctr"]
# A larger channel window keeps more bytes in flight over a long round trip.
WINDOW = 8 * 1024 * 1024
# SFTP sessions per connection. OpenSSH serves each by its own sftp-server
# process, which answers one request at a time: with several, a busy (or slow
# disk-bound) one is not the ceiling, and each brings its own flow-control
# window (2 MiB), which bounds one session's bytes in flight over a long
# round trip. Requests take turns across them.
SESSIONS = 4

# Errors meaning "the link is gone or stuck": retry on a new connection.
LINK_ERRORS = (asyncssh.ConnectionLost, asyncssh.DisconnectError, ConnectionError,
               BrokenPipeError, asyncio.TimeoutError, TimeoutError, EOFError,
               asyncssh.SFTPConnectionLost, asyncssh.SFTPNoConnection)


if hasattr(asyncio, "timeout"):  # Python 3.11+: no extra task per bounded request
    async def within(aw, seconds: float):
        """``await aw``, or TimeoutError after ``seconds`` (like asyncio.wait_for)."""
        async with asyncio.timeout(seconds):
            return await aw
else:  # pragma: no cover - Python 3.10
    within = asyncio.wait_for


class UnknownHostKey(Unavailable):
    """The server's key is on record nowhere; ``key`` can be accepted on request."""

    def __init__(self, message: str, key: asyncssh.SSHKey, verdict: HostKeyVerdict) -> None:
        super().__init__(message)
        self.key = key
        self.fingerprint = verdict.fingerprint
        self.algorithm = verdict.algorithm


class _Client(asyncssh.SSHClient):
    """Decides about the server's host key and remembers the verdict."""

    def __init__(self, location: SftpLocation, known_hosts: KnownHosts, accept_new: bool):
        self._location = location
        self._known_hosts = known_hosts
        self._accept_new = accept_new
        self.verdict: HostKeyVerdict | None = None
        self.key: asyncssh.SSHKey | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int,
                                 key: asyncssh.SSHKey) -> bool:
        loc = self._location
        verdict = self._known_hosts.check(loc.host, loc.port, key, addr)
        self.verdict = verdict
        self.key = key
        if verdict.status is HostKeyStatus.TRUSTED:
            return True
        if verdict.status is HostKeyStatus.UNKNOWN and self._accept_new:
            self._known_hosts.accept(loc.host, loc.port, key)
            return True
        return False


def _auth_options(location: SftpLocation, options: ConnectionOptions,
                  credentials: CredentialStore) -> dict:
    """asyncssh keyword arguments for the chosen login method."""
    target = location.key
    method = options.effective_auth
    try:
        if method == "password":
            password = credentials.get(target)
            if not password:
                raise Unavailable(f"no password is stored for {target}; run "
                                  f"'syncpane credentials set {target}' first")
            return {"password": password, "client_keys": None, "agent_path": None,
                    "preferred_auth": "password,keyboard-interactive"}
        if method == "key":
            keypair = _load_key(options.key_file or "", target, credentials)
            return {"client_keys": [keypair], "agent_path": None, "password": None,
                    "preferred_auth": "publickey"}
    except CredentialError as exc:
        raise Unavailable(f"cannot log in to {target}: {exc}") from None
    # agent: the SSH agent plus the usual ~/.ssh/id_* keys, like ssh does.
    return {"password": None, "preferred_auth": "publickey"}


def _load_key(key_file: str, target: str, credentials: CredentialStore):
    path = os.path.expanduser(key_file)
    if not os.path.isfile(path):
        raise Unavailable(f"the key file {key_file} does not exist")
    try:
        return asyncssh.load_keypairs(path)[0]
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, OSError, ValueError) as exc:
        # asyncssh says "Passphrase must be specified..." for an encrypted key.
        if "passphrase" not in str(exc).lower():
            raise Unavailable(f"the key file {key_file} cannot be read: {exc}") from None
    passphrase = credentials.get(target)
    if not passphrase:
        raise Unavailable(f"the key file {key_file} is protected by a passphrase and none is "
                          f"stored; run 'syncpane credentials set {target}'")
    try:
        return asyncssh.load_keypairs(path, passphrase)[0]
    except (asyncssh.KeyEncryptionError, asyncssh.KeyImportError) as exc:
        if "passphrase" not in str(exc).lower() and "decrypt" not in str(exc).lower():
            raise Unavailable(f"the key file {key_file} cannot be read: {exc}") from None
        raise Unavailable(f"the stored passphrase does not unlock the key file {key_file}; "
                          f"run 'syncpane credentials set {target}' to replace it") from None
    except (OSError, ValueError) as exc:
        raise Unavailable(f"the key file {key_file} cannot be read: {exc}") from None


async def connect(location: SftpLocation, options: ConnectionOptions,
                  credentials: CredentialStore, known_hosts: KnownHosts,
                  accept_new_host_key: bool = False) -> asyncssh.SSHClientConnection:
    """Log in to the server of ``location``; :class:`Unavailable` naming the cause if not."""
    target = location.key
    timeout = options.timeout_seconds
    client = _Client(location, known_hosts, accept_new_host_key)
    kwargs = _auth_options(location, options, credentials)
    preferred = known_hosts.preferred_algorithms(location.host, location.port)
    if preferred:
        # Ask the server for a key type we have on record, so a server that
        # also has another key type is not mistaken for a changed one.
        kwargs["server_host_key_algs"] = preferred
    try:
        conn, _ = await asyncssh.create_connection(
            lambda: client, location.host, location.port, username=location.user,
            known_hosts=([], [], []),  # empty but not None: our callback decides
            encryption_algs=CIPHERS, connect_timeout=timeout, login_timeout=timeout,
            keepalive_interval=max(1.0, timeout / 2), keepalive_count_max=2,
            window=WINDOW, tunnel=GatheringConnector(), **kwargs)
    except asyncssh.HostKeyNotVerifiable as exc:
        if client.verdict is not None and client.key is not None:
            if client.verdict.status is HostKeyStatus.UNKNOWN:
                raise UnknownHostKey(client.verdict.message(target), client.key,
                                     client.verdict) from None
            raise Unavailable(client.verdict.message(target)) from None
        raise Unavailable(f"the host key of {target} could not be verified: {exc.reason}") from None
    except asyncssh.PermissionDenied:
        raise Unavailable(_denied_message(target, options)) from None
    except asyncssh.DisconnectError as exc:
        raise Unavailable(f"{target} closed the connection during login: {exc.reason}") from None
    except (asyncio.TimeoutError, TimeoutError):
        raise Unavailable(f"{target} did not answer within {timeout:g} s") from None
    except socket.gaierror as exc:
        raise Unavailable(f"cannot find the host {location.host}: {exc.strerror}") from None
    except ConnectionRefusedError:
        raise Unavailable(f"cannot reach {target}: connection refused (no SSH server "
                          "listening on that port?)") from None
    except (OSError, asyncssh.Error) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        raise Unavailable(f"cannot reach {target}: {reason}") from None
    skip_ignore_packets(conn)
    return conn


def _denied_message(target: str, options: ConnectionOptions) -> str:
    method = options.effective_auth
    if method == "password":
        why = "the stored password was refused (wrong password, or password login is off)"
    elif method == "key":
        why = f"the server did not accept the key file {options.key_file}"
    else:
        why = "no key from the SSH agent or ~/.ssh was accepted"
    return f"login to {target} failed: {why}"


@dataclass(eq=False)
class PoolEntry:
    """One live connection and its SFTP session (plus what we learnt about it)."""

    conn: asyncssh.SSHClientConnection
    # None until the SFTP sessions are up (see ``starting``): a command over
    # exec (the remote listing) needs only the connection and need not wait.
    sftp: asyncssh.SFTPClient | None
    # None: not tried yet; False: the server cannot run our commands.
    can_find: bool | None = None
    can_hash: bool | None = None
    hash_tools: tuple[str, ...] | None = None  # the server's hash tools (sftp_hash)
    can_stage: bool | None = None  # GNU tar + find for staged batches (sftp_batch)
    umask: int | None = None  # the account's umask, when a batch needed it
    # More SFTP sessions on the same connection (see SESSIONS).
    extra_sftp: list = field(default_factory=list)
    broken: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    starting: asyncio.Future | None = None  # the sessions starting (Unavailable if they cannot)
    _turn: int = 0

    @property
    def channels(self) -> list:
        """Every SFTP session of this connection, the first one first."""
        return [self.sftp, *self.extra_sftp]

    def next_channel(self) -> asyncssh.SFTPClient:
        """The sessions in turn, so requests are spread over all of them."""
        if not self.extra_sftp:
            return self.sftp
        self._turn += 1
        chans = self.extra_sftp
        k = self._turn % (len(chans) + 1)
        return self.sftp if k == len(chans) else chans[k]


class SftpPool:
    """Connections keyed by ``USER@HOST:PORT``, shared by all SFTP sides."""

    def __init__(self) -> None:
        self._entries: dict[str, PoolEntry] = {}
        self._attempts: dict[str, asyncio.Future] = {}  # logins under way
        self._users: dict[str, int] = {}

    def acquire(self, key: str) -> None:
        """Count one more side using ``key`` (see :meth:`release`)."""
        self._users[key] = self._users.get(key, 0) + 1

    async def release(self, key: str) -> None:
        """One side is done; the connection closes when the last one is."""
        left = self._users.get(key, 0) - 1
        if left > 0:
            self._users[key] = left
            return
        self._users.pop(key, None)
        entry = self._entries.pop(key, None)
        if entry is not None:
            await _close(entry)

    async def get(self, location: SftpLocation, options: ConnectionOptions,
                  credentials: CredentialStore, known_hosts: KnownHosts,
                  accept_new_host_key: bool = False, sessions: bool = True) -> PoolEntry:
        """The live connection for this server, connecting if there is none.

        With ``sessions`` (the default) its SFTP sessions are up too; without,
        the connection may be returned while they are still starting.
        """
        key = location.key
        entry = self._entries.get(key)
        if entry is None or entry.broken or entry.conn.is_closed():
            # One login at a time per server, shared by everyone who asks
            # meanwhile: they all get its connection, or its failure (one
            # attempt, so one host-key question, one wrong-password refusal).
            attempt = self._attempts.get(key)
            if attempt is None:
                attempt = asyncio.ensure_future(self._login(
                    location, options, credentials, known_hosts, accept_new_host_key))
                self._attempts[key] = attempt
                attempt.add_done_callback(lambda f: self._attempt_over(key, f))
            entry = await asyncio.shield(attempt)
        if sessions and entry.sftp is None:
            try:
                await asyncio.shield(entry.starting)
            except Unavailable:
                if self._entries.get(key) is entry:
                    del self._entries[key]
                entry.conn.close()
                raise
        return entry

    async def _login(self, location: SftpLocation, options: ConnectionOptions,
                     credentials: CredentialStore, known_hosts: KnownHosts,
                     accept_new_host_key: bool) -> PoolEntry:
        conn = await connect(location, options, credentials, known_hosts, accept_new_host_key)
        entry = PoolEntry(conn, None)
        entry.starting = asyncio.ensure_future(
            _start_sessions(entry, location.key, options.timeout_seconds))
        # (Seen by whoever waits for the sessions; never left unretrieved.)
        entry.starting.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._entries[location.key] = entry
        return entry

    def _attempt_over(self, key: str, attempt: asyncio.Future) -> None:
        if self._attempts.get(key) is attempt:
            del self._attempts[key]
        if not attempt.cancelled():
            attempt.exception()  # retrieved: each waiter has its own copy

    async def drop(self, key: str, entry: PoolEntry) -> None:
        """Forget a connection found dead or stuck (only if it is still the current one)."""
        entry.broken = True
        if self._entries.get(key) is entry:
            del self._entries[key]
        await _close(entry)

    async def close_all(self) -> None:
        """Close every connection (end of a run)."""
        attempts = list(self._attempts.values())
        for attempt in attempts:
            attempt.cancel()  # a login nobody waits for any more (one that ends
        await asyncio.gather(*attempts, return_exceptions=True)  # lands in _entries)
        entries = list(self._entries.values())
        self._entries.clear()
        self._users.clear()
        for entry in entries:
            await _close(entry)


async def _start_sessions(entry: PoolEntry, key: str, timeout: float) -> None:
    """The first SFTP session and the extra ones, started together: each start
    is a few round trips, which a far server would otherwise add up."""
    conn = entry.conn
    more = asyncio.ensure_future(_more_sessions(conn, timeout))
    try:
        sftp = await asyncio.wait_for(conn.start_sftp_client(path_errors="surrogateescape"),
                                      timeout)
    except (asyncssh.Error, OSError, asyncio.TimeoutError) as exc:
        more.cancel()
        await asyncio.gather(more, return_exceptions=True)
        reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        raise Unavailable(f"{key} does not offer SFTP: {reason}") from None
    entry.extra_sftp = await more
    entry.sftp = sftp


async def _more_sessions(conn: asyncssh.SSHClientConnection, timeout: float) -> list:
    """Up to SESSIONS - 1 more SFTP sessions, started together; as many as the
    server grants (OpenSSH allows 10 sessions per connection by default)."""
    async def one():
        return await within(conn.start_sftp_client(path_errors="surrogateescape"), timeout)
    results = await asyncio.gather(*(one() for _ in range(SESSIONS - 1)),
                                   return_exceptions=True)
    return [r for r in results if isinstance(r, asyncssh.SFTPClient)]


async def _close(entry: PoolEntry) -> None:
    try:
        for extra in entry.extra_sftp:
            extra.exit()
        if entry.sftp is not None:
            entry.sftp.exit()
        entry.conn.close()
        await asyncio.wait_for(entry.conn.wait_closed(), 2)
    except (asyncssh.Error, OSError, asyncio.TimeoutError):
        pass  # closing a dead link: nothing more to do
