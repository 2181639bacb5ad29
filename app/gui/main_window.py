"""The main window: pairs on top, the grid in the middle, statistics and
progress below. It composes the panels and wires them to the session
controller and the job document; the behaviour lives in those parts."""

from __future__ import annotations

import base64
from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QHBoxLayout, QMainWindow, QPushButton, QSplitter, QVBoxLayout,
                               QWidget)

from app.core.job import JobError
from app.gui.dialogs.asker import Asker
from app.gui.grid_panel import GridPanel
from app.gui.icons import icon, warm_up
from app.gui.job_actions import JobActions
from app.gui.job_document import JobDocument
from app.gui.settings_actions import SettingsActions
from app.gui.pair_panel import PairListPanel
from app.gui.row_changes import exclusions_for, overrides_for
from app.gui.runner import EngineRunner
from app.gui.session_controller import PlanView, SessionController, SyncOutcome
from app.gui.settings_store import GuiSettings
from app.gui.status_panels import ProgressPanel, ResultView, StatsBar


def _button(text: str, name: str, accessible: str, icon_name: str) -> QPushButton:
    b = QPushButton(icon(icon_name), text)
    b.setObjectName(name)
    b.setAccessibleName(accessible)
    return b


class MainWindow(QMainWindow):
    """``mainWindow``. ``run_finished(exit_code)`` fires at the end of a
    ``--run`` (compare + synchronize without questions)."""

    run_finished = Signal(int)

    def __init__(self, settings: GuiSettings | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setAccessibleName("Syncpane")
        self.setWindowIcon(icon("app"))
        self.settings = settings or GuiSettings()
        self.document = JobDocument()
        self.ask = Asker(self)
        self.runner = EngineRunner(self)
        self.controller = SessionController(
            self.runner, lambda p, m: self.ask.on_error(p, m),
            lambda t, f, a: self.ask.host_key(t, f, a), self)
        self.jobs = JobActions(self)
        self.settings_actions = SettingsActions(self)
        self.auto_run = False
        self._sync_in_run = False
        self._keep_result = False
        self.last_outcome: SyncOutcome | None = None
        self._build()
        self._wire()
        self._restore_geometry()
        warm_up()
        self.job_replaced()

    # -- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        bar = QHBoxLayout()
        self.compare_button = _button("Compare", "compareButton",
                                      "Compare the folders (F5)", "compare")
        self.sync_button = _button("Synchronize", "syncButton",
                                   "Synchronize the folders (F9)", "sync")
        self.cancel_button = _button("Cancel", "cancelButton",
                                     "Cancel the running comparison or synchronization", "cancel")
        self.compare_button.setToolTip("Compare all pairs (F5)")
        self.sync_button.setToolTip("Carry out the plan shown in the grid (F9)")
        for b in (self.compare_button, self.sync_button, self.cancel_button):
            bar.addWidget(b)
        bar.addSpacing(20)
        acts = self.settings_actions
        for text, slot in (("Compare settings…", acts.edit_compare),
                           ("Sync settings…", acts.edit_sync), ("Filters…", acts.edit_filter)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            bar.addWidget(b)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.pairs = PairListPanel()
        layout.addWidget(self.pairs)
        self.grid = GridPanel()
        self.stats = StatsBar()
        self.progress = ProgressPanel()
        self.result_view = ResultView()
        self.splitter = QSplitter(Qt.Vertical)
        self.splitter.addWidget(self.grid)
        self.splitter.addWidget(self.result_view)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.stats)
        self.result_view.hide()
        self.progress.hide()
        self.setCentralWidget(central)
        self._menus()
        self.resize(1280, 800)

    def _menus(self) -> None:
        def action(menu, text, slot, shortcut=None, name=None):
            a = QAction(text, self)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            if name:
                a.setObjectName(name)
            a.triggered.connect(slot)
            menu.addAction(a)
            return a

        job = self.menuBar().addMenu("&Job")
        action(job, "&New", self.jobs.new, QKeySequence.New)
        action(job, "&Open…", self.jobs.open_dialog, QKeySequence.Open)
        job.addMenu(self.jobs.recent_menu)
        action(job, "&Save", self.jobs.save, QKeySequence.Save)
        action(job, "Save &as…", self.jobs.save_as, QKeySequence.SaveAs)
        job.addSeparator()
        action(job, "&Quit", self.close, QKeySequence.Quit)
        run = self.menuBar().addMenu("&Actions")
        self.compare_action = action(run, "&Compare", self.compare, "F5", "compareAction")
        self.sync_action = action(run, "S&ynchronize", self.synchronize, "F9", "syncAction")
        action(run, "C&ancel", self.controller.cancel, "Esc")
        opts = self.menuBar().addMenu("&Settings")
        action(opts, "&Compare…", self.settings_actions.edit_compare)
        action(opts, "&Synchronize…", self.settings_actions.edit_sync)
        action(opts, "&Filters…", self.settings_actions.edit_filter)

    def _wire(self) -> None:
        self.controller.prepare = self.grid.model.prepare
        self.grid.model.background = self._in_background
        self.compare_button.clicked.connect(self.compare)
        self.sync_button.clicked.connect(self.synchronize)
        self.cancel_button.clicked.connect(self.controller.cancel)
        self.progress.pause_clicked.connect(self._toggle_pause)
        self.pairs.changed.connect(self._pairs_edited)
        self.pairs.sftp_requested.connect(self.settings_actions.choose_sftp)
        self.pairs.settings_requested.connect(self.settings_actions.edit_pair_sync)
        self.grid.row_change.connect(self.change_rows)
        self.runner.events.connect(self.progress.add_batch)
        c = self.controller
        c.busy_changed.connect(self._busy_changed)
        c.compared.connect(self._show_plan)
        c.compared.connect(self._show_notes)
        c.replanned.connect(self._show_plan)
        c.sync_finished.connect(self._sync_finished)
        c.failed.connect(self._failed)

    # -- job -----------------------------------------------------------------------------
    def job_replaced(self) -> None:
        """A new or opened job: show its pairs, forget the old plan."""
        self.pairs.set_pairs(self.document.pairs())
        self.pairs.set_recent(self.settings.get("recent_locations", []))
        self.plan_outdated(None)
        self.jobs.update_title()

    def plan_outdated(self, reason: str | None = "The job changed: compare again (F5).") -> None:
        """Forget the shown plan: Synchronize must never act on a plan made
        for other folders or settings than the ones now in the window."""
        self.controller.invalidate()
        self._clear_grid()
        self.stats.show_stats(None)
        if reason:
            self.stats.setText(reason)
        self._busy_changed(self.controller.busy)

    def pull_pairs(self) -> None:
        self.document.set_pairs(self.pairs.pairs())

    def _pairs_edited(self) -> None:
        before = self.document.pairs()
        self.pull_pairs()
        if self.document.pairs() != before and self.controller.view is not None:
            self.plan_outdated()
        self.jobs.update_title()

    # -- compare and synchronize -----------------------------------------------------------
    def compare(self) -> None:
        """Compare all pairs (F5)."""
        self._start_compare(keep_result=False)

    def _start_compare(self, *, keep_result: bool) -> None:
        """``keep_result``: a refresh after a sync leaves its log in view."""
        if self.controller.busy:
            return
        self._keep_result = keep_result
        self.pull_pairs()
        try:
            job = self.document.to_job()
        except JobError as exc:
            self.ask.error("The job cannot run", str(exc))
            self._end_run(2)
            return
        for left, right in self.document.pairs():
            self.settings.remember("recent_locations", left)
            self.settings.remember("recent_locations", right)
        self.pairs.set_recent(self.settings.get("recent_locations", []))
        if not keep_result:
            self.result_view.hide()
        self.grid.model.keep = None  # a new comparison starts with nothing selected
        self.progress.reset("compare")
        self.controller.start_compare(job)

    def _in_background(self, fn, done) -> None:
        """Run ``fn`` on the engine loop, hand its result to ``done`` here."""
        async def call():
            return fn()
        self.runner.submit(call(), lambda result, error: done(result) if error is None else None)

    def _show_plan(self, view: PlanView) -> None:
        old = self._grid_containers()
        if view.prepared is not None:
            self.grid.install(view.prepared)
        else:
            self.grid.show_items(view.per_pair)
        self.controller.discard(old)
        self.stats.show_stats(view.stats)
        self._busy_changed(self.controller.busy)
        if self.controller.busy == "" and self.progress.mode == "compare":
            self.progress.finish(f"Compared: {self.grid.model.total_rows:,} items listed")
        if self.auto_run and self.progress.mode == "compare":
            # After every slot of this comparison ran (its notes shown): the
            # sync's result must be the last thing the run shows.
            QTimer.singleShot(0, self.synchronize)

    def _show_notes(self, view: PlanView) -> None:
        """What the comparison could not handle, and what the safety checks
        will ask about, shown beside the grid (no dialog to click away)."""
        lines = [f"{'warning' if p.warning else 'problem'}: {p.path or '(job)'}: {p.message}"
                 for p in view.problems]
        lines += [f"safety check: {r}" for r in view.refusals]
        if lines and not self._keep_result:
            self.result_view.show_result(
                f"The comparison has {len(lines)} note(s); read them before synchronizing.",
                "\n".join(lines))

    def synchronize(self) -> None:
        c = self.controller
        if c.busy or not c.has_plan:
            return
        force = False
        if not self.auto_run:
            go, force = self.ask.confirm_sync(self._summary_text(), c.view.refusals)
            if not go:
                return
        self.progress.reset("sync")
        self._sync_in_run = self.auto_run
        c.start_sync(force=force, interactive=not self.auto_run,
                     job_name=self.document.title)

    def _grid_containers(self) -> list:
        """The grid's current big lists, to be freed slowly once replaced."""
        c = self.grid.model.content
        return [x for x in (c.items, c.pair_of, c.lower, self.grid.model.visible_rows()) if x]

    def _clear_grid(self) -> None:
        old = self._grid_containers()
        self.grid.show_items([])
        self.controller.discard(old)

    def _summary_text(self) -> str:
        return "Synchronize now?\n\n" + self.stats.text().replace("    |    ", "\n")

    def _toggle_pause(self) -> None:
        paused = self.controller.toggle_pause()
        self.progress.pause.setText("Resume" if paused else "Pause")

    def _sync_finished(self, outcome: SyncOutcome) -> None:
        self.last_outcome = outcome
        if outcome.refused:
            verdict = "Refused by the safety checks; nothing was changed."
            self.result_view.show_result(verdict, "\n".join(outcome.refused))
        elif outcome.result is not None:
            s = outcome.result.summary
            state = ("Cancelled" if outcome.result.cancelled else
                     {0: "Done", 1: "Done with warnings", 2: "Finished with errors"}.get(
                         outcome.exit_code, "Finished"))
            verdict = (f"{state}: {s.copy_to_right + s.copy_to_left:,} copied, "
                       f"{s.delete_left + s.delete_right:,} deleted, {s.failed:,} failed, "
                       f"{s.skipped:,} skipped. Log: {outcome.log_path}")
            self.result_view.show_result(verdict, outcome.log_text)
        self.progress.finish(self.result_view.verdict.text())
        self._clear_grid()
        self.stats.show_stats(None)
        if self._sync_in_run:  # --run: show the result and stop there
            self._sync_in_run = False
            self._end_run(outcome.exit_code)  # (already ended if the sync itself failed)
        else:
            self._start_compare(keep_result=True)  # the grid shows the folders as they are now

    def _failed(self, title: str, message: str) -> None:
        self.progress.finish(title)
        if self.auto_run:
            self.result_view.show_result(title, message)
            self._end_run(2 if "cancelled" not in message else 3)
        else:
            self.ask.error(title, message)

    def _end_run(self, code: int) -> None:
        if self.auto_run:
            self.auto_run = False
            self.run_finished.emit(code)

    def _busy_changed(self, what: str) -> None:
        idle = what == ""
        has_plan = self.controller.has_plan
        self.compare_button.setEnabled(idle)
        self.compare_action.setEnabled(idle)
        self.sync_button.setEnabled(idle and has_plan)
        self.sync_action.setEnabled(idle and has_plan)
        self.cancel_button.setEnabled(what in ("compare", "sync"))
        self.pairs.setEnabled(idle)
        if what in ("compare", "sync"):
            self.progress.show()

    # -- rows --------------------------------------------------------------------------------
    def change_rows(self, change: str) -> None:
        rows = self.grid.selected()
        if not rows or self.controller.busy:
            return
        # The re-planned grid selects the same rows again (and keeps the current one).
        self.grid.model.keep = self.grid.selection_keys()
        if change == "exclude":
            patterns, paths = exclusions_for(rows)
            self.document.add_excludes(patterns)
            self.jobs.update_title()
            self.controller.exclude(paths)
            return
        target_right = self.document.section("sync").get("direction", "to_right") == "to_right"
        changes = overrides_for(change, rows, target_right=target_right)
        if changes:
            self.controller.override(changes)

    # -- window state ----------------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geo = self.settings.get("geometry")
        if geo:
            self.restoreGeometry(QByteArray(base64.b64decode(geo)))
        widths = self.settings.get("column_widths")
        if isinstance(widths, list):
            for col, w in enumerate(widths[: self.grid.model.columnCount()]):
                if isinstance(w, int) and w > 10:
                    self.grid.view.setColumnWidth(col, w)

    def save_window_state(self) -> None:
        self.settings.set("geometry", base64.b64encode(bytes(self.saveGeometry())).decode())
        self.settings.set("column_widths", [self.grid.view.columnWidth(c)
                                            for c in range(self.grid.model.columnCount())])
        try:
            self.settings.save()
        except OSError:
            pass  # losing the window size is no reason to stop closing

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self.auto_run:
            # --run: a running sync is never abandoned (Cancel stops it cleanly);
            # closing before the sync started cancels the run.
            if self.controller.busy == "sync":
                self.ask.error("Synchronization running",
                               "Wait for the synchronization to finish, or cancel it first.")
                event.ignore()
                return
            self._end_run(3)
        elif not self.jobs.may_discard():
            event.ignore()
            return
        self.save_window_state()
        self.controller.close()
        self.runner.shutdown()
        event.accept()
