"""Job files, format 1 (spec/job-format.md): load, validate, save.

Every mistake is a :class:`JobError` whose message names the key path and
what was expected (``pairs[1].sync.variant: expected one of "mirror", ...``).
Unknown keys are errors too: a typo in a safety setting must not pass.
Loading never touches any folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any
from collections.abc import Callable

from app.core.filters import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, FilterSettings
from app.core.location import Location, LocationError, parse_location

FORMAT = 1
CUSTOM_CATEGORIES = ("left_only", "right_only", "left_newer", "right_newer", "different",
                     "conflict")


class JobError(ValueError):
    """The job cannot be used; ``str()`` names the key path and the problem."""


class Method(str, Enum):
    TIME_SIZE = "time_size"
    CONTENT = "content"
    SIZE = "size"


class Symlinks(str, Enum):
    SKIP = "skip"
    FOLLOW = "follow"
    AS_LINK = "as_link"


class Variant(str, Enum):
    MIRROR = "mirror"
    UPDATE = "update"
    TWO_WAY = "two_way"
    CUSTOM = "custom"


class Direction(str, Enum):
    TO_RIGHT = "to_right"
    TO_LEFT = "to_left"
    NONE = "none"


class _ErrorMode(str, Enum):
    STOP = "stop"
    CONTINUE = "continue"


class Deletion(str, Enum):
    RECYCLE = "recycle"
    VERSIONING = "versioning"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class CompareSettings:
    method: Method = Method.TIME_SIZE
    time_tolerance_seconds: float = 2
    ignore_time_shift_hours: tuple[int, ...] = ()
    symlinks: Symlinks = Symlinks.SKIP


@dataclass(frozen=True)
class SyncSettings:
    variant: Variant = Variant.MIRROR
    direction: Direction = Direction.TO_RIGHT
    custom: tuple[tuple[str, Direction], ...] = ()
    deletion: Deletion = Deletion.RECYCLE
    versioning_folder: str | None = None
    max_delete_percent: float = 50
    detect_moves: bool = True

    def custom_direction(self, category: str) -> Direction:
        return dict(self.custom).get(category, Direction.NONE)


@dataclass(frozen=True)
class ConnectionSettings:
    auth: str = "key"
    key_file: str | None = None
    parallel: int = 8
    timeout_seconds: float = 20
    remote_commands: str = "auto"


@dataclass(frozen=True)
class Pair:
    """One folder pair with its effective settings (job values + overrides).

    ``overrides`` keeps the pair's own sections as written, so saving the job
    writes back exactly what the person set.
    """

    left: Location
    right: Location
    compare: CompareSettings
    sync: SyncSettings
    filter: FilterSettings
    versioning: Location | None = None
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    pairs: tuple[Pair, ...]
    name: str = ""
    compare: CompareSettings = CompareSettings()
    sync: SyncSettings = SyncSettings()
    filter: FilterSettings = FilterSettings()
    connections: dict[str, ConnectionSettings] = field(default_factory=dict)
    errors: str = "stop"
    parallel_local: int = 4
    path: str | None = None  # the file it was loaded from
    raw: dict[str, Any] = field(default_factory=dict)  # the validated document


# ---------------------------------------------------------------------------
# validation helpers: each takes (value, key path) and returns the clean value

def _where(path: str) -> str:
    return path or "the top level"


def _fail(path: str, expected: str, value: Any) -> JobError:
    return JobError(f"{path}: expected {expected}, got {json.dumps(value, ensure_ascii=False)}")


def _check_keys(obj: Any, path: str, allowed: set[str]) -> dict:
    if not isinstance(obj, dict):
        raise _fail(path or "the job", "an object", obj)
    for key in obj:
        if key not in allowed:
            raise JobError(f'unknown key "{key}" at {_where(path)}')
    return obj


def _enum(enum_cls: type[Enum]) -> Callable[[Any, str], Any]:
    names = ", ".join(f'"{m.value}"' for m in enum_cls)

    def check(value: Any, path: str):
        try:
            return enum_cls(value)
        except (ValueError, TypeError):
            raise _fail(path, f"one of {names}", value) from None
    return check


def _number(lo: float | None = None, hi: float | None = None, integer: bool = False):
    what = "a whole number" if integer else "a number"
    if lo is not None and hi is not None:
        what += f" from {lo:g} to {hi:g}"
    elif lo is not None:
        what += f" of at least {lo:g}"

    def check(value: Any, path: str):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and integer and isinstance(value, float):
            ok = value.is_integer()
            value = int(value) if ok else value
        if ok and value != value:  # NaN
            ok = False
        if not ok or (lo is not None and value < lo) or (hi is not None and value > hi):
            raise _fail(path, what, value)
        return value
    return check


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, "true or false", value)
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _fail(path, "a string", value)
    return value


def _optional(check):
    def wrapped(value: Any, path: str):
        return None if value is None else check(value, path)
    return wrapped


def _string_list(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _fail(path, "a list of strings", value)
    for i, item in enumerate(value):
        _string(item, f"{path}[{i}]")
    return tuple(value)


def _hours(value: Any, path: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise _fail(path, "a list of whole hours", value)
    return tuple(_number(-24, 24, integer=True)(v, f"{path}[{i}]") for i, v in enumerate(value))


def _custom(value: Any, path: str) -> tuple[tuple[str, Direction], ...]:
    _check_keys(value, path, set(CUSTOM_CATEGORIES))
    check = _enum(Direction)
    return tuple((k, check(v, f"{path}.{k}")) for k, v in value.items())


_COMPARE = {
    "method": _enum(Method),
    "time_tolerance_seconds": _number(0, 86400),
    "ignore_time_shift_hours": _hours,
    "symlinks": _enum(Symlinks),
}
_SYNC = {
    "variant": _enum(Variant),
    "direction": _enum(Direction),
    "custom": _custom,
    "deletion": _enum(Deletion),
    "versioning_folder": _optional(_string),
    "max_delete_percent": _number(0, 100),
    "detect_moves": _bool,
}
_FILTER = {
    "include": _string_list,
    "exclude": _string_list,
    "min_size_bytes": _optional(_number(0, integer=True)),
    "max_size_bytes": _optional(_number(0, integer=True)),
}
_CONNECTION = {
    "auth": _enum(Enum("Auth", {"KEY": "key", "AGENT": "agent", "PASSWORD": "password"})),
    "key_file": _optional(_string),
    "parallel": _number(1, 256, integer=True),
    "timeout_seconds": _number(1, 3600),
    "remote_commands": _enum(Enum("RemoteCommands", {"AUTO": "auto", "OFF": "off"})),
}


def _section(obj: Any, path: str, spec: dict[str, Callable]) -> dict[str, Any]:
    _check_keys(obj, path, set(spec))
    return {k: spec[k](v, f"{path}.{k}") for k, v in obj.items()}


def _merge(base, values: dict[str, Any]):
    return replace(base, **values) if values else base


def _filter_settings(values: dict[str, Any], base: FilterSettings) -> FilterSettings:
    merged = _merge(base, values)
    lo, hi = merged.min_size_bytes, merged.max_size_bytes
    if lo is not None and hi is not None and lo > hi:
        raise JobError(f"filter: min_size_bytes ({lo}) is larger than max_size_bytes ({hi})")
    return merged


def _sync_settings(values: dict[str, Any], base: SyncSettings, path: str) -> SyncSettings:
    merged = _merge(base, values)
    if merged.deletion is Deletion.VERSIONING and not merged.versioning_folder:
        raise JobError(f'{path}.versioning_folder: required when deletion is "versioning" '
                       "(the folder that keeps old versions)")
    if merged.direction is Direction.NONE:
        raise JobError(f'{path}.direction: expected "to_right" or "to_left", got "none"')
    if values.get("custom") and merged.variant is not Variant.CUSTOM:
        raise JobError(f'{path}.custom: only allowed with "variant": "custom"')
    return merged


# ---------------------------------------------------------------------------

def job_from_dict(doc: Any, base_dir: str | None, *, path: str | None = None) -> Job:
    """Validate a parsed job document and build a :class:`Job`.

    Relative local paths resolve against ``base_dir``.
    """
    _check_keys(doc, "", {"syncpane_job", "name", "pairs", "compare", "sync", "filter",
                          "connections", "errors", "parallel_local"})
    if "syncpane_job" not in doc:
        raise JobError('missing key "syncpane_job" at the top level (expected 1: '
                       "is this a Syncpane job file?)")
    if doc["syncpane_job"] != FORMAT or isinstance(doc["syncpane_job"], bool):
        raise _fail("syncpane_job", f"{FORMAT} (the only format this version reads)",
                    doc["syncpane_job"])
    if "pairs" not in doc:
        raise JobError('missing key "pairs" at the top level (a list of folder pairs)')
    name = _string(doc.get("name", ""), "name")
    compare_v = _section(doc.get("compare", {}), "compare", _COMPARE)
    sync_v = _section(doc.get("sync", {}), "sync", _SYNC)
    filter_v = _section(doc.get("filter", {}), "filter", _FILTER)
    compare = _merge(CompareSettings(), compare_v)
    sync = _sync_settings(sync_v, SyncSettings(), "sync")
    flt = _filter_settings(filter_v, FilterSettings(DEFAULT_INCLUDE, DEFAULT_EXCLUDE))
    errors = _enum(_ErrorMode)(doc.get("errors", "stop"), "errors").value
    parallel_local = _number(1, 64, integer=True)(doc.get("parallel_local", 4), "parallel_local")

    connections: dict[str, ConnectionSettings] = {}
    conns = doc.get("connections", {})
    if not isinstance(conns, dict):
        raise _fail("connections", 'an object keyed by "USER@HOST:PORT"', conns)
    for key, value in conns.items():
        where = f"connections[{json.dumps(key)}]"
        if "@" not in key or ":" not in key.rsplit("@", 1)[1]:
            raise JobError(f'{where}: the key must look like "USER@HOST:PORT"')
        values = _section(value, where, _CONNECTION)
        if "auth" not in values:
            values["auth"] = "key" if values.get("key_file") else "agent"
        else:
            values["auth"] = values["auth"].value
        if "remote_commands" in values:
            values["remote_commands"] = values["remote_commands"].value
        connections[key] = ConnectionSettings(**values)

    pairs_doc = doc["pairs"]
    if not isinstance(pairs_doc, list) or not pairs_doc:
        raise _fail("pairs", "a non-empty list of folder pairs", pairs_doc)
    pairs = []
    for i, p in enumerate(pairs_doc):
        where = f"pairs[{i}]"
        _check_keys(p, where, {"left", "right", "compare", "sync", "filter"})
        for side in ("left", "right"):
            if side not in p:
                raise JobError(f'missing key "{side}" at {where}')
        locs = []
        for side in ("left", "right"):
            try:
                locs.append(parse_location(_string(p[side], f"{where}.{side}"), base_dir))
            except LocationError as exc:
                raise JobError(f"{where}.{side}: {exc}") from None
        over = {s: p[s] for s in ("compare", "sync", "filter") if s in p}
        p_compare = _merge(compare, _section(over.get("compare", {}), f"{where}.compare",
                                             _COMPARE))
        p_sync = _sync_settings(_section(over.get("sync", {}), f"{where}.sync", _SYNC), sync,
                                f"{where}.sync")
        p_filter = _filter_settings(_section(over.get("filter", {}), f"{where}.filter", _FILTER),
                                    flt)
        versioning = None
        if p_sync.deletion is Deletion.VERSIONING:
            try:
                versioning = parse_location(p_sync.versioning_folder, base_dir)
            except LocationError as exc:
                raise JobError(f"{where}.sync.versioning_folder: {exc}") from None
        pairs.append(Pair(locs[0], locs[1], p_compare, p_sync, p_filter, versioning, over))
    return Job(pairs=tuple(pairs), name=name, compare=compare, sync=sync, filter=flt,
               connections=connections, errors=errors, parallel_local=parallel_local,
               path=path, raw=doc)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise JobError(f'key "{k}" appears twice in the same object')
        out[k] = v
    return out


def parse_job_text(text: str, source: str) -> Any:
    """Parse JSON, turning syntax errors into a JobError with line and column."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise JobError(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                       f"column {exc.colno}") from None


