"""The job's settings in the window: compare, sync and filter dialogs, a
pair's own sync settings, and the SFTP connection dialog. Every change is
validated by the engine's ``job_from_dict`` before it reaches the job."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from app.core.job import JobError, job_from_dict

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow


class SettingsActions:
    """The settings menu's behaviour; works on the window's job document."""

    def __init__(self, window: MainWindow) -> None:
        self.w = window

    def edit_section(self, name: str, dialog) -> None:
        """Apply a settings dialog's section only if the engine accepts the job."""
        if not dialog.exec():
            return
        section = dialog.section()
        trial = copy.deepcopy(self.w.document.doc)
        trial[name] = section
        # Empty location fields of a new job are not this dialog's business.
        trial["pairs"] = [dict(p, left=p.get("left") or ".", right=p.get("right") or ".")
                          for p in trial.get("pairs", []) if isinstance(p, dict)]
        try:
            job_from_dict(trial, self.w.document.base_dir)
        except JobError as exc:
            self.w.ask.error("Settings not applied", str(exc))
            return
        if self.w.document.section(name) != section:
            self.w.document.set_section(name, section)
            self.w.plan_outdated()
        self.w.jobs.update_title()

    def edit_compare(self) -> None:
        from app.gui.dialogs.settings import CompareSettingsDialog

        self.edit_section("compare", CompareSettingsDialog(self.w.document.section("compare"),
                                                            self.w))

    def edit_sync(self) -> None:
        from app.gui.dialogs.settings import SyncSettingsDialog

        self.edit_section("sync", SyncSettingsDialog(self.w.document.section("sync"), self.w))

    def edit_filter(self) -> None:
        from app.core.filters import DEFAULT_EXCLUDE
        from app.gui.dialogs.settings import FilterSettingsDialog

        self.edit_section("filter", FilterSettingsDialog(self.w.document.section("filter"),
                                                          DEFAULT_EXCLUDE, self.w))

    def edit_pair_sync(self, index: int) -> None:
        """A pair's own ``sync`` section: shown merged over the job's, stored
        as the pair's override only where it differs from the job."""
        from app.gui.dialogs.settings import SyncSettingsDialog

        self.w.pull_pairs()
        pairs = copy.deepcopy(self.w.document.doc.get("pairs", []))
        job_sync = self.w.document.section("sync")
        own = dict(pairs[index].get("sync", {}))
        dialog = SyncSettingsDialog({**job_sync, **own}, self.w)
        dialog.setWindowTitle(f"Synchronization settings of pair {index + 1}")
        if not dialog.exec():
            return
        defaults = SyncSettingsDialog(job_sync).section()  # the job's values, spelled out
        differs = {k: v for k, v in dialog.section().items() if defaults.get(k) != v}
        if differs:
            pairs[index]["sync"] = differs
        else:
            pairs[index].pop("sync", None)
        trial = copy.deepcopy(self.w.document.doc)
        trial["pairs"] = [dict(p, left=p.get("left") or ".", right=p.get("right") or ".")
                          for p in pairs]
        try:
            job_from_dict(trial, self.w.document.base_dir)
        except JobError as exc:
            self.w.ask.error("Settings not applied", str(exc))
            return
        if pairs != self.w.document.doc.get("pairs"):
            self.w.document.doc["pairs"] = pairs
            self.w.document.dirty = True
            self.w.plan_outdated()
        self.w.jobs.update_title()

    def choose_sftp(self, edit) -> None:
        """The connection dialog (window-modal, not blocking): on OK, or a folder
        chosen in its browser, the field gets the ``sftp://`` location and the
        job the server's connection settings."""
        from app.gui.dialogs.sftp_dialog import SftpDialog

        conns = self.w.document.section("connections")
        dialog = SftpDialog(self.w.runner, conns, edit.text(), self.w.controller.host_key_prompt,
                            self.w)

        def accepted() -> None:
            conns[dialog.key()] = dialog.connection()
            self.w.document.set_section("connections", conns)
            edit.setText(dialog.location())
            self.w._pairs_edited()
        dialog.accepted.connect(accepted)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
