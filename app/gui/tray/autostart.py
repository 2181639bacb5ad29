"""'Start in tray at login', registered the platform's way (Qt-free).

- Linux and other XDG desktops: ``$XDG_CONFIG_HOME/autostart/syncpane-tray.desktop``
  (``~/.config`` when the variable is unset), per the XDG Autostart spec.
- Windows: the value ``Syncpane`` under ``HKCU\\Software\\Microsoft\\Windows\\
  CurrentVersion\\Run`` (per user, no administrator rights).
- macOS: a LaunchAgent ``~/Library/LaunchAgents/org.syncpane.tray.plist``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DESKTOP_NAME = "syncpane-tray.desktop"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Syncpane"
PLIST_NAME = "org.syncpane.tray.plist"


def tray_command() -> list[str]:
    """The command that starts the tray: the frozen program, or this Python."""
    if getattr(sys, "frozen", False):
        # The bundle holds a console program (syncpane-cli) next to the window
        # program; login must start the one that opens no console window.
        exe = Path(sys.executable)
        gui = exe.with_name("Syncpane.exe" if sys.platform == "win32" else "Syncpane")
        return [str(gui if gui.is_file() else exe), "tray"]
    return [sys.executable, "-m", "app", "tray"]


def desktop_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "autostart" / DESKTOP_NAME


def _desktop_exec(cmd: list[str]) -> str:
    # Desktop Entry spec: arguments with reserved characters are double-quoted,
    # and inside quotes ", `, $ and \ are escaped with a backslash.
    def quote(arg: str) -> str:
        if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`='):
            return arg
        escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        return f'"{escaped}"'
    return " ".join(quote(a).replace("%", "%%") for a in cmd)


def desktop_entry(cmd: list[str] | None = None) -> str:
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Name=Syncpane (tray)",
        "Comment=Quick sync of saved jobs from the system tray",
        f"Exec={_desktop_exec(cmd or tray_command())}",
        "Icon=syncpane",
        "Terminal=false",
        "X-GNOME-Autostart-enabled=true",
        "",
    ])


def _windows_command(cmd: list[str]) -> str:
    import subprocess

    return subprocess.list2cmdline(cmd)


def set_autostart(enabled: bool, cmd: list[str] | None = None) -> None:
    """Register (or remove) the tray's start at login. Raises OSError on failure."""
    cmd = cmd or tray_command()
    if sys.platform == "win32":
        import winreg

        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0,
                            winreg.KEY_SET_VALUE) as key:
            if enabled:
                winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, _windows_command(cmd))
            else:
                try:
                    winreg.DeleteValue(key, RUN_VALUE)
                except FileNotFoundError:
                    pass
        return
    if sys.platform == "darwin":
        path = Path.home() / "Library" / "LaunchAgents" / PLIST_NAME
        if enabled:
            args = "".join(f"<string>{_xml(a)}</string>" for a in cmd)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>'
                            "<key>Label</key><string>org.syncpane.tray</string>"
                            f"<key>ProgramArguments</key><array>{args}</array>"
                            "<key>RunAtLoad</key><true/></dict></plist>\n", encoding="utf-8")
        else:
            path.unlink(missing_ok=True)
        return
    path = desktop_file()
    if enabled:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(desktop_entry(cmd), encoding="utf-8")
        os.replace(tmp, path)
    else:
        path.unlink(missing_ok=True)


def autostart_enabled() -> bool:
    """Whether start at login is registered now."""
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.QueryValueEx(key, RUN_VALUE)
            return True
        except OSError:
            return False
    if sys.platform == "darwin":
        return (Path.home() / "Library" / "LaunchAgents" / PLIST_NAME).exists()
    return desktop_file().exists()


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

