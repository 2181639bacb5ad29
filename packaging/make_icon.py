"""Draw the app icon (resources/icons/app.svg) into a Windows .ico.

    python packaging/make_icon.py [SVG] [ICO]

Each size is rendered by Qt's SVG renderer into a transparent image, saved as
PNG, and the PNGs are packed into one ICO file (Windows Vista and later read
PNG-compressed ICO entries at every size).
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)


def render_png(svg: Path, size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icon: cannot read {svg} as SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    buf.close()
    return bytes(data)


def pack_ico(images: list[tuple[int, bytes]]) -> bytes:
    """ICONDIR, one ICONDIRENTRY per image, then the PNG data in order."""
    header = struct.pack("<HHH", 0, 1, len(images))  # reserved, type 1 = icon, count
    offset = len(header) + 16 * len(images)
    entries, blobs = [], []
    for size, png in images:
        # Width and height are one byte each; 0 stands for 256.
        side = 0 if size >= 256 else size
        entries.append(struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset))
        blobs.append(png)
        offset += len(png)
    return header + b"".join(entries) + b"".join(blobs)


def make_icon(svg: Path, ico: Path) -> None:
    from PySide6.QtGui import QGuiApplication

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - QImage wants one
    images = [(size, render_png(svg, size)) for size in SIZES]
    ico.parent.mkdir(parents=True, exist_ok=True)
    ico.write_bytes(pack_ico(images))


def main(argv: list[str]) -> int:
    svg = Path(argv[0]) if argv else ROOT / "resources" / "icons" / "app.svg"
    ico = Path(argv[1]) if len(argv) > 1 else ROOT / "resources" / "syncpane.ico"
    make_icon(svg, ico)
    sizes = ", ".join(map(str, SIZES))
    print(f"make_icon: wrote {ico} ({ico.stat().st_size} bytes, sizes {sizes})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
