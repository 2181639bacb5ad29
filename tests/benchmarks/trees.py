"""Build the benchmark trees: N small files in ~N/50 folders, and a copy with
1% changed, 1% added and 1% deleted files."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path


def build_tree(root: Path, files: int = 100_000, per_dir: int = 50, seed: int = 1) -> list[str]:
    """Create ``files`` small files under ``root``; return their relative paths."""
    rng = random.Random(seed)
    rels: list[str] = []
    dirs = max(1, files // per_dir)
    base_time = 1_700_000_000
    for d in range(dirs):
        folder = root / f"group{d // 40:03d}" / f"set{d:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        for f in range(per_dir):
            i = d * per_dir + f
            if i >= files:
                break
            rel = f"group{d // 40:03d}/set{d:05d}/item{i:06d}.jsonl"
            p = root / rel
            p.write_bytes(b'{"id": %d, "text": "%s"}\n' % (i, b"x" * rng.randint(10, 200)))
            t = base_time + i
            os.utime(p, (t, t))
            rels.append(rel)
    return rels


def derive_changed_copy(src: Path, dst: Path, rels: list[str], seed: int = 2) -> dict[str, int]:
    """Copy ``src`` to ``dst`` (times kept), then change 1%, add 1%, delete 1%
    of the files in the copy. Returns how many of each."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, copy_function=shutil.copy2)
    rng = random.Random(seed)
    picks = rng.sample(rels, k=len(rels) * 2 // 100)
    n = len(rels) // 100
    changed, deleted = picks[:n], picks[n:]
    for rel in changed:
        p = dst / rel
        p.write_bytes(p.read_bytes() + b"changed\n")
        os.utime(p, (1_800_000_000, 1_800_000_000))
    for rel in deleted:
        (dst / rel).unlink()
    for i in range(n):
        p = dst / f"group{i % 50:03d}" / "added" / f"new{i:06d}.jsonl"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b'{"new": %d}\n' % i)
    return {"changed": len(changed), "deleted": len(deleted), "added": n}
