"""Sizes for people: one formatter for the command line, the window and the tray."""

from __future__ import annotations


def human_size(n: float) -> str:
    """1536 → '1.5 KiB' (binary units, as file managers show them)."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