def load_job(path: str) -> Job:
    """Read and validate a ``.syncjob`` file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise JobError(f"cannot read job file {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JobError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    doc = parse_job_text(text, path)
    return job_from_dict(doc, os.path.dirname(os.path.abspath(path)), path=path)


def job_to_dict(job: Job) -> dict[str, Any]:
    """The job as a format-1 document, every section written out."""
    def enum_value(v):
        return v.value if isinstance(v, Enum) else v

    sync = {
        "variant": job.sync.variant.value, "direction": job.sync.direction.value,
        "deletion": job.sync.deletion.value, "versioning_folder": job.sync.versioning_folder,
        "max_delete_percent": job.sync.max_delete_percent, "detect_moves": job.sync.detect_moves,
    }
    if job.sync.custom:
        sync["custom"] = {k: enum_value(v) for k, v in job.sync.custom}
    pairs = []
    for p in job.pairs:
        item: dict[str, Any] = {"left": p.left.raw, "right": p.right.raw}
        item.update(p.overrides)
        pairs.append(item)
    return {
        "syncpane_job": FORMAT,
        "name": job.name,
        "pairs": pairs,
        "compare": {"method": job.compare.method.value,
                    "time_tolerance_seconds": job.compare.time_tolerance_seconds,
                    "ignore_time_shift_hours": list(job.compare.ignore_time_shift_hours),
                    "symlinks": job.compare.symlinks.value},
        "sync": sync,
        "filter": {"include": list(job.filter.include), "exclude": list(job.filter.exclude),
                   "min_size_bytes": job.filter.min_size_bytes,
                   "max_size_bytes": job.filter.max_size_bytes},
        "connections": {k: {kk: vv for kk, vv in asdict(c).items() if vv is not None}
                        for k, c in job.connections.items()},
        "errors": job.errors,
        "parallel_local": job.parallel_local,
    }


def save_job_dict(doc: dict[str, Any], path: str) -> None:
    """Write a job document atomically (temporary file, then rename)."""
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.syncpane-{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_job(job: Job, path: str) -> None:
    save_job_dict(job_to_dict(job), path)


def job_from_flags(left: str, right: str, *, variant: str | None = None,
                   direction: str | None = None, method: str | None = None,
                   exclude: list[str] | None = None) -> Job:
    """A job built from ``--left/--right/...`` (relative paths: current folder)."""
    doc: dict[str, Any] = {"syncpane_job": FORMAT, "name": "", "pairs": [
        {"left": left, "right": right}]}
    if variant or direction:
        doc["sync"] = {k: v for k, v in (("variant", variant), ("direction", direction)) if v}
    if method:
        doc["compare"] = {"method": method}
    job = job_from_dict(doc, os.getcwd())
    return with_extra_excludes(job, exclude or [])


def with_extra_excludes(job: Job, patterns: list[str]) -> Job:
    """``--exclude`` flags: added to the job's (and each pair's) excludes."""
    if not patterns:
        return job
    extra = tuple(patterns)
    pairs = tuple(replace(p, filter=replace(p.filter, exclude=p.filter.exclude + extra))
                  for p in job.pairs)
    return replace(job, pairs=pairs, filter=replace(job.filter, exclude=job.filter.exclude + extra))
