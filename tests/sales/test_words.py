"""Persian number words, as printed under an invoice's total."""
from __future__ import annotations

import pytest

from app.core.words import MAX, amount_in_words, to_words


@pytest.mark.parametrize("n, words", [
    (0, "صفر"),
    (1, "یک"),
    (9, "نه"),
    (10, "ده"),
    (11, "یازده"),
    (12, "دوازده"),
    (17, "هفده"),
    (18, "هجده"),
    (19, "نوزده"),
    (20, "بیست"),
    (21, "بیست و یک"),
    (99, "نود و نه"),
    (100, "یکصد"),
    (101, "یکصد و یک"),
    (110, "یکصد و ده"),
    (200, "دویست"),
    (300, "سیصد"),
    (500, "پانصد"),
    (999, "نهصد و نود و نه"),
    (1000, "یک هزار"),
    (1001, "یک هزار و یک"),
    (2500, "دو هزار و پانصد"),
    (10_000, "ده هزار"),
    (100_000, "یکصد هزار"),
    (1_000_000, "یک میلیون"),
    (1_000_001, "یک میلیون و یک"),
    (1_200_000, "یک میلیون و دویست هزار"),
    (1_234_567, "یک میلیون و دویست و سی و چهار هزار و پانصد و شصت و هفت"),
    (10_000_000, "ده میلیون"),
    (1_000_000_000, "یک میلیارد"),
    (2_000_500_000, "دو میلیارد و پانصد هزار"),
    (999_999_999_999, "نهصد و نود و نه میلیارد و نهصد و نود و نه میلیون و نهصد و نود و نه هزار و نهصد و نود و نه"),
    (1_000_000_000_000, "یک تریلیون"),
    (3_000_000_000_010, "سه تریلیون و ده"),
    (-1, "منفی یک"),
    (-1_200_000, "منفی یک میلیون و دویست هزار"),
])
def test_to_words(n, words):
    assert to_words(n) == words


def test_largest_and_beyond():
    assert to_words(MAX).startswith("نهصد و نود و نه کوینتیلیون")
    with pytest.raises(ValueError):
        to_words(MAX + 1)
    with pytest.raises(TypeError):
        to_words(1.5)
    with pytest.raises(TypeError):
        to_words("12")
    assert to_words(12.0) == "دوازده"


def test_no_double_spaces_or_dangling_and():
    for n in list(range(0, 2100)) + [10 ** k for k in range(19)] + [10 ** k + 1 for k in range(19)]:
        w = to_words(n)
        assert "  " not in w and not w.endswith(" و") and not w.startswith("و ")


def test_amount_in_words():
    assert amount_in_words(1_200_000) == "یک میلیون و دویست هزار ریال"
    assert amount_in_words(0) == "صفر ریال"
    assert amount_in_words(1_200_000, toman=True) == "یکصد و بیست هزار تومان"
    assert amount_in_words(1_200_005, toman=True) == "یکصد و بیست هزار تومان و پنج ریال"
    assert amount_in_words(5, toman=True) == "پنج ریال"
