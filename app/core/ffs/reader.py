"""Walk a parsed FreeFileSync job and build the Syncpane job document.

Layouts: XmlFormat < 10 wraps the settings in ``MainConfig`` (``Comparison``,
``SyncConfig``, ``GlobalFilter``; per pair ``CompareConfig``, ``SyncConfig``,
``LocalFilter``; batch options in ``BatchConfig``); later formats put
``Compare``, ``Synchronize``, ``Filter`` and ``FolderPairs`` under the root.
The layout is recognised by the presence of ``MainConfig``, not by the number.

A pair's own filter adds to the job's filter in FreeFileSync (an item must
pass both), while its own compare and sync settings replace the job's; the
pair overrides written here follow that.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from app.core.ffs import locations
from app.core.ffs.filters import convert_filter
from app.core.ffs.settings import read_compare, read_sync, size_limit, text_of, warn_unknown

ALL = ["**"]
NEWEST_KNOWN_FORMAT = 23


class FfsFormatError(ValueError):
    """The document is XML but not a FreeFileSync job this importer can read."""


@dataclass
class Result:
    job: dict
    warnings: list[tuple[str, str]]
    skipped: list[tuple[int, str, str, str]]  # (pair number, left, right, reason)


@dataclass
class _FilterParts:
    include: list[str]
    exclude: list[str]
    min_size: int | None
    max_size: int | None


@dataclass
class _Builder:
    fmt: int
    old: bool
    warnings: list[tuple[str, str]] = field(default_factory=list)
    connections: dict[str, dict] = field(default_factory=dict)
    local_threads: int = 0

    def warn(self, where: str, message: str) -> None:
        self.warnings.append((where, message))

    # ------------------------------------------------------------ locations
    def _add_connection(self, res: locations.Resolved, where: str) -> None:
        key = res.server_key
        if key is None:
            return
        known = self.connections.get(key)
        if known is None:
            self.connections[key] = dict(res.connection)
        elif known != res.connection:
            self.warn(where, f"{key} is used with other connection options elsewhere in the "
                             "file; the first ones are kept")

    def locate(self, phrase: str, where: str, threads: int | None = None) -> str | None:
        res = locations.resolve(phrase, threads)
        for note in res.notes:
            self.warn(where, note)
        if res.location is None:
            self.warn(where, res.skip_reason or "cannot be used")
            return None
        self._add_connection(res, where)
        return res.location

    # ------------------------------------------------------------ filters
    def read_filter(self, el: ET.Element, where: str) -> _FilterParts:
        warn_unknown(el, {"Include", "Exclude", "SizeMin", "SizeMax", "TimeSpan"}, where,
                     self.warn)
        semicolons = self.fmt <= 6  # FreeFileSync 6 and older also split items at ';'

        def items(name: str) -> list[str] | None:
            node = el.find(name)
            if node is None:
                return None
            found = [it.text or "" for it in node.findall("Item")]
            return found if found or len(node) else [node.text or ""]

        inc_items = items("Include")
        include = ALL
        if inc_items is not None:
            conv = convert_filter(inc_items, semicolons)
            for note in conv.notes:
                self.warn(f"{where}/Include", note)
            for note in conv.file_only:
                self.warn(f"{where}/Include", note + "; folders holding no included file "
                          "(such as empty folders) are synchronized too")
            include = conv.patterns
            if not include:
                self.warn(f"{where}/Include", "the include list is empty: nothing is "
                                              "synchronized")
        exclude: list[str] = []
        ex_items = items("Exclude")
        if ex_items is not None:
            conv = convert_filter(ex_items, semicolons)
            for note in conv.notes:
                self.warn(f"{where}/Exclude", note)
            for note in conv.file_only:
                self.warn(f"{where}/Exclude", note + "; FreeFileSync would keep such folders "
                          "(without their files)")
            exclude = conv.patterns
        span = el.find("TimeSpan")
        if span is not None and span.get("Type", "None").strip().lower() not in ("", "none"):
            self.warn(f"{where}/TimeSpan", f'the time filter (Type="{span.get("Type")}", '
                      f'{text_of(span) or 0}) has no Syncpane equivalent; all dates are synced')
        return _FilterParts(include, exclude,
                            size_limit(el.find("SizeMin"), f"{where}/SizeMin", self.warn),
                            size_limit(el.find("SizeMax"), f"{where}/SizeMax", self.warn))

    @staticmethod
    def filter_dict(parts: _FilterParts) -> dict:
        out: dict = {"include": parts.include, "exclude": parts.exclude}
        out["min_size_bytes"] = parts.min_size or None
        out["max_size_bytes"] = parts.max_size
        return out

    def pair_filter(self, glob: _FilterParts, local: _FilterParts, where: str) -> dict:
        """A pair's filter applies on top of the job's: combine them."""
        out: dict = {}
        if local.include != ALL:
            if glob.include != ALL:
                self.warn(f"{where}/Include", "both the job and the pair have an include list; "
                          "FreeFileSync required both, Syncpane uses the pair's list only")
            out["include"] = local.include
        if local.exclude:
            out["exclude"] = glob.exclude + [p for p in local.exclude if p not in glob.exclude]
        lo = max(filter(None, (glob.min_size, local.min_size)), default=None)
        hi = min((v for v in (glob.max_size, local.max_size) if v is not None), default=None)
        if lo != (glob.min_size or None):
            out["min_size_bytes"] = lo
        if hi != glob.max_size:
            out["max_size_bytes"] = hi
        return out

    # ------------------------------------------------------------ whole document
    def build(self, root: ET.Element, name: str) -> Result:
        main = root.find("MainConfig") if self.old else root
        assert main is not None
        names = (("Comparison", "SyncConfig", "GlobalFilter") if self.old
                 else ("Compare", "Synchronize", "Filter"))
        self._warn_unknown_top(root, main)
        job: dict = {"syncpane_job": 1, "name": name, "pairs": []}

        cmp_el = main.find(names[0])
        compare = read_compare(cmp_el, names[0], self.warn) if cmp_el is not None else {}
        sync_el = main.find(names[1])
        sync = (read_sync(sync_el, names[1], self.warn, self.fmt, compare.get("method"),
                          self.locate) if sync_el is not None else {})
        if "variant" not in sync:
            self.warn(names[1], "no synchronization directions found; FreeFileSync's default, "
                                "two-way, is used")
            sync["variant"] = "two_way"
        flt_el = main.find(names[2])
        glob_filter = (self.read_filter(flt_el, names[2]) if flt_el is not None
                       else _FilterParts(ALL, [], None, None))

        skipped = self._pairs(main, job, compare, glob_filter)
        if compare:
            job["compare"] = compare
        job["sync"] = sync
        job["filter"] = self.filter_dict(glob_filter)
        if self.connections:
            job["connections"] = self.connections
        job["errors"] = "continue" if self._ignore_errors(root, main) else "stop"
        if self.local_threads > 1:
            job["parallel_local"] = min(self.local_threads, 64)
        self._other_settings(root, main)
        return Result(job, self.warnings, skipped)

    def _pairs(self, main: ET.Element, job: dict, compare: dict, glob_filter: _FilterParts):
        p_cmp, p_sync, p_flt = (("CompareConfig", "SyncConfig", "LocalFilter") if self.old
                                else ("Compare", "Synchronize", "Filter"))
        folder_pairs = main.find("FolderPairs")
        pair_els = folder_pairs.findall("Pair") if folder_pairs is not None else []
        if not pair_els:
            raise FfsFormatError("the file has no folder pairs (FolderPairs/Pair)")
        skipped = []
        for number, pair_el in enumerate(pair_els, 1):
            where = f"pair {number}"
            warn_unknown(pair_el, {"Left", "Right", p_cmp, p_sync, p_flt}, where, self.warn)
            sides = []
            reasons = []
            for tag in ("Left", "Right"):
                el = pair_el.find(tag)
                phrase = text_of(el)
                threads = _int(el.get("Threads")) if el is not None else None
                res = locations.resolve(phrase, threads)
                sides.append((phrase, res))
                if res.location is None:
                    reasons.append(f"{tag.lower()} side: {res.skip_reason}")
            if reasons:
                reason = "; ".join(reasons)
                self.warn(where, f"skipped, it cannot run in Syncpane: {reason}")
                skipped.append((number, sides[0][0], sides[1][0], reason))
                continue
            pair: dict = {}
            for (_phrase, res), side in zip(sides, ("left", "right"), strict=True):
                for note in res.notes:
                    self.warn(where, note)
                self._add_connection(res, where)
                if res.server_key is None:
                    threads = _int(pair_el.find(side.capitalize()).get("Threads"))
                    self.local_threads = max(self.local_threads, threads or 0)
                pair[side] = res.location
            pair_compare = {}
            if pair_el.find(p_cmp) is not None:
                pair_compare = read_compare(pair_el.find(p_cmp), f"{where}/{p_cmp}", self.warn)
                # A pair's settings replace the job's as a whole: absent keys are defaults.
                pair_compare = {"method": "time_size", "symlinks": "skip",
                                "ignore_time_shift_hours": [], **pair_compare}
                pair["compare"] = pair_compare
            if pair_el.find(p_sync) is not None:
                method = pair_compare.get("method", compare.get("method"))
                pair_sync = read_sync(pair_el.find(p_sync), f"{where}/{p_sync}", self.warn,
                                      self.fmt, method, self.locate)
                if "variant" not in pair_sync:
                    self.warn(f"{where}/{p_sync}", "no synchronization directions found; "
                              "FreeFileSync's default, two-way, is used")
                    pair_sync["variant"] = "two_way"
                pair_sync.setdefault("deletion", "recycle")
                pair["sync"] = pair_sync
            if pair_el.find(p_flt) is not None:
                local = self.read_filter(pair_el.find(p_flt), f"{where}/{p_flt}")
                combined = self.pair_filter(glob_filter, local, f"{where}/{p_flt}")
                if combined:
                    pair["filter"] = combined
            job["pairs"].append(pair)
        if not job["pairs"]:
            raise FfsFormatError("no folder pair can run in Syncpane: " + "; ".join(
                f"pair {n}: {reason}" for n, _l, _r, reason in skipped))
        return skipped

    def _ignore_errors(self, root: ET.Element, main: ET.Element) -> bool:
        errors = main.find("Errors")
        if errors is not None:
            retry = _int(errors.get("Retry")) or 0
            if retry > 0:
                self.warn("Errors@Retry", f"FreeFileSync retried a failed item {retry} time(s) "
                          f"after {errors.get('Delay', '?')} s; Syncpane does not retry by itself")
            return errors.get("Ignore", "false").strip().lower() == "true"
        if main.find("IgnoreErrors") is not None:
            return text_of(main.find("IgnoreErrors")).lower() == "true"
        for section in ("BatchConfig", "GuiConfig"):
            handle = text_of(root.find(f"{section}/HandleError")).lower()
            if handle:
                if handle == "popup":
                    self.warn(f"{section}/HandleError", "FreeFileSync asked what to do on each "
                              "error; a Syncpane batch run stops at the first error")
                return handle == "ignore"
        return False

    def _other_settings(self, root: ET.Element, main: ET.Element) -> None:
        """Settings with no Syncpane equivalent: one warning each, never dropped silently."""
        def nonempty(path: str, base: ET.Element, what: str) -> None:
            value = text_of(base.find(path))
            if value:
                self.warn(path, f"{what} ({value}) has no Syncpane equivalent; not imported")

        nonempty("Notes", main, "the job's notes")
        nonempty("PostSyncCommand", main, "the command run after synchronization")
        if text_of(main.find("OnCompletion")).lower() != "close progress dialog":  # = none
            nonempty("OnCompletion", main, "the command run after synchronization")
        nonempty("LogFolder", main, "the log folder")
        nonempty("EmailNotification", main, "the e-mail notification")
        batch = root.find("BatchConfig" if self.old else "Batch")
        if batch is None:
            return
        name = batch.tag
        progress = batch.find("ProgressDialog")
        minimized = (progress.get("Minimized") if progress is not None
                     else text_of(batch.find("RunMinimized")))
        if (minimized or "").strip().lower() == "true":
            where = f"{name}/ProgressDialog" if progress is not None else f"{name}/RunMinimized"
            self.warn(where, "running minimized has no Syncpane "
                      "equivalent (headless runs show no window)")
        if progress is not None and progress.get("AutoClose", "").strip().lower() == "true":
            self.warn(f"{name}/ProgressDialog", "closing the progress window automatically has "
                      "no Syncpane equivalent")
        dialog = text_of(batch.find("ErrorDialog"))
        errors = main.find("Errors")
        ignoring = errors is not None and errors.get("Ignore", "").strip().lower() == "true"
        if dialog.lower() == "show" and not ignoring:
            self.warn(f"{name}/ErrorDialog", "FreeFileSync asked what to do on each error; a "
                      "Syncpane batch run stops at the first error (errors: stop)")
        action = text_of(batch.find("PostSyncAction"))
        if action and action.lower() not in ("none", "summary"):
            self.warn(f"{name}/PostSyncAction", f'"{action}" after synchronization has no '
                      "Syncpane equivalent; not imported")
        nonempty("LogfileFolder", batch, "the log folder")

    def _warn_unknown_top(self, root: ET.Element, main: ET.Element) -> None:
        if self.old:
            warn_unknown(root, {"MainConfig", "BatchConfig", "GuiConfig"}, "", self.warn)
            warn_unknown(main, {"Comparison", "SyncConfig", "GlobalFilter", "FolderPairs",
                                "OnCompletion", "IgnoreErrors", "PostSyncCommand"},
                         "MainConfig", self.warn)
        else:
            # Gui and GridViewType only hold how the window looked: nothing to import.
            warn_unknown(root, {"Notes", "Compare", "Synchronize", "Filter", "FolderPairs",
                                "Errors", "PostSyncCommand", "LogFolder", "EmailNotification",
                                "Batch", "Gui", "GridViewType"}, "", self.warn)


def _int(value: str | None) -> int | None:
    try:
        return int((value or "").strip())
    except ValueError:
        return None


def build_job(root: ET.Element, name: str) -> Result:
    """Check the root element and convert the document (raises FfsFormatError)."""
    if root.tag != "FreeFileSync":
        raise FfsFormatError(f"not a FreeFileSync file: the root element is <{root.tag}>, "
                             "expected <FreeFileSync>")
    xml_type = root.get("XmlType")
    if xml_type is None:
        raise FfsFormatError("not a FreeFileSync job: the root element has no XmlType")
    if xml_type.strip().upper() not in ("BATCH", "GUI"):
        raise FfsFormatError(f'unsupported XmlType "{xml_type}": only jobs (BATCH, from '
                             ".ffs_batch, and GUI, from .ffs_gui) can be imported")
    old = root.find("MainConfig") is not None
    fmt_text = root.get("XmlFormat")
    fmt = _int(fmt_text)
    builder = _Builder(fmt=fmt if fmt is not None else (6 if old else NEWEST_KNOWN_FORMAT),
                       old=old)
    if fmt is None:
        builder.warn("XmlFormat", f'missing or not a number ("{fmt_text}"); read as '
                                  f"format {builder.fmt}")
    elif fmt > NEWEST_KNOWN_FORMAT:
        builder.warn("XmlFormat", f"format {fmt} is newer than the newest known one "
                                  f"({NEWEST_KNOWN_FORMAT}); check the result")
    return builder.build(root, name)
