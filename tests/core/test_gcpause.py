"""The cycle collector pause: nested and concurrent users, and the state
it restores."""

from __future__ import annotations

import gc
import threading

from app.core.gcpause import collector_paused


def test_nested_pauses_restore_the_collector_only_at_the_outermost_end():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block is still running
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_pauses_from_two_threads():
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with collector_paused():
            inside.set()
            release.wait(10)

    t = threading.Thread(target=other)
    t.start()
    assert inside.wait(10)
    with collector_paused():
        pass
    assert not gc.isenabled()  # the other thread's block has not ended
    release.set()
    t.join(10)
    assert gc.isenabled()


def test_an_exception_still_restores_the_collector():
    try:
        with collector_paused():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_what_the_block_built_is_frozen_not_walked_later():
    before = gc.get_freeze_count()
    with collector_paused():
        rows = [[i] for i in range(5000)]  # tracked containers
    assert gc.get_freeze_count() >= before + 5000
    assert gc.get_count()[0] < 5000  # the young generation no longer holds them
    assert len(rows) == 5000
