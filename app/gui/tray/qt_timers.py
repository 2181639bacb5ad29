"""The autorun scheduler's clock on the GUI thread (see :class:`app.core.autorun.Timers`)."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot


class _Handle:
    def __init__(self, timer: QTimer) -> None:
        self._timer: QTimer | None = timer

    def cancel(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.stop()
            timer.deleteLater()


class QtTimers(QObject):
    """``post`` may be called from any thread (watchdog's, the engine's); the
    callbacks, and therefore the whole scheduler, run on this object's thread."""

    _posted = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._posted.connect(self._run)

    def now(self) -> float:
        return time.monotonic()

    def post(self, fn: Callable[[], None]) -> None:
        self._posted.emit(fn)

    def call_later(self, delay: float, fn: Callable[[], None]) -> _Handle:
        """Only from this object's thread (the scheduler calls it from its callbacks)."""
        timer = QTimer(self)
        timer.setSingleShot(True)
        handle = _Handle(timer)

        def fire() -> None:
            handle.cancel()
            fn()
        timer.timeout.connect(fire)
        timer.start(max(0, int(delay * 1000)))
        return handle

    @Slot(object)
    def _run(self, fn: Callable[[], None]) -> None:
        fn()
