"""Persian text on reportlab canvases: shaping, bidi, wrapping, paragraphs and table cells.

reportlab draws glyphs in the order it is given and does not join Arabic-script letters. The order that reads
right (see /work/shared/reference/persian-rendering.md):

1. wrap in *logical* order, measuring each candidate line by the width of its *shaped* glyphs;
2. then, per line, join the letters (arabic-reshaper) and reorder for display (python-bidi, RTL base);
3. draw each line right-aligned.

Doing bidi before wrapping puts a paragraph's last words on its first line, and reportlab's own RTL wrapping
reverses digit runs. Digits: ``fa_digits`` turns ASCII digits into Persian ones except inside Latin words
(LED-40W stays as written).

Everything here is usable by any PDF of the program: ``register_fonts()``, ``shape()``, ``wrap()``,
``draw_text()``, ``draw_paragraph()``, ``paragraph_height()``, and the table helpers ``Column``,
``layout_row()``, ``draw_row()``.
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache

import arabic_reshaper
from bidi import get_display
from bidi.mirror import MIRRORED
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from app.core.paths import resources_dir
from app.core.text import to_persian_digits

logger = logging.getLogger(__name__)

FONT = "Vazirmatn"
FONT_BOLD = "Vazirmatn-Bold"
FONT_MEDIUM = "Vazirmatn-Medium"

_registered = False
_register_lock = threading.Lock()
_LATIN = re.compile(r"[A-Za-z]")
_TOKEN = re.compile(r"\S+")
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")
_reshaper = arabic_reshaper.ArabicReshaper(configuration={"delete_harakat": True, "support_ligatures": True})


def register_fonts() -> tuple[str, str]:
    """Register Vazirmatn (regular, medium, bold) from resources/fonts once; returns (regular, bold)."""
    global _registered
    with _register_lock:
        if _registered:
            return FONT, FONT_BOLD
        fonts = resources_dir() / "fonts"
        for name, file in ((FONT, "Vazirmatn-Regular.ttf"), (FONT_BOLD, "Vazirmatn-Bold.ttf"),
                           (FONT_MEDIUM, "Vazirmatn-Medium.ttf")):
            path = fonts / file
            if not path.exists():
                raise FileNotFoundError(f"font missing: {path}")
            pdfmetrics.registerFont(TTFont(name, str(path)))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)
        _registered = True
        logger.debug("Vazirmatn registered for PDFs")
    return FONT, FONT_BOLD


def fa_digits(text: str) -> str:
    """ASCII digits → Persian digits, except in tokens that contain Latin letters (model numbers, codes)."""
    if not text or not any(c.isdigit() for c in text):
        return text

    def one(m: re.Match) -> str:
        tok = m.group(0)
        if _LATIN.search(tok):
            return tok
        return to_persian_digits(_DECIMAL_POINT.sub("٫", tok))

    return _TOKEN.sub(one, text)


@lru_cache(maxsize=8192)
def reshape(text: str) -> str:
    """Join the letters (presentation forms), still in logical order."""
    return _reshaper.reshape(text) if text else text


_LEVEL = re.compile(r"Level\(\s*(\d+)")
# Digit groups joined by hyphens or single spaces (phone numbers 021-88776655, 0912 345 6789, +98 912…):
# after Persian letters their digits are Arabic numbers and a hyphen or space between them does not join them,
# so the groups would swap places (۸۸۷۷۶۶۵۵-۰۲۱) and a leading + would jump to the other end. A left-to-right
# isolate keeps them in typed order.
_D = "[0-9۰-۹٠-٩]"
_HYPHENATED_DIGITS = re.compile(
    rf"\+?{_D}+(?:(?:[-\u2010\u2011\u2013]| (?={_D})){_D}+)+|\+{_D}+")
_ISOLATES = {0x2066: None, 0x2067: None, 0x2068: None, 0x2069: None}


def _levels(text: str, base: str) -> list[int]:
    """The resolved embedding level of each character (python-bidi reports them per UTF-8 byte)."""
    dump = get_display(text, base_dir=base, debug=True)
    start = dump.find("levels:")
    per_byte = [int(m) for m in _LEVEL.findall(dump, start)]
    out = []
    pos = 0
    for ch in text:
        out.append(per_byte[pos] if pos < len(per_byte) else (1 if base == "R" else 0))
        pos += len(ch.encode("utf-8"))
    return out


def _visual_mirrored(text: str, base: str) -> str:
    """Reorder with rule L2 and mirror brackets at odd (right-to-left) levels, which python-bidi's Rust
    get_display leaves unmirrored: «(ریال)» would otherwise print as «)ریال(»."""
    levels = _levels(text, base)
    if not levels:
        return text
    chars = [MIRRORED.get(ch, ch) if lv % 2 else ch for ch, lv in zip(text, levels, strict=True)]
    top = max(levels)
    lowest_odd = min((lv for lv in levels if lv % 2), default=top + 1)
    for level in range(top, lowest_odd - 1, -1):
        i = 0
        n = len(chars)
        while i < n:
            if levels[i] >= level:
                j = i
                while j < n and levels[j] >= level:
                    j += 1
                chars[i:j] = chars[i:j][::-1]
                levels[i:j] = levels[i:j][::-1]
                i = j
            else:
                i += 1
    return "".join(chars)


@lru_cache(maxsize=8192)
def shape(line: str, rtl: bool = True) -> str:
    """One line in logical order → the glyph string to hand to reportlab (joined and reordered, brackets
    mirrored where they run right to left)."""
    if not line:
        return line
    joined = reshape(line)
    isolated = _HYPHENATED_DIGITS.search(joined) is not None
    if isolated:
        joined = _HYPHENATED_DIGITS.sub(lambda m: f"\u2066{m.group(0)}\u2069", joined)
    base = "R" if rtl else "L"
    if any(ch in MIRRORED for ch in joined):
        out = _visual_mirrored(joined, base)
    else:
        out = get_display(joined, base_dir=base)
    return out.translate(_ISOLATES) if isolated else out


@lru_cache(maxsize=16384)
def text_width(text: str, font: str, size: float) -> float:
    """Width of the shaped text (reordering does not change the width, joining does)."""
    return pdfmetrics.stringWidth(reshape(text), font, size)


# Letters that never join the letter after them (and the zero-width non-joiner): cutting a word after one of
# them leaves every glyph in the form it had, so a broken word still reads as its letters.
_NON_JOINING = set("اآأإٱدذرزژوؤۀةء\u200c")


def _joins_left(ch: str) -> bool:
    """Does this character connect to the letter that follows it (dual-joining Arabic-script letter)?"""
    return ("\u0620" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f") and ch not in _NON_JOINING \
        and not ch.isdigit() and ch not in "\u060c\u061b\u061f\u066b\u066c"


def _break_word(word: str, width: float, font: str, size: float) -> list[str]:
    """A single word wider than the line: cut it into pieces that fit, each cut where the letters do not join
    (after ا د ذ ر ز ژ و or a half-space) when such a place exists, so each piece keeps its shapes; only a run
    of joined letters longer than the line is cut between joined letters."""
    parts: list[str] = []
    rest = word
    while rest and text_width(rest, font, size) > width:
        fit = 1
        while fit < len(rest) and text_width(rest[:fit + 1], font, size) <= width:
            fit += 1
        clean = [i for i in range(1, fit + 1) if not _joins_left(rest[i - 1])]
        cut = clean[-1] if clean else fit
        parts.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        parts.append(rest)
    return parts


def wrap(text: str, width: float, font: str = FONT, size: float = 10) -> list[str]:
    """Greedy wrap in logical order, at spaces only; explicit newlines start new lines. A word is never split
    unless it alone is wider than the line (then see _break_word). Lines come back in logical order (pass each
    to shape() or draw_text())."""
    lines: list[str] = []
    space = text_width(" ", font, size)
    for para in (text or "").split("\n"):
        words = para.split()
        if not words:
            lines.append("")
            continue
        cur: list[str] = []
        cur_w = 0.0
        for w in words:
            ww = text_width(w, font, size)
            if ww > width:
                if cur:
                    lines.append(" ".join(cur))
                pieces = _break_word(w, width, font, size)
                lines.extend(pieces[:-1])
                cur = [pieces[-1]]
                cur_w = text_width(pieces[-1], font, size)
                continue
            add = ww + (space if cur else 0)
            if cur and cur_w + add > width:
                lines.append(" ".join(cur))
                cur, cur_w = [w], ww
            else:
                cur.append(w)
                cur_w += add
        if cur:
            lines.append(" ".join(cur))
    return lines


def draw_text(canvas, text: str, x: float, y: float, font: str = FONT, size: float = 10, align: str = "right",
              rtl: bool = True) -> None:
    """One line. `x` is the right edge for align='right', the left edge for 'left', the centre for
    'center'; `y` is the baseline."""
    canvas.setFont(font, size)
    glyphs = shape(text, rtl)
    if align == "right":
        canvas.drawRightString(x, y, glyphs)
    elif align == "center":
        canvas.drawCentredString(x, y, glyphs)
    else:
        canvas.drawString(x, y, glyphs)


def leading_for(size: float) -> float:
    return size * 1.55


def paragraph_height(text: str, width: float, font: str = FONT, size: float = 10,
                     leading: float | None = None) -> float:
    return len(wrap(text, width, font, size)) * (leading or leading_for(size))


def draw_paragraph(canvas, text: str, x_right: float, y_top: float, width: float, font: str = FONT,
                   size: float = 10, leading: float | None = None, align: str = "right") -> float:
    """Wrap and draw a paragraph whose box starts at `y_top` and ends at `x_right` (RTL: lines hang from the
    right edge). Returns the y below the last line."""
    lead = leading or leading_for(size)
    y = y_top
    for line in wrap(text, width, font, size):
        y -= lead
        baseline = y + (lead - size) / 2 + size * 0.25
        if align == "center":
            draw_text(canvas, line, x_right - width / 2, baseline, font, size, "center")
        elif align == "left":
            draw_text(canvas, line, x_right - width, baseline, font, size, "left")
        else:
            draw_text(canvas, line, x_right, baseline, font, size, "right")
    return y


# --- tables ------------------------------------------------------------------------------------------------

@dataclass
class Column:
    """A table column. Columns are listed right to left (the first is the rightmost). `fit='shrink'` keeps a
    value on one line by reducing the font size (numbers must never wrap); 'wrap' wraps it."""

    key: str
    title: str
    width: float
    align: str = "center"
    fit: str = "wrap"
    min_size: float = 5.0


@dataclass
class CellLayout:
    lines: list[str]
    size: float
    align: str


@dataclass
class RowLayout:
    cells: list[CellLayout]
    height: float
    data: dict = field(default_factory=dict)


def layout_cell(text: str, col: Column, font: str, size: float, padding: float) -> CellLayout:
    inner = max(col.width - 2 * padding, 1)
    if col.fit == "shrink":
        s = size
        while s > col.min_size and text_width(text, font, s) > inner:
            s -= 0.25
        if text_width(text, font, s) <= inner:
            return CellLayout([text], s, col.align)
        # still too wide at the smallest size: break only after thousands separators, never inside a group
        lines: list[str] = []
        cur = ""
        for group in re.findall(r"[^٬,\s]+[٬,]?|\s+", text):
            if cur and text_width(cur + group, font, s) > inner:
                lines.append(cur.strip())
                cur = group.lstrip()
            else:
                cur += group
        if cur.strip():
            lines.append(cur.strip())
        return CellLayout(lines, s, col.align)
    # A word wider than the cell («سرویس» in A5's unit column) is first given a slightly smaller size, so that it
    # stays whole; only what still does not fit at the smallest size is broken.
    s = size
    floor = max(col.min_size, size * 0.8)
    widest = max((text_width(w, font, s) for w in text.split()), default=0.0)
    while widest > inner and s - 0.25 >= floor:
        s -= 0.25
        widest = max(text_width(w, font, s) for w in text.split())
    return CellLayout(wrap(text, inner, font, s), s, col.align)


def layout_row(values: dict[str, str], columns: list[Column], font: str = FONT, size: float = 8,
               padding: float = 3, leading: float | None = None) -> RowLayout:
    lead = leading or leading_for(size)
    cells = [layout_cell(values.get(c.key, ""), c, font, size, padding) for c in columns]
    n = max((len(cl.lines) for cl in cells), default=1) or 1
    return RowLayout(cells, n * lead + 2 * padding * 0.6, values)


def draw_row(canvas, row: RowLayout, columns: list[Column], x_right: float, y_top: float, font: str = FONT,
             size: float = 8, padding: float = 3, leading: float | None = None, fill=None,
             grid: bool = True, valign: str = "middle") -> float:
    """Draw a laid-out row whose top edge is `y_top`, columns from `x_right` leftwards. Returns the bottom y."""
    lead = leading or leading_for(size)
    h = row.height
    x = x_right
    for col, cell in zip(columns, row.cells, strict=True):
        left = x - col.width
        if fill is not None:
            canvas.setFillColor(fill)
            canvas.rect(left, y_top - h, col.width, h, stroke=0, fill=1)
            canvas.setFillColorRGB(0, 0, 0)
        if grid:
            canvas.rect(left, y_top - h, col.width, h, stroke=1, fill=0)
        block = len(cell.lines) * lead
        if valign == "middle":
            top = y_top - (h - block) / 2
        else:
            top = y_top - padding * 0.6
        for i, line in enumerate(cell.lines):
            base = top - (i + 1) * lead + (lead - cell.size) / 2 + cell.size * 0.25
            if cell.align == "right":
                draw_text(canvas, line, x - padding, base, font, cell.size, "right")
            elif cell.align == "left":
                draw_text(canvas, line, left + padding, base, font, cell.size, "left")
            else:
                draw_text(canvas, line, left + col.width / 2, base, font, cell.size, "center")
        x = left
    return y_top - h
