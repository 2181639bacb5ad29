"""Let go of a big old plan without stopping the GUI thread.

Freeing 100,000 plan rows is one long C call (each row, its entries, their
strings), and it holds the GIL the whole time, whichever thread runs it:
the window would freeze for 50-100 ms each time a new comparison replaces
an old one. So the old containers are emptied on the engine loop a chunk at
a time, giving the GIL back between chunks.
"""

from __future__ import annotations

import asyncio
from typing import Any
from collections.abc import Iterable

CHUNK = 2000


async def drop_slowly(containers: Iterable[Any], chunk: int = CHUNK) -> None:
    """Empty each list or dict in place, ``chunk`` entries at a time. Only
    call it with containers nothing uses any more."""
    for c in containers:
        if isinstance(c, list):
            while c:
                del c[-chunk:]
                await asyncio.sleep(0)
        elif isinstance(c, dict):
            while c:
                for _ in range(min(chunk, len(c))):
                    c.popitem()
                await asyncio.sleep(0)


def session_containers(session) -> list[Any]:
    """The big containers of a finished (closed) session's comparison and plan."""
    out: list[Any] = []
    for run in getattr(session, "runs", []):
        plan, cmp = getattr(run, "plan", None), getattr(run, "comparison", None)
        if plan is not None:
            out.append(plan.items)
        if cmp is not None:
            out.append(cmp.items)
            for side in (getattr(cmp, "left", None), getattr(cmp, "right", None)):
                if side is not None and isinstance(getattr(side, "by_key", None), dict):
                    out.append(side.by_key)
    return out
