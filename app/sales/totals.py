"""Line arithmetic (pure): quantities and money parsed, each line's discount, share of the total discount, VAT and
total, and the document's totals.

``gross = round_half_up(quantity × unit_price)``; the line's own discount is subtracted; the discount on the total
is then shared among the lines in proportion to what is left of each (largest-remainder method, so the shares add
up to the discount exactly); ``taxable = gross − discount − share``; ``vat = round_half_up(taxable × rate / 10000)``
**per line** (rates are basis points, 1000 = 10%); exempt lines carry rate 0. Document totals are the sums of the
line figures, so the printed lines always add up to the printed totals.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app import fmt
from app.core.errors import ValidationError
from app.core.identity import digits as id_digits
from app.core.text import clean, to_ascii_digits, to_persian_digits
from app.sales.common import MAX_AMOUNT, MAX_LINES, MAX_QUANTITY, MAX_UNIT_PRICE, row_label
from models.sales import Product

logger = logging.getLogger(__name__)


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def vat_of(taxable: int, rate_bp: int) -> int:
    """VAT on a non-negative amount, half-up to the Rial."""
    return (taxable * rate_bp + 5000) // 10000


def percent_label(rate_bp: int) -> str:
    whole, frac = divmod(rate_bp, 100)
    s = str(whole) if not frac else f"{whole}.{frac:02d}".rstrip("0")
    return to_persian_digits(s.replace(".", "٫")) + "٪"


def parse_quantity(value: Any) -> Decimal | None:
    """'۲٫۵', '2/5', '2.5', 3 → Decimal; None when it is not a number."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    s = to_ascii_digits(str(value or "")).strip().replace("٫", ".").replace("/", ".").replace(",", "")
    s = s.replace("\u066c", "").replace("\u2212", "-")
    if not s:
        return None
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def parse_money(value: Any) -> int | None:
    from app.core.text import parse_int

    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | float):
        return int(value) if value == int(value) else None
    return parse_int(value)


# --- line arithmetic (pure) --------------------------------------------------------------------------------

@dataclass
class LineInput:
    description: str = ""
    quantity: Any = 1
    unit_price: Any = 0
    discount: Any = 0
    unit: str = ""
    code: str = ""
    goods_id: str = ""
    product_id: int | None = None
    vat_exempt: bool | None = None      # None: take the product's flag (False without a product)


@dataclass
class LineCalc:
    description: str
    quantity: Decimal
    unit_price: int
    discount: int
    unit: str
    code: str
    goods_id: str
    product_id: int | None
    vat_exempt: bool
    gross: int = 0
    doc_discount_share: int = 0
    taxable: int = 0
    vat_rate: int = 0
    vat: int = 0
    total: int = 0


@dataclass
class Totals:
    lines: list[LineCalc]
    vat_rate: int
    subtotal: int = 0
    line_discount: int = 0
    doc_discount: int = 0
    taxable: int = 0
    vat_total: int = 0
    total: int = 0

    @property
    def discount_total(self) -> int:
        return self.line_discount + self.doc_discount


def _as_input(line: LineInput | dict) -> LineInput:
    if isinstance(line, LineInput):
        return line
    known = LineInput.__dataclass_fields__
    return LineInput(**{k: v for k, v in line.items() if k in known})


