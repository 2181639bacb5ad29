"""Import FreeFileSync jobs (``.ffs_batch`` / ``.ffs_gui``) as Syncpane jobs.

``import_ffs`` returns the job as a plain format-1 document (spec/job-format.md)
plus a warning for every setting that could not be carried over exactly, and
the folder pairs that cannot run in Syncpane (FTP, Google Drive, MTP). Nothing
is dropped silently. The XML is read with the standard library and any DTD or
entity declaration is refused. How filters are converted is described in
:mod:`app.core.ffs.filters`; the settings in :mod:`app.core.ffs.settings`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from app.core.ffs.reader import FfsFormatError, build_job
from app.core.ffs.xmlsafe import UnsafeXmlError, parse_untrusted_xml

EXIT_OK, EXIT_WARNINGS, EXIT_ERROR = 0, 1, 2


class FfsImportError(ValueError):
    """The input cannot be imported; the message names the file and the problem."""


@dataclass(frozen=True)
class FfsWarning:
    """A setting that was changed, approximated or left out, and where it was."""

    where: str  # e.g. "pair 2", "Synchronize/DeletionPolicy"
    message: str


@dataclass(frozen=True)
class SkippedPair:
    """A folder pair left out of the job because Syncpane cannot reach one side."""

    number: int  # 1-based, as FreeFileSync lists them
    left: str
    right: str
    reason: str


@dataclass
class FfsImport:
    """The imported job (a format-1 document) and what the person should know."""

    job: dict
    warnings: list[FfsWarning] = field(default_factory=list)
    skipped_pairs: list[SkippedPair] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"job": self.job, "warnings": [asdict(w) for w in self.warnings],
                "skipped_pairs": [asdict(s) for s in self.skipped_pairs]}


def _job_name(source_name: str) -> str:
    base = source_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    return stem if dot and ext.lower() in ("ffs_batch", "ffs_gui") else base


def import_ffs(data: bytes, source_name: str) -> FfsImport:
    """Convert the bytes of a FreeFileSync job file; ``source_name`` names it in
    messages and gives the job its name. Raises :class:`FfsImportError`."""
    try:
        root = parse_untrusted_xml(data)
    except UnsafeXmlError as exc:
        raise FfsImportError(f"{source_name} is not usable XML: {exc}") from None
    try:
        result = build_job(root, _job_name(source_name))
    except FfsFormatError as exc:
        raise FfsImportError(f"{source_name}: {exc}") from None
    return FfsImport(job=result.job,
                     warnings=[FfsWarning(w, m) for w, m in result.warnings],
                     skipped_pairs=[SkippedPair(*s) for s in result.skipped])


def import_ffs_file(path: str | os.PathLike) -> FfsImport:
    """Read and convert a FreeFileSync job file (see :func:`import_ffs`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FfsImportError(f"cannot read {path}: {exc.strerror or exc}") from None
    return import_ffs(data, str(path))


def job_json(job: dict) -> str:
    """The job as pretty JSON text with a trailing newline."""
    return json.dumps(job, indent=2, ensure_ascii=False) + "\n"


def save_as_syncjob(imp: FfsImport, out_path: str | os.PathLike) -> None:
    """Write the imported job as a ``.syncjob`` (UTF-8 JSON), atomically: a temp
    file in the same folder, then a rename over the target."""
    target = Path(out_path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(job_json(imp.job))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def import_command(path: str, out: str | None, as_json: bool, stdout: TextIO,
                   stderr: TextIO) -> int:
    """``syncpane import FILE [-o OUT] [--json]``.

    Prints the job (or writes it to ``out``) and the warnings; with ``as_json``
    one object ``{"job", "warnings", "skipped_pairs"}`` goes to stdout. Exit
    status: 0 clean, 1 with warnings, 2 when the file cannot be imported.
    """
    try:
        imp = import_ffs_file(path)
    except FfsImportError as exc:
        if as_json:
            json.dump({"job": None, "warnings": [], "skipped_pairs": [],
                       "error": str(exc)}, stdout)
            stdout.write("\n")
        print(f"syncpane: error: {exc}", file=stderr)
        return EXIT_ERROR
    if out:
        try:
            save_as_syncjob(imp, out)
        except OSError as exc:
            print(f"syncpane: error: cannot write {out}: {exc.strerror or exc}", file=stderr)
            return EXIT_ERROR
    if as_json:
        json.dump(imp.to_json(), stdout, ensure_ascii=False, indent=2)
        stdout.write("\n")
    elif not out:
        stdout.write(job_json(imp.job))
    for w in imp.warnings:
        print(f"syncpane: warning: {w.where}: {w.message}", file=stderr)
    if out:
        n = len(imp.job["pairs"])
        print(f"syncpane: wrote {out} ({n} folder pair{'s' if n != 1 else ''}, "
              f"{len(imp.warnings)} warning{'s' if len(imp.warnings) != 1 else ''})",
              file=stderr)
    return EXIT_WARNINGS if imp.warnings else EXIT_OK
