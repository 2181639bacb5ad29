"""The window's own memory: recent jobs and locations, geometry, column widths.

A small JSON file in the app's config folder (``app_paths().config``), so
``SYNCPANE_HOME`` redirects it like everything else the app writes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from app.config.paths import app_paths

MAX_RECENT = 10


class GuiSettings:
    """Load once, change in memory, save atomically."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or (app_paths().config / "window.json")
        self.data: dict[str, Any] = {}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self.data = loaded
        except (OSError, ValueError):
            pass  # first start, or a damaged file: start with defaults

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value

    def remember(self, key: str, value: str) -> list[str]:
        """Put ``value`` first in the recent list ``key`` (no duplicates)."""
        items = [v for v in self.data.get(key, []) if v != value]
        items.insert(0, value)
        self.data[key] = items[:MAX_RECENT]
        return self.data[key]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.data, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)
