"""Passwords and key passphrases, kept in the OS keyring and nowhere else.

Service ``syncpane``, user name ``USER@HOST:PORT``. When keyring has no usable
backend (headless Linux without a Secret Service) we say so with
:class:`NoKeyringAvailable`; we never fall back to a plaintext file.
"""

from __future__ import annotations

import getpass
import re
import sys
from typing import Protocol, TextIO

SERVICE = "syncpane"
_TARGET_RE = re.compile(r"^[^@\s]+@(\[[0-9A-Fa-f:.%]+\]|[^@\s:\[\]]+):\d{1,5}$")


class CredentialError(Exception):
    """A credential could not be read or stored; ``str()`` is fit for a person."""


class NoKeyringAvailable(CredentialError):
    """No secure keyring backend exists on this system."""

    def __init__(self, detail: str = "") -> None:
        msg = ("no secure keyring is available on this system (no Secret Service / "
               "Keychain / Credential Manager found), so passwords cannot be stored; "
               "Syncpane never stores them in plain text")
        super().__init__(msg + (f" ({detail})" if detail else ""))


class CredentialStore(Protocol):
    """Where secrets for ``USER@HOST:PORT`` live."""

    def get(self, target: str) -> str | None:
        """The stored secret, or None when there is none."""

    def set(self, target: str, secret: str) -> None:
        """Store (or replace) the secret."""

    def delete(self, target: str) -> bool:
        """Remove the secret; False when there was none."""


class InMemoryCredentials:
    """A store for tests and for asking each time (GUI without a keyring)."""

    def __init__(self, initial: dict[str, str] | None = None) -> None:
        self._data = dict(initial or {})

    def get(self, target: str) -> str | None:
        return self._data.get(target)

    def set(self, target: str, secret: str) -> None:
        self._data[target] = secret

    def delete(self, target: str) -> bool:
        return self._data.pop(target, None) is not None


class KeyringCredentials:
    """The OS keyring through the ``keyring`` package (service ``syncpane``)."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    def _backend(self):
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or _is_plaintext(backend):
            raise NoKeyringAvailable()
        return backend

    def get(self, target: str) -> str | None:
        import keyring.errors

        try:
            return self._backend().get_password(self.service, target)
        except keyring.errors.NoKeyringError as exc:
            raise NoKeyringAvailable() from exc
        except keyring.errors.KeyringError as exc:
            raise CredentialError(f"the keyring could not be read: {exc}") from exc

    def set(self, target: str, secret: str) -> None:
        import keyring.errors

        try:
            self._backend().set_password(self.service, target, secret)
        except keyring.errors.NoKeyringError as exc:
            raise NoKeyringAvailable() from exc
        except keyring.errors.KeyringError as exc:
            raise CredentialError(f"the keyring refused to store the secret: {exc}") from exc

    def delete(self, target: str) -> bool:
        import keyring.errors

        backend = self._backend()
        try:
            if backend.get_password(self.service, target) is None:
                return False
            backend.delete_password(self.service, target)
            return True
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring.errors.NoKeyringError as exc:
            raise NoKeyringAvailable() from exc
        except keyring.errors.KeyringError as exc:
            raise CredentialError(f"the keyring could not delete the secret: {exc}") from exc


def keyring_store() -> KeyringCredentials:
    """The store the app uses: the OS keyring, service ``syncpane``."""
    return KeyringCredentials()


def _is_plaintext(backend) -> bool:
    # keyrings.alt's file backends write secrets to disk unencrypted (or with a
    # weak scheme); refuse them even if someone installed that package.
    module = type(backend).__module__ or ""
    return module.startswith("keyrings.alt")


def valid_target(target: str) -> bool:
    """Whether ``target`` looks like ``USER@HOST:PORT`` (IPv6 host in brackets)."""
    return bool(_TARGET_RE.match(target)) and 0 < int(target.rsplit(":", 1)[1]) < 65536


def credentials_command(action: str, target: str, use_stdin: bool,
                        stdin: TextIO | None = None, stdout: TextIO | None = None,
                        stderr: TextIO | None = None,
                        store: CredentialStore | None = None) -> int:
    """``syncpane credentials set|delete USER@HOST:PORT``; returns the exit code.

    ``set`` reads the secret without echo (getpass) or, with ``use_stdin``, the
    first line of stdin. 0 on success, 2 with a message on stderr otherwise.
    The secret is never printed.
    """
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    store = store if store is not None else KeyringCredentials()
    if action not in ("set", "delete"):
        print(f"syncpane: unknown credentials action {action!r} (use set or delete)", file=stderr)
        return 2
    if not valid_target(target):
        print(f"syncpane: expected USER@HOST:PORT (e.g. alice@example.org:22), got {target!r}",
              file=stderr)
        return 2
    try:
        if action == "delete":
            if store.delete(target):
                print(f"Deleted the stored secret for {target}.", file=stdout)
                return 0
            print(f"syncpane: no secret is stored for {target}", file=stderr)
            return 2
        secret = _read_secret(target, use_stdin, stdin, stderr)
        if not secret:
            print("syncpane: empty secret, nothing stored", file=stderr)
            return 2
        store.set(target, secret)
    except CredentialError as exc:
        print(f"syncpane: {exc}", file=stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("\nsyncpane: no secret entered, nothing stored", file=stderr)
        return 2
    print(f"Stored the secret for {target} in the OS keyring.", file=stdout)
    return 0


def _read_secret(target: str, use_stdin: bool, stdin: TextIO, stderr: TextIO) -> str:
    if use_stdin:
        line = stdin.readline()
        return line.rstrip("\r\n")
    return getpass.getpass(f"Password or key passphrase for {target}: ", stream=stderr)
