"""The tray menu as plain data, so tests can read it without a system tray.

The view turns each :class:`MenuItem` into a ``QAction`` (or a submenu) and
calls ``controller.trigger(item.action, item.job, item.value)`` when chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.autorun import Schedule
from app.gui.tray.joblist import JobEntry

INTERVAL_CHOICES: tuple[tuple[str, float | None], ...] = (
    ("Off", None), ("Every 15 minutes", 15), ("Every hour", 60), ("Every 6 hours", 360),
    ("Every day", 1440))


@dataclass
class MenuItem:
    text: str = ""
    action: str = ""             # what trigger() is told; "" for a separator or a label
    job: str | None = None
    value: object = None
    checked: bool | None = None  # None: not checkable
    enabled: bool = True
    children: list[MenuItem] = field(default_factory=list)
    tooltip: str = ""

    @property
    def separator(self) -> bool:
        return not self.text and not self.children


SEPARATOR = MenuItem


def job_menu(entry: JobEntry, schedule: Schedule, running: bool) -> MenuItem:
    """One job's submenu: Sync now, Open in window, and its automation."""
    usable = not entry.problem
    sync_text = "Syncing…" if running else "Sync now"
    intervals = [MenuItem(text, "set_interval", entry.path, minutes,
                          checked=(schedule.interval_minutes or None) == minutes)
                 for text, minutes in INTERVAL_CHOICES]
    children = [
        MenuItem(sync_text, "sync_now", entry.path, enabled=usable and not running),
        MenuItem("Open in window", "open_job", entry.path, enabled=usable),
        SEPARATOR(),
        MenuItem("Run when files change", "toggle_watch", entry.path,
                 checked=schedule.watch, enabled=usable),
        MenuItem("Run on a schedule", children=intervals, enabled=usable),
        MenuItem("Pinned to the top", "toggle_pin", entry.path, checked=entry.pinned),
    ]
    marks = " (syncing)" if running else (" (automatic)" if schedule.active else "")
    title = entry.title + marks
    return MenuItem(title, "", entry.path, children=children,
                    tooltip=entry.problem or entry.path)


def tray_menu(entries: list[JobEntry], schedules: dict[str, Schedule], running: set[str],
              paused: bool, start_at_login: bool) -> list[MenuItem]:
    """The whole menu: jobs (pinned first, then recent), then the app's items."""
    items: list[MenuItem] = []
    if entries:
        for i, e in enumerate(entries):
            if i and entries[i - 1].pinned and not e.pinned:
                items.append(SEPARATOR())  # the pinned jobs stand apart
            items.append(job_menu(e, schedules.get(e.path, Schedule()), e.path in running))
    else:
        items.append(MenuItem("No saved jobs yet", enabled=False))
    items += [
        SEPARATOR(),
        MenuItem("Open Syncpane", "open_window"),
        MenuItem("Pause all", "pause_all", checked=paused),
        MenuItem("Start in tray at login", "toggle_autostart", checked=start_at_login),
        SEPARATOR(),
        MenuItem("Quit", "quit"),
    ]
    return items


def find(items: list[MenuItem], text: str) -> MenuItem | None:
    """The first item (at any depth) whose text is ``text`` (for tests and the view)."""
    for item in items:
        if item.text == text:
            return item
        hit = find(item.children, text)
        if hit is not None:
            return hit
    return None
