"""Hashing on the server, for a content comparison: no file leaves it.

The server's own tools do it, run over an exec channel through ``xargs``
(names go on its input, NUL-separated, never through the shell):

* BLAKE3: ``b3sum`` (rarely installed; very fast, all cores);
* SHA-256: ``openssl dgst`` (nearly always there, and it uses the CPU's SHA
  instructions: 1 GiB took 1.2 s here, where coreutils' ``sha256sum`` took
  4.8 s), else ``sha256sum``.

A name comes back as the tool prints it. Each tool is given only the names
it prints exactly as they are (``sha256sum -z`` any name; ``b3sum`` UTF-8
without U+FFFD, which a byte that is not UTF-8 would also print as, and
without a backslash or line break, which it escapes; ``openssl`` any name
without a newline), and a line that is escaped or does not name one of them
is ignored: a digest is never put on the wrong name.
What no tool could hash, the caller streams.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.fs.hashing import local_kinds
from app.fs.sftp_remote import run_remote

if TYPE_CHECKING:
    from app.fs.sftp import SftpFS

HASH_STALL_FACTOR = 30  # a tool prints nothing until a (maybe huge) file is done
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@dataclass(frozen=True)
class HashTool:
    kind: str  # the hash (app.fs.hashing)
    program: str  # looked for on the server
    command: str  # what xargs runs, the names after it
    style: str  # how it prints: "nul", "b3sum" or "openssl" (see _parse)


# Fastest first within a kind.
TOOLS = (
    HashTool("blake3", "b3sum", "b3sum --", "b3sum"),
    HashTool("sha256", "openssl", "openssl dgst -sha256 -r", "openssl"),
    HashTool("sha256", "sha256sum", "sha256sum -z --", "nul"),
)

_NUL_LINE = re.compile(rb"^([0-9a-f]{64}) [ *](.*)$", re.DOTALL)
_B3_LINE = re.compile(rb"^([0-9a-f]{64})  (.*)$", re.DOTALL)
_OPENSSL_LINE = re.compile(rb"^([0-9a-f]{64}) \*\./(.*)$", re.DOTALL)


def _probe_command() -> str:
    """Prints the name of each tool that works here (and "xargs")."""
    parts = ["command -v xargs >/dev/null 2>&1 && echo xargs"]
    for t in TOOLS:
        if t.style == "openssl":  # there is more than one openssl: ask it for a digest
            parts.append(f"printf '' | {t.command} 2>/dev/null | grep -q '^{EMPTY_SHA256} ' "
                         f"&& echo {shlex.quote(t.program)}")
        else:
            parts.append(f"command -v {shlex.quote(t.program)} >/dev/null 2>&1 "
                         f"&& echo {shlex.quote(t.program)}")
    return "; ".join(parts)


async def _tools_there(fs: SftpFS) -> tuple[str, ...]:
    """The tools this server runs for us (asked once per connection)."""
    entry = await fs._entry(sessions=False)
    if entry.hash_tools is not None:
        return entry.hash_tools
    if fs.options.remote_commands != "auto" or entry.can_hash is False:
        return ()
    result = await run_remote(fs, _probe_command())
    found = set() if result is None else set(result.stdout.decode("utf-8", "replace").split())
    entry.hash_tools = tuple(t.program for t in TOOLS if t.program in found) \
        if "xargs" in found else ()
    if result is None:
        entry.can_hash = False
    return entry.hash_tools


async def remote_hash_kinds(fs: SftpFS) -> tuple[str, ...]:
    """The kinds this server hashes in place, best first."""
    there = await _tools_there(fs)
    return tuple(k for k in local_kinds()
                 if any(t.kind == k and t.program in there for t in TOOLS))


def _nameable(style: str, rel: str) -> bool:
    """Whether a tool of ``style`` prints ``rel`` exactly as it is."""
    if style == "nul":
        return True
    if style == "openssl":
        return "\n" not in rel
    # b3sum: UTF-8 (else its bytes print as U+FFFD, which a name may also
    # hold), and nothing it escapes.
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any(c in rel for c in "\ufffd\\\n\r")


def _parse(style: str, out: bytes) -> dict[bytes, str]:
    """name -> hex digest from a tool's output; escaped lines are left out."""
    got: dict[bytes, str] = {}
    pattern = {"nul": _NUL_LINE, "b3sum": _B3_LINE, "openssl": _OPENSSL_LINE}[style]
    for rec in out.split(b"\0" if style == "nul" else b"\n"):
        if style != "nul" and rec.startswith(b"\\"):
            continue  # an escaped name: its file is hashed another way
        m = pattern.match(rec)
        if m:
            got[m.group(2)] = m.group(1).decode("ascii")
    return got


async def remote_hashes(fs: SftpFS, rels: list[str], kind: str) -> dict[str, str]:
    """Digests of ``kind`` the server's tools gave for the files they could
    read (maybe none; the caller streams the rest)."""
    there = await _tools_there(fs)
    out: dict[str, str] = {}
    todo = list(rels)
    for tool in TOOLS:
        if tool.kind != kind or tool.program not in there:
            continue
        mine = [r for r in todo if _nameable(tool.style, r)]
        if not mine:
            continue
        prefix = b"./" if tool.style == "openssl" else b""  # (no name looks like an option)
        names = b"".join(prefix + r.encode("utf-8", "surrogateescape") + b"\0" for r in mine)
        result = await run_remote(fs, f"cd {shlex.quote(fs.root)} && xargs -0 -r {tool.command}",
                                  names, stall=fs.timeout * HASH_STALL_FACTOR)
        if result is None:
            entry = await fs._entry(sessions=False)
            entry.can_hash = False
            break
        wanted = {r.encode("utf-8", "surrogateescape"): r for r in mine}
        for name, digest in _parse(tool.style, result.stdout).items():
            rel = wanted.get(name)
            if rel is not None:
                out[rel] = digest
        # A file the tool could not read is not tried again (it is streamed,
        # which says why); the next tool gets the names this one could not take.
        todo = [r for r in todo if not _nameable(tool.style, r)]
    return out
