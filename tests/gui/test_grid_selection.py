"""Changing the action of selected rows keeps those rows selected (and the
current row current), wherever the re-planned, re-sorted or re-filtered grid
now shows them."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt

from app.gui.models.plan_model import COL_ACTION
from tests.gui.conftest import compare, rows, write_job
from tests.util import make_tree


def _paths(view) -> list[str]:
    m = view.model()
    return [m.index(r, 0).data(Qt.UserRole)["path"] for r in range(m.rowCount())]


def _selected(view) -> set[str]:
    return {i.data(Qt.UserRole)["path"] for i in view.selectionModel().selectedRows()}


def _current(view) -> str | None:
    cur = view.selectionModel().currentIndex()
    return cur.data(Qt.UserRole)["path"] if cur.isValid() else None


def _click(qtbot, view, path: str, modifier=Qt.NoModifier) -> None:
    row = _paths(view).index(path)
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, modifier, rect.center())


def _window_with_rows(qtbot, window, tmp_path):
    left = make_tree(tmp_path / "L", {f"{c}.txt": c for c in "abcdef"})
    right = make_tree(tmp_path / "R", {"g.txt": "g", "h.txt": "h"})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    compare(qtbot, window)
    view = window.findChild(object, "diffView")
    view.setFocus()
    return view


def test_selection_follows_rows_through_action_changes_and_resorts(qtbot, window, tmp_path):
    view = _window_with_rows(qtbot, window, tmp_path)
    view.sortByColumn(COL_ACTION, Qt.AscendingOrder)  # a change of action moves the row
    assert _paths(view)[:6] == [f"{c}.txt" for c in "abcdef"]  # copy → before delete

    _click(qtbot, view, "b.txt")
    _click(qtbot, view, "f.txt", Qt.ControlModifier)
    _click(qtbot, view, "d.txt", Qt.ControlModifier)
    assert _selected(view) == {"b.txt", "d.txt", "f.txt"} and _current(view) == "d.txt"

    # Keys: Space ("do nothing"); sorted by action, the three rows move to the end.
    with qtbot.waitSignal(window.controller.replanned, timeout=10_000):
        qtbot.keyClick(view, Qt.Key_Space)
    assert {p: rows(window)[p]["action"] for p in ("b.txt", "d.txt", "f.txt")} == dict.fromkeys(
        ("b.txt", "d.txt", "f.txt"), "none")
    assert _paths(view)[-3:] == ["b.txt", "d.txt", "f.txt"]  # "none" sorts last
    assert _selected(view) == {"b.txt", "d.txt", "f.txt"} and _current(view) == "d.txt"

    # The context menu's "Copy to the right": back to the top, still selected.
    copy_right = next(a for a in view.actions() if a.text().startswith("Copy to the right"))
    with qtbot.waitSignal(window.controller.replanned, timeout=10_000):
        copy_right.trigger()
    assert _paths(view)[:6] == [f"{c}.txt" for c in "abcdef"]
    assert _selected(view) == {"b.txt", "d.txt", "f.txt"} and _current(view) == "d.txt"

    # A re-sort by the person keeps them too.
    view.sortByColumn(0, Qt.DescendingOrder)
    assert _paths(view)[0] == "h.txt"
    assert _selected(view) == {"b.txt", "d.txt", "f.txt"} and _current(view) == "d.txt"
    # Another change right away acts on the same rows, and only on them.
    with qtbot.waitSignal(window.controller.replanned, timeout=10_000):
        qtbot.keyClick(view, Qt.Key_Space)
    assert sorted(p for p, r in rows(window).items() if r["action"] == "none") == [
        "b.txt", "d.txt", "f.txt"]
    assert _selected(view) == {"b.txt", "d.txt", "f.txt"} and _current(view) == "d.txt"


def test_hidden_rows_drop_out_of_the_selection_the_shown_ones_stay(qtbot, window, tmp_path):
    view = _window_with_rows(qtbot, window, tmp_path)
    _click(qtbot, view, "a.txt")
    _click(qtbot, view, "g.txt", Qt.ControlModifier)
    _click(qtbot, view, "c.txt", Qt.ControlModifier)
    # Delete on a left-only and a right-only row: each deleted where it is.
    with qtbot.waitSignal(window.controller.replanned, timeout=10_000):
        qtbot.keyClick(view, Qt.Key_Delete)
    grid = rows(window)
    assert (grid["a.txt"]["action"], grid["g.txt"]["action"]) == ("delete_left", "delete_right")
    assert _selected(view) == {"a.txt", "c.txt", "g.txt"} and _current(view) == "c.txt"

    # Hiding the right-only rows re-filters: g.txt goes, a and c stay selected.
    qtbot.mouseClick(window.findChild(object, "categoryFilter_right_only"), Qt.LeftButton)
    assert "g.txt" not in _paths(view)
    assert _selected(view) == {"a.txt", "c.txt"} and _current(view) == "c.txt"
    # A new comparison starts afresh: nothing selected.
    compare(qtbot, window)
    assert _selected(view) == set()


def test_a_big_selection_stays_selected_through_a_resort(qtbot, window):
    """Select all of 200,000 rows, then sort the other way: the GUI thread
    only hands the selection over (as ranges); the new view is built and the
    rows found again off it, and every row is selected again."""
    import time

    from app.core.model import Action, Category, Entry, Kind, PlanItem

    t = 1_700_000_000_000_000_000
    items = [PlanItem(f"d{i // 1000}/f{i}.bin", Kind.FILE, Category.LEFT_ONLY, Action.NONE,
                      Entry(f"d{i // 1000}/f{i}.bin", Kind.FILE, i, t), None)
             for i in range(200_000)]
    grid = window.grid
    grid.show_items([(0, items)])
    model, view = grid.model, grid.view
    view.setFocus()
    view.selectAll()
    view.selectionModel().setCurrentIndex(model.index(5, 0), QItemSelectionModel.NoUpdate)
    current_path = model.item_at(5).path

    def selected_count() -> int:
        return sum(r.bottom() - r.top() + 1 for r in view.selectionModel().selection())

    with qtbot.waitSignal(model.view_changed, timeout=60_000):
        started = time.perf_counter()
        view.sortByColumn(0, Qt.DescendingOrder)
        on_gui_thread = time.perf_counter() - started
    assert on_gui_thread < 0.5, f"the re-sort held the GUI thread {on_gui_thread:.2f} s"
    assert model.item_at(0).path > model.item_at(1).path  # sorted the other way now
    assert selected_count() == 200_000
    assert model.item_at(view.selectionModel().currentIndex().row()).path == current_path


def test_a_too_scattered_selection_keeps_only_the_current_row(qtbot, window, tmp_path,
                                                             monkeypatch):
    import app.gui.grid_panel as grid_panel

    view = _window_with_rows(qtbot, window, tmp_path)
    monkeypatch.setattr(grid_panel, "MAX_SELECTION_RUNS", 2)
    selected = lambda: sorted(i.row() for i in view.selectionModel().selectedRows())  # noqa: E731
    window.grid._reselect([1, 2, 5], 5)  # two runs of rows: restored as they were
    assert selected() == [1, 2, 5] and view.selectionModel().currentIndex().row() == 5
    window.grid._reselect([1, 3, 5, 7], 3)  # four runs: only the current row
    assert selected() == [3] and view.selectionModel().currentIndex().row() == 3
