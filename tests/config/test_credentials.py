"""Credentials in the OS keyring: the store, the refusal to use plaintext, and
``syncpane credentials set|delete`` with a tiny in-memory keyring backend."""

from __future__ import annotations

import io

import keyring
import keyring.backend
import pytest
from keyring.backends import fail

from app.config.credentials import (
    SERVICE,
    InMemoryCredentials,
    KeyringCredentials,
    NoKeyringAvailable,
    credentials_command,
    valid_target,
)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps secrets in a dict (tests only)."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.data.get((service, username))

    def set_password(self, service, username, password):
        self.data[(service, username)] = password

    def delete_password(self, service, username):
        if (service, username) not in self.data:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.data[(service, username)]


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def _run(action, target, stdin_text="", use_stdin=True):
    out, err = io.StringIO(), io.StringIO()
    code = credentials_command(action, target, use_stdin, io.StringIO(stdin_text), out, err)
    return code, out.getvalue(), err.getvalue()


def test_set_then_delete_via_stdin(memory_keyring):
    code, out, err = _run("set", "alice@example.org:22", "pa ss word\n")
    assert code == 0 and err == ""
    assert memory_keyring.data == {(SERVICE, "alice@example.org:22"): "pa ss word"}
    assert "pa ss word" not in out
    assert KeyringCredentials().get("alice@example.org:22") == "pa ss word"

    code, out, err = _run("delete", "alice@example.org:22")
    assert code == 0 and memory_keyring.data == {}
    code, out, err = _run("delete", "alice@example.org:22")
    assert code == 2 and "no secret is stored" in err


def test_set_with_prompt_uses_getpass(memory_keyring, monkeypatch):
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt, stream=None:
                        prompts.append(prompt) or "typed-secret")
    code, _out, _err = _run("set", "bob@[::1]:2222", use_stdin=False)
    assert code == 0
    assert prompts == ["Password or key passphrase for bob@[::1]:2222: "]
    assert memory_keyring.data[(SERVICE, "bob@[::1]:2222")] == "typed-secret"


@pytest.mark.parametrize("target", ["alice@example.org", "example.org:22", "a@b:0",
                                    "a@b:70000", "a b@c:22", "a@::1:22"])
def test_bad_target_exit_2(memory_keyring, target):
    code, _out, err = _run("set", target, "x\n")
    assert code == 2 and "USER@HOST:PORT" in err
    assert memory_keyring.data == {}


def test_empty_secret_and_unknown_action(memory_keyring):
    assert _run("set", "a@b:22", "\n")[0] == 2
    code, _out, err = _run("show", "a@b:22")
    assert code == 2 and "unknown credentials action" in err
    assert memory_keyring.data == {}


def test_no_keyring_backend_is_a_clear_error(no_keyring):
    code, _out, err = _run("set", "alice@example.org:22", "secret\n")
    assert code == 2
    assert "no secure keyring" in err and "plain text" in err
    assert "secret" not in err.replace("no secure", "").replace("Secret Service", "")
    with pytest.raises(NoKeyringAvailable):
        KeyringCredentials().get("alice@example.org:22")
    with pytest.raises(NoKeyringAvailable):
        KeyringCredentials().set("alice@example.org:22", "x")


def test_plaintext_backend_refused():
    class FakeAlt(MemoryKeyring):
        pass
    FakeAlt.__module__ = "keyrings.alt.file"
    previous = keyring.get_keyring()
    keyring.set_keyring(FakeAlt())
    try:
        with pytest.raises(NoKeyringAvailable):
            KeyringCredentials().set("a@b:22", "x")
    finally:
        keyring.set_keyring(previous)


def test_in_memory_store():
    store = InMemoryCredentials({"a@b:22": "x"})
    assert store.get("a@b:22") == "x" and store.get("c@d:22") is None
    assert store.delete("a@b:22") is True and store.delete("a@b:22") is False


def test_valid_target():
    assert valid_target("alice@gpu.example.org:22")
    assert valid_target("u@[::1]:2222")
    assert not valid_target("u@host")
