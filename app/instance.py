"""The named mutex that tells the Windows installer Syncpane is running.

Inno Setup's ``AppMutex`` directive (see ``installer.iss``) makes the setup and
the uninstaller wait, asking the person to close the app, while a mutex of that
name exists. The app creates it once at start-up and never releases it: Windows
drops it when the process ends, however it ends.

Two names are created: the plain one lives in the person's session, the
``Global\\`` one is visible to a setup started from another session (an
all-users upgrade run by an administrator while the person is logged in).

Elsewhere than Windows this module does nothing. It imports no Qt, so the
headless commands can use it too.
"""

from __future__ import annotations

import sys
from typing import Any

#: Must match ``AppMutex`` in installer.iss (a test parses the .iss to check).
APP_MUTEX_NAME = "SyncpaneAppMutex"
APP_MUTEX_NAMES = (APP_MUTEX_NAME, "Global\\" + APP_MUTEX_NAME)

# Handles kept for the life of the process: a mutex closed too early would let
# an upgrade replace files that the running app still uses.
_held: list[int] = []


def _kernel32() -> Any:
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateMutexW.argtypes = (wintypes.LPVOID, wintypes.BOOL, wintypes.LPCWSTR)
    kernel32.CreateMutexW.restype = wintypes.HANDLE
    return kernel32


def create_app_mutex(kernel32: Any = None) -> tuple[int, ...] | None:
    """Create the app's named mutexes on Windows and hold them until exit.

    Returns the handles that could be created (an already existing mutex of the
    same name, from a second instance, is fine: the handle still counts), or
    ``None`` when not on Windows. Calling it again returns the same handles.
    ``kernel32`` is for tests; by default the real DLL is loaded via ctypes.
    """
    if kernel32 is None:
        if sys.platform != "win32":
            return None
        kernel32 = _kernel32()
    if not _held:
        for name in APP_MUTEX_NAMES:
            # bInitialOwner=False: the mutex is a marker of presence, never waited on.
            handle = kernel32.CreateMutexW(None, False, name)
            if handle:
                _held.append(handle)
            # A failure (e.g. a locked-down Global namespace) must not stop the
            # app; the setup then simply cannot see that instance.
    return tuple(_held)
