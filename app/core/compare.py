"""Two scans → one row per path, each with a category.

Names are matched after Unicode NFC normalization (an NFD name from macOS is
the same file), and without regard to case when either side is
case-insensitive (on Windows ``Readme.md`` and ``README.md`` *are* one file:
treating them as two would copy one and then delete it). Two names on one
side that map to the same key are reported and left alone.
"""

from __future__ import annotations

import asyncio
import unicodedata
from itertools import compress
from operator import countOf, itemgetter, ne, not_
from dataclasses import dataclass, field

from app.core.events import CancelToken
from app.core.job import CompareSettings, Method
from app.core.model import Action, Category, Entry, Kind, PlanItem, Problem, Side
from app.fs.base import FileSystem, ScanResult

# A comparison suggests ignore_time_shift_hours from this many compared files.
TIME_SHIFT_MIN_FILES = 20


def make_key_fn(ignore_case: bool):
    """The function mapping an on-disk relative name to its comparison key."""
    normalize = unicodedata.normalize
    if ignore_case:
        def key(name: str) -> str:
            return (name if name.isascii() else normalize("NFC", name)).casefold()
    else:
        def key(name: str) -> str:
            return name if name.isascii() else normalize("NFC", name)
    return key


@dataclass
class SideIndex:
    """One side's scan keyed by comparison key."""

    by_key: dict[str, Entry]
    collisions: dict[str, list[str]]  # key -> the several on-disk names
    unreadable: list[str]  # relative names whose contents could not be listed
    leftovers: list[str]
    files: int  # files (and links) that passed the filter
    hidden: set[str] = field(default_factory=set)  # keys of folders holding unseen items


def _typed(t) -> Entry:
    """An :class:`Entry` for a scan row (local scans deliver plain tuples,
    which are cheaper to move between processes; only rows that reach the
    plan are turned into Entry objects)."""
    return t if type(t) is Entry else Entry._make(t)


def index_side(scan: ScanResult, key, ignore_case: bool) -> SideIndex:
    """Key a side's rows (``row[0]`` is the on-disk name, ``row[1]`` the kind)."""
    entries = scan.entries
    clash = False
    if ignore_case:
        by_key = {key(e[0]): e for e in entries}
    else:
        by_key = {e[0]: e for e in entries}  # an ASCII name is its own key
        odd = [] if "".join(by_key).isascii() else [e for e in entries if not e[0].isascii()]
        for e in odd:  # NFC-normalize the rest
            k = key(e[0])
            if k != e[0]:
                del by_key[e[0]]
                clash = clash or k in by_key
                by_key[k] = e
    collisions: dict[str, list[str]] = {}
    if clash or len(by_key) != len(entries):
        by_key = {}
        for e in entries:  # two names with one key (rare): find them
            k = key(e[0])
            prev = by_key.get(k)
            if prev is not None:
                collisions.setdefault(k, [prev[0]]).append(e[0])
                continue
            by_key[k] = e
    files = len(entries) - list(map(itemgetter(1), entries)).count(Kind.DIR)
    return SideIndex(by_key, collisions, [p for p, _ in scan.problems], scan.leftovers, files,
                     {key(d) for d in scan.hidden_dirs})


@dataclass
class PairComparison:
    """The immutable result of comparing one pair (actions come from the plan)."""

    index: int
    left: SideIndex
    right: SideIndex
    items: list[PlanItem]  # every path that is not equal (and equal ones if kept), sorted
    problems: list[Problem] = field(default_factory=list)
    excluded_keys: set[str] = field(default_factory=set)  # collisions, unreadable subtrees
    equal_count: int = 0
    time_shift_hours: int | None = None
    compared_files: int = 0
    key_of: object = None  # the key function used

    def side(self, side: Side) -> SideIndex:
        return self.left if side is Side.LEFT else self.right


def times_equal(a_ns: int, b_ns: int, settings: CompareSettings) -> bool:
    d = abs(a_ns - b_ns) / 1e9
    tol = settings.time_tolerance_seconds
    if d <= tol:
        return True
    return any(abs(d - abs(h) * 3600) <= tol for h in settings.ignore_time_shift_hours)


def _by_time(le: Entry, re_: Entry, settings: CompareSettings) -> Category:
    if times_equal(le.mtime_ns, re_.mtime_ns, settings):
        return Category.DIFFERENT
    return Category.LEFT_NEWER if le.mtime_ns > re_.mtime_ns else Category.RIGHT_NEWER


def categorize(le: Entry, re_: Entry, settings: CompareSettings) -> Category | None:
    """Category of a path present on both sides; None means "compare the bytes"."""
    lk, rk = le.kind, re_.kind
    if lk is not rk:
        return Category.CONFLICT
    if lk is Kind.DIR:
        return Category.EQUAL
    if lk is Kind.SYMLINK:
        return Category.EQUAL if le.link_target == re_.link_target else _by_time(le, re_, settings)
    method = settings.method
    if method is Method.SIZE:
        return Category.EQUAL if le.size == re_.size else _by_time(le, re_, settings)
    if method is Method.CONTENT:
        return None if le.size == re_.size else _by_time(le, re_, settings)
    if le.size == re_.size and times_equal(le.mtime_ns, re_.mtime_ns, settings):
        return Category.EQUAL
    return _by_time(le, re_, settings)


