"""Every question the window asks the person, in one place.

Tests replace these methods (or patch ``QMessageBox``) so no modal dialog
ever waits for a click that will not come.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget


class Asker:
    """Modal questions, parented to the main window."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def error(self, title: str, message: str) -> None:
        QMessageBox.critical(self.parent, title, message)

    def info(self, title: str, message: str) -> None:
        QMessageBox.information(self.parent, title, message)

    def unsaved(self, job_title: str) -> str:
        """"save", "discard" or "cancel"."""
        answer = QMessageBox.question(
            self.parent, "Unsaved changes",
            f"The job \u201c{job_title}\u201d has unsaved changes. Save them?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")

    def confirm_sync(self, summary: str, refusals: list[str]) -> tuple[bool, bool]:
        """(go ahead, force past the refusals). With refusals the person must
        tick a box that names the risk before Synchronize is accepted."""
        box = QMessageBox(self.parent)
        box.setObjectName("confirmSyncDialog")
        box.setWindowTitle("Synchronize?")
        box.setIcon(QMessageBox.Warning if refusals else QMessageBox.Question)
        text = summary
        tick = None
        if refusals:
            text += "\n\nSafety checks refused this synchronization:\n• " + "\n• ".join(refusals)
            tick = QCheckBox("I have read the warnings and want to synchronize anyway")
            box.setCheckBox(tick)
        box.setText(text)
        go = box.addButton("Synchronize", QMessageBox.AcceptRole)
        box.addButton(QMessageBox.Cancel)
        box.setDefaultButton(QMessageBox.Cancel)
        box.exec()
        if box.clickedButton() is not go:
            return False, False
        if refusals and not (tick and tick.isChecked()):
            QMessageBox.information(self.parent, "Not synchronized",
                                    "Nothing was changed: the warnings were not confirmed.")
            return False, False
        return True, bool(refusals)

    def on_error(self, path: str, message: str) -> str:
        """"retry", "ignore", "ignore_all" or "cancel" for a failed item."""
        box = QMessageBox(self.parent)
        box.setObjectName("syncErrorDialog")
        box.setIcon(QMessageBox.Warning)
        box.setWindowTitle("An item failed")
        box.setText(f"{path}\n\n{message}")
        buttons = {
            box.addButton("Retry", QMessageBox.AcceptRole): "retry",
            box.addButton("Ignore", QMessageBox.ActionRole): "ignore",
            box.addButton("Ignore all", QMessageBox.ActionRole): "ignore_all",
            box.addButton("Cancel", QMessageBox.RejectRole): "cancel",
        }
        box.exec()
        return buttons.get(box.clickedButton(), "cancel")

    def host_key(self, target: str, fingerprint: str, algorithm: str) -> bool:
        """Trust a server seen for the first time? Only after reading its key."""
        box = QMessageBox(self.parent)
        box.setObjectName("hostKeyDialog")
        box.setIcon(QMessageBox.Warning)
        box.setWindowTitle("Unknown server")
        box.setText(f"Syncpane has never connected to {target} before.\n\n"
                    f"Its {algorithm} key fingerprint is:\n{fingerprint}\n\n"
                    "Compare it with the fingerprint your server administrator gave you. "
                    "Trust this server?")
        trust = box.addButton("Trust and connect", QMessageBox.AcceptRole)
        box.addButton("Reject", QMessageBox.RejectRole)
        box.exec()
        return box.clickedButton() is trust
