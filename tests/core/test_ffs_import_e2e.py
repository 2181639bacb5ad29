"""End to end: an imported FreeFileSync mirror job synchronizes two temp folders
exactly as FreeFileSync would, run through ``python -m app sync``."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.ffs_import import import_ffs_file, save_as_syncjob

REPO = Path(__file__).parents[2]
ENGINE = all(importlib.util.find_spec(m) is not None for m in ("app.cli", "app.core.job"))
pytestmark = pytest.mark.skipif(not ENGINE, reason="the sync engine (app.cli, app.core.job) "
                                                   "is not in this build yet")

OLD, NEW = 1_700_000_000, 1_700_100_000

MIRROR_JOB = """<?xml version="1.0" encoding="utf-8"?>
<FreeFileSync XmlType="BATCH" XmlFormat="17">
    <Compare><Variant>TimeAndSize</Variant><Symlinks>Exclude</Symlinks><IgnoreTimeShift/></Compare>
    <Synchronize>
        <Variant>Mirror</Variant>
        <DetectMovedFiles>false</DetectMovedFiles>
        <DeletionPolicy>Permanent</DeletionPolicy>
        <VersioningFolder Style="Replace"/>
    </Synchronize>
    <Filter>
        <Include><Item>*</Item></Include>
        <Exclude><Item>*.TMP</Item><Item>\\cache\\</Item><Item>*\\thumbs.db</Item></Exclude>
        <TimeSpan Type="None">0</TimeSpan>
        <SizeMin Unit="None">0</SizeMin>
        <SizeMax Unit="None">0</SizeMax>
    </Filter>
    <FolderPairs><Pair><Left>{left}</Left><Right>{right}</Right></Pair></FolderPairs>
    <Errors Ignore="false" Retry="0" Delay="5"/>
</FreeFileSync>
"""


def _write(root: Path, rel: str, text: str, mtime: int) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    os.utime(p, (mtime, mtime))


def _tree(root: Path) -> dict[str, str]:
    """Every file under root with its content; folders as 'name/': ''."""
    out = {}
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root).as_posix()
        prefix = "" if rel == "." else rel + "/"
        for d in dirs:
            out[prefix + d + "/"] = ""
        for f in files:
            out[prefix + f] = (Path(folder) / f).read_text()
    return out


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    left, right = tmp_path / "left", tmp_path / "right"
    for rel, text in [("a.txt", "new a"), ("docs/same.md", "same"), ("docs/same2.md", "same2"),
                      ("docs/new.md", "new"), ("x.tmp", "scratch"), ("cache/big.bin", "big"),
                      ("sub/cache/c.txt", "deep cache is not the root cache"),
                      ("sub/Thumbs.db", "thumbs"), ("sub/deep/file.txt", "deep")]:
        _write(left, rel, text, NEW)
    for rel, text, mtime in [("a.txt", "old a, longer", OLD), ("docs/same.md", "same", NEW),
                             ("docs/same2.md", "same2", NEW), ("extra.txt", "extra", OLD),
                             ("old/o1.txt", "o1", OLD), ("keep.tmp", "right scratch", OLD),
                             ("cache/r.bin", "right cache", OLD)]:
        _write(right, rel, text, mtime)
    ffs = tmp_path / "Mirror.ffs_batch"
    ffs.write_text(MIRROR_JOB.format(left=left, right=right), encoding="utf-8")
    return left, right, ffs


EXPECTED_RIGHT = {
    # The left's files that pass the filter, with the left's content.
    "a.txt": "new a", "docs/": "", "docs/same.md": "same", "docs/same2.md": "same2",
    "docs/new.md": "new", "sub/": "", "sub/cache/": "", "sub/deep/": "",
    "sub/cache/c.txt": "deep cache is not the root cache", "sub/deep/file.txt": "deep",
    # Excluded items on the target are left alone by a mirror, as in FreeFileSync.
    "keep.tmp": "right scratch", "cache/": "", "cache/r.bin": "right cache",
}


def _run_sync(job_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "app", "sync", str(job_path), "--json"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.parametrize("how", ["saved syncjob", "ffs_batch directly"])
def test_imported_mirror_job_synchronizes_like_freefilesync(tmp_path, how):
    left, right, ffs = _setup(tmp_path)
    left_before = _tree(left)
    if how == "saved syncjob":
        job_path = tmp_path / "Mirror.syncjob"
        save_as_syncjob(import_ffs_file(ffs), job_path)
    else:
        job_path = ffs
    proc = _run_sync(job_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["errors"] == []
    assert report["summary"]["failed"] == 0
    assert _tree(right) == EXPECTED_RIGHT
    assert _tree(left) == left_before  # a mirror never writes to its source
    # The second run finds nothing to do: the folders are in sync.
    again = json.loads(_run_sync(job_path).stdout)
    assert again["pairs"][0]["items"] == []


UPDATE_JOB = """<?xml version="1.0" encoding="utf-8"?>
<FreeFileSync XmlType="GUI" XmlFormat="23">
    <Compare><Variant>TimeAndSize</Variant><Symlinks>Exclude</Symlinks><IgnoreTimeShift/></Compare>
    <Synchronize>
        <Differences LeftOnly="right" LeftNewer="right" RightNewer="none" RightOnly="none"/>
        <DeletionPolicy>Permanent</DeletionPolicy>
        <VersioningFolder Style="Replace"/>
    </Synchronize>
    <Filter>
        <Include><Item>\\Docs\\|*.TXT</Item></Include>
        <Exclude><Item>*\\drafts\\</Item></Exclude>
        <SizeMin Unit="None">0</SizeMin>
        <SizeMax Unit="KB">1</SizeMax>
        <TimeSpan Type="None">0</TimeSpan>
    </Filter>
    <FolderPairs><Pair><Left>{left}</Left><Right>{right}</Right></Pair></FolderPairs>
</FreeFileSync>
"""


def test_imported_update_job_with_include_list_and_size_limit(tmp_path):
    left, right = tmp_path / "left", tmp_path / "right"
    for rel, text in [("docs/a.md", "a"), ("docs/drafts/d.md", "draft"), ("notes.txt", "left"),
                      ("sub/readme.txt", "readme"), ("image.png", "png"), ("pics/p.png", "p"),
                      ("big.txt", "x" * 2048)]:
        _write(left, rel, text, OLD)
    _write(right, "notes.txt", "right is newer", NEW)
    _write(right, "extra.md", "only on the right", OLD)
    ffs = tmp_path / "Update.ffs_gui"
    ffs.write_text(UPDATE_JOB.format(left=left, right=right), encoding="utf-8")
    job_path = tmp_path / "Update.syncjob"
    save_as_syncjob(import_ffs_file(ffs), job_path)
    proc = _run_sync(job_path)
    assert proc.returncode == 0, proc.stderr
    assert _tree(right) == {
        "docs/": "", "docs/a.md": "a",          # inside the included folder
        "sub/": "", "sub/readme.txt": "readme",  # *.txt at any depth, its folder created
        "notes.txt": "right is newer",           # update leaves newer files alone
        "extra.md": "only on the right",         # and deletes nothing
    }
