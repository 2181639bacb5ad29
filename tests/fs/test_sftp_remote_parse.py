"""Parsing the fast path's output (pure functions, no server)."""

from __future__ import annotations

from app.fs.sftp_remote import find_problems, parse_find

GOOD = (b"d\x000\x001700000000.5000000000\x00755\x00sub\x00\x00"
        b"f\x003\x001700000001.9999999999\x00644\x00sub/a\nb\xff\x00\x00"
        b"l\x004\x001700000002.0000000000\x00777\x00ln\x00sub\x00"
        b"SYNCPANE-ROOT\x00ok\x00")


def test_parse_find_good_output():
    recs = parse_find(GOOD)
    assert recs == [
        ("d", 0, 1700000000, 0o755, b"sub", b""),
        ("f", 3, 1700000001, 0o644, b"sub/a\nb\xff", b""),
        ("l", 4, 1700000002, 0o777, b"ln", b"sub"),
    ]


def test_parse_find_rejects_anything_else():
    assert parse_find(b"") is None
    assert parse_find(GOOD.replace(b"SYNCPANE-ROOT\x00ok\x00", b"")) is None   # no root check
    assert parse_find(GOOD.replace(b"ok\x00", b"")) is None                     # root not a dir
    assert parse_find(b"f\x003\x00x\x00644\x00a\x00\x00SYNCPANE-ROOT\x00ok\x00") is None
    assert parse_find(b"f\x003\x001\x00644\x00a\x00SYNCPANE-ROOT\x00ok\x00") is None
    assert parse_find(b"ff\x003\x001\x00644\x00a\x00\x00SYNCPANE-ROOT\x00ok\x00") is None
    assert parse_find(b"SYNCPANE-ROOT\x00ok\x00") == []  # an empty folder is fine


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
        assert parser.finish() == expected, size
    cut = FindParser()
    cut.feed(GOOD[:40])  # the connection ended before find's end marker
    assert cut.finish() is None
