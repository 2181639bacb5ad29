"""A FreeFileSync job opens in the window: converted, warnings shown, compared."""

from __future__ import annotations

from tests.gui.conftest import compare, rows
from tests.util import make_tree


def test_open_a_freefilesync_job_shows_warnings_and_compares(qtbot, window, tmp_path):
    make_tree(tmp_path / "L", {"data/a.jsonl": "a", "cache.tmp": "t"})
    make_tree(tmp_path / "R", {})
    ffs = tmp_path / "Old.ffs_batch"
    ffs.write_text(f"""<?xml version="1.0" encoding="utf-8"?>
<FreeFileSync XmlType="BATCH" XmlFormat="17">
  <Compare><Variant>TimeAndSize</Variant></Compare>
  <Synchronize><Variant>Mirror</Variant><DeletionPolicy>RecycleBin</DeletionPolicy></Synchronize>
  <Filter><Include><Item>*</Item></Include><Exclude><Item>*.tmp</Item></Exclude>
    <TimeSpan Type="LastDays">7</TimeSpan></Filter>
  <FolderPairs>
    <Pair><Left>{tmp_path / "L"}</Left><Right>{tmp_path / "R"}</Right></Pair>
  </FolderPairs>
</FreeFileSync>""", encoding="utf-8")
    assert window.jobs.open(str(ffs), ask=False)
    assert window.ask.errors == []
    title, text = window.ask.infos[-1]
    assert "FreeFileSync" in title and "TimeSpan" in text
    assert window.document.path is None and window.document.dirty  # never saved over the .ffs
    compare(qtbot, window)
    got = rows(window)
    assert "data/a.jsonl" in got and got["data/a.jsonl"]["action"] == "copy_to_right"
    assert "cache.tmp" not in got  # the converted exclude filter applies
    assert ffs.read_text(encoding="utf-8").startswith("<?xml")  # the original is untouched
