"""The app's own folders.

``SYNCPANE_HOME`` redirects everything the app writes (settings, last-sync
state, logs, known host keys) to one folder; otherwise platformdirs picks the
OS's usual places. Paths are computed when asked, never at import time, so
tests can redirect them with the environment variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from app import APP_NAME


@dataclass(frozen=True, slots=True)
class AppPaths:
    config: Path
    data: Path
    logs: Path

    @property
    def state(self) -> Path:
        """Last-sync state of two-way pairs."""
        return self.data / "state"

    @property
    def known_hosts(self) -> Path:
        """Host keys the person accepted in Syncpane."""
        return self.data / "known_hosts"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    @property
    def locks(self) -> Path:
        return self.data / "locks"


def app_paths() -> AppPaths:
    """The folders in force now (honours ``SYNCPANE_HOME``)."""
    home = os.environ.get("SYNCPANE_HOME")
    if home:
        base = Path(home).expanduser()
        return AppPaths(config=base / "config", data=base / "data", logs=base / "logs")
    import platformdirs

    return AppPaths(
        config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        logs=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
