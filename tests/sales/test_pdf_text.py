"""Persian line layout for reportlab: wrapping in logical order, shaping, bidi, mirroring, digits."""
from __future__ import annotations

import io
import shutil
import subprocess
import unicodedata

import pytest
from reportlab.pdfgen import canvas

from app.core.pdf_text import (
    FONT,
    Column,
    draw_paragraph,
    draw_row,
    fa_digits,
    layout_row,
    register_fonts,
    shape,
    text_width,
    wrap,
)

TEXT = "این یک متن نسبتا بلند فارسی است که باید در چند سطر شکسته شود و ترتیب واژه‌ها درست بماند تا آخر"


@pytest.fixture(autouse=True)
def fonts():
    register_fonts()


def test_wrap_keeps_logical_order_and_width():
    lines = wrap(TEXT, 120, FONT, 10)
    assert len(lines) > 2
    assert " ".join(lines) == TEXT                       # first words on the first line, nothing lost
    assert lines[0].startswith("این یک")
    assert all(text_width(ln, FONT, 10) <= 120 for ln in lines)


def test_wrap_breaks_a_word_longer_than_the_line_and_keeps_newlines():
    lines = wrap("الف\nبسیاربسیاربسیاربسیاربلند", 30, FONT, 10)
    assert lines[0] == "الف"
    assert "".join(lines[1:]) == "بسیاربسیاربسیاربسیاربلند"
    assert all(text_width(ln, FONT, 10) <= 30 for ln in lines)


def test_shape_keeps_numbers_and_latin_in_reading_order():
    out = shape("مبلغ ۱٬۲۰۰٬۰۰۰ ریال برای LED-40W در ۱۴۰۵/۰۹/۰۳")
    assert "۱٬۲۰۰٬۰۰۰" in out and "LED-40W" in out and "۱۴۰۵/۰۹/۰۳" in out
    # right to left: the last logical word is drawn first (leftmost)
    assert out.startswith("۱۴۰۵/۰۹/۰۳")
    # letters are joined: presentation forms
    assert any(0xFB50 <= ord(c) <= 0xFEFF for c in out)


def test_brackets_are_mirrored_in_rtl_runs_only():
    assert shape("جمع کل (ریال)").startswith("(")      # drawn «(لایر)»: opens on the left, reads right
    assert shape("جمع کل (ریال)").split(" ")[0].endswith(")")
    assert "Model (X1)" in shape("Model (X1) لامپ")


def test_phone_numbers_keep_their_groups_in_order():
    assert "۰۲۱-۸۸۷۷۶۶۵۵" in shape("تلفن: ۰۲۱-۸۸۷۷۶۶۵۵")
    assert "\u2066" not in shape("تلفن: ۰۲۱-۸۸۷۷۶۶۵۵")
    assert "+۹۸۹۱۲۶۷۷۷۲۴۰" in shape("تلفن: +۹۸۹۱۲۶۷۷۷۲۴۰")
    assert "۰۹۱۲ ۳۴۵ ۶۷۸۹" in shape("همراه: ۰۹۱۲ ۳۴۵ ۶۷۸۹ (محل کار)")
    assert shape("قیمت ۱۲ عدد ۵ هزار").startswith("ﺭﺍﺰﻫ ۵")      # ordinary numbers between words untouched


def test_fa_digits_leaves_latin_tokens():
    assert fa_digits("لامپ LED-40W تعداد 12 عدد در 1405/09/03") == "لامپ LED-40W تعداد ۱۲ عدد در ۱۴۰۵/۰۹/۰۳"
    assert fa_digits("") == ""
    assert fa_digits("کابل 2.5 میلی‌متر، پلاک 12.") == "کابل ۲٫۵ میلی‌متر، پلاک ۱۲."


def test_table_cells_wrap_and_numbers_shrink():
    cols = [Column("desc", "شرح", 60, "right", "wrap"), Column("amount", "مبلغ", 50, "center", "shrink")]
    row = layout_row({"desc": TEXT, "amount": "۱۲٬۳۴۵٬۶۷۸٬۹۰۰"}, cols, FONT, 8)
    assert len(row.cells[0].lines) > 3 and " ".join(row.cells[0].lines) == TEXT
    assert row.cells[1].lines == ["۱۲٬۳۴۵٬۶۷۸٬۹۰۰"] and row.cells[1].size < 8
    assert text_width(row.cells[1].lines[0], FONT, row.cells[1].size) <= 50 - 6
    # a column too narrow even at the smallest size breaks only after a thousands separator
    narrow = [Column("amount", "مبلغ", 26, "center", "shrink")]
    cell = layout_row({"amount": "۱۲٬۳۴۵٬۶۷۸٬۹۰۰"}, narrow, FONT, 8).cells[0]
    assert len(cell.lines) > 1 and "".join(cell.lines) == "۱۲٬۳۴۵٬۶۷۸٬۹۰۰"
    assert all(ln.endswith("٬") for ln in cell.lines[:-1])


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")
def test_paragraph_reads_back_in_order(tmp_path):
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    y = draw_paragraph(c, TEXT, 500, 800, 150, FONT, 11)
    assert y < 800 - 3 * 11
    cols = [Column("a", "", 80, "right"), Column("b", "", 80, "center", "shrink")]
    draw_row(c, layout_row({"a": "کالای آزمایشی", "b": "۱٬۲۰۰٬۰۰۰"}, cols), cols, 500, 500)
    c.save()
    path = tmp_path / "p.pdf"
    path.write_bytes(buf.getvalue())
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    text = unicodedata.normalize("NFKC", out.decode("utf-8"))
    text = "".join(ch for ch in text if ch not in "\u202a\u202b\u202c\u202d\u202e")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    assert lines[0].startswith("این یک")
    assert " ".join(lines[:len(wrap(TEXT, 150, FONT, 11))]).replace("  ", " ") == TEXT
    assert "۱٬۲۰۰٬۰۰۰" in text and "کالای آزمایشی" in text


def test_a_word_is_broken_only_when_alone_too_wide_and_where_letters_do_not_join():
    from app.core.pdf_text import FONT, Column, _break_word, layout_cell, register_fonts, text_width, wrap

    register_fonts()
    w = text_width("سرویس", FONT, 6.75)
    # a line with room for two words never splits a word
    assert wrap("سرویس سرویس سرویس", w * 2.2, FONT, 6.75) == ["سرویس سرویس", "سرویس"]
    # the A5 unit column (27pt, 3pt padding): «سرویس» stays whole at a slightly smaller size
    cell = layout_cell("سرویس", Column("unit", "واحد", 27, "center", "wrap"), FONT, 6.75, 3)
    assert cell.lines == ["سرویس"] and 5.4 <= cell.size < 6.75
    # far too narrow: cut after «و» or «ر» (letters that do not join forward), never «سروی / س»
    parts = _break_word("سرویس", w * 0.7, FONT, 6.75)
    assert "".join(parts) == "سرویس" and len(parts) == 2
    assert parts[0][-1] in "رو"
