"""Keep Python's cycle collector out of the way while a comparison builds
its rows.

A scan or comparison allocates hundreds of thousands of small tuples and
dicts, none of them part of a reference cycle. Each batch of allocations
sets off a collection that walks the young objects, and the older
generations are walked again and again as the rows survive: on a
100,000-file pair that is a third of the time spent turning a worker's
answer back into rows. Reference counting still frees everything as usual;
only the search for cycles waits until the work is done, and what the work
built is then frozen (see :func:`collector_paused`).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause automatic cycle collection for the block (nesting and several
    threads at once are fine: the last one out restores it)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                # What the block built is live data (rows, a plan); resumed as
                # is, the collector's next pass would walk all of it at once.
                # Frozen, it is left out of every later pass and still freed
                # by reference counting as usual.
                gc.freeze()
                gc.enable()
