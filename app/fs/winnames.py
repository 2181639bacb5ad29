"""Windows naming rules, checked before anything is created on a Windows side.

A Linux server happily holds names Windows cannot: ``CON``, ``a:b``,
``notes.`` (trailing dot or space), ``what?``. Creating them on Windows is
not just an error: ``a:b`` silently writes an NTFS alternate data stream of
file ``a``, and ``notes.`` silently becomes ``notes`` — overwriting another
file. So such items are refused by name, before any operation.
"""

from __future__ import annotations

_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
_RESERVED |= {f"COM{i}" for i in range(1, 10)} | {f"LPT{i}" for i in range(1, 10)}
_RESERVED |= {"COM\u00b9", "COM\u00b2", "COM\u00b3", "LPT\u00b9", "LPT\u00b2", "LPT\u00b3"}
_FORBIDDEN_CHARS = set('<>:"/\\|?*') | {chr(c) for c in range(32)}


def windows_name_problem(rel: str) -> str | None:
    """Why the '/'-separated relative path cannot exist on Windows, or None."""
    for part in rel.split("/"):
        bad = sorted({c for c in part if c in _FORBIDDEN_CHARS})
        if bad:
            shown = " ".join(repr(c)[1:-1] if c.isprintable() else f"\\x{ord(c):02x}" for c in bad)
            return f'"{part}" contains characters Windows does not allow in names ({shown})'
        if part.endswith((".", " ")):
            return f'"{part}" ends with a dot or a space, which Windows drops from names'
        stem = part.split(".", 1)[0].rstrip(" ").upper()
        if stem in _RESERVED:
            return f'"{part}" is a reserved device name on Windows'
    return None


def extended_path(path: str) -> str:
    r"""A Windows path in extended-length form (``\\?\``), so paths longer than
    260 characters work. ``path`` must be absolute and use backslashes."""
    if path.startswith("\\\\?\\"):
        return path
    if path.startswith("\\\\"):
        return "\\\\?\\UNC\\" + path[2:]
    return "\\\\?\\" + path
