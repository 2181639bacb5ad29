"""The tray's settings: ``tray.json`` in the app's config folder.

Watch and interval settings are deliberately not part of the job format (a job
file describes *what* to sync and travels with a project; *when* it runs by
itself is a property of this computer). Keys, all optional::

    {"job_folders": ["~/syncjobs"],          # every *.syncjob in them is listed
     "pinned": ["/abs/a.syncjob"],          # listed first, in this order
     "recent": ["/abs/b.syncjob"],          # most recent first (quick syncs)
     "schedules": {"/abs/a.syncjob": {"watch": true, "settle_seconds": 10,
                                        "interval_minutes": 60}},
     "start_at_login": false}

A damaged file never stops the tray: unreadable parts fall back to defaults.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from app.config.paths import app_paths
from app.core.autorun import DEFAULT_SETTLE_SECONDS, Schedule

MAX_RECENT = 10


def _norm(path: str) -> str:
    return os.path.abspath(os.path.expanduser(path))


def _str_list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class TraySettings:
    """Load once, change in memory, :meth:`save` atomically."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or (app_paths().config / "tray.json")
        data: dict[str, Any] = {}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                data = loaded
        except (OSError, ValueError):
            pass
        self.job_folders = _str_list(data.get("job_folders"))
        self.pinned = [_norm(p) for p in _str_list(data.get("pinned"))]
        self.recent = [_norm(p) for p in _str_list(data.get("recent"))]
        self.start_at_login = data.get("start_at_login") is True
        self.schedules: dict[str, Schedule] = {}
        raw = data.get("schedules")
        for job, s in (raw.items() if isinstance(raw, dict) else ()):
            sched = _schedule(s)
            if sched is not None and sched.active:
                self.schedules[_norm(job)] = sched

    # -- queries ---------------------------------------------------------------------------
    def schedule(self, job_path: str) -> Schedule:
        return self.schedules.get(_norm(job_path), Schedule())

    # -- changes ---------------------------------------------------------------------------
    def set_schedule(self, job_path: str, schedule: Schedule) -> None:
        key = _norm(job_path)
        if schedule.active:
            self.schedules[key] = schedule
        else:
            self.schedules.pop(key, None)

    def set_pinned(self, job_path: str, pinned: bool) -> None:
        key = _norm(job_path)
        self.pinned = [p for p in self.pinned if p != key]
        if pinned:
            self.pinned.append(key)

    def used(self, job_path: str) -> None:
        """Put a job first among the recent ones."""
        key = _norm(job_path)
        self.recent = ([key] + [p for p in self.recent if p != key])[:MAX_RECENT]

    def to_json(self) -> dict[str, Any]:
        return {"job_folders": self.job_folders, "pinned": self.pinned, "recent": self.recent,
                "schedules": {job: {"watch": s.watch, "settle_seconds": s.settle_seconds,
                                    "interval_minutes": s.interval_minutes}
                              for job, s in self.schedules.items()},
                "start_at_login": self.start_at_login}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1), encoding="utf-8")
        os.replace(tmp, self.path)


def _schedule(value: Any) -> Schedule | None:
    if not isinstance(value, dict):
        return None
    watch = value.get("watch") is True
    settle = value.get("settle_seconds", DEFAULT_SETTLE_SECONDS)
    if not isinstance(settle, (int, float)) or isinstance(settle, bool) or settle <= 0:
        settle = DEFAULT_SETTLE_SECONDS
    interval = value.get("interval_minutes")
    if not isinstance(interval, (int, float)) or isinstance(interval, bool) or interval <= 0:
        interval = None
    return Schedule(watch=watch, settle_seconds=float(settle),
                    interval_minutes=float(interval) if interval else None)
