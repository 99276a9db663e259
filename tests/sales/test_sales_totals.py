"""Pure arithmetic of lines, discounts and VAT (with the products table where a line names a product)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.errors import ValidationError
from app.sales.products import save_product
from app.sales.totals import LineInput, allocate, compute, percent_label
from app.sales.vat import set_vat_rates, vat_rate_on


def test_simple_line_with_vat(db):
    t = compute([LineInput("لامپ LED-40W", 3, 1_200_000)], 0, 1000)
    ln = t.lines[0]
    assert (ln.gross, ln.taxable, ln.vat, ln.total) == (3_600_000, 3_600_000, 360_000, 3_960_000)
    assert (t.subtotal, t.discount_total, t.vat_total, t.total) == (3_600_000, 0, 360_000, 3_960_000)


def test_fractional_quantity_rounds_half_up(db):
    # 2.5 × 333 = 832.5 → 833 (half up), VAT 10% of 833 = 83.3 → 83
    t = compute([LineInput("کابل", "۲٫۵", 333)], 0, 1000)
    assert t.lines[0].gross == 833
    assert t.lines[0].vat == 83
    assert t.total == 916


def test_vat_rounds_half_up_per_line(db):
    # 5 Rials × 10% = 0.5 → 1 on each line; two lines → 2 (not round(1.0) on the sum)
    t = compute([LineInput("الف", 1, 5), LineInput("ب", 1, 5)], 0, 1000)
    assert [ln.vat for ln in t.lines] == [1, 1]
    assert t.vat_total == 2
    # 4 Rials × 10% = 0.4 → 0
    assert compute([LineInput("ج", 1, 4)], 0, 1000).vat_total == 0


def test_line_discount_then_total_discount_shared(db):
    lines = [LineInput("کالا یک", 1, 1_000_000, discount=100_000),   # net 900,000
             LineInput("کالا دو", 2, 150_000)]                         # net 300,000
    t = compute(lines, 120_000, 1000)
    # the 120,000 total discount is shared 3:1 → 90,000 and 30,000
    assert [ln.doc_discount_share for ln in t.lines] == [90_000, 30_000]
    assert [ln.taxable for ln in t.lines] == [810_000, 270_000]
    assert [ln.vat for ln in t.lines] == [81_000, 27_000]
    assert t.subtotal == 1_300_000
    assert t.line_discount == 100_000 and t.doc_discount == 120_000 and t.discount_total == 220_000
    assert t.total == 810_000 + 270_000 + 108_000


def test_total_discount_shares_add_up_exactly(db):
    t = compute([LineInput("a", 1, 100), LineInput("b", 1, 100), LineInput("c", 1, 100)], 100, 1000)
    assert sum(ln.doc_discount_share for ln in t.lines) == 100
    assert [ln.doc_discount_share for ln in t.lines] == [34, 33, 33]


def test_exempt_line_carries_no_vat(db):
    t = compute([LineInput("کتاب", 2, 500_000, vat_exempt=True), LineInput("خودکار", 10, 50_000)], 0, 1000)
    assert t.lines[0].vat_rate == 0 and t.lines[0].vat == 0
    assert t.lines[1].vat_rate == 1000 and t.lines[1].vat == 50_000
    assert t.total == 1_000_000 + 500_000 + 50_000


def test_exempt_flag_comes_from_the_product(db):
    p = save_product({"name": "نان", "price": 40_000, "vat_exempt": True, "goods_id": "2720000000017"})
    t = compute([LineInput(product_id=p.id, quantity=3, unit_price=40_000)], 0, 1000)
    ln = t.lines[0]
    assert ln.vat_exempt and ln.vat == 0
    assert ln.description == "نان" and ln.goods_id == "2720000000017" and ln.code == p.code


@pytest.mark.parametrize("line, key, fragment", [
    (LineInput("x", -1, 1000), "lines.0.quantity", "منفی"),
    (LineInput("x", 0, 1000), "lines.0.quantity", "بیشتر از صفر"),
    (LineInput("x", "abc", 1000), "lines.0.quantity", "رقم"),
    (LineInput("x", 1, -5), "lines.0.unit_price", "منفی"),
    (LineInput("x", 1, 10 ** 15), "lines.0.unit_price", "بیش از حد مجاز"),
    (LineInput("x", 1, 1000, discount=1001), "lines.0.discount", "بیشتر"),
    (LineInput("", 1, 1000), "lines.0.description", "شرح"),
    (LineInput("x", "1.0001", 1000), "lines.0.quantity", "اعشار"),
])
def test_bad_lines_give_persian_messages(db, line, key, fragment):
    with pytest.raises(ValidationError) as e:
        compute([line], 0, 1000)
    assert key in e.value.errors
    assert fragment in e.value.errors[key]
    assert "ردیف ۱" in e.value.errors[key]


def test_total_discount_larger_than_lines(db):
    with pytest.raises(ValidationError) as e:
        compute([LineInput("x", 1, 1000)], 1001, 1000)
    assert "doc_discount" in e.value.errors


def test_no_lines(db):
    with pytest.raises(ValidationError) as e:
        compute([], 0, 1000)
    assert "دست‌کم یک ردیف" in e.value.message


def test_dated_vat_rates(db):
    assert vat_rate_on(dt.date(2024, 3, 19)) == 900      # 1402/12/29
    assert vat_rate_on(dt.date(2024, 3, 20)) == 1000     # 1403/01/01
    set_vat_rates("1402/01/01=9, 1403/01/01=10, 1406/01/01=12.5")
    assert vat_rate_on(dt.date(2027, 3, 21)) == 1250     # 1406/01/01
    assert percent_label(1250) == "۱۲٫۵٪"
    with pytest.raises(ValidationError):
        set_vat_rates("1403/13/01=10")
    with pytest.raises(ValidationError):
        set_vat_rates("1403/01/01=150")


@given(st.integers(min_value=0, max_value=10 ** 12),
       st.lists(st.integers(min_value=0, max_value=10 ** 12), min_size=1, max_size=30))
def test_allocate_adds_up(amount, weights):
    if sum(weights) == 0:
        assert allocate(0, weights) == [0] * len(weights)
        return
    amount = min(amount, sum(weights))
    parts = allocate(amount, weights)
    assert sum(parts) == amount
    assert all(0 <= p <= w for p, w in zip(parts, weights, strict=True))


@given(st.lists(st.tuples(st.decimals(min_value=Decimal("0.001"), max_value=Decimal(1000), places=3),
                          st.integers(min_value=0, max_value=10 ** 9), st.booleans()),
                min_size=1, max_size=12),
       st.integers(min_value=0, max_value=2000))
def test_totals_are_sums_of_lines(items, rate):
    lines = [LineInput("x", q, p, vat_exempt=ex) for q, p, ex in items]
    t = compute(lines, 0, rate, products={})
    assert t.total == sum(ln.total for ln in t.lines)
    assert t.vat_total == sum(ln.vat for ln in t.lines)
    assert t.total == t.subtotal - t.discount_total + t.vat_total
    for ln in t.lines:
        assert isinstance(ln.total, int)
        assert ln.vat == (0 if ln.vat_exempt else (ln.taxable * rate + 5000) // 10000)
