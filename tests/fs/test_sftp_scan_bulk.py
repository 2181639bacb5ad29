"""The bulk (whole-folder, whole-chunk) scan code paths against the real sshd:
big folders, odd names inside them, and the folders a sync must never remove."""

from __future__ import annotations

import os

import pytest

from app.core.events import CancelToken
from app.core.filters import FilterSettings, PathFilter
from app.core.model import Kind
from app.fs.base import ScanOptions
from app.fs.local import LocalFS
from tests.fixtures.sshd import run_async
from tests.fs.test_sftp_scan import _scan

pytestmark = pytest.mark.sshd
ROUTES = ["auto", "off"]
ODD = ["sp ace.txt", "new\nline.txt", "ü-nfc.txt", "tab\there.txt"]


def _big_tree(root):
    """Folders of only plain files (the bulk path), some past one READDIR reply."""
    for d in range(3):
        folder = root / f"d{d}"
        folder.mkdir()
        for i in range(150 if d == 0 else 40):
            (folder / f"f{i:03d}.txt").write_bytes(b"x" * i)
        for name in ODD:
            (folder / name).write_bytes(name.encode())
        with open(os.fsencode(folder) + b"/raw-\xff\xfe.bin", "wb") as f:
            f.write(b"raw")
        os.utime(folder / "f001.txt", (1_500_000_000, 1_500_000_000))
        os.chmod(folder / "f002.txt", 0o600)


async def _local(root, **opts):
    return await LocalFS(str(root)).scan(ScanOptions(**opts), lambda n, c: None, CancelToken())


def _rows(result):
    # The local scan may hand plain tuples; SFTP gives whole seconds.
    return sorted((e[0], e[1], e[2], e[3] // 10**9, e[4], e[5]) for e in result.entries)


@pytest.mark.parametrize("route", ROUTES)
def test_big_folders_with_odd_names_match_the_local_scan(sftp_env, route):
    _big_tree(sftp_env.root)
    remote = run_async(_scan, sftp_env, route)
    local = asyncio_run(_local(sftp_env.root))
    assert _rows(remote) == _rows(local)
    got = {e.name: e for e in remote.entries}
    assert len(got) == 3 + 150 + 2 * 40 + 3 * (len(ODD) + 1)
    assert got["d0/new\nline.txt"].size == len(b"new\nline.txt")
    assert got["d1/raw-\udcff\udcfe.bin"].kind is Kind.FILE
    assert got["d2/f001.txt"].mtime_ns == 1_500_000_000 * 10**9
    assert got["d2/f002.txt"].mode == 0o600
    assert all(type(e).__name__ == "Entry" for e in remote.entries)
    assert remote.hidden_dirs == set() and remote.problems == []


@pytest.mark.parametrize("route", ROUTES)
def test_folders_holding_left_out_items_are_marked_hidden(sftp_env, route):
    root = sftp_env.root
    for d in ("reserved", "filtered", "excluded", "links", "plain"):
        (root / d).mkdir()
        (root / d / "keep.txt").write_text("k")
    (root / "reserved" / ".syncpane-versions").mkdir()
    (root / "reserved" / ".syncpane-x.tmp").write_text("t")  # a leftover, not hidden
    (root / "filtered" / "junk.pyc").write_text("p")
    (root / "excluded" / "__pycache__").mkdir()
    (root / "excluded" / "__pycache__" / "m.pyc").write_text("p")
    (root / "links" / "ln").symlink_to("keep.txt")
    flt = PathFilter(FilterSettings())  # the default excludes: *.pyc, __pycache__/ ...
    result = run_async(_scan, sftp_env, route, filter=flt)
    assert result.hidden_dirs == {"reserved", "filtered", "excluded", "links"}
    assert result.leftovers == ["reserved/.syncpane-x.tmp"]
    names = {e.name for e in result.entries}
    assert names == {f"{d}/keep.txt" for d in ("reserved", "filtered", "excluded", "links",
                                               "plain")} | {"reserved", "filtered", "excluded",
                                                            "links", "plain"}
    local = asyncio_run(_local(root, filter=flt))
    assert result.hidden_dirs == local.hidden_dirs


def asyncio_run(coro):
    import asyncio

    return asyncio.run(coro)
