"""A guard against a reference-count bug in ``SignalInstance.emit``.

PySide6 6.12.0 on Python 3.11 returns ``True`` from ``emit()`` without taking a
reference to it, so every ``emit`` from Python code drops one reference to
``True``. After a few thousand emits (a long-running tray refreshes its tooltip
twice a second; the runner emits ~15 batches a second during a sync) the count
reaches zero and CPython aborts ("bool_dealloc: deallocating True or False").
Python 3.12+ makes ``True`` immortal, where the bug is harmless.

:func:`install` measures whether this build has the bug and, only then, wraps
``emit`` so the missing reference is added back. An extra reference to a bool
is harmless, a missing one is fatal, so the wrapper errs on the safe side.
Idempotent; needs no QApplication. The tray calls it when it starts.
"""

from __future__ import annotations

import ctypes
import sys

_installed = False


def _emit_drops_a_reference() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(10):
        probe.ping.emit()
    return sys.getrefcount(True) < before


def install() -> bool:
    """Apply the fix when needed; True when the wrapper is (now) in place."""
    global _installed
    if _installed:
        return True
    if sys.version_info >= (3, 12) or not _emit_drops_a_reference():
        return False
    from PySide6.QtCore import SignalInstance

    original = SignalInstance.emit
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None

    def emit(self, *args):
        result = original(self, *args)
        if result is True or result is False:
            incref(result)
        return result

    emit.__doc__ = original.__doc__
    SignalInstance.emit = emit
    _installed = True
    return True
