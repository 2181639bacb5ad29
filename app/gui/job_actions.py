"""Jobs in the window: New, Open, Save, Save as, recent jobs, the
unsaved-changes prompt and the window title."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMenu

from app.core.job import JobError

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

JOB_FILTER = ("Syncpane jobs (*.syncjob);;FreeFileSync jobs (*.ffs_batch *.ffs_gui);;"
              "All files (*)")
OPEN_FILTER = ("Jobs (*.syncjob *.ffs_batch *.ffs_gui);;Syncpane jobs (*.syncjob);;"
               "FreeFileSync jobs (*.ffs_batch *.ffs_gui);;All files (*)")


class JobActions:
    """The job menu's behaviour; works on the window's :class:`JobDocument`."""

    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self.recent_menu = QMenu("Open recent", window)
        self.recent_menu.aboutToShow.connect(self._fill_recent)

    @property
    def doc(self):
        return self.w.document

    def update_title(self) -> None:
        mark = " •" if self.doc.dirty else ""
        where = f" — {self.doc.path}" if self.doc.path else ""
        self.w.setWindowTitle(f"{self.doc.title}{mark}{where} — Syncpane")
        self.w.setWindowModified(self.doc.dirty)

    def may_discard(self) -> bool:
        """Ask about unsaved changes; False when the person cancels. A
        running synchronization is never abandoned by switching jobs."""
        if self.w.controller.busy == "sync":
            self.w.ask.error("Synchronization running",
                             "Wait for the synchronization to finish, or cancel it first.")
            return False
        self.w.pull_pairs()
        if not self.doc.dirty:
            return True
        answer = self.w.ask.unsaved(self.doc.title)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new(self) -> None:
        if not self.may_discard():
            return
        self.doc.new()
        self.w.job_replaced()

    def open_dialog(self) -> None:
        if not self.may_discard():
            return
        path, _f = QFileDialog.getOpenFileName(self.w, "Open job", self._start_dir(),
                                               OPEN_FILTER)
        if path:
            self.open(path, ask=False)

    def open(self, path: str, *, ask: bool = True) -> bool:
        """Load ``path``; a bad file shows an error and changes nothing."""
        if ask and not self.may_discard():
            return False
        if self.w.controller.busy == "sync":
            return False
        try:
            notes = self.doc.open(path)
        except (JobError, OSError) as exc:
            self.w.ask.error("Cannot open the job", str(exc))
            return False
        if self.doc.path:
            self.w.settings.remember("recent_jobs", self.doc.path)
            self.w.settings.set("last_job", self.doc.path)
        self.w.job_replaced()
        if notes:  # a FreeFileSync job: say what did not carry over, before anything runs
            self.w.ask.info("Imported from FreeFileSync",
                            "Settings with no Syncpane equivalent:\n\n" + "\n".join(notes)
                            + "\n\nSave the job to keep it as a .syncjob.")
        return True

    def save(self) -> bool:
        self.w.pull_pairs()
        if not self.doc.path:
            return self.save_as()
        return self._save_to(self.doc.path)

    def save_as(self) -> bool:
        self.w.pull_pairs()
        path, _f = QFileDialog.getSaveFileName(self.w, "Save job as", self._start_dir(),
                                               JOB_FILTER)
        if not path:
            return False
        if not path.lower().endswith(".syncjob"):
            path += ".syncjob"
        return self._save_to(path)

    def _save_to(self, path: str) -> bool:
        try:
            self.doc.save(path)
        except (JobError, OSError, ValueError) as exc:
            self.w.ask.error("Cannot save the job", str(exc))
            return False
        self.w.settings.remember("recent_jobs", self.doc.path)
        self.w.settings.set("last_job", self.doc.path)
        self.update_title()
        return True

    def _start_dir(self) -> str:
        return os.path.dirname(self.doc.path) if self.doc.path else os.path.expanduser("~")

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = [p for p in self.w.settings.get("recent_jobs", []) if os.path.exists(p)]
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for path in recent:
            self.recent_menu.addAction(path, lambda p=path: self.open(p))
