"""Renders resources/icons/peyvand.svg to the PNG sizes the Linux menu uses and to the Windows .ico.

Usage: .venv/bin/python scripts/make_icons.py   (run after changing the SVG; the outputs are committed)
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(size: int):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(ICONS / "peyvand.svg")).render(painter)
    painter.end()
    return image


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    del app
    (ICONS / "hicolor").mkdir(exist_ok=True)
    for size in PNG_SIZES:
        out = ICONS / "hicolor" / f"{size}.png"
        render(size).save(str(out))
    render(256).save(str(ICONS / "peyvand.png"))
    big = Image.open(ICONS / "peyvand.png")
    big.save(ICONS / "peyvand.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    print(f"icons written to {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
