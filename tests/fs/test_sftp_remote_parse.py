"""Parsing the fast path's output (pure functions, no server)."""

from __future__ import annotations

from app.core.model import Entry, Kind
from app.fs.sftp_remote import FindParser, find_problems, parse_find

NS = 1_000_000_000

GOOD = (b"d - 0 1700000000.5000000000\x00sub\x00\x00"
        b"f 644 3 1700000001.9999999999\x00sub/a\nb\xff\x00\x00"
        b"l - 0 1700000002.0000000000\x00ln\x00sub\x00"
        b"f 4755 7 1700000003.0000000000\x00sp ace \xc3\xbc.txt\x00\x00"
        b"SYNCPANE-ROOT\x00ok\x00")
TAIL = b"SYNCPANE-ROOT\x00ok\x00"


def _rows(result):
    return [tuple(e) for e in result.entries]


def test_parse_find_good_output():
    result = parse_find(GOOD, symlinks="as_link")
    assert _rows(result) == [
        ("sub", Kind.DIR, 0, 1700000000 * NS, None, None),
        ("sub/a\nb\udcff", Kind.FILE, 3, 1700000001 * NS, None, 0o644),
        ("ln", Kind.SYMLINK, 0, 1700000002 * NS, "sub", None),
        ("sp ace ü.txt", Kind.FILE, 7, 1700000003 * NS, None, 0o4755),
    ]
    assert all(type(e) is Entry for e in result.entries)
    assert result.entries[1].name.encode("utf-8", "surrogateescape") == b"sub/a\nb\xff"
    # Links skipped: left out, and their folder (the root here) never emptied.
    skipped = parse_find(GOOD, symlinks="skip")
    assert [e.name for e in skipped.entries] == ["sub", "sub/a\nb\udcff", "sp ace ü.txt"]
    follow = parse_find(GOOD, symlinks="follow")  # with -L an 'l' is a broken link
    assert follow.problems == [("ln", "link points nowhere (broken link); left out")]


def test_parse_find_rejects_anything_else():
    assert parse_find(b"") is None
    assert parse_find(GOOD.replace(TAIL, b"")) is None                  # no root check
    assert parse_find(GOOD.replace(b"ok\x00", b"")) is None             # root not a dir
    assert parse_find(b"f 644 3 x.1\x00a\x00\x00" + TAIL) is None       # not a number
    assert parse_find(b"f 644 3 1.1\x00a\x00" + TAIL) is None            # a field missing
    assert parse_find(b"f - 3 1.1\x00a\x00\x00" + TAIL) is None         # a file without mode
    assert parse_find(b"f 999 3 1.1\x00a\x00\x00" + TAIL) is None       # not octal
    assert parse_find(b"d - 0 1.1\x00\x00\x00" + TAIL) is None          # an empty path
    assert parse_find(GOOD + b"f 644 3 1.1\x00a\x00\x00") is None       # output after the end
    assert parse_find(TAIL).entries == []  # an empty folder is fine


def test_unusual_numbers_are_read_record_by_record():
    # A find that prints whole seconds (no fraction) still parses, same result.
    out = b"f 644 3 1700000001\x00a\x00\x00d - 0 1700000000\x00b\x00\x00" + TAIL
    assert _rows(parse_find(out)) == [("a", Kind.FILE, 3, 1700000001 * NS, None, 0o644),
                                      ("b", Kind.DIR, 0, 1700000000 * NS, None, None)]


def test_reserved_names_filters_and_special_files():
    out = (b"f 644 1 1.0\x00.syncpane-x.tmp\x00\x00"       # a leftover temp file
           b"d - 0 1.0\x00d\x00\x00"
           b"d - 0 1.0\x00d/.syncpane-versions\x00\x00"    # printed, never entered
           b"f 644 1 1.0\x00d/keep.txt\x00\x00"
           b"d - 0 1.0\x00cache\x00\x00"
           b"f 644 1 1.0\x00cache/x\x00\x00"
           b"d - 0 1.0\x00cache/deeper\x00\x00"
           b"f 644 1 1.0\x00cache/deeper/y\x00\x00"
           b"f 644 1 1.0\x00e/a.log\x00\x00"
           b"s - 0 1.0\x00e/sock\x00\x00" + TAIL)

    class Filter:
        include_all = True

        def excludes_dir(self, rel):
            return rel == "cache"

        def includes_file(self, rel, size):
            return not rel.endswith(".log")

    result = parse_find(out, flt=Filter())
    assert [e.name for e in result.entries] == ["d", "d/keep.txt"]
    assert result.leftovers == [".syncpane-x.tmp"]
    assert result.hidden_dirs == {"d", "e"}  # what a sync must never remove


