"""The pair list: add, remove, swap, drop a folder, recent locations."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from tests.gui.conftest import compare, rows, write_job
from tests.util import make_tree


def test_add_swap_remove_pairs(qtbot, window, tmp_path):
    a = make_tree(tmp_path / "A", {"only-a.txt": "a"})
    b = make_tree(tmp_path / "B", {})
    window.jobs.new()
    qtbot.mouseClick(window.findChild(object, "addPairButton"), Qt.LeftButton)
    assert window.findChild(object, "leftPath1") is not None
    window.findChild(object, "leftPath1").setText(str(b))
    window.findChild(object, "rightPath1").setText(str(a))
    qtbot.mouseClick(window.findChild(object, "swapButton1"), Qt.LeftButton)
    assert window.findChild(object, "leftPath1").text() == str(a)
    qtbot.mouseClick(window.findChild(object, "removePairButton0"), Qt.LeftButton)
    assert window.findChild(object, "leftPath1") is None
    assert window.findChild(object, "leftPath0").text() == str(a)
    assert window.document.pairs() == [(str(a), str(b))] and window.document.dirty
    compare(qtbot, window)
    assert rows(window)["only-a.txt"]["action"] == "copy_to_right"
    # Compared locations are offered again as completions.
    recent = window.settings.get("recent_locations")
    assert recent[:2] == [str(b), str(a)]
    assert window.findChild(object, "leftPath0").completer().model().stringList()[:2] == \
        [str(b), str(a)]


def test_dropping_a_folder_fills_the_field(qtbot, window, tmp_path):
    folder = make_tree(tmp_path / "dropped", {})
    field = window.findChild(object, "rightPath0")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    event = QDropEvent(QPoint(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    field.dropEvent(event)
    assert field.text() == str(folder)
    assert window.document.pairs()[0][1] == str(folder)


def test_job_title_names_the_job(qtbot, window, tmp_path):
    left, right = make_tree(tmp_path / "L", {}), make_tree(tmp_path / "R", {})
    window.jobs.open(str(write_job(tmp_path / "nightly.syncjob", left, right)), ask=False)
    assert window.windowTitle().startswith("test job")
    assert str(tmp_path / "nightly.syncjob") in window.windowTitle()


def test_editing_a_pair_after_compare_outdates_the_plan(qtbot, window, tmp_path):
    a = make_tree(tmp_path / "A", {"x.txt": "x"})
    b = make_tree(tmp_path / "B", {})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", a, b)), ask=False)
    compare(qtbot, window)
    assert window.findChild(object, "syncButton").isEnabled()
    field = window.findChild(object, "rightPath0")
    field.setText(str(tmp_path / "elsewhere"))
    field.textEdited.emit(field.text())
    assert not window.findChild(object, "syncButton").isEnabled()
    assert window.findChild(object, "diffView").model().rowCount() == 0
    assert "compare again" in window.findChild(object, "statsBar").text()


def test_a_compare_for_a_job_no_longer_shown_is_dropped(qtbot, window, tmp_path):
    a = make_tree(tmp_path / "A", {"x.txt": "x"})
    b = make_tree(tmp_path / "B", {})
    window.jobs.open(str(write_job(tmp_path / "one.syncjob", a, b)), ask=False)
    qtbot.mouseClick(window.findChild(object, "compareButton"), Qt.LeftButton)
    # Before its result can arrive (it comes through the event loop), open another job.
    window.jobs.open(str(write_job(tmp_path / "two.syncjob", b, a)), ask=False)
    qtbot.waitUntil(lambda: window.controller.busy == "", timeout=30_000)
    qtbot.wait(100)
    assert window.findChild(object, "diffView").model().rowCount() == 0
    assert not window.findChild(object, "syncButton").isEnabled()
    compare(qtbot, window)
    assert rows(window)["x.txt"]["category"] == "right_only"  # the second job's view


def test_recent_jobs_menu_lists_opened_jobs(qtbot, window, tmp_path):
    a, b = make_tree(tmp_path / "A", {}), make_tree(tmp_path / "B", {})
    one = write_job(tmp_path / "one.syncjob", a, b)
    two = write_job(tmp_path / "two.syncjob", b, a)
    window.jobs.open(str(one), ask=False)
    window.jobs.open(str(two), ask=False)
    window.jobs._fill_recent()
    listed = [act.text() for act in window.jobs.recent_menu.actions()]
    assert listed == [str(two), str(one)]
    window.jobs.recent_menu.actions()[1].trigger()
    assert window.document.path == str(one)