def compute(lines: Iterable[LineInput | dict], doc_discount: Any = 0, vat_rate: int = 1000,
            products: dict[int, Product] | None = None) -> Totals:
    """Check and price the lines. Raises ValidationError (keys like ``lines.2.quantity``) with Persian
    messages naming the row. Pure apart from reading the products named by product_id."""
    errors: dict[str, str] = {}
    items = [_as_input(x) for x in lines]
    if not items:
        raise ValidationError({"lines": "دست‌کم یک ردیف کالا یا خدمت لازم است."})
    if len(items) > MAX_LINES:
        raise ValidationError({"lines": f"یک سند بیش از {to_persian_digits(MAX_LINES)} ردیف نمی‌تواند داشته باشد."})
    if products is None:
        ids = {x.product_id for x in items if x.product_id}
        products = {p.id: p for p in Product.select().where(Product.id.in_(list(ids)))} if ids else {}
    calcs: list[LineCalc] = []
    for i, x in enumerate(items):
        key = f"lines.{i}"
        product = products.get(x.product_id) if x.product_id else None
        if x.product_id and product is None:
            errors[f"{key}.product"] = f"{row_label(i)}: کالای انتخاب‌شده پیدا نشد."
        desc = clean(str(x.description or "")) or (product.name if product else "")
        if not desc:
            errors[f"{key}.description"] = f"{row_label(i)}: شرح کالا یا خدمت را بنویسید."
        qty = parse_quantity(x.quantity)
        if qty is None:
            errors[f"{key}.quantity"] = f"{row_label(i)}: مقدار را با رقم بنویسید."
            qty = Decimal(0)
        elif qty < 0:
            errors[f"{key}.quantity"] = f"{row_label(i)}: مقدار نمی‌تواند منفی باشد."
        elif qty == 0:
            errors[f"{key}.quantity"] = f"{row_label(i)}: مقدار باید بیشتر از صفر باشد."
        elif qty > MAX_QUANTITY:
            errors[f"{key}.quantity"] = f"{row_label(i)}: مقدار بیش از حد مجاز است."
        elif qty != qty.quantize(Decimal("0.001")):
            errors[f"{key}.quantity"] = f"{row_label(i)}: مقدار حداکثر سه رقم اعشار دارد."
        price = parse_money(x.unit_price if x.unit_price not in (None, "") else 0)
        if price is None:
            errors[f"{key}.unit_price"] = f"{row_label(i)}: مبلغ واحد را به ریال و با رقم بنویسید."
            price = 0
        elif price < 0:
            errors[f"{key}.unit_price"] = f"{row_label(i)}: مبلغ واحد نمی‌تواند منفی باشد."
        elif price > MAX_UNIT_PRICE:
            errors[f"{key}.unit_price"] = (f"{row_label(i)}: مبلغ واحد بیش از حد مجاز است "
                                           f"(حداکثر {fmt.money(MAX_UNIT_PRICE, toman=False)}).")
        disc = parse_money(x.discount if x.discount not in (None, "") else 0)
        if disc is None:
            errors[f"{key}.discount"] = f"{row_label(i)}: تخفیف را به ریال و با رقم بنویسید."
            disc = 0
        elif disc < 0:
            errors[f"{key}.discount"] = f"{row_label(i)}: تخفیف نمی‌تواند منفی باشد."
        exempt = x.vat_exempt if x.vat_exempt is not None else bool(product and product.vat_exempt)
        c = LineCalc(description=desc, quantity=qty, unit_price=price, discount=disc,
                     unit=clean(str(x.unit or "")) or (product.unit if product else "") or "عدد",
                     code=clean(str(x.code or "")) or (product.code if product else ""),
                     goods_id=id_digits(str(x.goods_id or "")) or (product.goods_id if product else ""),
                     product_id=x.product_id or None, vat_exempt=bool(exempt))
        if c.goods_id and (len(c.goods_id) != 13 or not c.goods_id.isdigit()):
            errors[f"{key}.goods_id"] = f"{row_label(i)}: شناسه کالا/خدمت باید ۱۳ رقم باشد."
        if f"{key}.quantity" not in errors and f"{key}.unit_price" not in errors:
            c.gross = round_half_up(qty * price)
            if c.gross > MAX_AMOUNT:
                errors[f"{key}.unit_price"] = f"{row_label(i)}: مبلغ ردیف بیش از حد مجاز است."
            elif disc > c.gross and f"{key}.discount" not in errors:
                errors[f"{key}.discount"] = f"{row_label(i)}: تخفیف از مبلغ ردیف بیشتر است."
        calcs.append(c)
    dd = parse_money(doc_discount if doc_discount not in (None, "") else 0)
    if dd is None:
        errors["doc_discount"] = "تخفیف روی کل را به ریال و با رقم بنویسید."
    elif dd < 0:
        errors["doc_discount"] = "تخفیف روی کل نمی‌تواند منفی باشد."
    if errors:
        raise ValidationError(errors)
    assert dd is not None
    nets = [c.gross - c.discount for c in calcs]
    net_sum = sum(nets)
    if dd > net_sum:
        raise ValidationError({"doc_discount": "تخفیف روی کل از جمع مبالغ پس از تخفیف ردیف‌ها بیشتر است."})
    shares = allocate(dd, nets)
    t = Totals(lines=calcs, vat_rate=vat_rate, doc_discount=dd)
    for c, net, share in zip(calcs, nets, shares, strict=True):
        c.doc_discount_share = share
        c.taxable = net - share
        c.vat_rate = 0 if c.vat_exempt else vat_rate
        c.vat = vat_of(c.taxable, c.vat_rate)
        c.total = c.taxable + c.vat
        t.subtotal += c.gross
        t.line_discount += c.discount
        t.taxable += c.taxable
        t.vat_total += c.vat
        t.total += c.total
    if t.total > MAX_AMOUNT:
        raise ValidationError({"lines": "جمع سند بیش از حد مجاز است."})
    return t


def allocate(amount: int, weights: list[int]) -> list[int]:
    """Split `amount` in proportion to `weights` into integers that add up exactly (largest remainder;
    ties go to the earlier line). All weights zero → nothing allocated (amount must then be 0)."""
    total = sum(weights)
    if amount == 0 or total == 0:
        return [0] * len(weights)
    base = [amount * w // total for w in weights]
    rems = [(amount * w % total, -i) for i, w in enumerate(weights)]
    left = amount - sum(base)
    for _, neg_i in sorted(rems, reverse=True)[:left]:
        base[-neg_i] += 1
    return base
