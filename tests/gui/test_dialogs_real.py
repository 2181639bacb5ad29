"""The real question dialogs (no fakes): buttons map to the engine's answers,
and ``--run`` keeps the window open when something went wrong."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QCheckBox, QMessageBox

from app.gui.dialogs.asker import Asker
from tests.gui.conftest import write_job
from tests.util import make_tree


def _answer(button_text: str, tick: bool = False) -> None:
    """Click a button of the modal message box as soon as it is up."""
    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        if tick:
            box.findChild(QCheckBox).setChecked(True)
        for b in box.buttons():
            if b.text().replace("&", "") == button_text:
                b.click()
                return
        raise AssertionError(f"no button {button_text!r} in {[b.text() for b in box.buttons()]}")
    QTimer.singleShot(20, click)


def test_error_question_buttons(qtbot, window):
    asker = Asker(window)
    for text, answer in (("Retry", "retry"), ("Ignore", "ignore"),
                         ("Ignore all", "ignore_all"), ("Cancel", "cancel")):
        _answer(text)
        assert asker.on_error("a/b.txt", "disk full") == answer


def test_confirmation_with_refusals_needs_the_tick(qtbot, window):
    asker = Asker(window)
    _answer("Synchronize")
    assert asker.confirm_sync("Synchronize now?", []) == (True, False)
    _answer("Cancel")
    assert asker.confirm_sync("Synchronize now?", []) == (False, False)
    _answer("Synchronize", tick=True)
    assert asker.confirm_sync("Synchronize now?", ["too many deletions"]) == (True, True)
    # Not ticked: refused, and told so (the second box is answered with OK).
    _answer("Synchronize")
    QTimer.singleShot(400, lambda: _answer("OK"))
    assert asker.confirm_sync("Synchronize now?", ["too many deletions"]) == (False, False)


def test_run_mode_keeps_the_window_open_on_errors(qtbot, window, tmp_path):
    from app.gui.main import closes_after_run

    right = make_tree(tmp_path / "R", {"keep.txt": "k"})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", tmp_path / "missing", right)),
                     ask=False)
    window.auto_run = True
    with qtbot.waitSignal(window.run_finished, timeout=30_000) as done:
        window.compare()
    assert done.args == [2] and not closes_after_run(2)
    assert window.isVisible() and window.result_view.isVisible()
    assert "does not exist" in window.findChild(object, "resultLog").toPlainText()
    assert not window.ask.errors, "no modal dialog in a --run: the message is in the window"
    assert closes_after_run(0) and closes_after_run(3) and not closes_after_run(1)
