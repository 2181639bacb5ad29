"""The GUI's collection policy: when the engine goes idle, recent garbage
cycles are collected, but a young generation holding a whole plan (the
engine paused the collector while comparing) is frozen without a walk that
would stop every thread, the GUI's included."""

from __future__ import annotations

import gc

from app.gui.gc_policy import YOUNG_WALK_LIMIT, GcPolicy


def _collections_during(fn) -> list[int]:
    seen: list[int] = []

    def watch(phase, info):
        if phase == "start":
            seen.append(info["generation"])
    gc.callbacks.append(watch)
    try:
        fn()
    finally:
        gc.callbacks.remove(watch)
    return seen


def test_idle_collects_young_cycles_after_ordinary_work():
    policy = GcPolicy()
    policy.busy()
    gc.collect(1)
    frozen = gc.get_freeze_count()
    cycle = []
    cycle.append(cycle)
    del cycle
    assert _collections_during(policy.idle) == [1]
    assert gc.get_freeze_count() >= frozen
    assert gc.get_threshold()[2] < 1_000_000  # full collections allowed again


def test_idle_freezes_a_plan_built_with_the_collector_paused_without_walking_it():
    policy = GcPolicy()
    policy.busy()
    gc.disable()  # as app.core.gcpause does around a comparison
    try:
        plan = [(n, str(n)) for n in range(YOUNG_WALK_LIMIT * 2)]
        frozen = gc.get_freeze_count()
        # (idle runs with the collector still off here, so no automatic
        # collection can walk the young objects before it does)
        assert _collections_during(policy.idle) == []
        assert gc.get_freeze_count() - frozen >= len(plan)
        assert gc.get_count()[0] < YOUNG_WALK_LIMIT
    finally:
        gc.enable()
    assert gc.get_threshold()[2] < 1_000_000


def test_a_compare_leaves_its_plan_frozen_not_young(qtbot, window, tmp_path):
    """The window freezes a comparison's rows before the collector resumes, so
    no collection walks them all at once afterwards."""
    from tests.gui.conftest import compare, write_job
    from tests.util import make_tree

    left = make_tree(tmp_path / "L", {f"d{n // 100}/f{n}.txt": "x" for n in range(3000)})
    right = make_tree(tmp_path / "R", {})
    window.jobs.open(str(write_job(tmp_path / "j.syncjob", left, right)), ask=False)
    real, frozen_after = window.controller._compare, []

    async def compare_and_look(job, old):
        before = gc.get_freeze_count()
        result = await real(job, old)
        frozen_after.append(gc.get_freeze_count() - before)  # on the engine loop, before idle
        return result
    window.controller._compare = compare_and_look
    compare(qtbot, window)
    assert window.grid.model.total_rows == 3030
    assert frozen_after[0] >= 3030  # the rows (and their entries) were frozen right away
