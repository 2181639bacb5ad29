"""The main window on real folders: compare, read the grid, change rows,
synchronize, and see the files on disk."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt

from tests.gui.conftest import compare, rows, write_job
from tests.util import T0, make_tree, read_tree


def _trees(tmp_path):
    left = make_tree(tmp_path / "L", {
        "same.txt": "same",
        "new.txt": "brand new",
        "docs/changed.md": ("new text", T0 + 100),
        "docs/sub/deep.bin": b"\x00" * 1000,
    })
    right = make_tree(tmp_path / "R", {
        "same.txt": "same",
        "docs/changed.md": ("old", T0),
        "extra.log": "only here",
    })
    return left, right


def test_open_compare_shows_grid(qtbot, window, tmp_path):
    left, right = _trees(tmp_path)
    job = write_job(tmp_path / "j.syncjob", left, right)
    assert window.jobs.open(str(job), ask=False)
    assert window.findChild(object, "leftPath0").text() == str(left)
    assert window.findChild(object, "rightPath0").text() == str(right)
    assert "test job" in window.windowTitle()
    assert not window.findChild(object, "syncButton").isEnabled()

    view = compare(qtbot, window)

    grid = rows(window)
    assert grid["new.txt"]["category"] == "left_only"
    assert grid["new.txt"]["action"] == "copy_to_right"
    assert grid["docs/changed.md"]["category"] == "left_newer"
    assert grid["extra.log"] == {**grid["extra.log"], "category": "right_only",
                                 "action": "delete_right"}
    assert grid["docs/sub"]["category"] == "left_only"
    assert "same.txt" not in grid  # equal rows are hidden by default
    assert set(grid) == {"new.txt", "docs/changed.md", "extra.log", "docs/sub",
                         "docs/sub/deep.bin"}
    assert window.findChild(object, "syncButton").isEnabled()
    equal = window.findChild(object, "categoryFilter_equal")
    assert equal.isCheckable() and not equal.isChecked()
    # "docs" is equal as a folder, "same.txt" as a file.
    assert equal.text().endswith(" 2")
    assert window.findChild(object, "categoryFilter_left_only").text().endswith(" 3")
    stats = window.findChild(object, "statsBar").text()
    assert "right →: create 3, update 1, delete 1" in stats
    assert view.stats.bytes_right == len("brand new") + len("new text") + 1000


def test_view_toggles_search_and_sort(qtbot, window, tmp_path):
    left, right = _trees(tmp_path)
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    compare(qtbot, window)
    model = window.findChild(object, "diffView").model()

    qtbot.mouseClick(window.findChild(object, "categoryFilter_equal"), Qt.LeftButton)
    assert "same.txt" in rows(window) and model.rowCount() == 7

    qtbot.mouseClick(window.findChild(object, "categoryFilter_left_only"), Qt.LeftButton)
    assert set(rows(window)) == {"same.txt", "docs", "docs/changed.md", "extra.log"}

    qtbot.mouseClick(window.findChild(object, "actionFilter_none"), Qt.LeftButton)
    assert set(rows(window)) == {"docs/changed.md", "extra.log"}

    search = window.findChild(object, "searchField")
    search.setText("LOG")
    qtbot.waitUntil(lambda: set(rows(window)) == {"extra.log"}, timeout=3000)
    search.setText("")
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=3000)

    view = window.findChild(object, "diffView")
    view.sortByColumn(0, Qt.DescendingOrder)
    order = [model.index(r, 0).data(Qt.UserRole)["path"] for r in range(model.rowCount())]
    assert order == ["extra.log", "docs/changed.md"]


def _select(window, path: str) -> None:
    view = window.findChild(object, "diffView")
    model = view.model()
    for r in range(model.rowCount()):
        if model.index(r, 0).data(Qt.UserRole)["path"] == path:
            view.clearSelection()  # rows stay selected after a change: select only this one
            view.selectRow(r)
            view.setFocus()
            return
    raise AssertionError(f"{path} is not in the grid")


def test_override_a_row_then_synchronize(qtbot, window, tmp_path):
    left, right = _trees(tmp_path)
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    compare(qtbot, window)

    # Keep the extra file on the right: "do nothing" (Space) instead of delete.
    _select(window, "extra.log")
    with qtbot.waitSignal(window.controller.replanned, timeout=10_000):
        qtbot.keyClick(window.findChild(object, "diffView"), Qt.Key_Space)
    assert rows(window)["extra.log"]["action"] == "none"
    assert "delete 0" in window.findChild(object, "statsBar").text().split("right →")[1]

    with qtbot.waitSignal(window.controller.sync_finished, timeout=30_000) as done:
        qtbot.mouseClick(window.findChild(object, "syncButton"), Qt.LeftButton)
    outcome = done.args[0]
    assert window.ask.confirmations, "the person was asked before anything changed"
    assert outcome.exit_code == 0, outcome.log_text
    assert read_tree(right) == {**read_tree(left), "extra.log": b"only here"}
    assert "copy_to_right" in window.findChild(object, "resultLog").toPlainText()
    # The grid refreshes itself: only the kept extra file still differs.
    qtbot.waitUntil(lambda: window.controller.has_plan, timeout=30_000)
    assert set(rows(window)) == {"extra.log"}
    assert window.result_view.isVisible(), "the log stays in view after the refresh"


def test_cancelled_confirmation_changes_nothing(qtbot, window, tmp_path):
    left, right = _trees(tmp_path)
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    compare(qtbot, window)
    before = read_tree(right)
    window.ask.confirm_answer = (False, False)
    qtbot.mouseClick(window.findChild(object, "syncButton"), Qt.LeftButton)
    qtbot.wait(200)
    assert window.controller.busy == ""
    assert read_tree(right) == before


def test_exclude_row_adds_pattern_and_leaves_it_alone(qtbot, window, tmp_path):
    left, right = _trees(tmp_path)
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    compare(qtbot, window)
    _select(window, "docs/sub")
    with qtbot.waitSignal(window.controller.replanned, timeout=10_000):
        window.grid.row_change.emit("exclude")
    assert "/docs/sub/" in window.document.doc["filter"]["exclude"]
    assert window.document.dirty and "•" in window.windowTitle()
    assert not any(p.startswith("docs/sub") for p in rows(window))

    with qtbot.waitSignal(window.controller.sync_finished, timeout=30_000):
        qtbot.mouseClick(window.findChild(object, "syncButton"), Qt.LeftButton)
    assert not (right / "docs" / "sub").exists()
    assert (right / "new.txt").read_text() == "brand new"


def test_bad_job_file_shows_error_and_changes_nothing(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from app.gui.dialogs.asker import Asker

    left, right = _trees(tmp_path)
    window.jobs.open(str(write_job(tmp_path / "good.syncjob", left, right)), ask=False)
    title, doc_before = window.windowTitle(), dict(window.document.doc)
    bad = tmp_path / "bad.syncjob"
    bad.write_text('{"syncpane_job": 1, "pairs": [{"left": "a", "right": "b", "sinc": {}}]}')
    shown = []
    monkeypatch.setattr(QMessageBox, "critical",
                        staticmethod(lambda parent, t, m, *a, **k: shown.append((t, m))))
    window.ask = Asker(window)  # the real dialog code, with QMessageBox captured

    assert not window.jobs.open(str(bad), ask=False)

    assert len(shown) == 1 and 'unknown key "sinc"' in shown[0][1]
    assert window.windowTitle() == title
    assert window.document.doc == doc_before
    assert window.document.path == str(tmp_path / "good.syncjob")
    assert window.findChild(object, "leftPath0").text() == str(left)
    assert read_tree(right) == {"same.txt": b"same", "docs/changed.md": b"old",
                                "extra.log": b"only here"}


def test_save_job_and_unsaved_prompt(qtbot, window, tmp_path):
    from app.core.job import load_job

    left, right = _trees(tmp_path)
    window.jobs.new()
    window.findChild(object, "leftPath0").setText(str(left))
    window.findChild(object, "rightPath0").setText(str(right))
    window.findChild(object, "leftPath0").textEdited.emit(str(left))
    assert window.document.dirty and "Untitled" in window.windowTitle()
    target = tmp_path / "saved.syncjob"
    window.document.path = None
    assert window.jobs._save_to(str(target))
    job = load_job(str(target))
    assert job.pairs[0].left.path == str(left) and job.pairs[0].right.path == str(right)
    assert not window.document.dirty and "saved" in window.windowTitle()
    # Unsaved edits: "cancel" keeps the job, "discard" lets the new one in.
    window.findChild(object, "rightPath0").setText(str(tmp_path))
    window.findChild(object, "rightPath0").textEdited.emit(str(tmp_path))
    window.ask.unsaved_answer = "cancel"
    window.jobs.new()
    assert window.document.path == str(target)
    window.ask.unsaved_answer = "discard"
    window.jobs.new()
    assert window.document.path is None


def test_missing_source_folder_is_reported(qtbot, window, tmp_path):
    right = make_tree(tmp_path / "R", {"keep.txt": "precious"})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", tmp_path / "gone", right)),
                     ask=False)
    with qtbot.waitSignal(window.controller.failed, timeout=10_000) as failed:
        qtbot.mouseClick(window.findChild(object, "compareButton"), Qt.LeftButton)
    assert "does not exist" in failed.args[1]
    assert window.ask.errors and not window.findChild(object, "syncButton").isEnabled()
    assert read_tree(right) == {"keep.txt": b"precious"}


def test_object_names_and_accessible_names(window):
    for name in ("compareButton", "syncButton", "cancelButton", "pairList", "leftPath0",
                 "rightPath0", "diffView", "statsBar", "progressPanel"):
        widget = window.findChild(object, name)
        assert widget is not None, name
        assert widget.accessibleName(), name
    for cat in ("left_only", "right_only", "left_newer", "right_newer", "different",
                "conflict", "equal"):
        assert window.findChild(object, f"categoryFilter_{cat}").isCheckable()
    assert window.objectName() == "mainWindow"
    assert window.compare_action.shortcut().toString() == "F5"
    assert window.sync_action.shortcut().toString() == "F9"


def test_geometry_and_column_widths_remembered(qtbot, tmp_path):
    from app.gui.main_window import MainWindow
    from tests.gui.conftest import FakeAsker

    w = MainWindow()
    w.ask = FakeAsker()
    qtbot.addWidget(w)
    w.resize(900, 650)
    w.grid.view.setColumnWidth(0, 333)
    w.close()
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.grid.view.columnWidth(0) == 333
    assert os.path.exists(again.settings.path)
    again.close()


def test_keys_change_rows_both_ways(qtbot, window, tmp_path):
    left, right = _trees(tmp_path)
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    compare(qtbot, window)
    view = window.findChild(object, "diffView")
    # Ctrl+Left on the right-only file: bring it to the left instead of deleting it.
    _select(window, "extra.log")
    with qtbot.waitSignal(window.controller.replanned, timeout=10_000):
        qtbot.keyClick(view, Qt.Key_Left, Qt.ControlModifier)
    assert rows(window)["extra.log"]["action"] == "copy_to_left"
    # Del on a left-only file: delete it where it is.
    _select(window, "new.txt")
    with qtbot.waitSignal(window.controller.replanned, timeout=10_000):
        qtbot.keyClick(view, Qt.Key_Delete)
    assert rows(window)["new.txt"]["action"] == "delete_left"
    assert "← left: create 1, update 0, delete 1" in window.findChild(object, "statsBar").text()

    with qtbot.waitSignal(window.controller.sync_finished, timeout=30_000) as done:
        qtbot.keyClick(window, Qt.Key_F9)
    assert done.args[0].exit_code == 0, done.args[0].log_text
    assert (left / "extra.log").read_text() == "only here"
    assert (right / "extra.log").read_text() == "only here"
    assert not (left / "new.txt").exists() and not (right / "new.txt").exists()
    assert (right / "docs" / "changed.md").read_text() == "new text"


def test_f5_compares(qtbot, window, tmp_path):
    left, right = _trees(tmp_path)
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    with qtbot.waitSignal(window.controller.compared, timeout=30_000):
        qtbot.keyClick(window, Qt.Key_F5)
    assert "new.txt" in rows(window)


def test_plain_start_restores_the_last_job(qtbot, tmp_path):
    from app.gui.main import _parse, build_window
    from tests.gui.conftest import FakeAsker

    left, right = _trees(tmp_path)
    job = write_job(tmp_path / "j.syncjob", left, right)
    first = build_window(_parse([str(job)]))
    qtbot.addWidget(first)
    first.ask = FakeAsker()
    first.close()
    again = build_window(_parse([]))
    qtbot.addWidget(again)
    assert again.document.path == str(job)
    assert again.findChild(object, "leftPath0").text() == str(left)
    again.close()


def test_synchronize_waits_for_nobody_while_the_tray_runs_the_job(qtbot, window, tmp_path):
    from app.core.joblock import job_lock

    left, right = _trees(tmp_path)
    before = read_tree(right)
    job = write_job(tmp_path / "j.syncjob", left, right)
    window.jobs.open(str(job), ask=False)
    compare(qtbot, window)
    with job_lock(str(job), holder="tray"):
        with qtbot.waitSignal(window.controller.sync_finished, timeout=30_000):
            qtbot.mouseClick(window.findChild(object, "syncButton"), Qt.LeftButton)
    assert read_tree(right) == before  # nothing changed
    assert any("running in the tray" in text for _title, text in window.ask.errors)
