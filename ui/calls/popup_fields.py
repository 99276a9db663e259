"""The popup's «label: value» rows, painted by one widget.

A grid of two QLabels per row lays every word-wrapped value out several times (size hints, height for the
width, paint), each label painting itself through the style sheet: most of the popup's time between the ring
and the screen. FieldsView keeps one QTextLayout per text and width (the labels' own texts are laid out once
for the program's life) and paints the rows in one pass. Right to left like the rest of the popup: the label
column on the leading side, the values wrapped in the rest of the width.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QTextLayout, QTextOption
from PySide6.QtWidgets import QSizePolicy, QWidget

H_SPACING = 10
V_SPACING = 2
COLOURS = {"field": QColor("#6b7280"), "value": QColor("#111827"), "none": QColor("#9ca3af")}
_NATURAL = 100_000


class Shown:
    """One text as a row shows it: what a test or an accessibility check asks of a label."""

    __slots__ = ("_text", "_visible")

    def __init__(self, text: str = "", visible: bool = False):
        self._text = text
        self._visible = visible

    def text(self) -> str:
        return self._text

    def set_visible(self, visible: bool) -> None:
        self._visible = visible

    def isVisible(self) -> bool:  # noqa: N802 - QWidget's name
        return self._visible


class FieldsView(QWidget):
    """Rows of (label, value, role); role "value" or "none" (nothing recorded yet: muted colour)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        sp = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        sp.setHeightForWidth(True)
        self.setSizePolicy(sp)
        self._rows: list[tuple[str, str, str]] = []
        self._placed: dict[int, tuple[int, list]] = {}                 # width → (height, rows placed)
        self._layouts: dict[tuple[str, int], tuple[QTextLayout, float, float]] = {}
        self._font_key = ""

    def rows(self) -> list[tuple[str, str, str]]:
        return list(self._rows)

    def set_rows(self, rows: list[tuple[str, str, str]]) -> None:
        if rows == self._rows:
            return
        self._rows = rows
        self._placed.clear()
        if len(self._layouts) > 200:
            self._layouts.clear()
        self.updateGeometry()
        self.update()

    # --- layout --------------------------------------------------------------------------------------------

    def _laid_out(self, text: str, width: int) -> tuple[QTextLayout, float, float]:
        """(layout, height, widest line) of one text wrapped at `width` (_NATURAL: one line)."""
        key = (text, width)
        got = self._layouts.get(key)
        if got is not None:
            return got
        font = self.font()
        lay = QTextLayout(text, font)
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        opt = QTextOption((Qt.AlignmentFlag.AlignRight if rtl else Qt.AlignmentFlag.AlignLeft)
                          | Qt.AlignmentFlag.AlignAbsolute)       # each text starts on the reading side
        opt.setTextDirection(self.layoutDirection())
        opt.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        lay.setTextOption(opt)
        lay.setCacheEnabled(True)
        leading = QFontMetricsF(font).leading()
        lay.beginLayout()
        y = widest = 0.0
        while True:
            line = lay.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            line.setPosition(QPointF(0, y))
            y += line.height() + leading
            widest = max(widest, line.naturalTextWidth())
        lay.endLayout()
        got = self._layouts[key] = (lay, max(y, QFontMetricsF(font).height()), widest)
        return got

    def _place(self, width: int) -> tuple[int, list]:
        width = max(width, 40)
        got = self._placed.get(width)
        if got is not None:
            return got
        if len(self._placed) > 4:
            self._placed.clear()
        key_w = max((math.ceil(self._laid_out(k, _NATURAL)[2]) for k, _v, _r in self._rows), default=0)
        value_w = max(1, width - key_w - H_SPACING)
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        key_x, value_x = (width - key_w, 0) if rtl else (0, key_w + H_SPACING)
        placed = []
        y = 0.0
        for k, v, role in self._rows:
            kl, kh, _ = self._laid_out(k, key_w)
            vl, vh, _ = self._laid_out(v, value_w)
            placed.append((kl, key_x, vl, value_x, y, COLOURS.get(role, COLOURS["value"])))
            y += max(kh, vh) + V_SPACING
        height = math.ceil(y - V_SPACING) if placed else 0
        got = self._placed[width] = (height, placed)
        return got

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        return self._place(width)[0]

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        w = self.width() if self.width() > 40 else 356
        return QSize(w, self._place(w)[0])

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(0, 0)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._layouts.clear()           # font or direction changed: lay every text out again
        self._placed.clear()
        super().changeEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        _h, placed = self._place(self.width())
        p = QPainter(self)
        key_pen = COLOURS["field"]
        for kl, kx, vl, vx, y, colour in placed:
            p.setPen(key_pen)
            kl.draw(p, QPointF(kx, y))
            p.setPen(colour)
            vl.draw(p, QPointF(vx, y))
        p.end()