_SLICE = 8192  # rows per C pass: short enough that other threads get the GIL between


def _not_identical(lmap: dict, rmap: dict, file_k: Kind) -> tuple[list[str], int]:
    """The left keys whose row is not the very same tuple on the right (the
    rest are equal under ``time_size`` and ``size``), and how many of the
    identical rows are files. Each slice runs in C without a pause, so the
    slices are kept small: a window's GUI thread waits for each one."""
    keys = list(lmap)
    differ: list[str] = []
    identical_files = 0
    get_l, get_r = lmap.__getitem__, rmap.get
    kind_of = itemgetter(1)
    for i in range(0, len(keys), _SLICE):
        part = keys[i:i + _SLICE]
        rows = list(map(get_l, part))
        flags = list(map(ne, map(get_r, part), rows))
        found = list(compress(part, flags))
        differ += found
        same_rows = compress(rows, map(not_, flags))
        identical_files += countOf(map(kind_of, same_rows), file_k)
    return differ, identical_files


def _under(key: str, prefixes: set[str]) -> bool:
    if key in prefixes:
        return True
    i = key.rfind("/")
    while i > 0:
        if key[:i] in prefixes:
            return True
        i = key.rfind("/", 0, i)
    return False


def _detect_time_shift(pairs: list[tuple[Entry, Entry]], compared: int,
                       settings: CompareSettings) -> int | None:
    """The whole number of hours by which *every* differing file pair differs
    (a daylight-saving or time-zone shift), or None."""
    if compared < TIME_SHIFT_MIN_FILES or not pairs:
        return None
    tol = settings.time_tolerance_seconds
    found: int | None = None
    for le, re_ in pairs:
        if le.size != re_.size:
            return None
        d = (le.mtime_ns - re_.mtime_ns) / 1e9
        h = round(d / 3600)
        if h == 0 or abs(d - h * 3600) > tol:
            return None
        if found is None:
            found = h
        elif h != found:
            return None
    return abs(found) if found is not None else None


async def compare_pair(index: int, left_scan: ScanResult, right_scan: ScanResult,
                       settings: CompareSettings, *, ignore_case: bool,
                       left_fs: FileSystem, right_fs: FileSystem, cancel: CancelToken,
                       keep_equal: bool = False, hash_parallel: int = 4,
                       indexed: dict | None = None) -> PairComparison:
    """Match two scans and give every path a category.

    ``indexed`` may hold a side's :func:`index_side` of its scan, made while
    the other side was still being scanned ("left"/"right", same ``ignore_case``).
    """
    key = make_key_fn(ignore_case)
    indexed = indexed or {}
    left = indexed.get("left") or index_side(left_scan, key, ignore_case)
    right = indexed.get("right") or index_side(right_scan, key, ignore_case)
    problems: list[Problem] = []
    excluded: set[str] = set()
    for side_name, idx, scan in (("left", left, left_scan), ("right", right, right_scan)):
        for k, names in idx.collisions.items():
            excluded.add(k)
            shown = ", ".join(f'"{n}"' for n in names)
            if ignore_case:
                msg = (f"{side_name} side holds {shown}, names that differ only by case or "
                       "accents; one side cannot hold both, so they are left alone")
            else:
                msg = (f"{side_name} side holds {shown}, names that differ only by Unicode "
                       "normalization; they are left alone")
            problems.append(Problem(names[0], msg, warning=True))
        for path, message in scan.problems:
            excluded.add(key(path))
            # A broken or looping link is the person's layout, not a failure.
            problems.append(Problem(path, f"{side_name}: {message}; nothing there or below "
                                          "it is changed", warning=message.startswith("link")))
    if not ignore_case:
        _report_case_twins(left, "left", problems)
        _report_case_twins(right, "right", problems)

    items: list[PlanItem] = []
    content_pending: list[PlanItem] = []
    differing_pairs: list[tuple[Entry, Entry]] = []
    compared = 0
    equal = 0
    lmap, rmap = left.by_key, right.by_key
    check_excluded = bool(excluded)
    quick_time_size = settings.method is Method.TIME_SIZE
    tol_ns = int(settings.time_tolerance_seconds * 1e9)
    file_k = Kind.FILE
    left_keys = lmap.keys()
    right_keys = rmap.keys()
    if not (keep_equal or check_excluded or settings.method is Method.CONTENT):
        # Most rows are the same tuple on both sides (kind, size, time to the
        # nanosecond, link target, permissions): equal under time_size and
        # size alike. Find the others with a pass that runs in C and visit
        # only those below.
        differ, identical_files = _not_identical(lmap, rmap, file_k)
        left_keys = differ
        right_keys = [k for k in rmap if k not in lmap]
        equal += len(lmap) - len(differ)
        compared += identical_files
    for k in left_keys:
        le = lmap[k]
        re_ = rmap.get(k)
        if check_excluded and _under(k, excluded):
            continue
        if re_ is None:
            le = _typed(le)
            items.append(PlanItem(le.name, le.kind, Category.LEFT_ONLY, Action.NONE, le, None))
            continue
        if le[1] is file_k and re_[1] is file_k:
            compared += 1
            # the common case, decided without a call: same size, same time
            if quick_time_size and le[2] == re_[2] and abs(le[3] - re_[3]) <= tol_ns:
                equal += 1
                if keep_equal:
                    le, re_ = _typed(le), _typed(re_)
                    items.append(PlanItem(le.name, le.kind, Category.EQUAL, Action.NONE, le, re_))
                continue
        le, re_ = _typed(le), _typed(re_)
        cat = categorize(le, re_, settings)
        if cat is None:
            item = PlanItem(le.name, le.kind, Category.EQUAL, Action.NONE, le, re_)
            content_pending.append(item)
            items.append(item)
            continue
        if cat is Category.EQUAL:
            equal += 1
            if keep_equal:
                items.append(PlanItem(le.name, le.kind, cat, Action.NONE, le, re_))
            continue
        if le.kind is file_k and re_.kind is file_k:
            differing_pairs.append((le, re_))
        items.append(PlanItem(le.name, le.kind, cat, Action.NONE, le, re_))
    for k in right_keys:
        if k in lmap or (check_excluded and _under(k, excluded)):
            continue
        re_ = _typed(rmap[k])
        items.append(PlanItem(re_.name, re_.kind, Category.RIGHT_ONLY, Action.NONE, None, re_))
    items.sort(key=lambda i: key(i.path))

    if content_pending:
        same = await contents_equal(left_fs, right_fs, content_pending, cancel, hash_parallel)
        pending = {id(i) for i in content_pending}
        kept = []
        for item in items:
            if id(item) in pending:
                if id(item) in same:
                    equal += 1
                    if not keep_equal:
                        continue
                else:  # same size, other bytes
                    item.category = _by_time(item.left, item.right, settings)
            kept.append(item)
        items = kept

    shift = None
    if settings.method is Method.TIME_SIZE:
        shift = _detect_time_shift(differing_pairs, compared, settings)
    if shift:
        problems.append(Problem(None, f"every differing file differs by exactly {shift} hour(s): "
                                      "this looks like a daylight-saving or time-zone shift. "
                                      f'Set "ignore_time_shift_hours": [{shift}] to treat them '
                                      "as equal.", warning=True, info=True))
    return PairComparison(index, left, right, items, problems, excluded, equal, shift, compared,
                          key)


