"""Engine work off the GUI thread: one QThread that owns an asyncio loop.

The engine calls ``report(event)`` from its loop thread and from worker
threads, possibly thousands of times a second. :class:`EventBatcher` only
appends or merges under a lock there; a GUI-side timer drains it about 15
times a second and emits ONE signal carrying the batch. Results of submitted
coroutines come back to the GUI thread through a queued signal too, so no
Qt object is ever touched from the loop thread.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any
from collections.abc import Awaitable, Callable

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from app.core.events import BytesDone, ScanProgress
from app.gui.gc_policy import GcPolicy

BATCH_INTERVAL_MS = 66  # ~15 updates a second


class EventBatcher:
    """Thread-safe, cheap collector of engine events.

    Scan progress keeps only the latest event per side and byte counts are
    summed, so a batch stays small however fast the engine reports.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Any] = []
        self._scan: dict[tuple[int, str], ScanProgress] = {}
        self._bytes = 0
        self._last_path = ""

    def __call__(self, event: Any) -> None:
        with self._lock:
            if isinstance(event, ScanProgress):
                self._scan[(event.pair, event.side)] = event
            elif isinstance(event, BytesDone):
                self._bytes += event.delta
                self._last_path = event.path
            else:
                self._events.append(event)

    def drain(self) -> list[Any]:
        """Everything reported since the last drain, in a compact form."""
        with self._lock:
            out = list(self._scan.values()) + self._events
            if self._bytes:
                out.append(BytesDone(-1, self._last_path, self._bytes))
            self._scan = {}
            self._events = []
            self._bytes = 0
        return out


class _LoopThread(QThread):
    """Runs the asyncio loop until asked to stop."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()

    def run(self) -> None:  # noqa: D401 - Qt's name
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()
        # Let cancelled tasks unwind before the loop closes.
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def wait_ready(self) -> None:
        self._ready.wait(5)


class EngineRunner(QObject):
    """Runs engine coroutines on a private loop and reports back on the GUI thread.

    ``events`` carries a list of events (a batch), ``done`` the outcome of a
    coroutine submitted with :meth:`submit` (delivered to its callback).
    """

    events = Signal(object)
    _finished = Signal(object, object, object)  # callback, result, exception

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.batcher = EventBatcher()
        self._thread = _LoopThread()
        self._thread.start()
        self._thread.wait_ready()
        self._busy = 0
        self._closed = False
        self.gc_policy = GcPolicy()
        self._timer = QTimer(self)
        self._timer.setInterval(BATCH_INTERVAL_MS)
        self._timer.timeout.connect(self._flush)
        self._finished.connect(self._deliver)

    def report(self, event: Any) -> None:
        """The engine's ``report`` callable (any thread): collect, never emit."""
        self.batcher(event)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._thread.loop

    @property
    def busy(self) -> bool:
        return self._busy > 0

    def submit(self, coro: Awaitable[Any],
               callback: Callable[[Any, BaseException | None], None] | None = None) -> None:
        """Run ``coro`` on the engine loop; ``callback(result, error)`` runs
        later on the GUI thread (after a last flush of the pending events).
        After :meth:`shutdown` nothing runs any more."""
        if self._closed:
            coro.close()
            return
        self._busy += 1
        self.gc_policy.busy()
        self._timer.start()
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)

        def done(f) -> None:  # loop thread: only emit
            try:
                result, error = f.result(), None
            except BaseException as exc:  # noqa: BLE001 - handed to the GUI as is
                result, error = None, exc
            self._finished.emit(callback, result, error)

        fut.add_done_callback(done)

    def call_in_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run a plain function on the loop thread (e.g. resolve a future)."""
        self.loop.call_soon_threadsafe(fn, *args)

    @Slot(object, object, object)
    def _deliver(self, callback, result, error) -> None:
        self._busy -= 1
        self._flush()
        if self._busy == 0:
            self._timer.stop()
            self.gc_policy.idle()
        if callback is not None:
            callback(result, error)

    def _flush(self) -> None:
        batch = self.batcher.drain()
        if batch:
            self.events.emit(batch)

    def shutdown(self) -> None:
        """Stop the loop and join its thread (pending work is cancelled)."""
        self._closed = True
        self._timer.stop()
        if self._thread.isRunning():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.wait(10_000)
