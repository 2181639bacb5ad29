"""Render the window after a compare to a PNG (look at it: text, colours,
icons). ``SYNCPANE_SCREENSHOT=path`` also writes it there (the README's
``docs/screenshot.png`` is made this way)."""

from __future__ import annotations

import os

from PySide6.QtGui import QImage

from tests.gui.conftest import compare, write_job
from tests.util import T0, make_tree


def _ml_project(tmp_path):
    left = make_tree(tmp_path / "llm-distillery", {
        "datasets/train.jsonl": ("x" * 48_213, T0 + 7200),
        "datasets/valid.jsonl": "v" * 5_120,
        "datasets/test.jsonl": ("t" * 5_300, T0),
        "models/student-v3/config.json": "{}" * 300,
        "models/student-v3/model.safetensors": b"\x01" * 262_144,
        "reports/eval-2025-11.md": ("# eval" * 40, T0 + 60),
        "notebooks/explore.ipynb": "{}",
        "README.md": "readme",
    })
    right = make_tree(tmp_path / "gpu-server", {
        "datasets/train.jsonl": ("x" * 40_000, T0),
        "datasets/valid.jsonl": "v" * 5_120,
        "datasets/test.jsonl": ("T" * 5_299, T0),
        "models/student-v2/model.safetensors": b"\x02" * 131_072,
        "reports/eval-2025-11.md": ("# eval v2" * 40, T0 + 3600),
        "notebooks/explore.ipynb": "{}",
        "README.md": "readme",
        "scratch.log": "old",
    })
    return left, right


def test_window_screenshot_after_compare(qtbot, window, tmp_path):
    left, right = _ml_project(tmp_path)
    job = write_job(tmp_path / "llm-distillery.syncjob", left, right,
                    sync={"variant": "mirror", "max_delete_percent": 100})
    window.jobs.open(str(job), ask=False)
    window.resize(1280, 720)
    compare(qtbot, window)
    qtbot.wait(100)
    out = tmp_path / "window.png"
    assert window.grab().save(str(out))
    image = QImage(str(out))
    assert image.width() >= 1000 and image.height() >= 600
    # Rows are painted in their category colours (not a blank grid).
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert "#dbeafe" in colours and "#dcfce7" in colours
    target = os.environ.get("SYNCPANE_SCREENSHOT")
    if target:
        window.grab().save(target)
