"""The popup's texts, painted from kept text layouts: the «label: value» rows (FieldsView) and the caller's
name, number, contact person and notice (TextBlock).

A word-wrapping QLabel lays its text out several times (size hint, height for the width, paint), painting
itself through the style sheet: a grid of two QLabels per row, and the four labels above it, were most of the
popup's time between the ring and the screen. Here each text is laid out once per width (TextLayouts: a text
that fits on one line once for every width) and painted from that layout. Right to left like the rest of the
popup: the label column on the leading side, the values wrapped in the rest of the width, every line starting
on the right.
"""
from __future__ import annotations

import itertools
import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
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

    def isVisible(self) -> bool:
        return self._visible


class _Kept:
    """The layouts kept for one font and direction, shared by every widget that draws in them: the eight popups of
    a multi-line box show the same labels, dates, colleagues' names and «هنوز ثبت نشده» to different callers, and each
    popup kept its own until now, shaping again what another had shaped a moment before."""

    __slots__ = ("wrapped", "one_line")

    def __init__(self) -> None:
        self.wrapped: dict[tuple[str, int], tuple[QTextLayout, float, float]] = {}
        self.one_line: dict[str, tuple[QTextLayout, float, float]] = {}


_KEPT: dict[tuple[str, bool], _Kept] = {}


class TextLayouts:
    """Text laid out for a widget's font and direction, kept per text and width: (layout, height, widest line).
    Lines are laid out from the left and placed by the painter (right-aligned in right-to-left), so a text that
    fits on one line is shaped once and serves every width it fits in (a layout asks at a few widths before it
    settles). The layouts are kept per font and direction, for every widget drawing in them (_Kept)."""

    LIMIT = 1000        # layouts kept per font and direction

    def __init__(self, widget: QWidget):
        self._widget = widget
        self._kept: _Kept | None = None

    def _store(self) -> _Kept:
        kept = self._kept
        if kept is None:
            w = self._widget
            key = (w.font().key(), w.layoutDirection() == Qt.LayoutDirection.RightToLeft)
            kept = self._kept = _KEPT.setdefault(key, _Kept())
        return kept

    def clear(self) -> None:
        """The widget's font or direction changed: its texts are laid out (or found) in the new ones."""
        self._kept = None

    def trim(self) -> None:
        """Once more than LIMIT layouts of this font are kept, forget the oldest down to three quarters of LIMIT
        (called between contents, never mid-layout; a widget still showing one keeps its own reference).
        Forgetting them all at once made the next call lay out every text again, the labels too."""
        kept = self._store()
        total = len(kept.wrapped) + len(kept.one_line)
        if total > self.LIMIT:
            share = 1 - self.LIMIT * 3 // 4 / total
            for d in (kept.wrapped, kept.one_line):
                for k in list(itertools.islice(d, math.ceil(len(d) * share))):
                    del d[k]

    def get(self, text: str, width: int) -> tuple[QTextLayout, float, float]:
        kept = self._kept or self._store()
        one = kept.one_line.get(text)
        if one is not None and one[2] <= width:
            return one
        key = (text, width)
        got = kept.wrapped.get(key)
        if got is not None:
            return got
        w = self._widget
        font = w.font()
        lay = QTextLayout(text, font)
        opt = QTextOption(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignAbsolute)
        opt.setTextDirection(w.layoutDirection())
        opt.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        lay.setTextOption(opt)
        lay.setCacheEnabled(True)
        metrics = QFontMetricsF(font)
        leading = metrics.leading()
        lay.beginLayout()
        y = widest = 0.0
        lines = 0
        while True:
            line = lay.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            line.setPosition(QPointF(0, y))
            y += line.height() + leading
            widest = max(widest, line.naturalTextWidth())
            lines += 1
        lay.endLayout()
        got = (lay, max(y, metrics.height()), widest)
        if lines <= 1:
            kept.one_line[text] = got
        else:
            kept.wrapped[key] = got
        return got


