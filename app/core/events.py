"""Progress events and the cancel token.

The engine takes a ``report(event)`` callable and a :class:`CancelToken`.
Events are small immutable dataclasses; the caller decides how often to
show them (the GUI coalesces them, the CLI prints to a terminal only).
``report`` may be called from worker threads: it must be cheap and
thread-safe (appending to a list or setting a field is fine).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Union
from collections.abc import Callable


class Cancelled(Exception):
    """Raised inside the engine when the cancel token fires."""


class CancelToken:
    """A thread-safe flag: set once, checked often.

    ``pause()``/``resume()`` let a person hold a running sync between
    operations; ``wait_if_paused`` blocks only a worker thread.
    """

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()  # wake anything waiting on pause

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def raise_if_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise Cancelled()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_if_paused(self) -> None:
        """Block the calling (worker) thread while paused; raise if cancelled."""
        self._running.wait()
        self.raise_if_cancelled()


@dataclass(frozen=True, slots=True)
class ScanProgress:
    """Items seen so far while scanning one side of a pair."""

    pair: int
    side: str  # "left" | "right"
    items: int
    current: str


@dataclass(frozen=True, slots=True)
class PhaseStarted:
    """A new phase of the run: "scan", "compare", "hash", "plan", "sync"."""

    phase: str
    pair: int | None = None
    total_items: int = 0
    total_bytes: int = 0


@dataclass(frozen=True, slots=True)
class ItemStarted:
    pair: int
    path: str
    action: str
    size: int


@dataclass(frozen=True, slots=True)
class BytesDone:
    """Bytes copied since the previous event of this kind (a delta)."""

    pair: int
    path: str
    delta: int


@dataclass(frozen=True, slots=True)
class ItemDone:
    pair: int
    path: str
    action: str
    ok: bool
    skipped: bool = False
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A free-form notice (a warning about the job, a cleaned-up leftover...)."""

    text: str
    warning: bool = False


Event = Union[ScanProgress, PhaseStarted, ItemStarted, BytesDone, ItemDone, Message]
Reporter = Callable[[Event], None]


def ignore_events(_event: Event) -> None:
    """A reporter that drops everything."""
