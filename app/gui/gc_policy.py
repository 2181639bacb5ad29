"""Keep Python's full garbage collections away from the GUI thread's time.

A full (generation 2) collection walks every tracked object while holding
the GIL, so it stops *all* threads, the GUI thread included: with a 100,000
file comparison in memory one takes 50-60 ms, and they fire while the engine
allocates scan results. So while the engine works we postpone full
collections; when it is idle again we collect the young generations (cheap)
and freeze what survived. Frozen objects are still freed by reference
counting as usual (a replaced plan goes away); they are only left out of
later collection walks, which keeps those short however big the plan is.
"""

from __future__ import annotations

import gc

#: A third threshold this high means "no automatic full collection".
_POSTPONED = 1_000_000
#: More young objects than this are not walked when the engine goes idle (see ``idle``).
YOUNG_WALK_LIMIT = 50_000


class GcPolicy:
    """``busy()`` when engine work starts, ``idle()`` when it ends."""

    def __init__(self) -> None:
        self._normal = gc.get_threshold()
        self._busy = False

    def busy(self) -> None:
        if not self._busy and gc.isenabled():
            self._busy = True
            t0, t1, _t2 = self._normal
            gc.set_threshold(t0, t1, _POSTPONED)

    def idle(self) -> None:
        if not self._busy:
            return
        self._busy = False
        if gc.get_count()[0] < YOUNG_WALK_LIMIT:
            gc.collect(1)  # young cycles only: proportional to recent garbage, not to the plan
        # else the engine paused the collector (a comparison does, see
        # app.core.gcpause) and the young generation holds the whole new plan:
        # walking it would stop every thread for ~100 ms per 100,000 files.
        # Those objects are the live plan; freeze them unwalked (the few garbage
        # cycles among them are kept, a far smaller cost than the stall).
        gc.freeze()
        gc.set_threshold(*self._normal)
