"""A plain-text log of each sync (what was done, what failed), last 50 kept."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

KEEP_LOGS = 50


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:40] or "job"


def write_sync_log(log_dir: Path, job_name: str, runs, result, *, dry_run: bool = False) -> Path:
    """Write one log file for a finished (or stopped) sync and prune old ones."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = log_dir / f"sync-{stamp}-{os.getpid()}-{_safe(job_name)}.log"
    when = time.strftime("%Y-%m-%d %H:%M:%S")
    lines = [f"Syncpane sync of {job_name or '(unnamed job)'} at {when}"
             + (" (dry run)" if dry_run else "")]
    for run in runs:
        lines.append(f"pair {run.index + 1}: {run.pair.left.display} <-> {run.pair.right.display}")
        for o in run.outcomes:
            status = "done" if o.ok else ("skipped" if o.skipped else "FAILED")
            src = f" (from {o.item.from_path})" if o.item.from_path else ""
            msg = f": {o.message}" if o.message else ""
            lines.append(f"  {status:7} {o.item.action.value:16} {o.item.path}{src}{msg}")
    s = result.summary
    lines.append(f"summary: {s.to_json()}")
    if result.cancelled:
        lines.append("cancelled by the person")
    for p in result.problems:
        lines.append(f"{'warning' if p.warning else 'error'}: {p.path or '(job)'}: {p.message}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="backslashreplace")
    _prune(log_dir)
    return path


def _prune(log_dir: Path) -> None:
    logs = sorted(log_dir.glob("sync-*.log"), key=lambda p: p.stat().st_mtime_ns)
    for old in logs[:-KEEP_LOGS]:
        try:
            old.unlink()
        except OSError:
            pass
