"""Products and services: the catalogue the invoice editor picks lines from.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from app import fmt
from app.core.clock import now
from app.core.errors import NotFound, ValidationError
from app.core.identity import digits as id_digits
from app.core.text import clean, search_key, sort_key
from app.sales.common import MAX_UNIT_PRICE, write_tx
from app.sales.totals import parse_money
from models.base import db
from models.sales import Product

logger = logging.getLogger(__name__)


# --- products ----------------------------------------------------------------------------------------------

@dataclass
class ProductRow:
    id: int
    code: str
    name: str
    kind: str
    unit: str
    price: int
    vat_exempt: bool
    goods_id: str
    active: bool
    description: str = ""


def _product_row(p: Product) -> ProductRow:
    return ProductRow(p.id, p.code, p.name, p.kind, p.unit, p.price, p.vat_exempt, p.goods_id, p.active,
                      p.description)


def list_products(text: str = "", active_only: bool = True) -> list[ProductRow]:
    """The catalogue (or the products matching every word of ``text``) in Persian alphabetical order of name:
    SQL's order is the code points', which puts «پ چ ژ ک گ» after «ی»."""
    q = Product.select(Product.id, Product.code, Product.name, Product.kind, Product.unit, Product.price,
                       Product.vat_exempt, Product.goods_id, Product.active, Product.description)
    if active_only:
        q = q.where(Product.active == True)  # noqa: E712 - peewee expression
    for tok in search_key(text).split():
        q = q.where(Product.search_text.contains(tok))
    # the driver's rows as they come (every column is a plain value but the two flags): a model instance per
    # product, or peewee's conversion of each value, cost most of a search keystroke's read at a thousand products
    rows = [ProductRow(i, code, name, kind, unit, price, bool(exempt), goods, bool(active), desc)
            for i, code, name, kind, unit, price, exempt, goods, active, desc in db.execute(q)]
    rows.sort(key=lambda p: (sort_key(p.name), p.name, p.id))
    return rows


def get_product(product_id: int) -> ProductRow:
    p = Product.get_or_none(Product.id == product_id)
    if p is None:
        raise NotFound("کالا یا خدمت پیدا نشد.")
    return _product_row(p)


def save_product(data: dict, product_id: int | None = None) -> ProductRow:
    """Create or update a product from a dict (code, name, kind, unit, price, vat_exempt, goods_id,
    description, active). Raises ValidationError with Persian messages."""
    errors: dict[str, str] = {}
    code = clean(str(data.get("code") or ""))
    name = clean(str(data.get("name") or ""))
    if not name:
        errors["name"] = "نام کالا یا خدمت را بنویسید."
    elif len(name) > 300:
        errors["name"] = "نام کالا بیش از ۳۰۰ نویسه است."
    if len(code) > 40:
        errors["code"] = "کد کالا بیش از ۴۰ نویسه است."
    kind = data.get("kind") or "goods"
    if kind not in Product.KINDS:
        errors["kind"] = "نوع باید کالا یا خدمت باشد."
    unit = clean(str(data.get("unit") or "")) or "عدد"
    price = parse_money(data.get("price", 0) if data.get("price") not in (None, "") else 0)
    if price is None:
        errors["price"] = "قیمت را به ریال و با رقم بنویسید."
    elif price < 0:
        errors["price"] = "قیمت نمی‌تواند منفی باشد."
    elif price > MAX_UNIT_PRICE:
        errors["price"] = f"قیمت بیش از حد مجاز است (حداکثر {fmt.money(MAX_UNIT_PRICE, toman=False)})."
    goods_id = id_digits(str(data.get("goods_id") or ""))
    if goods_id and (len(goods_id) != 13 or not goods_id.isdigit()):
        errors["goods_id"] = "شناسه کالا/خدمت باید ۱۳ رقم باشد."
    existing = None
    if product_id is not None:
        existing = Product.get_or_none(Product.id == product_id)
        if existing is None:
            raise NotFound("کالا یا خدمت پیدا نشد.")
    if code:
        clash = Product.select().where(Product.code == code)
        if product_id is not None:
            clash = clash.where(Product.id != product_id)
        if clash.exists():
            errors["code"] = f"کد «{code}» برای کالای دیگری ثبت شده است."
    if errors:
        raise ValidationError(errors)
    fields = dict(code=code, name=name, kind=kind, unit=unit, price=price,
                  vat_exempt=bool(data.get("vat_exempt", False)), goods_id=goods_id,
                  description=clean(str(data.get("description") or "")),
                  active=bool(data.get("active", True)),
                  search_text=search_key(f"{code} {name} {goods_id}"), updated_at=now())
    with write_tx():
        if existing is None:
            if not code:
                fields["code"] = _next_product_code()
            p = Product.create(**fields)
        else:
            if not code:
                fields["code"] = existing.code
            for k, v in fields.items():
                setattr(existing, k, v)
            existing.save()
            p = existing
    return _product_row(p)


def _next_product_code() -> str:
    n = Product.select().count() + 1
    while Product.select().where(Product.code == f"K{n:04d}").exists():
        n += 1
    return f"K{n:04d}"
