"""Which jobs the tray menu lists, in which order: pinned first (in the order
they were pinned), then recently used (by the tray or the window), then the
other ``*.syncjob`` files of the job folders, by name."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

MAX_LISTED = 20


@dataclass(frozen=True)
class JobEntry:
    path: str
    title: str
    pinned: bool = False
    recent: bool = False
    problem: str = ""  # why the file cannot be used (missing, not a job)


def job_title(path: str) -> tuple[str, str]:
    """``(title, problem)``: the job's ``name`` or its file name; a problem when
    the file cannot be read as a job (the full check happens when it runs)."""
    stem = Path(path).stem
    try:
        with open(path, encoding="utf-8-sig") as f:
            doc = json.load(f)
    except FileNotFoundError:
        return stem, "the job file is missing"
    except (OSError, ValueError) as exc:
        return stem, f"cannot read the job file: {exc}"
    if not isinstance(doc, dict) or "syncpane_job" not in doc:
        return stem, "not a Syncpane job file"
    name = doc.get("name")
    return (name.strip() if isinstance(name, str) and name.strip() else stem), ""


def _folder_jobs(folders: list[str]) -> list[str]:
    found: list[str] = []
    for folder in folders:
        root = Path(os.path.expanduser(folder))
        try:
            found += sorted(str(p.resolve()) for p in root.glob("*.syncjob") if p.is_file())
        except OSError:
            continue
    return found


def list_jobs(pinned: list[str], recent: list[str], folders: list[str],
              limit: int = MAX_LISTED) -> list[JobEntry]:
    """The menu's jobs. ``recent`` is most-recent-first; missing recent files
    are dropped, a missing pinned one stays (shown with its problem)."""
    def norm(p: str) -> str:
        return os.path.normcase(os.path.abspath(os.path.expanduser(p)))

    seen: set[str] = set()
    out: list[JobEntry] = []

    def add(path: str, *, is_pinned: bool, is_recent: bool) -> None:
        key = norm(path)
        if key in seen or len(out) >= limit:
            return
        title, problem = job_title(path)
        if problem == "the job file is missing" and not is_pinned:
            return
        seen.add(key)
        out.append(JobEntry(os.path.abspath(os.path.expanduser(path)), title,
                            is_pinned, is_recent, problem))

    for p in pinned:
        add(p, is_pinned=True, is_recent=False)
    for p in recent:
        add(p, is_pinned=False, is_recent=True)
    for p in _folder_jobs(folders):
        add(p, is_pinned=False, is_recent=False)
    return out
