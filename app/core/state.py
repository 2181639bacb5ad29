"""Last-sync state of a two-way pair: what both sides held after the last sync.

Two-way needs it to tell "new on the left" from "deleted on the right".
It is kept per pair under the app's data folder, keyed by a hash of the two
locations, and written atomically (temporary file, flush, rename) only after
a sync ran: a run killed half-way leaves the previous state in place, and
every path it did change is then equal on both sides, which the next run
recognizes without any state.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from app.core.model import Entry, Kind

STATE_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Remembered:
    """One path as it was on both sides after the last sync."""

    kind: Kind
    left_size: int
    left_mtime_ns: int
    right_size: int
    right_mtime_ns: int


def unchanged(entry: Entry | None, was: Remembered | None, left: bool) -> bool:
    """True when ``entry`` is exactly what the last sync left on that side."""
    if entry is None or was is None:
        return entry is None and was is None
    if entry.kind is not was.kind:
        return False
    if entry.kind is Kind.DIR:
        return True
    if left:
        return entry.size == was.left_size and entry.mtime_ns == was.left_mtime_ns
    return entry.size == was.right_size and entry.mtime_ns == was.right_mtime_ns


def remember(left: Entry, right: Entry) -> Remembered:
    return Remembered(left.kind, left.size, left.mtime_ns, right.size, right.mtime_ns)


def state_file(state_dir: Path, left_id: str, right_id: str) -> Path:
    digest = hashlib.sha256(f"{left_id}\n{right_id}".encode("utf-8", "surrogateescape"))
    return state_dir / f"{digest.hexdigest()[:32]}.json.gz"


def load_state(path: Path) -> dict[str, Remembered] | None:
    """The remembered paths, or None when this pair was never synced.

    A damaged state file is treated as absent: two-way then behaves as on a
    first sync (newer wins, same-time differences are conflicts), which never
    deletes anything.
    """
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape") as f:
            doc = json.load(f)
        if doc.get("format") != STATE_FORMAT:
            return None
        out: dict[str, Remembered] = {}
        for key, (kind, ls, lm, rs, rm) in doc["items"].items():
            out[key] = Remembered(Kind(kind), ls, lm, rs, rm)
        return out
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        return None


def save_state(path: Path, items: dict[str, Remembered], left_id: str, right_id: str) -> None:
    """Write the state atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": STATE_FORMAT, "left": left_id, "right": right_id,
           "items": {k: [r.kind.value, r.left_size, r.left_mtime_ns, r.right_size,
                         r.right_mtime_ns] for k, r in items.items()}}
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5) as gz:
            gz.write(json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogateescape"))
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, path)
