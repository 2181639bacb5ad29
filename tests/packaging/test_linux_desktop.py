"""Linux desktop integration: packaging/install-linux-desktop.sh in a temp HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "install-linux-desktop.sh"
DESKTOP = ROOT / "resources" / "linux" / "syncpane.desktop"
MIME_XML = ROOT / "resources" / "linux" / "syncpane-mime.xml"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux desktop only")


def _validator() -> str | None:
    found = shutil.which("desktop-file-validate")
    if found is None and os.environ.get("SYNCPANE_REQUIRE_DESKTOP_VALIDATE") == "1":
        pytest.fail("desktop-file-validate is required here (apt-get install desktop-file-utils)")
    return found


def _run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, Path]:
    data = tmp_path / "data"
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(data),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    (tmp_path / "home").mkdir(exist_ok=True)
    proc = subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True,
                          text=True, timeout=60)
    return proc, data


def _entries(path: Path) -> dict[str, list[str]]:
    """Key → values over all groups of a desktop file (enough for these checks)."""
    out: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def test_shipped_desktop_file_is_valid_and_opens_jobs():
    entries = _entries(DESKTOP)
    assert entries["Exec"][0] == "syncpane %f"
    assert entries["MimeType"] == ["application/x-syncpane-job;"]
    assert entries["Icon"] == ["syncpane"]
    tool = _validator()
    if tool is None:
        pytest.skip("desktop-file-validate not installed (Debian: desktop-file-utils)")
    proc = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mime_package_claims_syncjob():
    import xml.etree.ElementTree as ET

    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(MIME_XML).getroot()
    types = root.findall("m:mime-type", ns)
    assert [t.get("type") for t in types] == ["application/x-syncpane-job"]
    assert [g.get("pattern") for g in types[0].findall("m:glob", ns)] == ["*.syncjob"]


def test_install_puts_files_in_the_users_data_folder(tmp_path):
    proc, data = _run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    desktop = data / "applications" / "syncpane.desktop"
    mime = data / "mime" / "packages" / "syncpane.xml"
    icon = data / "icons" / "hicolor" / "scalable" / "apps" / "syncpane.svg"
    assert desktop.read_text() == DESKTOP.read_text()
    assert mime.read_bytes() == MIME_XML.read_bytes()
    assert icon.read_bytes() == (ROOT / "resources" / "icons" / "app.svg").read_bytes()
    assert not (tmp_path / "home" / ".local").exists()  # XDG_DATA_HOME was honoured
    if shutil.which("update-mime-database"):
        globs = (data / "mime" / "globs2").read_text()
        assert "application/x-syncpane-job:*.syncjob" in globs
    if shutil.which("update-desktop-database"):
        cache = (data / "applications" / "mimeinfo.cache").read_text()
        assert "application/x-syncpane-job=syncpane.desktop;" in cache
    tool = _validator()
    if tool:
        check = subprocess.run([tool, str(desktop)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_installed_type_is_what_qt_sees_for_a_job_file(tmp_path):
    proc, data = _run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    job = tmp_path / "nightly.syncjob"
    job.write_text('{"syncpane_job": 1, "pairs": []}')
    code = ("import sys; from PySide6.QtCore import QMimeDatabase; "
            "print(QMimeDatabase().mimeTypeForFile(sys.argv[1]).name())")
    env = {**os.environ, "XDG_DATA_HOME": str(data), "XDG_DATA_DIRS": f"{data}:/usr/share"}
    out = subprocess.run([sys.executable, "-c", code, str(job)], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.strip() == "application/x-syncpane-job", out.stderr


def test_exec_option_points_the_entry_at_a_bundle(tmp_path):
    proc, data = _run(tmp_path, "--exec", "/opt/Sync Apps/Syncpane")
    assert proc.returncode == 0, proc.stderr
    entries = _entries(data / "applications" / "syncpane.desktop")
    assert entries["Exec"] == ['"/opt/Sync Apps/Syncpane" %f', '"/opt/Sync Apps/Syncpane" tray']
    assert entries["TryExec"] == ["/opt/Sync Apps/Syncpane"]
    tool = _validator()
    if tool:
        check = subprocess.run([tool, str(data / "applications" / "syncpane.desktop")],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_exec_with_characters_a_desktop_entry_cannot_hold_is_refused(tmp_path):
    proc, data = _run(tmp_path, "--exec", "/opt/100%/Syncpane")
    assert proc.returncode == 2
    assert "must not contain" in proc.stderr
    assert not (data / "applications" / "syncpane.desktop").exists()


def test_uninstall_removes_what_install_added(tmp_path):
    assert _run(tmp_path)[0].returncode == 0
    proc, data = _run(tmp_path, "--uninstall")
    assert proc.returncode == 0, proc.stderr
    for rel in ("applications/syncpane.desktop", "mime/packages/syncpane.xml",
                "icons/hicolor/scalable/apps/syncpane.svg"):
        assert not (data / rel).exists(), rel
    if shutil.which("update-mime-database"):
        assert "syncjob" not in (data / "mime" / "globs2").read_text()
