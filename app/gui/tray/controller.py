"""The tray's behaviour, without the tray icon.

:class:`TrayController` knows the jobs, runs quick syncs on the engine thread,
drives the autorun scheduler and decides what the icon, its tooltip and the
notifications say. The view (:mod:`app.gui.tray.view`) only renders what the
controller emits, so everything here is testable where no system tray exists.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from app.core.autorun import AutoRunner, Outcome, Schedule, watch_folders, watchdog_watcher
from app.core.events import CancelToken
from app.gui.tray import qtfix
from app.gui.tray.joblist import JobEntry, list_jobs
from app.gui.tray.menu_model import MenuItem, tray_menu
from app.gui.tray.notices import Notice, human_size, notice_for
from app.gui.tray.qt_timers import QtTimers
from app.gui.tray.quicksync import Kind, ProgressCounter, QuickSyncResult, quick_sync
from app.gui.tray.settings import TraySettings

IDLE, SYNCING, ERROR, PAUSED = "idle", "syncing", "error", "paused"
TOOLTIP_REFRESH_MS = 500

_OUTCOME = {Kind.DONE: Outcome.OK, Kind.NOTHING: Outcome.OK, Kind.CANCELLED: Outcome.OK,
            Kind.BUSY: Outcome.BUSY}


@dataclass
class _Running:
    name: str
    automatic: bool
    cancel: CancelToken = field(default_factory=CancelToken)
    progress: ProgressCounter = field(default_factory=ProgressCounter)


def _window_recent() -> list[str]:
    """Jobs the window opened recently (its own settings file, read only)."""
    try:
        from app.gui.settings_store import GuiSettings
    except ImportError:
        return []
    recent = GuiSettings().get("recent_jobs", [])
    return [p for p in recent if isinstance(p, str)] if isinstance(recent, list) else []


class TrayController(QObject):
    """Signals: ``notified(Notice)``, ``state_changed(state, tooltip)``,
    ``menu_changed()``, ``quit_requested()``."""

    notified = Signal(object)
    state_changed = Signal(str, str)
    menu_changed = Signal()
    quit_requested = Signal()

    def __init__(self, settings: TraySettings | None = None, *, runner=None,
                 open_window: Callable[[str | None], None] | None = None,
                 open_log: Callable[[str], None] | None = None,
                 window_recent: Callable[[], list[str]] = _window_recent,
                 set_autostart: Callable[[bool], None] | None = None,
                 is_autostart: Callable[[], bool] | None = None,
                 watcher=watchdog_watcher, credentials=None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        qtfix.install()  # a long-lived process must survive PySide6's emit refcount bug
        self.settings = settings or TraySettings()
        self._runner = runner
        self._open_window = open_window or _default_open_window
        self._open_log = open_log or _default_open_log
        self._window_recent = window_recent
        self._set_autostart = set_autostart or _default_autostart
        self._is_autostart = is_autostart or _default_is_autostart
        self._credentials = credentials
        self.running: dict[str, _Running] = {}
        self.errors: dict[str, Notice] = {}  # jobs whose last run needs attention
        self.notices: list[Notice] = []
        self.results: list[QuickSyncResult] = []
        self.quitting = False
        self.timers = QtTimers(self)
        self.autorun = AutoRunner(self.timers, lambda job: self.sync_now(job, automatic=True),
                                  watcher=watcher)
        self._tick = QTimer(self)
        self._tick.setInterval(TOOLTIP_REFRESH_MS)
        self._tick.timeout.connect(self._emit_state)

    # -- engine --------------------------------------------------------------------------------
    @property
    def runner(self):
        if self._runner is None:
            from app.gui.runner import EngineRunner

            self._runner = EngineRunner(self)
        return self._runner

    # -- jobs and menu -------------------------------------------------------------------------
    def jobs(self) -> list[JobEntry]:
        s = self.settings
        return list_jobs(s.pinned, s.recent + self._window_recent(), s.job_folders)

    def menu_model(self) -> list[MenuItem]:
        entries = self.jobs()
        schedules = {e.path: self.settings.schedule(e.path) for e in entries}
        return tray_menu(entries, schedules, set(self.running), self.autorun.paused,
                         self.settings.start_at_login)

    def trigger(self, action: str, job: str | None = None, value: object = None) -> None:
        """What the view calls when a menu item is chosen."""
        handlers: dict[str, Callable[[], object]] = {
            "sync_now": lambda: self.sync_now(job),
            "open_job": lambda: self.open_in_window(job),
            "open_window": lambda: self.open_in_window(None),
            "toggle_watch": lambda: self.set_watch(job, not self.settings.schedule(job).watch),
            "set_interval": lambda: self.set_interval(job, value),
            "toggle_pin": lambda: self.set_pinned(job, job not in self.settings.pinned),
            "pause_all": lambda: self.pause_all(not self.autorun.paused),
            "toggle_autostart": lambda: self.set_start_at_login(
                not self.settings.start_at_login),
            "quit": self.request_quit,
        }
        handler = handlers.get(action)
        if handler is not None:
            handler()

    # -- settings changes ----------------------------------------------------------------------
    def _changed(self) -> None:
        self.settings.save()
        self.menu_changed.emit()
        self._emit_state()

    def set_pinned(self, job: str, pinned: bool) -> None:
        self.settings.set_pinned(job, pinned)
        self._changed()

    def set_watch(self, job: str, watch: bool, settle_seconds: float | None = None) -> None:
        old = self.settings.schedule(job)
        new = Schedule(watch=watch, settle_seconds=settle_seconds or old.settle_seconds,
                       interval_minutes=old.interval_minutes)
        self.settings.set_schedule(job, new)
        self._apply_schedule(job)
        self._changed()

    def set_interval(self, job: str, minutes) -> None:
        old = self.settings.schedule(job)
        self.settings.set_schedule(job, Schedule(watch=old.watch,
                                                 settle_seconds=old.settle_seconds,
                                                 interval_minutes=minutes or None))
        self._apply_schedule(job)
        self._changed()

    def set_start_at_login(self, enabled: bool) -> None:
        try:
            self._set_autostart(enabled)
        except OSError as exc:
            self._notify(Notice("Start at login", f"Could not change it: {exc}", "error"))
            return
        self.settings.start_at_login = enabled
        self._changed()

    # -- automation ----------------------------------------------------------------------------
    def start(self) -> None:
        """Arm every saved schedule (called once the tray is up)."""
        for job in list(self.settings.schedules):
            self._apply_schedule(job)
        # The platform's registration is the truth (the Windows installer may have
        # written it, or the person removed it by hand); refresh its command, as
        # the app may have moved since it was registered.
        try:
            registered = self._is_autostart()
            if registered:
                self._set_autostart(True)
        except OSError:
            registered = self.settings.start_at_login
        if registered != self.settings.start_at_login:
            self.settings.start_at_login = registered
            self._changed()
        self._emit_state()

    def _apply_schedule(self, job: str) -> None:
        schedule = self.settings.schedule(job)
        folders: list[str] = []
        if schedule.watch:
            try:
                from app.core.job import load_job

                folders = watch_folders(load_job(job))
            except (OSError, ValueError) as exc:
                self._notify(Notice(os.path.basename(job), f"Cannot watch this job: {exc}",
                                    "error", ("window", job), job))
        self.autorun.set_job(job, schedule, folders)

    def pause_all(self, paused: bool) -> None:
        """Stop (or restart) every automatic run; running syncs finish normally."""
        if paused:
            self.autorun.pause_all()
        else:
            self.autorun.resume_all()
        self.menu_changed.emit()
        self._emit_state()

    # -- quick sync ----------------------------------------------------------------------------
    def sync_now(self, job: str, *, automatic: bool = False) -> bool:
        """Start a quick sync of ``job`` in the background; False if it is running."""
        job = os.path.abspath(job)
        if job in self.running or self.quitting:
            if automatic:
                self.autorun.finished(job, Outcome.BUSY)
            return False
        from app.gui.tray.joblist import job_title

        run = _Running(job_title(job)[0], automatic)
        self.running[job] = run
        if not automatic:
            self.autorun.started(job)
            self.settings.used(job)
            self.settings.save()
        coro = quick_sync(job, report=run.progress, cancel=run.cancel,
                          credentials=self._credentials)
        self.runner.submit(coro, lambda result, error: self._finished(job, result, error))
        self._tick.start()
        self.menu_changed.emit()
        self._emit_state()
        return True

    def _finished(self, job: str, result: QuickSyncResult | None,
                  error: BaseException | None) -> None:
        run = self.running.pop(job, None)
        if result is None:  # quick_sync reports everything; this is a bug path
            result = QuickSyncResult(job, run.name if run else os.path.basename(job),
                                     Kind.FAILED, messages=[f"{type(error).__name__}: {error}"],
                                     exit_code=2)
        self.results.append(result)
        self.autorun.finished(job, _OUTCOME.get(result.kind, Outcome.FAILED))
        notice = notice_for(result)
        automatic = run is not None and run.automatic
        # An automatic run that finds nothing to do says nothing; one that fails
        # the same way as last time (each back-off step) says it only once.
        quiet = automatic and (result.kind in (Kind.NOTHING, Kind.BUSY)
                               or self.errors.get(job) == notice)
        if result.kind in (Kind.FAILED, Kind.REFUSED, Kind.CONFLICTS):
            self.errors[job] = notice
        elif result.kind is not Kind.BUSY:
            self.errors.pop(job, None)
        if not quiet:
            self._notify(notice)
        if not self.running:
            self._tick.stop()
        self.menu_changed.emit()
        self._emit_state()
        if self.quitting and not self.running:
            self.quit_requested.emit()

    def _notify(self, notice: Notice) -> None:
        self.notices.append(notice)
        self.notified.emit(notice)

    # -- clicks --------------------------------------------------------------------------------
    def notice_clicked(self, notice: Notice | None) -> None:
        """A notification was clicked: open its log, or the window on its job."""
        if notice is None or notice.click is None:
            return
        what, target = notice.click
        if notice.job_path:
            self.errors.pop(notice.job_path, None)
            self._emit_state()
        if what == "log":
            self._open_log(target)
        else:
            self.open_in_window(target)

    def open_in_window(self, job: str | None) -> None:
        self._open_window(job)

    # -- state ---------------------------------------------------------------------------------
    def state(self) -> tuple[str, str]:
        """``(state, tooltip)`` of the icon now."""
        if self.running:
            lines = [self._progress_line(j, r) for j, r in self.running.items()]
            return SYNCING, "Syncpane: syncing\n" + "\n".join(lines)
        if self.errors:
            last = list(self.errors.values())[-1]
            more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            return ERROR, f"Syncpane: {last.title}{more}"
        if self.autorun.paused:
            return PAUSED, "Syncpane: automatic runs paused"
        return IDLE, "Syncpane: idle"

    @staticmethod
    def _progress_line(job: str, run: _Running) -> str:
        p = run.progress
        if p.phase == "sync" and (p.total_items or p.total_bytes):
            return (f"{run.name}: {p.items_done} of {p.total_items} items, "
                    f"{human_size(p.bytes_done)} of {human_size(p.total_bytes)}")
        if p.scanned:
            return f"{run.name}: comparing ({p.scanned} items scanned)"
        return f"{run.name}: starting"

    def _emit_state(self) -> None:
        self.state_changed.emit(*self.state())

    # -- ending --------------------------------------------------------------------------------
    def request_quit(self) -> None:
        """Quit now, or cancel running syncs and quit when they have stopped."""
        self.quitting = True
        self._paused_before_quit = self.autorun.paused
        self.autorun.pause_all()
        if not self.running:
            self.quit_requested.emit()
            return
        for run in self.running.values():
            run.cancel.cancel()

    def cancel_quit(self) -> None:
        """The quit did not happen (a window kept unsaved changes): carry on."""
        self.quitting = False
        if not getattr(self, "_paused_before_quit", False):
            self.autorun.resume_all()
        self._emit_state()

    def shutdown(self) -> None:
        """Stop watchers and the engine thread (at exit, and in tests)."""
        self.autorun.stop()
        for run in self.running.values():
            run.cancel.cancel()
        self._tick.stop()
        if self._runner is not None:
            self._runner.shutdown()


def _default_open_window(job: str | None) -> None:
    from app.gui.tray.window_link import open_window

    open_window(job)


def _default_open_log(path: str) -> None:
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def _default_autostart(enabled: bool) -> None:
    from app.gui.tray.autostart import set_autostart

    set_autostart(enabled)


def _default_is_autostart() -> bool:
    from app.gui.tray.autostart import autostart_enabled

    return autostart_enabled()
