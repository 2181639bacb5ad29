"""Which hash a content comparison uses, and making one.

Both files of a pair must be hashed the same way. BLAKE3 is much faster than
SHA-256 (and spreads a big file over every core), so it is preferred where
it costs nothing extra: where each side hashes in place. A server hashes in
place when it has a tool (``b3sum``; ``openssl``, ``sha256sum``: see
:mod:`app.fs.sftp_hash`) and may run commands; otherwise its files are
streamed here and hashed by us, any way we like.
"""

from __future__ import annotations

import hashlib
from typing import Any

try:
    import blake3 as _blake3
except ImportError:  # not built for this platform: SHA-256 only
    _blake3 = None

BLAKE3 = "blake3"
SHA256 = "sha256"
PREFERRED = (BLAKE3, SHA256)  # best first


def local_kinds() -> tuple[str, ...]:
    """The hashes this process can compute, best first."""
    return PREFERRED if _blake3 is not None else (SHA256,)


def new_hasher(kind: str) -> Any:
    """A fresh hash object (``update``/``hexdigest``) of ``kind``."""
    if kind == BLAKE3:
        if _blake3 is None:
            raise ValueError("BLAKE3 is not available here")
        # Big updates are spread over the cores (the GIL is let go meanwhile).
        return _blake3.blake3(max_threads=_blake3.blake3.AUTO)
    if kind == SHA256:
        return hashlib.sha256()
    raise ValueError(f"unknown hash {kind!r}")


def choose(in_place_left: tuple[str, ...], in_place_right: tuple[str, ...]) -> str:
    """The hash for a pair whose sides hash in place the given kinds: one
    both sides hash in place, else one either does, else our best. (A kind
    a side cannot hash in place, it streams to us: any kind we have works.)"""
    mine = local_kinds()
    both = [k for k in mine if k in in_place_left and k in in_place_right]
    either = [k for k in mine if k in in_place_left or k in in_place_right]
    return (both or either or list(mine))[0]
