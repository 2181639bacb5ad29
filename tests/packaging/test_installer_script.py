"""installer.iss says what issue 7 and the app's own code expect.

The CI step (.ci/packaging.sh) compiles the script with the real ISCC; these
checks pin the parts a compile cannot judge: identity, commands, and what the
uninstaller must leave alone.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ISS = (ROOT / "installer.iss").read_text(encoding="utf-8")


def _setup_value(key: str) -> str:
    m = re.search(rf"^{key}=(.*)$", ISS, re.M)
    assert m, f"no {key}= in installer.iss"
    return m.group(1).strip()


def _registry_lines() -> list[str]:
    return [line for line in ISS.splitlines() if line.startswith("Root:")]


def test_app_id_is_the_stable_guid():
    # Changing AppId makes Windows see a different product: no upgrade in place.
    assert _setup_value("AppId") == "{{7C1E5B1A-3F0D-4E8B-9A57-5D2C6B0E41F3}"


def test_installs_per_user_or_for_everyone():
    assert _setup_value("PrivilegesRequired") == "lowest"
    assert "dialog" in _setup_value("PrivilegesRequiredOverridesAllowed")
    assert _setup_value("DefaultDirName") == r"{autopf}\{#AppName}"


def test_syncjob_opens_the_window_and_runs_with_run():
    reg = "\n".join(_registry_lines())
    assert r'Subkey: "Software\Classes\{#JobExt}"' in reg
    assert '#define JobExt ".syncjob"' in ISS
    assert 'ValueData: """{app}\\{#AppExeName}"" ""%1"""' in reg
    assert 'ValueData: """{app}\\{#AppExeName}"" ""%1"" --run"' in reg
    assert "DefaultIcon" in reg


def test_tray_task_uses_the_same_run_entry_as_the_apps_own_toggle():
    from app.gui.tray import autostart

    line = next(x for x in _registry_lines() if "Tasks: trayatlogin" in x)
    assert line.startswith("Root: HKCU;")
    assert f'Subkey: "{autostart.RUN_KEY}"' in line
    assert 'ValueName: "{#AppName}"' in line and '#define AppName "Syncpane"' in ISS
    assert autostart.RUN_VALUE == "Syncpane"
    assert 'ValueData: """{app}\\{#AppExeName}"" tray"' in line
    assert "uninsdeletevalue" in line


def test_uninstall_keeps_the_users_settings_and_jobs():
    section = ISS.split("[UninstallDelete]", 1)[1].split("\n[", 1)[0]
    targets = re.findall(r'Name:\s*"([^"]+)"', section)
    assert targets == ["{app}"]
    assert "dirifempty" in section
    for folder in ("{localappdata}", "{userappdata}", "{userdocs}", "{commonappdata}"):
        assert folder not in section


def test_compiles_quickly_in_ci():
    assert _setup_value("Compression").startswith("lzma2/fast")


def test_committed_icon_is_an_ico_with_the_usual_sizes():
    data = (ROOT / "resources" / "syncpane.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    sizes = []
    for i in range(count):
        w, h, _, _, _, _, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        assert data[offset:offset + 8] == b"\x89PNG\r\n\x1a\n"
        assert offset + length <= len(data)
        sizes.append(w or 256)
    assert {16, 32, 48, 256} <= set(sizes)


def test_uninstall_also_removes_a_start_at_login_entry_the_tray_wrote():
    code = ISS.split("[Code]", 1)[1]
    assert "procedure CurUninstallStepChanged" in code
    assert "RegDeleteValue(HKEY_CURRENT_USER, RunKey, '{#AppName}')" in code
    assert r"RunKey = 'Software\Microsoft\Windows\CurrentVersion\Run'" in code
