"""The words of the tray's notifications, from a quick-sync result (Qt-free)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.units import human_size
from app.gui.tray.quicksync import Kind, QuickSyncResult


@dataclass(frozen=True)
class Notice:
    """One notification. ``click`` says what a click on it opens:
    ``("log", path)``, ``("window", job_path)`` or ``None``."""

    title: str
    text: str
    level: str = "info"  # info | warning | error
    click: tuple[str, str] | None = None
    job_path: str | None = None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def moved_text(result: QuickSyncResult) -> str:
    """"3 files copied (1.2 MB), 1 deleted, 2 moved"."""
    s = result.summary
    parts = []
    copied = s.copy_to_left + s.copy_to_right
    if copied:
        parts.append(f"{_plural(copied, 'file')} copied "
                     f"({human_size(s.bytes_to_left + s.bytes_to_right)})")
    if s.delete_left + s.delete_right:
        parts.append(f"{s.delete_left + s.delete_right} deleted")
    if s.move_left + s.move_right:
        parts.append(f"{s.move_left + s.move_right} moved")
    folders = s.create_dir_left + s.create_dir_right
    if folders:
        parts.append(f"{_plural(folders, 'folder')} created")
    return ", ".join(parts) or "nothing to do"


def _first(messages: list[str], limit: int = 2) -> str:
    shown = "; ".join(messages[:limit])
    more = len(messages) - limit
    return shown + (f" (and {more} more)" if more > 0 else "")


def notice_for(result: QuickSyncResult) -> Notice:
    """What to tell the person about a finished quick sync."""
    name, job, k = result.job_name, result.job_path, result.kind
    log = ("log", result.log_path) if result.log_path else None
    if k is Kind.DONE and not result.messages:
        return Notice(f"{name}: synchronized", moved_text(result), "info", log, job)
    if k is Kind.DONE:
        return Notice(f"{name}: synchronized with warnings",
                      f"{moved_text(result)}. {_first(result.messages)}", "warning", log, job)
    if k is Kind.NOTHING:
        return Notice(f"{name}: already in sync", "Both sides were equal; nothing was changed.",
                      "info", log, job)
    if k is Kind.REFUSED:
        return Notice(f"{name}: not synchronized",
                      f"{_first(result.messages)}. Nothing was changed. "
                      "Click to review the plan in the window.", "warning",
                      ("window", job), job)
    if k is Kind.CONFLICTS:
        return Notice(f"{name}: conflicts, not synchronized",
                      f"{_first(result.messages)}. Nothing was changed. "
                      "Click to decide in the window.", "warning", ("window", job), job)
    if k is Kind.BUSY:
        return Notice(f"{name}: already running", _first(result.messages), "info", None, job)
    if k is Kind.CANCELLED:
        return Notice(f"{name}: cancelled", f"Stopped after: {moved_text(result)}.", "warning",
                      log, job)
    # FAILED: items failed (a log exists) or the job could not run at all.
    text = _first(result.messages) or "the sync failed"
    if result.log_path:
        text = f"{moved_text(result)}. Failed: {text}"
    return Notice(f"{name}: sync failed", text, "error", log or ("window", job), job)