class _HeightForWidth(QWidget):
    """What TextBlock and FieldsView share: texts laid out by TextLayouts, a height for every width (the popup's
    layout asks for it), and size hints at the width last laid out or asked about (a hint at another width would
    lay every text out once more). A subclass gives `_height(width)`."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._texts = TextLayouts(self)
        sp = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        sp.setHeightForWidth(True)
        self.setSizePolicy(sp)
        self._width = 356

    def _height(self, width: int) -> int:
        raise NotImplementedError

    def heightForWidth(self, width: int) -> int:
        # (no hasHeightForWidth override: the size policy says so, and Qt asks that of every layout pass)
        self._width = max(width, 40)
        return self._height(width)

    def sizeHint(self) -> QSize:
        return QSize(self._width, self.heightForWidth(self._width))

    def minimumSizeHint(self) -> QSize:
        return QSize(0, 0)

    def changeEvent(self, event) -> None:
        self._texts.clear()             # font or direction changed: lay every text out again
        super().changeEvent(event)

    def resizeEvent(self, event) -> None:
        self._width = max(self.width(), 40)
        super().resizeEvent(event)


class TextBlock(_HeightForWidth):
    """One word-wrapped text (the caller's name, the number, an organisation's contact person, a notice), painted
    from a layout kept per text and width. A word-wrapping QLabel lays its text out afresh for its size hint, for
    its height at the popup's width and again for each paint: most of the popup's work between the ring and the
    screen. Lines start on the reading side (the right in right-to-left); a background, when given, is a rounded
    box with padding around the text."""

    def __init__(self, *, colour: str = "#111827", background: str = "", padding: tuple[int, int] = (0, 0),
                 radius: int = 0, parent: QWidget | None = None, name: str = ""):
        super().__init__(parent)
        if name:
            self.setObjectName(name)          # the style sheet's #name gives its font
        self._colour = QColor(colour)
        self._background = QColor(background) if background else None
        self._pad_x, self._pad_y = padding
        self._radius = radius
        self._text = ""

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        if text == self._text:
            return
        self._text = text
        self._texts.trim()
        self.setAccessibleName(text)
        self.updateGeometry()
        self.update()

    def _inner(self, width: int) -> int:
        return max(1, width - 2 * self._pad_x)

    def _height(self, width: int) -> int:
        return math.ceil(self._texts.get(self._text, self._inner(width))[1]) + 2 * self._pad_y

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        if self._background is not None:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self._background)
            p.drawRoundedRect(QRectF(self.rect()), self._radius, self._radius)
        inner = self._inner(self.width())
        lay = self._texts.get(self._text, inner)[0]
        p.setPen(self._colour)
        _draw(p, lay, self._pad_x, inner, self._pad_y, self.layoutDirection() == Qt.LayoutDirection.RightToLeft)
        p.end()


class FieldsView(_HeightForWidth):
    """Rows of (label, value, role); role "value" or "none" (nothing recorded yet: muted colour)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._rows: list[tuple[str, str, str]] = []
        self._placed: dict[int, tuple[int, list]] = {}                 # width → (height, rows placed)

    def rows(self) -> list[tuple[str, str, str]]:
        return list(self._rows)

    def set_rows(self, rows: list[tuple[str, str, str]]) -> None:
        if rows == self._rows:
            return
        self._rows = rows
        self._placed.clear()
        self._texts.trim()
        self.updateGeometry()
        self.update()

    # --- layout --------------------------------------------------------------------------------------------

    def _place(self, width: int) -> tuple[int, list]:
        width = max(width, 40)
        got = self._placed.get(width)
        if got is not None:
            return got
        if len(self._placed) > 4:
            self._placed.clear()
        key_w = max((math.ceil(self._texts.get(k, _NATURAL)[2]) for k, _v, _r in self._rows), default=0)
        value_w = max(1, width - key_w - H_SPACING)
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        key_x, value_x = (width - key_w, 0) if rtl else (0, key_w + H_SPACING)
        placed = []
        y = 0.0
        for k, v, role in self._rows:
            kl, kh, _ = self._texts.get(k, key_w)
            vl, vh, _ = self._texts.get(v, value_w)
            placed.append((kl, key_x, key_w, vl, value_x, value_w, y, COLOURS.get(role, COLOURS["value"])))
            y += max(kh, vh) + V_SPACING
        height = math.ceil(y - V_SPACING) if placed else 0
        got = self._placed[width] = (height, placed)
        return got

    def _height(self, width: int) -> int:
        return self._place(width)[0]

    def changeEvent(self, event) -> None:
        self._placed.clear()            # font or direction changed: place every row again
        super().changeEvent(event)

    def paintEvent(self, event) -> None:
        _h, placed = self._place(self.width())
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        p = QPainter(self)
        key_pen = COLOURS["field"]
        for kl, kx, kw, vl, vx, vw, y, colour in placed:
            p.setPen(key_pen)
            _draw(p, kl, kx, kw, y, rtl)
            p.setPen(colour)
            _draw(p, vl, vx, vw, y, rtl)
        p.end()


def _draw(p: QPainter, lay: QTextLayout, x: float, width: float, y: float, rtl: bool) -> None:
    """Each line from the reading side of its column: the right edge in right-to-left."""
    for i in range(lay.lineCount()):
        line = lay.lineAt(i)
        line.draw(p, QPointF(x + (width - line.naturalTextWidth() if rtl else 0), y))
