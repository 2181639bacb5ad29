"""Helpers for tests: build trees, read them back, run the command line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
T0 = 1_700_000_000  # a fixed, whole-second time for files the tests create


def make_tree(root: Path, spec: dict[str, object], mtime: float = T0) -> Path:
    """Create files from ``{"rel/path": content}``; a value ending in '/' key
    or None makes a folder. Content may be str, bytes, or (content, mtime)."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, value in spec.items():
        p = root / rel
        if rel.endswith("/") or value is None:
            p.mkdir(parents=True, exist_ok=True)
            continue
        t = mtime
        if isinstance(value, tuple):
            value, t = value
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(value.encode() if isinstance(value, str) else value)
        os.utime(p, (t, t))
    return root


def read_tree(root: Path, *, with_dirs: bool = False) -> dict[str, bytes | None]:
    """Every file below ``root`` as ``{"rel/path": bytes}`` (folders as None)."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        if with_dirs:
            for d in dirnames:
                out[prefix + d + "/"] = None
        for f in filenames:
            p = os.path.join(dirpath, f)
            if os.path.islink(p):
                out[prefix + f] = ("-> " + os.readlink(p)).encode()
            else:
                with open(p, "rb") as fh:
                    out[prefix + f] = fh.read()
    return out


def snapshot(root: Path) -> dict[str, tuple]:
    """Names, sizes, mtimes and inode numbers: proves "nothing was touched"."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return out


def cli(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """Run ``syncpane`` in this process; returns (exit code, stdout, stderr)."""
    from app.cli import run_headless

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        code = run_headless(args[0], list(args[1:]), out, err)
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def cli_json(*args: str, cwd: Path | None = None) -> tuple[int, dict]:
    code, out, err = cli(*args, "--json", cwd=cwd)
    try:
        return code, json.loads(out)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"stdout is not one JSON object: {out!r}\nstderr: {err}") from exc


def run_subprocess(*args: str, env: dict | None = None, timeout: float = 120,
                   **kw) -> subprocess.CompletedProcess:
    """``python -m app ARGS`` in a child process."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout, **kw)


def write_job(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def items_by_path(doc: dict, pair: int = 0) -> dict[str, dict]:
    return {i["path"]: i for i in doc["pairs"][pair]["items"]}
