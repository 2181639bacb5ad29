"""The app's single-instance mutex and the installer's AppMutex must agree."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from app import instance

ISS = Path(__file__).resolve().parents[2] / "installer.iss"


@pytest.fixture(autouse=True)
def no_held_handles(monkeypatch):
    monkeypatch.setattr(instance, "_held", [])


def _iss_app_mutex_names() -> list[str]:
    for line in ISS.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*AppMutex\s*=\s*(.+?)\s*$", line)
        if m:
            return [name.strip() for name in m.group(1).split(",")]
    raise AssertionError("installer.iss has no AppMutex= line")


def test_installer_waits_for_the_names_the_app_creates():
    assert _iss_app_mutex_names() == list(instance.APP_MUTEX_NAMES)
    assert instance.APP_MUTEX_NAME == "SyncpaneAppMutex"


@pytest.mark.skipif(sys.platform == "win32", reason="the no-op is for other systems")
def test_is_a_harmless_no_op_off_windows(monkeypatch):
    import ctypes

    # Touching the Windows API here would be a bug: make any attempt visible.
    monkeypatch.setattr(ctypes, "WinDLL", lambda *a, **k: pytest.fail("WinDLL loaded"),
                        raising=False)
    assert instance.create_app_mutex() is None
    assert instance.create_app_mutex() is None
    assert instance._held == []


class FakeKernel32:
    def __init__(self, fail: set[str] = frozenset()):
        self.calls: list[tuple] = []
        self.fail = fail

    def CreateMutexW(self, attrs, initial_owner, name):  # noqa: N802 - the Win32 name
        self.calls.append((attrs, initial_owner, name))
        return 0 if name in self.fail else 100 + len(self.calls)


def test_windows_path_creates_both_names_once_and_keeps_the_handles():
    k = FakeKernel32()
    handles = instance.create_app_mutex(kernel32=k)
    assert handles == (101, 102)
    assert [c[2] for c in k.calls] == ["SyncpaneAppMutex", "Global\\SyncpaneAppMutex"]
    assert all(c[1] is False for c in k.calls)  # never owned: a presence marker only
    # A second call (e.g. the window started after the tray) creates nothing new.
    assert instance.create_app_mutex(kernel32=k) == (101, 102)
    assert len(k.calls) == 2


def test_a_refused_global_name_does_not_stop_the_app():
    k = FakeKernel32(fail={"Global\\SyncpaneAppMutex"})
    assert instance.create_app_mutex(kernel32=k) == (101,)


def test_instance_module_stays_free_of_qt():
    import subprocess

    code = "import sys, app.instance; print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ISS.parent, check=True)
    assert out.stdout.strip() == "False"
