"""Content comparison's hashes: which one a pair uses, and the server's own
tools (``b3sum``, ``openssl dgst``, ``sha256sum``) against a real OpenSSH
server, with names that are hard to print."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import blake3
import pytest

from app.core.compare import common_hash
from app.core.events import CancelToken
from app.fs import hashing, sftp_hash, sftp_remote, sftp_transfer
from app.fs.sftp_hash import HashTool
from app.fs.local import LocalFS
from tests.fixtures.sshd import run_async
from tests.fs.test_sftp_e2e import _job, _run, _trust, _write
from tests.fs.test_sftp_ops import run_fs

pytestmark = pytest.mark.sshd

needs_b3sum = pytest.mark.skipif(shutil.which("b3sum") is None,
                                 reason="b3sum is not installed (apt-get install b3sum)")

# Names a line-based tool prints escaped, or cannot print as they are.
NAMES = {
    "plain.txt": b"alpha",
    "sp ace/b\nc": b"x" * 300_000,  # a newline: b3sum and openssl escape it
    "back\\slash": b"bs",  # a backslash: b3sum escapes it
    "cr\rname": b"cr",
    "-dash": b"dash",
    "empty": b"",
    "big.bin": os.urandom((4 << 20) + 123),  # more than one local read (HASH_READ)
    "raw\ufffd": b"a real U+FFFD",  # b3sum prints the next one so (its byte as U+FFFD)
    "raw\udcfe": b"not UTF-8",  # noqa: F601 - a lone surrogate, not U+FFFD: its own key
}
B3SUM_PRINTS = {"plain.txt", "-dash", "empty", "big.bin"}
OPENSSL_PRINTS = set(NAMES) - {"sp ace/b\nc"}


def _without(*programs: str) -> tuple[HashTool, ...]:
    """The tool list, with ``programs`` renamed to commands no server has."""
    return tuple(HashTool(t.kind, "syncpane-no-such-" + t.program,
                          "syncpane-no-such-" + t.command, t.style)
                 if t.program in programs else t for t in sftp_hash.TOOLS)


@pytest.fixture
def commands(monkeypatch):
    """Every command run on the server."""
    seen: list[str] = []
    real = sftp_remote.run_remote

    async def spy(fs, command, *a, **kw):
        seen.append(command)
        return await real(fs, command, *a, **kw)
    monkeypatch.setattr(sftp_hash, "run_remote", spy)
    return seen


def _hashed_by(commands: list[str]) -> list[str]:
    return [c.split("xargs -0 -r ", 1)[1].split()[0] for c in commands if "xargs -0 -r" in c]


def _digest(kind: str, data: bytes) -> str:
    return (blake3.blake3(data) if kind == "blake3" else hashlib.sha256(data)).hexdigest()


def _fill(root: Path) -> None:
    for rel, data in NAMES.items():
        p = os.path.join(os.fsencode(root), os.fsencode(rel))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)


@pytest.fixture
def streamed(monkeypatch):
    """The names hashed by streaming them here (not by the server's tool)."""
    seen: list[str] = []
    real = sftp_transfer._stream_hash

    async def spy(fs, rel, cancel, kind="sha256"):
        seen.append(rel)
        return await real(fs, rel, cancel, kind)
    monkeypatch.setattr(sftp_transfer, "_stream_hash", spy)
    return seen


def test_choose_prefers_what_both_sides_hash_in_place():
    if hashing.local_kinds() != ("blake3", "sha256"):
        pytest.skip("the blake3 module is not installed")
    both = ("blake3", "sha256")
    assert hashing.choose(both, both) == "blake3"
    assert hashing.choose(both, ("sha256",)) == "sha256"  # a server with sha256sum only
    assert hashing.choose(("sha256",), both) == "sha256"
    assert hashing.choose(both, ()) == "blake3"  # the server streams: ours is best
    assert hashing.choose((), ()) == "blake3"
    assert hashing.choose(("blake3",), ("sha256",)) == "blake3"  # one side either way


def test_choose_without_blake3_module(monkeypatch):
    monkeypatch.setattr(hashing, "_blake3", None)
    assert hashing.local_kinds() == ("sha256",)
    assert hashing.choose(("blake3", "sha256"), ("blake3", "sha256")) == "sha256"
    with pytest.raises(ValueError, match="BLAKE3"):
        hashing.new_hasher("blake3")


@pytest.mark.parametrize("kind", ["blake3", "sha256"])
def test_local_hashes(tmp_path, kind):
    _fill(tmp_path)
    fs = LocalFS(str(tmp_path))
    assert run_async(fs.hash_kinds) == hashing.local_kinds()
    got = run_async(fs.hash_files, list(NAMES) + ["missing"], CancelToken(), kind)
    assert got == {rel: _digest(kind, data) for rel, data in NAMES.items()}


@needs_b3sum
def test_server_with_b3sum_hashes_in_place_what_it_prints_as_is(sftp_env, streamed, commands):
    _fill(sftp_env.root)

    async def body(fs):
        kinds = await fs.hash_kinds()
        return kinds, await fs.hash_files(list(NAMES) + ["missing"], CancelToken(), "blake3")
    kinds, got = run_fs(sftp_env, body)
    assert kinds == ("blake3", "sha256")
    assert got == {rel: _digest("blake3", data) for rel, data in NAMES.items()}
    assert _hashed_by(commands) == ["b3sum"]
    # The names b3sum cannot print as they are came over the wire (and the
    # missing one, looked for there).
    assert sorted(streamed) == sorted(set(NAMES) - B3SUM_PRINTS | {"missing"})


def test_sha256_in_place_by_openssl_then_sha256sum(sftp_env, streamed, commands):
    """openssl (fast) hashes every name it prints as it is; sha256sum -z the
    one with a newline; nothing but the missing file is streamed."""
    _fill(sftp_env.root)

    async def body(fs):
        return await fs.hash_files(list(NAMES) + ["missing"], CancelToken(), "sha256")
    got = run_fs(sftp_env, body)
    assert got == {rel: _digest("sha256", data) for rel, data in NAMES.items()}
    assert _hashed_by(commands) == ["openssl", "sha256sum"]
    assert streamed == ["missing"]


def test_sha256_without_openssl_all_by_sha256sum(sftp_env, streamed, commands, monkeypatch):
    monkeypatch.setattr(sftp_hash, "TOOLS", _without("openssl"))
    _fill(sftp_env.root)

    async def body(fs):
        return await fs.hash_files(list(NAMES) + ["missing"], CancelToken(), "sha256")
    got = run_fs(sftp_env, body)
    assert got == {rel: _digest("sha256", data) for rel, data in NAMES.items()}
    assert _hashed_by(commands) == ["sha256sum"]
    assert streamed == ["missing"]


def test_sha256_with_openssl_only(sftp_env, streamed, commands, monkeypatch):
    monkeypatch.setattr(sftp_hash, "TOOLS", _without("sha256sum"))
    _fill(sftp_env.root)

    async def body(fs):
        return await fs.hash_files(list(NAMES), CancelToken(), "sha256")
    got = run_fs(sftp_env, body)
    assert got == {rel: _digest("sha256", data) for rel, data in NAMES.items()}
    assert _hashed_by(commands) == ["openssl"]
    assert sorted(streamed) == sorted(set(NAMES) - OPENSSL_PRINTS)


def test_server_without_b3sum_offers_sha256_and_streams_blake3(sftp_env, streamed,
                                                               monkeypatch):
    """No b3sum there (a command no server has): SHA-256 in place is what the
    pair picks; asked for BLAKE3 all the same, every file streams."""
    monkeypatch.setattr(sftp_hash, "TOOLS", _without("b3sum"))
    _fill(sftp_env.root)

    async def body(fs):
        local = LocalFS(str(sftp_env.root))
        return (await fs.hash_kinds(), await common_hash(local, fs),
                await fs.hash_files(list(NAMES), CancelToken(), "blake3"))
    kinds, kind, got = run_fs(sftp_env, body)
    assert kinds == ("sha256",) and kind == "sha256"
    assert got == {rel: _digest("blake3", data) for rel, data in NAMES.items()}
    assert sorted(streamed) == sorted(NAMES)


def test_server_without_any_hash_tool_hashes_nothing_in_place(sftp_env, streamed,
                                                              monkeypatch):
    monkeypatch.setattr(sftp_hash, "TOOLS", _without("b3sum", "openssl", "sha256sum"))
    _fill(sftp_env.root)

    async def body(fs):
        return await fs.hash_kinds(), await fs.hash_files(list(NAMES), CancelToken(), "sha256")
    kinds, got = run_fs(sftp_env, body)
    assert kinds == ()
    assert got == {rel: _digest("sha256", data) for rel, data in NAMES.items()}
    assert sorted(streamed) == sorted(NAMES)


def test_remote_commands_off_hashes_nothing_in_place(sftp_env, streamed, commands):
    _fill(sftp_env.root)

    async def body(fs):
        return await fs.hash_kinds(), await fs.hash_files(list(NAMES), CancelToken(), "blake3")
    kinds, got = run_fs(sftp_env, body, remote_commands="off")
    assert kinds == () and commands == []
    assert got == {rel: _digest("blake3", data) for rel, data in NAMES.items()}
    assert sorted(streamed) == sorted(NAMES)


def test_sftp_only_account_hashes_nothing_in_place(sftp_only_env, streamed):
    (sftp_only_env.root / "a.txt").write_bytes(b"alpha")

    async def body(fs):
        return await fs.hash_kinds(), await fs.hash_files(["a.txt"], CancelToken(), "sha256")
    kinds, got = run_fs(sftp_only_env, body)
    assert kinds == ()
    assert got == {"a.txt": _digest("sha256", b"alpha")}


def test_openssl_lines_are_read_strictly():
    """An escaped line (a name with a newline), another tool's format, or a
    name without our "./" is never taken for a digest."""
    h = "ab" * 32
    out = (f"{h} *./plain\n\\{h} *./new\\nline\n{h}  ./two-spaces\n{h} *elsewhere\n"
           f"{h} *./back\\slash\n").encode()
    assert sftp_hash._parse("openssl", out) == {b"plain": h, b"back\\slash": h}


@pytest.mark.parametrize("server", [
    pytest.param("b3sum", marks=needs_b3sum), "openssl", "sha256sum only", "no commands"])
def test_content_compare_uses_the_servers_best_tool(sftp_env, tmp_path, monkeypatch, commands,
                                                    server):
    """A content compare of a local folder and a server: each file's two
    digests are of one kind, and the server hashes in place where it can."""
    if server == "openssl":
        monkeypatch.setattr(sftp_hash, "TOOLS", _without("b3sum"))
    elif server == "sha256sum only":
        monkeypatch.setattr(sftp_hash, "TOOLS", _without("b3sum", "openssl"))
    _trust(sftp_env)
    local = tmp_path / "local"
    for name, (mine, theirs) in {"same.bin": (b"A" * 5000, b"A" * 5000),
                                 "changed.bin": (b"B" * 5000, b"C" * 5000),
                                 "new line.bin": (b"D" * 70, b"D" * 70)}.items():
        _write(local / name, mine)
        _write(sftp_env.root / name, theirs, 1_700_000_999)  # same size, another time
    job = _job(tmp_path, sftp_env, str(local), sftp_env.url, compare={"method": "content"})
    if server == "no commands":
        doc = json.loads(Path(job).read_text())
        doc["connections"][next(iter(doc["connections"]))]["remote_commands"] = "off"
        Path(job).write_text(json.dumps(doc))
    code, out, err = _run("compare", job)
    assert code == 0, (out, err)
    cats = {i["path"]: i["category"] for i in out["pairs"][0]["items"]}
    assert "same.bin" not in cats and "new line.bin" not in cats, cats  # equal: not listed
    assert cats["changed.bin"] != "equal", cats
    want = {"b3sum": ["b3sum"], "openssl": ["openssl"], "sha256sum only": ["sha256sum"],
            "no commands": []}[server]
    assert _hashed_by(commands) == want, commands
