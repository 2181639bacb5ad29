"""LocalFS.list_dir: the direct children of one folder, named as a scan names them."""

from __future__ import annotations

import asyncio
import os

import pytest

from app.core.model import Kind
from app.fs.base import FsError, NotFound
from app.fs.local import LocalFS
from tests.util import make_tree


def _list(root, rel):
    return asyncio.run(LocalFS(str(root)).list_dir(rel))


def test_lists_direct_children_relative_to_the_root(tmp_path):
    root = make_tree(tmp_path / "root", {"a/b.txt": "bb", "a/c/deep.txt": "d", "a/d/": None,
                                         "a/.syncpane-x.tmp": "leftover", "top.txt": "t"})
    os.symlink("c", root / "a" / "link")
    entries = _list(root, "a")
    assert [(e.name, e.kind) for e in entries] == [
        ("a/b.txt", Kind.FILE), ("a/c", Kind.DIR), ("a/d", Kind.DIR), ("a/link", Kind.SYMLINK)]
    assert entries[0].size == 2 and entries[0].mtime_ns == (root / "a/b.txt").stat().st_mtime_ns
    assert [e.name for e in _list(root, "")] == ["a", "top.txt"]


def test_missing_folder_and_file_are_errors(tmp_path):
    root = make_tree(tmp_path / "root", {"file.txt": "x"})
    with pytest.raises(NotFound):
        _list(root, "nope")
    with pytest.raises(FsError, match="file.txt"):
        _list(root, "file.txt")
