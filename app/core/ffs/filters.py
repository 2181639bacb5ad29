"""FreeFileSync filter phrases converted to ``.gitignore`` patterns.

Syncpane evaluates filters with ``pathspec.GitIgnoreSpec`` on paths relative to
the pair's root, '/' separated, folders written with a trailing '/'. The
FreeFileSync rules implemented here were taken from its manual ("Exclude Files
and Folders via Filter") and checked against its filter source (path_filter):

1. Items are separated by ``|`` or a new line and trimmed; empty items are
   ignored. Job files of XmlFormat 6 and older also separate items with ``;``.
2. ``\\`` and ``/`` are the same separator.
3. Matching ignores case. gitignore has no such switch, so every letter becomes
   a bracket class (``Tmp`` -> ``[tT][mM][pP]``).
4. Every item is a path relative to the pair's root: ``\\file.txt`` and
   ``file.txt`` are the same thing and match only at the root. An item does not
   match at any depth by itself; it does so because ``*`` may span separators
   (``*.tmp`` matches ``a/b/c.tmp``). ``*\\name`` matches ``name`` at the root too
   (FreeFileSync adds that case explicitly), so it becomes ``**/name``.
5. ``*`` is any run of characters *including* separators; ``?`` is one character
   other than a separator. A ``*`` at the start becomes ``**/*``, one at the end
   stays ``*`` (an item also matches everything below a matching folder, as in
   gitignore), and one in the middle becomes two patterns: ``a*b`` -> ``a*b`` and
   ``a*/**/*b`` (``*`` within one name, or across several).
6. A trailing separator (``name\\``) or ``\\*`` (``name\\*``) means folders only:
   the folder and everything in it -> ``name/``.
7. A trailing ``:`` (``*.tmp:``, ``*:``) means files only. gitignore cannot say
   "not a folder", so the tag is dropped and a warning says what differs: a
   folder of that name is matched too (FreeFileSync keeps it as an empty
   folder; for ``*:`` as include, Syncpane also keeps empty folders).
8. A file passes when it matches an include item and no exclude item; an
   excluded folder excludes everything in it. Syncpane's rule is the same.

Not reproduced: FreeFileSync ignores the Unicode normalization form when it
compares names (Syncpane compares names in NFC anyway), and versions before
about 2017 matched case-sensitively on Linux.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import product

_GITIGNORE_SPECIAL = set("[]\\!#")
_MAX_MIDDLE_STARS = 6  # 2**6 patterns for one item is already a lot


@dataclass
class ConvertedFilter:
    """Patterns for one filter list, and notes on what could not be kept exactly."""

    patterns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # items left out, and why
    file_only: list[str] = field(default_factory=list)  # files-only items kept approximately


def split_items(items: list[str], semicolons: bool) -> list[str]:
    """FreeFileSync filter text (one or more ``<Item>`` strings) -> single items."""
    out: list[str] = []
    seps = r"[|\n;]" if semicolons else r"[|\n]"
    for text in items:
        for part in re.split(seps, text.replace("\r", "\n")):
            part = part.strip()
            if part:
                out.append(part)
    return out


def _letter(c: str) -> str:
    lo, up = c.lower(), c.upper()
    if len(lo) == 1 and len(up) == 1 and lo != up:
        return f"[{lo}{up}]"
    if c in _GITIGNORE_SPECIAL:
        return "\\" + c
    return c


def _literal(text: str) -> str:
    return "".join(_letter(c) for c in text)


def _mask_to_gitignore(mask: str) -> list[str]:
    """One FreeFileSync mask (no leading separator, '/' separated, anchored at
    the root) -> gitignore patterns whose union matches the same paths."""
    mask = re.sub(r"\*{2,}", "*", mask)
    if not mask:
        return []
    leading = mask.startswith("*")
    body = mask[1:] if leading else mask
    # Split into literal runs and wildcards; stars left in `body` are middle or trailing.
    tokens = re.split(r"([*?])", body)
    star_positions = [i for i, t in enumerate(tokens) if t == "*"]
    trailing = body.endswith("*")
    middle = [i for i in star_positions if not (trailing and i == len(tokens) - 2)]
    if len(middle) > _MAX_MIDDLE_STARS:
        raise ValueError(f"more than {_MAX_MIDDLE_STARS} '*' inside one item")
    results = []
    for choice in product(("*", "*/**/*"), repeat=len(middle)):
        alt = dict(zip(middle, choice, strict=True))
        parts = []
        for i, tok in enumerate(tokens):
            if tok == "*":
                parts.append(alt.get(i, "*"))
            elif tok == "?":
                parts.append("?")
            else:
                parts.append(_literal(tok))
        text = "".join(parts)
        text = ("**/*" + text) if leading else ("/" + text)
        results.append(text)
    return results


def _prefix_any_depth(pattern: str) -> str:
    """An anchored pattern -> the same pattern at any depth."""
    if pattern.startswith("**/"):
        return pattern
    return "**/" + pattern.lstrip("/")


def _tidy(pattern: str) -> str:
    while "**/**/" in pattern:
        pattern = pattern.replace("**/**/", "**/")
    if pattern == "**/*":
        return "**"
    if pattern.endswith(" "):  # gitignore drops trailing spaces unless escaped
        pattern = pattern[:-1] + "\\ "
    # "**/x" (or "**/x/") with no other '/' is what gitignore means by a bare "x".
    if pattern.startswith("**/") and "/" not in pattern[3:].rstrip("/"):
        return pattern[3:]
    return pattern


def convert_item(item: str) -> tuple[list[str], str | None]:
    """One FreeFileSync filter item -> (gitignore patterns, note or None).

    The note explains a conversion that is not exact, or why nothing came out.
    """
    phrase = item.strip().replace("\\", "/")
    any_depth = False
    if phrase.startswith("/"):
        phrase = phrase[1:]
    elif phrase.startswith("*/") and len(phrase) > 2:
        # "*/rest" also covers "rest" at the root: together, "rest" at any depth.
        any_depth = True
        phrase = phrase[2:]
    note = None
    kind = "both"
    if phrase.endswith(":"):
        kind, phrase = "file", phrase[:-1]
    elif phrase.endswith(("/", "/*")):
        kind, phrase = "folder", phrase.rsplit("/", 1)[0]
    if phrase.startswith("/") or "//" in phrase:
        # Relative paths never start with or contain an empty name: nothing can match.
        return [], f'"{item}" can match nothing (an empty folder name); left out'
    try:
        patterns = _mask_to_gitignore(phrase)
    except ValueError as exc:
        return [], f'"{item}" was left out: {exc}'
    if not patterns:
        return [], f'"{item}" names nothing (FreeFileSync ignores it too)'
    if any_depth:
        patterns = [_prefix_any_depth(p) for p in patterns]
    if kind == "folder":
        patterns = [p + "/" for p in patterns]
    patterns = [_tidy(p) for p in patterns]
    if kind == "file":
        note = (f'"{item}" applies to files only in FreeFileSync; gitignore cannot select '
                f'"files but not folders", so it became {", ".join(patterns)}, which '
                "matches folders too")
    unique = list(dict.fromkeys(patterns))
    return unique, note


def convert_filter(items: list[str], semicolons: bool = False) -> ConvertedFilter:
    """A whole include or exclude list -> gitignore patterns plus notes."""
    out = ConvertedFilter()
    for item in split_items(items, semicolons):
        patterns, note = convert_item(item)
        for p in patterns:
            if p not in out.patterns:
                out.patterns.append(p)
        if note and patterns:
            out.file_only.append(note)
        elif note:
            out.notes.append(note)
    return out
