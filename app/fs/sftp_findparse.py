"""Turning the fast path's ``find -printf`` output into scan entries as it streams in.

A scan of 100,000 files is 100,000 records; any Python work per record is
what a user waits for. So each arriving chunk is decoded once, split once,
and the numbers are read with ``str.split``/``map(int, ...)`` over the whole
chunk; entries are built with ``map``/``zip`` too. Only a chunk holding
something unusual (a link, a socket, a reserved ``.syncpane`` name, a filter
that leaves something out) goes through a per-record loop.

Record layout (:data:`FILE_FORMAT` and the others): three NUL-terminated fields,
``"TYPE MODE SIZE MTIME"``, the path below the root, the link target. MODE
is octal (``-`` for anything but a file), SIZE is 0 for anything but a file,
MTIME is ``%T@`` (seconds, a dot, a fraction; the fraction is dropped:
SFTP carries whole seconds and both routes must agree).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import repeat

from app.core.events import Cancelled, CancelToken
from app.core.gcpause import collector_paused
from app.core.model import Entry, Kind
from app.fs.base import RESERVED_PREFIX, TEMP_SUFFIX, ScanResult

NS = 1_000_000_000
FIELDS = 3
# The find expression prints these (see app.fs.sftp_remote.find_command).
FILE_FORMAT = r"f %m %s %T@\0%P\0\0"
DIR_FORMAT = r"d - 0 %T@\0%P\0\0"
OTHER_FORMAT = r"%y - 0 %T@\0%P\0%l\0"
END = "SYNCPANE-ROOT"
END_TAIL = b"SYNCPANE-ROOT\0ok\0"
BROKEN = "link points nowhere (broken link); left out"

_KINDS = {"f": Kind.FILE, "d": Kind.DIR, "l": Kind.SYMLINK}
# "644" -> 0o644 for every permission value; "-" (not a file) -> None.
_MODES: dict[str, int | None] = {format(m, "o"): m for m in range(0o10000)}
_MODES["-"] = None
_new_entry = tuple.__new__  # tuple.__new__(Entry, row): an Entry without a Python call


def trivial_filter(flt) -> bool:
    """True when ``flt`` lets everything through (no filter, or a PathFilter
    whose settings say so); anything else is asked per item."""
    if flt is None:
        return True
    from app.core.filters import PathFilter

    if type(flt) is not PathFilter:
        return False
    s = flt.settings
    return (flt.include_all and not s.exclude and s.min_size_bytes is None
            and s.max_size_bytes is None and not flt.extra_excluded_dirs)


class BatchFilter:
    """What a scan can decide about a whole batch of plain files at once.

    With no filter every file passes; with the usual filter (folder patterns
    and ``*.pyc``-style suffixes, which :meth:`PathFilter.suffix_test`
    reports) a batch passes when no name ends with one of the suffixes,
    which one substring search over the joined names tells.
    """

    def __init__(self, flt) -> None:
        self.flt = None if trivial_filter(flt) else flt
        test = getattr(self.flt, "suffix_test", None)
        rule = test() if callable(test) else None
        self.suffixes: tuple[str, ...] | None = None
        self.ignore_case = False
        if rule is not None:
            self.suffixes = tuple(x + "\0" for x in rule[0])
            self.ignore_case = bool(rule[1])

    @property
    def batchable(self) -> bool:
        """Whether :meth:`files_pass` can ever say yes."""
        return self.flt is None or self.suffixes is not None

    def files_pass(self, names: list[str]) -> bool:
        """True when every one of these plain files passes the filter."""
        if self.flt is None or not self.suffixes:
            return self.batchable
        joined = "\0".join(names) + "\0"
        if self.ignore_case:
            joined = joined.casefold()
        return not any(x in joined for x in self.suffixes)


class FindParser:
    """Feed it ``find`` output chunk by chunk; :meth:`finish` gives the scan.

    ``symlinks`` is the scan's link mode ('skip', 'as_link', 'follow'; with
    'follow' find runs with -L, so an 'l' record is a broken link).
    """

    def __init__(self, symlinks: str = "skip", flt=None,
                 progress: Callable[[int, str], None] | None = None,
                 cancel: CancelToken | None = None) -> None:
        self.symlinks = symlinks
        self.batch = BatchFilter(flt)
        self.flt = self.batch.flt
        self.progress = progress
        self.cancel = cancel
        self.result = ScanResult()
        self.bad = False
        self._rest = b""
        self._skipped: set[str] = set()  # folders left out: their contents too

    # -- streaming -----------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Parse every complete record in ``data`` (plus what was left over)."""
        if self.bad:
            return
        if self.cancel is not None and self.cancel.cancelled:
            raise Cancelled()
        buf = self._rest + data if self._rest else data
        cut = buf.rfind(b"\0") + 1
        if not cut:
            self._rest = buf
            return
        # Decoding at a NUL never splits a UTF-8 sequence; surrogateescape
        # keeps any byte, and encoding back gives the very same bytes.
        fields = buf[:cut].decode("utf-8", "surrogateescape").split("\0")
        fields.pop()  # the empty string after the last NUL
        complete = len(fields) - len(fields) % FIELDS
        if complete < len(fields):
            left = "\0".join(fields[complete:]) + "\0"
            self._rest = left.encode("utf-8", "surrogateescape") + buf[cut:]
            del fields[complete:]
        else:
            self._rest = buf[cut:]
        if fields:
            self._records(fields)
            if self.progress is not None:
                self.progress(len(self.result.entries), "")

    def finish(self) -> ScanResult | None:
        """The scan, or None when the output was not what we asked for."""
        if self.bad or self._rest != END_TAIL:
            return None  # BSD find, no find, a cut, or the root is not a folder
        if self.progress is not None:
            self.progress(len(self.result.entries), "")
        return self.result

    # -- one batch of complete records ---------------------------------------

    def _records(self, fields: list[str]) -> None:
        heads = fields[0::FIELDS]
        if END in heads:  # find's end marker must be the last thing we see
            self.bad = True
            return
        paths, links = fields[1::FIELDS], fields[2::FIELDS]
        n = len(heads)
        # "f 644 12 1700000000.5" -> f, 644, 12, 1700000000, 5: five tokens each
        tokens = " ".join(heads).replace(".", " ").split(" ")
        if len(tokens) != 5 * n:
            self._records_slowly(heads, paths, links)
            return
        types = tokens[0::5]
        try:
            sizes = list(map(int, tokens[2::5]))
            mtimes = list(map(NS.__mul__, map(int, tokens[3::5])))
        except ValueError:
            self.bad = True
            return
        modes = list(map(_MODES.get, tokens[1::5]))
        nf = types.count("f")
        if modes.count(None) != n - nf or "" in paths:
            self.bad = True  # a file without a mode, or an empty path: not our format
            return
        plain = nf + types.count("d") == n
        if (plain and self.batch.batchable and not self._skipped
                and not any_reserved(paths) and self._batch_passes(types, paths)):
            kinds = map(_KINDS.__getitem__, types)
            rows = zip(paths, kinds, sizes, mtimes, repeat(None), modes, strict=False)
            # Thousands of new tuples would set off the cycle collector over
            # and over (costing more than building them); these tuples hold
            # no cycles, so it waits until the batch is built.
            with collector_paused():
                self.result.entries += map(_new_entry, repeat(Entry), rows)
            return
        self._loop(types, modes, sizes, mtimes, paths, links)

    def _batch_passes(self, types: list[str], paths: list[str]) -> bool:
        """True when the filter keeps every file and folder of this batch."""
        flt = self.flt
        if flt is None:
            return True
        if any(flt.excludes_dir(p) for y, p in zip(types, paths, strict=True) if y == "d"):
            return False
        return self.batch.files_pass(paths)

    def _records_slowly(self, heads: list[str], paths: list[str], links: list[str]) -> None:
        """The same records, for a find whose numbers look unusual (no fraction...)."""
        types, modes, sizes, mtimes = [], [], [], []
        try:
            for head in heads:
                y, m, s, t = head.split(" ")
                types.append(y)
                modes.append(_MODES[m] if y == "f" else None)
                sizes.append(int(s))
                mtimes.append(int(t.partition(".")[0]) * NS)
        except (ValueError, KeyError):
            self.bad = True
            return
        if "" in paths or any(len(y) != 1 for y in types):
            self.bad = True
            return
        self._loop(types, modes, sizes, mtimes, paths, links)

    def _loop(self, types, modes, sizes, mtimes, paths, links) -> None:
        """Record by record: filters, reserved names, links, special files."""
        res, flt, skipped = self.result, self.flt, self._skipped
        append, hide = res.entries.append, res.hidden_dirs.add
        symlinks = self.symlinks
        for y, mode, size, mtime, rel, link in zip(types, modes, sizes, mtimes, paths, links,
                                                   strict=True):
            parent, _, name = rel.rpartition("/")
            if skipped and parent in skipped:
                if y == "d":
                    skipped.add(rel)
                continue
            if name.startswith(RESERVED_PREFIX):
                if y == "f" and name.endswith(TEMP_SUFFIX):
                    res.leftovers.append(rel)
                else:
                    hide(parent)
                if y == "d":
                    skipped.add(rel)
                continue
            if y == "f":
                if flt is None or flt.includes_file(rel, size):
                    append(_new_entry(Entry, (rel, Kind.FILE, size, mtime, None, mode)))
                else:
                    hide(parent)
            elif y == "d":
                if flt is not None and flt.excludes_dir(rel):
                    skipped.add(rel)
                    hide(parent)
                    continue
                append(_new_entry(Entry, (rel, Kind.DIR, 0, mtime, None, None)))
            elif y == "l" and symlinks == "as_link":
                if flt is None or flt.includes_file(rel, 0):
                    append(_new_entry(Entry, (rel, Kind.SYMLINK, 0, mtime, link, None)))
                else:
                    hide(parent)
            else:
                if y == "l" and symlinks == "follow":
                    res.problems.append((rel, BROKEN))  # -L shows only broken links as 'l'
                hide(parent)  # skipped links, sockets, FIFOs, devices: never synced
        res.hidden_dirs.discard("")


def any_reserved(paths: list[str]) -> bool:
    """Whether any path (or name) has a part starting with the reserved prefix
    (one C-speed pass over them all)."""
    joined = "\0".join(paths)
    return ("/" + RESERVED_PREFIX) in joined or ("\0" + RESERVED_PREFIX) in joined or \
        joined.startswith(RESERVED_PREFIX)