def test_find_problems():
    err = (b"find: '/srv/data/private': Permission denied\n"
           b"find: File system loop detected; '/srv/data/a/up' is part of the same file "
           b"system loop as '/srv/data'.\n"
           b"find: '/srv/data/gone': No such file or directory\n")
    assert find_problems(err, "/srv/data") == [
        ("private", "cannot read folder: permission denied"),
        ("a/up", "link leads back into a folder above it (a link loop); not followed"),
    ]
    assert find_problems(b"sh: 1: find: not found\n", "/srv") is None
    assert find_problems(b"", "/srv") == []


def test_streaming_parser_gives_the_same_records_for_any_chunking():
    from app.fs.sftp_remote import FindParser

    expected = parse_find(GOOD)
    for size in (1, 2, 3, 5, 7, 13, 64):
        parser = FindParser()
        for i in range(0, len(GOOD), size):
            parser.feed(GOOD[i:i + size])
        assert _rows(parser.finish()) == _rows(expected), size
    cut = FindParser()
    cut.feed(GOOD[:40])  # the connection ended before find's end marker
    assert cut.finish() is None


def test_usual_filter_gives_the_same_answer_in_bulk_and_per_record():
    from app.core.filters import FilterSettings, PathFilter

    rows = [b"d - 0 1.0\x00src\x00\x00", b"f 644 1 1.0\x00src/a.py\x00\x00",
            b"f 644 1 1.0\x00src/B.PYC\x00\x00", b"d - 0 1.0\x00build\x00\x00",
            b"f 644 1 1.0\x00build/out.o\x00\x00", b"f 644 1 1.0\x00z.txt\x00\x00"]
    out = b"".join(rows) + TAIL
    for ignore_case, kept in ((True, {"src", "src/a.py", "z.txt"}),
                              (False, {"src", "src/a.py", "src/B.PYC", "z.txt"})):
        flt = PathFilter(FilterSettings(exclude=("*.pyc", "build/")), ignore_case=ignore_case)
        whole = parse_find(out, flt=flt)
        assert {e.name for e in whole.entries} == kept
        one_by_one = FindParser("skip", flt)  # record by record: the bulk test never sees two
        for row in rows:
            one_by_one.feed(row)
        one_by_one.feed(TAIL)
        assert _rows(one_by_one.finish()) == _rows(whole)
    # Batches with nothing to leave out are built in bulk and keep every row.
    clean = parse_find(rows[0] + rows[1] + rows[5] + TAIL,
                       flt=PathFilter(FilterSettings(exclude=("*.pyc", "build/"))))
    assert [e.name for e in clean.entries] == ["src", "src/a.py", "z.txt"]


def test_listing_command_gives_the_same_bytes_with_or_without_dd(tmp_path):
    """The listing command gathers find's output through dd where there is
    one; a server without dd gets the plain listing: the same bytes."""
    import os
    import shutil
    import subprocess

    from app.fs.sftp_remote import find_command

    root = tmp_path / "root"
    for k in range(40):
        d = root / f"folder {k:02d}"
        d.mkdir(parents=True)
        for i in range(30):  # ~1,200 records: several 32 KiB blocks
            (d / f"file\n{i:03d} \u00fc.txt").write_bytes(b"x" * i)
    os.symlink("folder 00", root / "link")
    cmd = find_command(str(root), "skip")
    gathered = subprocess.run(["/bin/sh", "-c", cmd], capture_output=True, check=True).stdout
    only_find = tmp_path / "bin"
    only_find.mkdir()
    os.symlink(shutil.which("find"), only_find / "find")
    plain = subprocess.run(["/bin/sh", "-c", cmd], capture_output=True, check=True,
                           env={"PATH": str(only_find), "LC_ALL": "C"}).stdout
    assert len(gathered) > 2 * 32768
    assert gathered == plain
    result = parse_find(gathered)
    assert result is not None and len(result.entries) == 40 + 40 * 30  # (the link: skipped)
