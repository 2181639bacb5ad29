"""FreeFileSync filter phrases -> gitignore patterns, checked on real trees.

Each row of the table is a FreeFileSync filter item with the paths it must and
must not match (folders end with '/'). The paths are created on disk, listed
back from the disk, and matched with ``pathspec.GitIgnoreSpec`` built from the
converted patterns: the way Syncpane evaluates ``filter`` lists.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pathspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.ffs.filters import convert_filter, convert_item, split_items

# (FreeFileSync item, must match, must not match, matched although FreeFileSync would not)
TABLE = [
    ("*.tmp", ["a.tmp", "B.TMP", "sub/b.tmp", "sub/deep/c.Tmp", "x.tmp/", "x.tmp/inner.txt"],
     ["a.tmpx", "tmp", "sub/atmp", "sub/"], []),
    (r"\file.txt", ["file.txt"], ["sub/file.txt", "file.txt.bak", "sub/"], []),
    ("file.txt", ["File.TXT"], ["sub/file.txt", "xfile.txt"], []),
    ("\\SubFolder\\", ["subfolder/", "subfolder/x.txt", "subfolder/deep/", "subfolder/deep/y"],
     ["other/SubFolder/", "other/SubFolder/z", "subfolder2/"], []),
    ("\\build\\", ["Build/", "Build/out.o"], ["build.txt", "src/build/", "src/build/x"], []),
    (r"*\thumbs.db", ["thumbs.db", "a/Thumbs.db", "a/b/THUMBS.DB"],
     ["a/thumbs.db.old", "a/xthumbs.db", "a/"], []),
    (r"*\z*", ["zeta.txt", "a/Zulu/", "a/Zulu/x", "a/b/z"], ["a/buzz", "az.txt", "a/"], []),
    (r"\SubFolder\*.tmp", ["SubFolder/a.tmp", "SubFolder/deep/b.tmp"],
     ["a.tmp", "other/SubFolder/a.tmp", "SubFolder/a.txt", "SubFolder/"], []),
    ("*temp*", ["temp", "a/Temporary/", "a/Temporary/f", "b/my_temp.txt"],
     ["tmp/", "tmp/x", "te/mp", "b/"], []),
    ("*\\", ["a/", "a/b/", "a/f.txt"], ["f.txt"], []),
    (r"?*\?*", ["a/f.txt", "a/b/", "a/b/c"], ["f.txt", "a/"], []),
    ("*/.Trash-*/", [".Trash-1000/", ".Trash-1000/files/x", "a/.trash-0/"],
     ["b/.Trash-5", "a/x.Trash-1/", "a/"], []),
    ("\\$Recycle.Bin\\", ["$RECYCLE.BIN/", "$RECYCLE.BIN/x"], ["a/$Recycle.Bin/", "a/"], []),
    ("a*b", ["ab", "axb", "a/b", "ax/yb", "ax/q/yb"], ["xab", "ab.txt", "a/bc", "ax/"], []),
    (r"sub\*", ["sub/", "sub/x"], ["subx/", "a/sub/", "a/sub/y"], []),
    ("x[1].txt", ["x[1].txt"], ["x1.txt"], []),
    ("\\name :", ["name "], ["name", "a/name "], []),
    ("?.txt", ["a.txt"], ["ab.txt", "x/a.txt", "x/"], []),
    ("build*\\", ["build/", "build-x/", "build-x/f"], ["buildfile", "a/build/"], []),
    (r"\Docs\*.PDF|*.doc", ["docs/a.pdf", "x/y.DOC"], ["a.pdf", "x/"], []),
    ("*", ["a", "d/", "d/e/f"], [], []),
    # Files only: gitignore cannot express it, folders of that name match too.
    ("*.log:", ["a.log", "d/b.log"], ["a.txt"], ["old.log/"]),
]


def _make_tree(root: Path, paths: list[str]) -> None:
    for rel in paths:
        target = root / rel
        if rel.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("x")


def _listed(root: Path) -> set[str]:
    """Every path under root as Syncpane sees it: '/' separated, folders with '/'."""
    out = set()
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root).as_posix()
        prefix = "" if rel == "." else rel + "/"
        out.update(prefix + d + "/" for d in dirs)
        out.update(prefix + f for f in files)
    return out


@pytest.mark.parametrize("item,match,no_match,lossy", TABLE, ids=[r[0] for r in TABLE])
def test_filter_table_on_a_real_tree(tmp_path, item, match, no_match, lossy):
    conv = convert_filter([item])
    assert conv.patterns, f"{item!r} produced no pattern"
    spec = pathspec.GitIgnoreSpec.from_lines(conv.patterns)
    _make_tree(tmp_path, match + no_match + lossy)
    on_disk = _listed(tmp_path)
    for rel in match + lossy:
        assert rel in on_disk, f"{rel} missing from the tree"
        assert spec.match_file(rel), f"{item!r} -> {conv.patterns} should match {rel}"
    for rel in no_match:
        assert rel in on_disk, f"{rel} missing from the tree"
        assert not spec.match_file(rel), f"{item!r} -> {conv.patterns} must not match {rel}"
    assert conv.notes == []
    assert bool(conv.file_only) == item.endswith(":")


def test_case_insensitive_letters_become_bracket_classes():
    assert convert_item("*.Tmp")[0] == ["*.[tT][mM][pP]"]
    # Characters without case, and gitignore's special characters, stay literal.
    assert convert_item(r"\#1 [x]!")[0] == [r"/\#1 \[[xX]\]\!"]


def test_items_split_at_bar_and_newline_and_semicolon_only_in_old_files():
    assert split_items(["a | b\nc\r\n d ", " ", "e;f"], semicolons=False) == \
        ["a", "b", "c", "d", "e;f"]
    assert split_items(["e;f|g"], semicolons=True) == ["e", "f", "g"]


def test_items_that_name_nothing_are_reported():
    conv = convert_filter(["\\", "*.txt"])
    assert conv.patterns == ["*.[tT][xX][tT]"]
    assert any('"\\"' in n for n in conv.notes)


# ------------------------------------------------------------------ property test
#
# A reference of FreeFileSync's matching rules, written from its manual and
# source: masks anchored at the root, '*' spanning separators, '?' not, a mask
# also matching everything below a matching folder, folder-only masks applying
# to folders (and to files through their parent folders).

def _ffs_matches(item: str, rel: str, is_dir: bool) -> bool:
    phrase = item.strip().replace("\\", "/").upper()
    masks: list[tuple[str, str]] = []

    def tail(ph: str) -> None:
        if ph.endswith(("/", "/*")):
            masks.append((ph.rsplit("/", 1)[0], "folder"))
        else:
            masks.append((ph, "both"))

    if phrase.startswith("/"):
        tail(phrase[1:])
    else:
        tail(phrase)
        if phrase.startswith("*/"):
            tail(phrase[2:])
    path = rel.upper()
    parent = path.rsplit("/", 1)[0] if "/" in path else ""

    def hit(mask: str, p: str) -> bool:
        if not mask or not p:
            return False
        rx = "".join(".*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in mask)
        return re.match(f"^{rx}(?:/.*)?$", p, re.DOTALL) is not None

    for mask, kind in masks:
        if hit(mask, path) and (is_dir or kind == "both"):
            return True
        if not is_dir and hit(mask, parent):
            return True
    return False


_names = st.sampled_from(["a", "b", "ab", "ba", "A", "aab"])
_paths = st.lists(_names, min_size=1, max_size=4).map("/".join)
_masks = st.text(alphabet="ab*?/", min_size=1, max_size=6).filter(lambda s: "//" not in s)
_items = st.tuples(st.sampled_from(["", "\\", "*\\"]), _masks,
                   st.sampled_from(["", "\\"])).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=_items, paths=st.lists(_paths, min_size=1, max_size=6))
def test_converted_patterns_match_exactly_what_freefilesync_matches(item, paths):
    patterns, _note = convert_item(item)
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    # Every path and all its parent folders, as a scan would list them.
    files = set(paths)
    dirs = {p.rsplit("/", i)[0] for p in paths for i in range(1, p.count("/") + 1)}
    files -= dirs
    for rel in sorted(files):
        assert spec.match_file(rel) == _ffs_matches(item, rel, False), (item, patterns, rel)
    for rel in sorted(dirs):
        assert spec.match_file(rel + "/") == _ffs_matches(item, rel, True), (item, patterns, rel)
