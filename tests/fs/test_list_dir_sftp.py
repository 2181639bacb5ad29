"""SftpFS.list_dir against the real OpenSSH server of the fixture."""

from __future__ import annotations

import os

import pytest

from app.core.model import Kind
from app.fs.base import FsError, NotFound
from tests.fixtures.sshd import run_async
from tests.util import T0, make_tree

pytestmark = pytest.mark.sshd


def _list(env, rel, **kw):
    async def body():
        fs = env.make_fs(**kw)
        await fs.open()
        try:
            return await fs.list_dir(rel)
        finally:
            await fs.close()
    return run_async(body)


def test_lists_direct_children_relative_to_the_root(sftp_env):
    root = make_tree(sftp_env.root, {"a/b.txt": "bb", "a/c/deep.txt": "d", "a/d/": None,
                                     "a/.syncpane-x.tmp": "leftover", "top.txt": "t"})
    os.symlink("c", root / "a" / "link")
    entries = _list(sftp_env, "a")
    assert [(e.name, e.kind) for e in entries] == [
        ("a/b.txt", Kind.FILE), ("a/c", Kind.DIR), ("a/d", Kind.DIR), ("a/link", Kind.SYMLINK)]
    assert entries[0].size == 2 and entries[0].mtime_ns == T0 * 1_000_000_000
    assert [e.name for e in _list(sftp_env, "")] == ["a", "top.txt"]


def test_the_server_root_lists_absolute_folders(sftp_env):
    make_tree(sftp_env.root, {"x/": None})
    # A filesystem rooted at '/' lists any folder of the server by its path.
    rel = str(sftp_env.root).lstrip("/")
    entries = _list(sftp_env, rel, url=sftp_env.server.url("/"))
    assert [(e.name, e.kind) for e in entries] == [(rel + "/x", Kind.DIR)]


def test_missing_folder_and_file_are_errors(sftp_env):
    make_tree(sftp_env.root, {"file.txt": "x"})
    with pytest.raises(NotFound):
        _list(sftp_env, "nope")
    with pytest.raises(FsError):
        _list(sftp_env, "file.txt")
