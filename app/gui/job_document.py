"""The job being edited: a format-1 document plus where it lives and whether
it changed. Every edit goes through the document; the engine's ``Job`` is
built from it (and so validated) when a comparison starts or on save."""

from __future__ import annotations

import copy
import os
from typing import Any

from app.core.job import FORMAT, Job, job_from_dict, job_to_dict, load_job, save_job_dict


def new_document() -> dict[str, Any]:
    return {"syncpane_job": FORMAT, "name": "", "pairs": [{"left": "", "right": ""}]}


class JobDocument:
    """Holds the document; never touches a folder except to save the file."""

    def __init__(self) -> None:
        self.doc: dict[str, Any] = new_document()
        self.path: str | None = None
        self.dirty = False

    @property
    def title(self) -> str:
        if self.doc.get("name"):
            return self.doc["name"]
        if self.path:
            return os.path.splitext(os.path.basename(self.path))[0]
        return "Untitled job"

    @property
    def base_dir(self) -> str:
        """Relative locations resolve against the job file's folder."""
        return os.path.dirname(os.path.abspath(self.path)) if self.path else os.getcwd()

    def new(self) -> None:
        self.doc, self.path, self.dirty = new_document(), None, False

    def open(self, path: str) -> list[str]:
        """Load ``path``; on a JobError nothing here changes.

        A FreeFileSync job (``.ffs_batch``/``.ffs_gui``) is converted: it opens
        as a new, unsaved Syncpane job (saving never overwrites the original),
        and the import warnings are returned for the person to read.
        """
        if path.lower().endswith((".ffs_batch", ".ffs_gui")):
            return self._import_ffs(path)
        job = load_job(path)
        self.doc = copy.deepcopy(job.raw) if job.raw else job_to_dict(job)
        self.path = os.path.abspath(path)
        self.dirty = False
        return []

    def _import_ffs(self, path: str) -> list[str]:
        from app.core.ffs_import import FfsImportError, import_ffs_file
        from app.core.job import JobError

        try:
            imp = import_ffs_file(path)
        except FfsImportError as exc:
            raise JobError(str(exc)) from None
        job_from_dict(copy.deepcopy(imp.job), os.path.dirname(os.path.abspath(path)))
        self.doc = copy.deepcopy(imp.job)
        self.path = None
        self.dirty = True
        notes = [f"{w.where}: {w.message}" for w in imp.warnings]
        notes += [f"pair skipped: {s.reason}" for s in imp.skipped_pairs]
        return notes

    def to_job(self) -> Job:
        """Validate and build the engine's job (raises JobError)."""
        return job_from_dict(copy.deepcopy(self.doc), self.base_dir, path=self.path)

    def save(self, path: str | None = None) -> None:
        """Validate, then write atomically. Raises JobError, OSError."""
        target = os.path.abspath(path or self.path or "")
        if not target:
            raise ValueError("no file name")
        self.path, old_path = target, self.path
        try:
            self.to_job()
        except Exception:
            self.path = old_path
            raise
        save_job_dict(self.doc, target)
        self.dirty = False

    # -- edits -------------------------------------------------------------------
    def set_pairs(self, pairs: list[tuple[str, str]]) -> None:
        old = self.doc.get("pairs", [])
        new = []
        for i, (left, right) in enumerate(pairs):
            item = dict(old[i]) if i < len(old) and isinstance(old[i], dict) else {}
            item["left"], item["right"] = left, right
            new.append(item)
        if new != old:
            self.doc["pairs"] = new
            self.dirty = True

    def pairs(self) -> list[tuple[str, str]]:
        return [(str(p.get("left", "")), str(p.get("right", "")))
                for p in self.doc.get("pairs", []) if isinstance(p, dict)]

    def section(self, name: str) -> dict[str, Any]:
        value = self.doc.get(name)
        return dict(value) if isinstance(value, dict) else {}

    def set_section(self, name: str, value: dict[str, Any]) -> None:
        if self.doc.get(name) != value:
            self.doc[name] = value
            self.dirty = True

    def add_excludes(self, patterns: list[str]) -> None:
        flt = self.section("filter")
        exclude = list(flt.get("exclude", self._effective_excludes()))
        added = [p for p in patterns if p not in exclude]
        if added:
            flt["exclude"] = exclude + added
            self.set_section("filter", flt)

    def _effective_excludes(self) -> list[str]:
        from app.core.filters import DEFAULT_EXCLUDE

        return list(DEFAULT_EXCLUDE)
