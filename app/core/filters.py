"""Include/exclude filters in ``.gitignore`` syntax, and size limits.

Patterns are translated by ``pathspec`` (git's wildmatch rules), then
evaluated by this module: with no negated (``!``) pattern, all patterns of a
list are joined into one regular expression, so a path costs one regex match
instead of one per pattern. With negations, git's "last match wins" rule is
applied pattern by pattern.

Semantics (spec/job-format.md, ``filter``): an item is synced when it
matches an include pattern and no exclude pattern; an excluded folder
excludes everything below it (the scan does not even enter it); folders are
always searched for included files, and a folder is kept when it holds an
included file or an include pattern names the folder itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


DEFAULT_INCLUDE = ("**",)
DEFAULT_EXCLUDE = (".git/", "venv/", ".venv/", "__pycache__/", "*.pyc")

_GROUP_NAME = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")
_SUFFIX = re.compile(r"\*\.[A-Za-z0-9_~+-]+(?:\.[A-Za-z0-9_~+-]+)*")  # "*.pyc", "*.tar.gz"


class FilterError(ValueError):
    """A pattern that cannot be understood; the message names it."""


class _PatternList:
    """One list of gitignore patterns, answering "does this path match?"."""

    def __init__(self, lines: tuple[str, ...], ignore_case: bool) -> None:
        flags = re.IGNORECASE if ignore_case else 0
        if not any(line.strip() and not line.lstrip().startswith("#") for line in lines):
            self._ordered, self._joined, self.empty = [], re.compile(r"(?!x)x"), True
            return  # nothing to match: pathspec (tens of ms to load) is not needed
        import pathspec

        try:
            spec = pathspec.GitIgnoreSpec.from_lines(lines)
        except Exception as exc:  # pathspec raises several types for bad input
            raise FilterError(f"invalid filter pattern: {exc}") from exc
        compiled = []
        for pat in spec.patterns:
            if pat.include is None or pat.regex is None:
                continue  # blank line or comment
            compiled.append((_GROUP_NAME.sub("(?:", pat.regex.pattern), pat.include))
        self._ordered = [(re.compile(src, flags), inc) for src, inc in compiled]
        if all(inc for _, inc in compiled):
            joined = "|".join(f"(?:{src})" for src, _ in compiled) or r"(?!x)x"
            self._joined: re.Pattern[str] | None = re.compile(joined, flags)
        else:
            self._joined = None
        self.empty = not compiled

    def match(self, path: str) -> bool:
        if self._joined is not None:
            return self._joined.match(path) is not None
        for rx, include in reversed(self._ordered):
            if rx.match(path) is not None:
                return include
        return False


@dataclass(frozen=True)
class FilterSettings:
    """The ``filter`` section of a job, after validation."""

    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    min_size_bytes: int | None = None
    max_size_bytes: int | None = None


@dataclass
class PathFilter:
    """Decides what a scan sees. Picklable (it is sent to scan workers).

    ``extra_excluded_dirs`` are root-relative folders hidden in any case
    (e.g. a versioning folder that lies inside the synced tree).
    """

    settings: FilterSettings = field(default_factory=FilterSettings)
    ignore_case: bool = False
    extra_excluded_dirs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self._compile()

    def _compile(self) -> None:
        s = self.settings
        self._include_all = any(p.strip() in ("**", "*", "**/*") for p in s.include)
        # (With everything included, the include list is never asked.)
        self._include = _PatternList(() if self._include_all else s.include, self.ignore_case)
        self._exclude = _PatternList(s.exclude, self.ignore_case)
        # A folder-only pattern ("venv/") reaches a file only through a folder
        # above it, and excluded folders are never entered: files need only
        # the other patterns (unless negations make the order matter).
        self._suffixes: tuple[str, ...] = ()
        if any(p.lstrip().startswith("!") for p in s.exclude):
            self._exclude_files = self._exclude
        else:
            file_patterns = [p.strip() for p in s.exclude if not p.rstrip().endswith("/")]
            # "*.pyc" and the like are a suffix test on the name: no regex needed
            suffixes = [p[1:] for p in file_patterns if _SUFFIX.fullmatch(p)]
            self._suffixes = tuple(x.casefold() if self.ignore_case else x for x in suffixes)
            self._exclude_files = _PatternList(
                tuple(p for p in file_patterns if not _SUFFIX.fullmatch(p)), self.ignore_case)
        fold = str.casefold if self.ignore_case else str
        self._extra = frozenset(fold(d.strip("/")) for d in self.extra_excluded_dirs)
        self._fold = fold

    def __getstate__(self) -> dict:
        return {"settings": self.settings, "ignore_case": self.ignore_case,
                "extra_excluded_dirs": self.extra_excluded_dirs}

    def __setstate__(self, state: dict) -> None:
        self.settings = state["settings"]
        self.ignore_case = state["ignore_case"]
        self.extra_excluded_dirs = state["extra_excluded_dirs"]
        self._compile()

    @property
    def include_all(self) -> bool:
        """True when every file passes the include list (the usual case)."""
        return self._include_all

    def excludes_dir(self, rel: str) -> bool:
        """True when the folder ``rel`` and everything below it is left out."""
        if self._extra and self._fold(rel) in self._extra:
            return True
        return not self._exclude.empty and self._exclude.match(rel + "/")

    def includes_file(self, rel: str, size: int) -> bool:
        """True when a file (or link) at ``rel`` of ``size`` bytes is synced."""
        s = self.settings
        if s.min_size_bytes is not None and size < s.min_size_bytes:
            return False
        if s.max_size_bytes is not None and size > s.max_size_bytes:
            return False
        if not self._include_all and not self._include.match(rel):
            return False
        if self._suffixes and (rel.casefold() if self.ignore_case else rel).endswith(
                self._suffixes):
            return False
        return self._exclude_files.empty or not self._exclude_files.match(rel)

    def suffix_test(self) -> tuple[tuple[str, ...], bool] | None:
        """``(suffixes, ignore_case)`` when :meth:`includes_file` comes down to
        "the name does not end with one of these" (the usual ``*.pyc``-style
        excludes, no size limits, everything included), so a scan can test
        it inline; None otherwise."""
        s = self.settings
        if (s.min_size_bytes is None and s.max_size_bytes is None and self._include_all
                and self._exclude_files.empty):
            return self._suffixes, self.ignore_case
        return None

    def names_dir(self, rel: str) -> bool:
        """True when an include pattern names the folder ``rel`` itself."""
        return self._include_all or self._include.match(rel + "/")


def prune_dirs(entries: list, path_filter: PathFilter | None) -> list:
    """Drop folders that hold no included file and that no include pattern
    names (only needed when the include list is narrower than ``**``).

    ``entries`` are :class:`app.core.model.Entry` tuples with '/' paths.
    """
    if path_filter is None or path_filter.include_all:
        return entries
    from app.core.model import Kind

    keep_dirs: set[str] = set()
    for e in entries:  # rows: e[0] name, e[1] kind
        if e[1] is not Kind.DIR:
            parts = e[0].split("/")[:-1]
            for i in range(1, len(parts) + 1):
                keep_dirs.add("/".join(parts[:i]))
    return [e for e in entries
            if e[1] is not Kind.DIR or e[0] in keep_dirs or path_filter.names_dir(e[0])]
