"""FreeFileSync ``Compare`` / ``Synchronize`` / ``Filter`` sections -> job sections.

Both layouts use the same sections under different names (``Comparison``,
``SyncConfig``, ``GlobalFilter`` in XmlFormat < 10). Direction settings come in
three shapes over the format's history:

* ``Variant`` (TwoWay / Mirror / Update / Custom + ``CustomDirections`` by
  category), up to XmlFormat 20;
* ``Differences@LeftOnly,LeftNewer,RightNewer,RightOnly``: a direction per
  comparison category, like Syncpane's ``custom`` map. FreeFileSync has no
  separate "different" entry: with content or size comparison it keeps
  LeftNewer and RightNewer equal and uses them for differing files, so
  ``different`` takes that value when both agree and ``none`` otherwise (with
  time and size, same time but other size is a conflict, which it leaves alone);
* ``Changes{Left@Create,Update,Delete; Right@...}``: a direction per kind of
  change since the last sync, known from FreeFileSync's database. Standard
  shapes become ``two_way`` / ``mirror`` / ``update``; anything else is mapped
  to categories (created on the left or deleted on the right -> ``left_only``,
  updated on the left -> ``left_newer``, ...), with a warning where the two
  changes behind one category disagree: then the choice that deletes nothing
  wins.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

Warn = Callable[[str, str], None]

_COMPARE_METHODS = {"timeandsize": "time_size", "bytimeandsize": "time_size",
                    "content": "content", "bycontent": "content", "size": "size"}
_SYMLINKS = {"exclude": "skip", "ignore": "skip", "direct": "as_link", "usedirectly": "as_link",
             "follow": "follow", "followlink": "follow"}
_DIRECTIONS = {"right": "to_right", "left": "to_left", "none": "none"}
_DELETION = {"recyclebin": "recycle", "permanent": "permanent", "versioning": "versioning"}
_UNITS = {"byte": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3}


def text_of(el: ET.Element | None) -> str:
    """The stripped text of an element; "" when it is absent or empty."""
    return (el.text or "").strip() if el is not None else ""


def warn_unknown(el: ET.Element, known: set[str], where: str, warn: Warn) -> None:
    """Report child elements this importer does not know: nothing is dropped silently."""
    for child in el:
        if child.tag not in known:
            warn(f"{where}/{child.tag}" if where else child.tag,
                 "not a setting Syncpane knows; ignored")


# ---------------------------------------------------------------- compare

def time_shift_hours(phrase: str, where: str, warn: Warn) -> list[int]:
    """FreeFileSync's "ignore time shift" phrase (``1``, ``1, 2``, ``0:30``) -> whole hours."""
    hours: list[int] = []
    for part in re.split(r"[,; ]+", phrase.strip()):
        part = part.replace("-", "")
        if not part:
            continue
        h, _, m = part.partition(":")
        try:
            minutes = int(h or 0) * 60 + int(m or 0)
        except ValueError:
            warn(where, f'"{part}" is not a time shift; ignored')
            continue
        if minutes == 0:
            continue
        if minutes % 60:
            warn(where, f"a time shift of {minutes} minutes is not a whole number of hours; "
                        "Syncpane ignores only whole-hour shifts, so it was left out")
        elif minutes // 60 > 24:
            warn(where, f"a time shift of {minutes // 60} hours is more than 24; left out")
        elif minutes // 60 not in hours:
            hours.append(minutes // 60)
    return sorted(hours)


def read_compare(el: ET.Element, where: str, warn: Warn) -> dict:
    """One ``Compare``/``Comparison`` element -> the job's ``compare`` keys it sets."""
    out: dict = {}
    warn_unknown(el, {"Variant", "Symlinks", "IgnoreTimeShift"}, where, warn)
    variant = text_of(el.find("Variant"))
    if variant:
        method = _COMPARE_METHODS.get(variant.lower())
        if method:
            out["method"] = method
        else:
            warn(f"{where}/Variant", f'unknown comparison "{variant}"; Syncpane\'s default '
                 "(time and size) is used")
    links = text_of(el.find("Symlinks"))
    if links:
        if links.lower() in _SYMLINKS:
            out["symlinks"] = _SYMLINKS[links.lower()]
        else:
            warn(f"{where}/Symlinks", f'unknown symbolic link handling "{links}"; links are '
                 "skipped")
    shift = el.find("IgnoreTimeShift")
    if shift is not None:
        out["ignore_time_shift_hours"] = time_shift_hours(text_of(shift),
                                                          f"{where}/IgnoreTimeShift", warn)
    return out


# ---------------------------------------------------------------- directions

def _direction(value: str | None, where: str, warn: Warn) -> str:
    if value is None or not value.strip():
        return "none"
    d = _DIRECTIONS.get(value.strip().lower())
    if d is None:
        warn(where, f'unknown direction "{value}"; "none" (do nothing) is used')
        return "none"
    return d


def _by_category(lo: str, ln: str, rn: str, ro: str, method: str | None) -> dict:
    """Directions per comparison category -> a named variant when one fits."""
    if (lo, ln, rn, ro) == ("to_right",) * 4:
        return {"variant": "mirror", "direction": "to_right"}
    if (lo, ln, rn, ro) == ("to_left",) * 4:
        return {"variant": "mirror", "direction": "to_left"}
    # Update: with content or size comparison both "newer" entries mean "different".
    contentish = method in ("content", "size")
    if lo == ln == "to_right" and ro == "none" and (rn == "none" or (contentish and rn == ln)):
        return {"variant": "update", "direction": "to_right"}
    if ro == rn == "to_left" and lo == "none" and (ln == "none" or (contentish and ln == rn)):
        return {"variant": "update", "direction": "to_left"}
    different = ln if ln == rn else "none"
    return {"variant": "custom",
            "custom": {"left_only": lo, "left_newer": ln, "right_newer": rn,
                       "right_only": ro, "different": different, "conflict": "none"}}


def _from_differences(el: ET.Element, where: str, warn: Warn, method: str | None) -> dict:
    get = {k: _direction(el.get(k), f"{where}@{k}", warn)
           for k in ("LeftOnly", "LeftNewer", "RightNewer", "RightOnly")}
    return _by_category(get["LeftOnly"], get["LeftNewer"], get["RightNewer"], get["RightOnly"],
                        method)


def _pick(a: str, b: str, copy: str, what: str, where: str, warn: Warn) -> str:
    """Two change-based directions behind one category: agree, or the safer one."""
    if a == b:
        return a
    choice = copy if copy in (a, b) else "none"
    warn(where, f"{what}: FreeFileSync tells the two cases apart with its database "
                f'("{a}" vs "{b}"); Syncpane cannot, and uses "{choice}", which deletes nothing')
    return choice


def _from_changes(el: ET.Element, where: str, warn: Warn) -> dict:
    def side(name: str) -> tuple[str, str, str]:
        s = el.find(name)
        s = s if s is not None else ET.Element(name)
        return tuple(_direction(s.get(k), f"{where}/{name}@{k}", warn)  # type: ignore[return-value]
                     for k in ("Create", "Update", "Delete"))
    left, right = side("Left"), side("Right")
    if left == ("to_right",) * 3 and right == ("to_left",) * 3:
        return {"variant": "two_way"}
    if left == right == ("to_right",) * 3:
        return {"variant": "mirror", "direction": "to_right"}
    if left == right == ("to_left",) * 3:
        return {"variant": "mirror", "direction": "to_left"}
    if left == ("to_right", "to_right", "none") and right == ("none",) * 3:
        warn(where, "Update with FreeFileSync's database: files deleted on the right since the "
                    "last sync stay deleted there; Syncpane's update copies them again")
        return {"variant": "update", "direction": "to_right"}
    if right == ("to_left", "to_left", "none") and left == ("none",) * 3:
        warn(where, "Update with FreeFileSync's database: files deleted on the left since the "
                    "last sync stay deleted there; Syncpane's update copies them again")
        return {"variant": "update", "direction": "to_left"}
    warn(where, "custom directions by change (create/update/delete, from FreeFileSync's "
                "database) became directions by comparison category; check them before running")
    custom = {
        "left_only": _pick(left[0], right[2], "to_right",
                           "left only (created on the left, or deleted on the right)", where,
                           warn),
        "right_only": _pick(right[0], left[2], "to_left",
                            "right only (created on the right, or deleted on the left)", where,
                            warn),
        "left_newer": left[1],
        "right_newer": right[1],
        "different": left[1] if left[1] == right[1] else "none",
        "conflict": "none",
    }
    return {"variant": "custom", "custom": custom}


def _from_variant(el: ET.Element, variant: str, where: str, warn: Warn) -> dict:
    v = variant.lower()
    if v == "twoway":
        return {"variant": "two_way"}
    if v == "mirror":
        return {"variant": "mirror", "direction": "to_right"}
    if v == "update":
        return {"variant": "update", "direction": "to_right"}
    if v == "custom":
        cd = el.find("CustomDirections")
        if cd is None:
            warn(f"{where}/Variant", "Custom without CustomDirections: every category is "
                 '"none" (do nothing)')
            cd = ET.Element("CustomDirections")
        d = {k: _direction(text_of(cd.find(k)) or None, f"{where}/CustomDirections/{k}", warn)
             for k in ("LeftOnly", "RightOnly", "LeftNewer", "RightNewer", "Different",
                       "Conflict")}
        return {"variant": "custom",
                "custom": {"left_only": d["LeftOnly"], "right_only": d["RightOnly"],
                           "left_newer": d["LeftNewer"], "right_newer": d["RightNewer"],
                           "different": d["Different"], "conflict": d["Conflict"]}}
    warn(f"{where}/Variant", f'unknown synchronization variant "{variant}"; Syncpane\'s '
         "default (mirror to the right) is used")
    return {}


# ---------------------------------------------------------------- synchronize

_VERSION_STYLE_NOTES = {
    "replace": "FreeFileSync kept one old version per file, replaced on each run",
    "timestamp-folder": "FreeFileSync put each run's old versions in a folder named after "
                        "the time of the run",
}


def read_sync(el: ET.Element, where: str, warn: Warn, fmt: int, method: str | None,
              locate: Callable[[str, str], str | None]) -> dict:
    """One ``Synchronize``/``SyncConfig`` element -> the job's ``sync`` keys.

    ``locate(phrase, where)`` turns a folder phrase into a location (or None).
    """
    warn_unknown(el, {"Variant", "CustomDirections", "Differences", "Changes",
                      "DetectMovedFiles", "DeletionPolicy", "VersioningFolder"}, where, warn)
    out: dict = {}
    variant = text_of(el.find("Variant"))
    if variant:
        out.update(_from_variant(el, variant, where, warn))
    elif el.find("Differences") is not None:
        out.update(_from_differences(el.find("Differences"), f"{where}/Differences", warn,
                                     method))
    elif el.find("Changes") is not None:
        out.update(_from_changes(el.find("Changes"), f"{where}/Changes", warn))

    moves = text_of(el.find("DetectMovedFiles")).lower()
    if moves in ("true", "false"):
        out["detect_moves"] = moves == "true"
    elif el.find("Differences") is not None:
        out["detect_moves"] = False  # without its database FreeFileSync cannot see moves
    elif el.find("Changes") is not None:
        out["detect_moves"] = True
    elif variant:
        out["detect_moves"] = False  # FreeFileSync's default when the element is absent

    policy = text_of(el.find("DeletionPolicy"))
    if policy:
        deletion = _DELETION.get(policy.lower())
        if deletion is None:
            warn(f"{where}/DeletionPolicy", f'unknown deletion policy "{policy}"; files are '
                 "moved to the recycle bin")
            deletion = "recycle"
        if deletion == "versioning":
            deletion = _versioning(el.find("VersioningFolder"), where, warn, fmt, locate, out)
        out["deletion"] = deletion
    return out


def _versioning(vf: ET.Element | None, where: str, warn: Warn, fmt: int,
                locate: Callable[[str, str], str | None], out: dict) -> str:
    w = f"{where}/VersioningFolder"
    phrase = text_of(vf)
    style = (vf.get("Style", "") if vf is not None else "").strip().lower()
    if fmt < 12:  # older names: "TimeStamp" was one copy per file with the time in its name
        if style == "timestamp":
            style = "timestamp-file"
        elif re.search(r"[\\/]%timestamp%$", phrase, re.IGNORECASE):
            phrase, style = phrase[: -len("%timestamp%") - 1], "timestamp-folder"
    if not phrase:
        warn(w, "versioning without a versioning folder; files are moved to the recycle bin "
                "instead")
        return "recycle"
    location = locate(phrase, w)
    if location is None:
        warn(w, "the versioning folder cannot be used; files are moved to the recycle bin "
                "instead")
        return "recycle"
    out["versioning_folder"] = location
    if style != "timestamp-file":
        what = _VERSION_STYLE_NOTES.get(style, f'FreeFileSync used the versioning style "{style}"')
        warn(f"{w}@Style", f"{what}; Syncpane keeps every old version next to the others, "
                           "named NAME YYYY-MM-DD HHMMSS.EXT")
    if vf is not None:
        for attr in ("MaxAge", "MinCount", "MaxCount", "CountMin", "CountMax"):
            value = vf.get(attr, "0").strip()
            if value not in ("", "0"):
                warn(f"{w}@{attr}", f"version limits ({attr}={value}) are not available in "
                                    "Syncpane; old versions are kept until you remove them")
    return "versioning"


# ---------------------------------------------------------------- filter sizes

def size_limit(el: ET.Element | None, where: str, warn: Warn) -> int | None:
    """``<SizeMin Unit="KB">10</SizeMin>`` -> bytes; None when there is no limit."""
    if el is None:
        return None
    unit = el.get("Unit", "None").strip().lower()
    if unit in ("", "none"):
        return None
    if unit not in _UNITS:
        warn(where, f'unknown size unit "{unit}"; the limit was left out')
        return None
    try:
        value = int(text_of(el) or "0")
    except ValueError:
        warn(where, f'"{text_of(el)}" is not a size; the limit was left out')
        return None
    return max(value, 0) * _UNITS[unit]