def _report_case_twins(idx: SideIndex, side_name: str, problems: list[Problem]) -> None:
    """On a case-sensitive pair, names differing only by case sync fine here,
    but no Windows folder could hold both: say so."""
    keys = idx.by_key.keys()
    joined = "\0".join(keys)
    folded = joined.casefold()
    if folded == joined or len(set(folded.split("\0"))) == len(keys):
        return  # the usual case, found with a few passes in C
    seen: dict[str, str] = {}
    for k, e in idx.by_key.items():
        folded = k.casefold()
        other = seen.get(folded)
        if other is not None:
            problems.append(Problem(e[0], f'{side_name} side holds "{other}" and "{e[0]}", '
                                          "names that differ only by case (a Windows folder "
                                          "cannot hold both)", warning=True, info=True))
        else:
            seen[folded] = e[0]


async def common_hash(a: FileSystem, b: FileSystem) -> str:
    """The hash both sides use: the best that each hashes where its files
    are, if there is one (:func:`app.fs.hashing.choose`)."""
    from app.fs.hashing import choose

    ka, kb = await asyncio.gather(a.hash_kinds(), b.hash_kinds())
    return choose(ka, kb)


async def contents_equal(left_fs: FileSystem, right_fs: FileSystem, items: list[PlanItem],
                         cancel: CancelToken, parallel: int) -> set[int]:
    """ids of the items whose two files hold the same bytes.

    Two local files are compared byte by byte (stopping at the first
    difference); otherwise both sides hash (a server may hash without
    sending the file).
    """
    lp = left_fs.local_path("")
    rp = right_fs.local_path("")
    same: set[int] = set()
    if lp is not None and rp is not None:
        from app.fs.local import files_identical

        sem = asyncio.Semaphore(max(1, parallel))

        async def one(item: PlanItem) -> None:
            async with sem:
                cancel.raise_if_cancelled()
                if await asyncio.to_thread(files_identical, left_fs.local_path(item.left.name),
                                           right_fs.local_path(item.right.name), cancel):
                    same.add(id(item))
        await asyncio.gather(*(one(i) for i in items))
        return same
    kind = await common_hash(left_fs, right_fs)
    lh, rh = await asyncio.gather(
        left_fs.hash_files([i.left.name for i in items], cancel, kind),
        right_fs.hash_files([i.right.name for i in items], cancel, kind))
    for item in items:
        a, b = lh.get(item.left.name), rh.get(item.right.name)
        if a is not None and a == b:
            same.add(id(item))
    return same
