"""Sales service: products, proformas → invoices, payments, balances, and helpers for reports.

Rules (all money is integer Rials):

* Lines: ``gross = round_half_up(quantity × unit_price)``; the line's own discount is subtracted; the discount on
  the total is then shared among the lines in proportion to what is left of each (largest-remainder method, so
  the shares add up to the discount exactly); ``taxable = gross − discount − share``;
  ``vat = round_half_up(taxable × rate / 10000)`` **per line** (rates are basis points, 1000 = 10%);
  exempt lines carry rate 0. Document totals are the sums of the line figures, so the printed lines always add
  up to the printed totals.
* VAT rates are a dated list (setting ``sales.vat_rates``: ``1402/01/01=9,1403/01/01=10``); a document takes
  the rate in force on its date, and keeps it once issued (a proforma keeps the rate it was written with).
* Numbering: ``{Jalali year}{seq:04d}`` per document type (14050001, 14050002, …). The counter row is bumped
  inside the transaction that writes the document (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the UPDATE's row
  lock), so concurrent desks never share a number and a failed save gives its number back: no gaps.
  Proformas are numbered when written; invoices when issued (drafts have no number).
* An issued invoice is never edited. ``cancel_document`` marks it cancelled with a reason (its payment
  allocations are released back to the customer's credit); ``correct_invoice`` issues a new invoice pointing
  at the old (subject 2) and marks the old one ``corrected``. Both stay listed, and both go on the timeline.
* Balance (positive = the customer owes us) = Σ issued invoices − Σ active payments (a bounced cheque and a
  voided payment do not count). Payments are allocated to invoices (oldest due first unless told otherwise);
  what is not allocated is credit on account.

For other features:

* ``customer_sales_snapshot(customer_id)`` → ``{"last_proforma": None | {"number", "date", "total"},
  "last_invoice": …, "balance": int, "overdue": int}`` (the caller-ID popup and the customer file).
* ``customer_balance(customer_id) -> int``; ``customer_debt``; ``overdue_invoices(customer_id=None)``.

For reports (dates are Gregorian ``datetime.date``, inclusive; only issued invoices count as sales, and a
corrected invoice's correction counts instead of it):

* ``sales_rows(date_from, date_to) -> list[SaleRow]``: one row per invoice with customer, rep, Jalali year/month
  and the money columns.
* ``top_customers(date_from, date_to, by="amount"|"count", limit=10) -> list[CustomerSales]``.
* ``sales_by_month(date_from, date_to) -> list[MonthSales]`` (Jalali months, oldest first).
* ``sales_by_rep(date_from, date_to) -> list[RepSales]`` (the document's rep, else the customer's
  assigned user; "بدون مسئول" when neither).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import peewee as pw

from app import options, settings
from app.core.clock import now, today
from app.core.errors import NotFound, UserError, ValidationError
from app.core.identity import check_national_id, is_valid_national_code
from app.core.identity import digits as id_digits
from app.core.jalali import JalaliError, format_date, parse_date, to_jalali
from app.core.text import clean, format_rial, search_key, to_ascii_digits, to_persian_digits
from app.customers import timeline
from app.office import audit, roles
from models.base import db, is_sqlite
from models.core import Address, Customer, PhoneNumber, User
from models.sales import DocumentCounter, Payment, PaymentAllocation, Product, SalesDocument, SalesLine

logger = logging.getLogger(__name__)

# --- settings: declared in app/options.py (sales.*) ---


# --- limits and labels -------------------------------------------------------------------------------------
MAX_UNIT_PRICE = 10 ** 14          # 100,000 billion Rials: anything above is a typo
MAX_QUANTITY = Decimal(10 ** 9)
MAX_AMOUNT = 10 ** 16              # any line or document total
MAX_LINES = 500

TYPE_LABELS = {"proforma": "پیش‌فاکتور", "invoice": "فاکتور فروش"}
STATE_LABELS = {"draft": "پیش‌نویس", "open": "باز", "issued": "صادر شده", "converted": "تبدیل به فاکتور",
                "cancelled": "باطل شده", "corrected": "اصلاح شده"}
SETTLEMENT_LABELS = {"cash": "نقدی", "credit": "نسیه", "mixed": "نقدی و نسیه"}
PAYMENT_KIND_LABELS = {"cash": "نقد", "card": "کارت‌خوان", "transfer": "واریز / انتقال", "cheque": "چک"}
CHEQUE_STATE_LABELS = {"pending": "در جریان وصول", "cleared": "وصول شده", "bounced": "برگشتی"}
PROFORMA_PREFIXES = ("P", "p", "پ")


# --- small helpers -----------------------------------------------------------------------------------------

def _write_tx():
    """A write transaction that takes the write lock at once on SQLite (no upgrade deadlocks under concurrent
    desks); on PostgreSQL row locks do the work. Nested inside another transaction it becomes a savepoint."""
    if is_sqlite():
        return db.atomic("IMMEDIATE")
    return db.atomic()


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def vat_of(taxable: int, rate_bp: int) -> int:
    """VAT on a non-negative amount, half-up to the Rial."""
    return (taxable * rate_bp + 5000) // 10000


def percent_label(rate_bp: int) -> str:
    whole, frac = divmod(rate_bp, 100)
    s = str(whole) if not frac else f"{whole}.{frac:02d}".rstrip("0")
    return to_persian_digits(s.replace(".", "٫")) + "٪"


def _row(i: int) -> str:
    return f"ردیف {to_persian_digits(i + 1)}"


def _date(value: Any, field_name: str, errors: dict[str, str], required: bool = False) -> dt.date | None:
    if value in (None, ""):
        if required:
            errors[field_name] = "تاریخ را وارد کنید."
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return parse_date(str(value))
    except JalaliError as e:
        errors[field_name] = str(e)
        return None


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


# --- VAT rates ---------------------------------------------------------------------------------------------

def parse_vat_rates(text: str) -> list[tuple[dt.date, int]]:
    """'1402/01/01=9,1403/01/01=10' → [(date, 900), (date, 1000)], sorted. Raises ValidationError."""
    out: list[tuple[dt.date, int]] = []
    for part in to_ascii_digits(text or "").replace("،", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValidationError({"sales.vat_rates": f"«{part}» باید به شکل ۱۴۰۳/۰۱/۰۱=۱۰ باشد."})
        d, r = (p.strip() for p in part.split("=", 1))
        try:
            day = parse_date(d)
        except JalaliError as e:
            raise ValidationError({"sales.vat_rates": f"«{d}»: {e}"}) from e
        q = parse_quantity(r.rstrip("%٪"))
        if q is None or q < 0 or q > 100:
            raise ValidationError({"sales.vat_rates": f"نرخ «{r}» باید درصدی بین ۰ تا ۱۰۰ باشد."})
        out.append((day, int((q * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))))
    out.sort()
    return out


def vat_rates() -> list[tuple[dt.date, int]]:
    try:
        return parse_vat_rates(settings.get(options.SALES_VAT_RATES))
    except ValidationError:
        logger.warning("sales.vat_rates is not readable; using the default list")
        return parse_vat_rates(options.SALES_VAT_RATES.default)


def set_vat_rates(text: str) -> None:
    rates = parse_vat_rates(text)
    if not rates:
        raise ValidationError({"sales.vat_rates": "دست‌کم یک نرخ با تاریخ شروع لازم است (مثلاً ۱۴۰۳/۰۱/۰۱=۱۰)."})
    if len({d for d, _ in rates}) != len(rates):
        raise ValidationError({"sales.vat_rates": "برای یک تاریخ دو نرخ نوشته شده است."})
    settings.set(options.SALES_VAT_RATES, ",".join(f"{format_date(d, persian=False)}={r / 100:g}" for d, r in rates))


def vat_rate_on(day: dt.date) -> int:
    """The VAT rate (basis points) in force on a day; 0 before the first dated rate."""
    rate = 0
    for start, r in vat_rates():
        if start <= day:
            rate = r
    return rate


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


def list_products(text: str = "", active_only: bool = True, limit: int | None = None) -> list[ProductRow]:
    q = Product.select()
    if active_only:
        q = q.where(Product.active == True)  # noqa: E712 - peewee expression
    for tok in search_key(text).split():
        q = q.where(Product.search_text.contains(tok))
    q = q.order_by(Product.name, Product.id)
    if limit:
        q = q.limit(limit)
    return [_product_row(p) for p in q]


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
        errors["price"] = f"قیمت بیش از حد مجاز است (حداکثر {format_rial(MAX_UNIT_PRICE)})."
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
    with _write_tx():
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
            errors[f"{key}.product"] = f"{_row(i)}: کالای انتخاب‌شده پیدا نشد."
        desc = clean(str(x.description or "")) or (product.name if product else "")
        if not desc:
            errors[f"{key}.description"] = f"{_row(i)}: شرح کالا یا خدمت را بنویسید."
        qty = parse_quantity(x.quantity)
        if qty is None:
            errors[f"{key}.quantity"] = f"{_row(i)}: مقدار را با رقم بنویسید."
            qty = Decimal(0)
        elif qty < 0:
            errors[f"{key}.quantity"] = f"{_row(i)}: مقدار نمی‌تواند منفی باشد."
        elif qty == 0:
            errors[f"{key}.quantity"] = f"{_row(i)}: مقدار باید بیشتر از صفر باشد."
        elif qty > MAX_QUANTITY:
            errors[f"{key}.quantity"] = f"{_row(i)}: مقدار بیش از حد مجاز است."
        elif qty != qty.quantize(Decimal("0.001")):
            errors[f"{key}.quantity"] = f"{_row(i)}: مقدار حداکثر سه رقم اعشار دارد."
        price = parse_money(x.unit_price if x.unit_price not in (None, "") else 0)
        if price is None:
            errors[f"{key}.unit_price"] = f"{_row(i)}: مبلغ واحد را به ریال و با رقم بنویسید."
            price = 0
        elif price < 0:
            errors[f"{key}.unit_price"] = f"{_row(i)}: مبلغ واحد نمی‌تواند منفی باشد."
        elif price > MAX_UNIT_PRICE:
            errors[f"{key}.unit_price"] = (f"{_row(i)}: مبلغ واحد بیش از حد مجاز است "
                                           f"(حداکثر {format_rial(MAX_UNIT_PRICE)}).")
        disc = parse_money(x.discount if x.discount not in (None, "") else 0)
        if disc is None:
            errors[f"{key}.discount"] = f"{_row(i)}: تخفیف را به ریال و با رقم بنویسید."
            disc = 0
        elif disc < 0:
            errors[f"{key}.discount"] = f"{_row(i)}: تخفیف نمی‌تواند منفی باشد."
        exempt = x.vat_exempt if x.vat_exempt is not None else bool(product and product.vat_exempt)
        c = LineCalc(description=desc, quantity=qty, unit_price=price, discount=disc,
                     unit=clean(str(x.unit or "")) or (product.unit if product else "") or "عدد",
                     code=clean(str(x.code or "")) or (product.code if product else ""),
                     goods_id=id_digits(str(x.goods_id or "")) or (product.goods_id if product else ""),
                     product_id=x.product_id or None, vat_exempt=bool(exempt))
        if c.goods_id and (len(c.goods_id) != 13 or not c.goods_id.isdigit()):
            errors[f"{key}.goods_id"] = f"{_row(i)}: شناسه کالا/خدمت باید ۱۳ رقم باشد."
        if f"{key}.quantity" not in errors and f"{key}.unit_price" not in errors:
            c.gross = round_half_up(qty * price)
            if c.gross > MAX_AMOUNT:
                errors[f"{key}.unit_price"] = f"{_row(i)}: مبلغ ردیف بیش از حد مجاز است."
            elif disc > c.gross and f"{key}.discount" not in errors:
                errors[f"{key}.discount"] = f"{_row(i)}: تخفیف از مبلغ ردیف بیشتر است."
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


# --- documents ---------------------------------------------------------------------------------------------

def _next_number(doc_type: str, year: int) -> tuple[int, str]:
    """Take the next number inside the caller's write transaction."""
    DocumentCounter.insert(doc_type=doc_type, year=year, last=0).on_conflict_ignore().execute()
    (DocumentCounter.update(last=DocumentCounter.last + 1)
     .where((DocumentCounter.doc_type == doc_type) & (DocumentCounter.year == year)).execute())
    seq = (DocumentCounter.select(DocumentCounter.last)
           .where((DocumentCounter.doc_type == doc_type) & (DocumentCounter.year == year)).scalar())
    return seq, format_number_of(year, seq)


def format_number_of(year: int, seq: int) -> str:
    return f"{year}{seq:04d}"


def buyer_details(customer: Customer) -> dict:
    """What the invoice prints about the buyer (snapshotted into the document)."""
    addr = (Address.select().where(Address.customer == customer.id)
            .order_by((Address.label != "work"), Address.id).first())
    phone = (PhoneNumber.select().where(PhoneNumber.customer == customer.id)
             .order_by(PhoneNumber.is_primary.desc(), PhoneNumber.id).first())
    address = ""
    if addr:
        address = "، ".join(p for p in (addr.province, addr.city, addr.line) if p)
    return {
        "id": customer.id, "name": customer.display_name, "kind": customer.kind,
        "economic_code": customer.economic_code, "national_id": customer.national_id,
        "registration_no": customer.registration_no,
        "postal_code": customer.postal_code or (addr.postal_code if addr else ""),
        "address": address, "phone": (phone.raw if phone else ""),
    }


def seller_details() -> dict:
    return {k: settings.get(opt) for k, opt in options.OFFICE_DETAILS.items()}


def _check_buyer(customer: Customer, invoice_type: int, errors: dict[str, str]) -> None:
    nid = id_digits(customer.national_id)
    if nid:
        if customer.kind == "person" or len(nid) == 10:
            if len(nid) == 10 and not is_valid_national_code(nid):
                errors["customer.national_id"] = (f"کد ملی خریدار ({to_persian_digits(nid)}) معتبر نیست؛ "
                                                  "رقم کنترل آن نمی‌خواند. پرونده مشتری را اصلاح کنید.")
            elif msg := check_national_id(nid, customer.kind):
                errors["customer.national_id"] = f"کد ملی/شناسه ملی خریدار: {msg}"
    if invoice_type == 1 and not (id_digits(customer.economic_code) or nid):
        errors["invoice_type"] = ("برای صورتحساب نوع اول (با مشخصات خریدار) کد اقتصادی یا کد/شناسه ملی "
                                  "خریدار لازم است؛ آن را در پرونده مشتری وارد کنید یا نوع دوم را برگزینید.")


def _get_doc(doc_id: int, lock: bool = False) -> SalesDocument:
    q = SalesDocument.select().where(SalesDocument.id == doc_id)
    if lock and not is_sqlite():
        q = q.for_update()
    doc = q.first()
    if doc is None:
        raise NotFound("سند فروش پیدا نشد.")
    return doc


def _doc_label(doc: SalesDocument) -> str:
    label = TYPE_LABELS[doc.doc_type]
    if doc.number:
        return f"{label} شماره {to_persian_digits(doc.number)}"
    return f"{label} پیش‌نویس"


def _write_lines(doc: SalesDocument, totals: Totals) -> None:
    SalesLine.delete().where(SalesLine.document == doc.id).execute()
    rows = []
    for pos, c in enumerate(totals.lines):
        rows.append(dict(document=doc.id, position=pos, product=c.product_id, code=c.code[:40],
                         goods_id=c.goods_id, description=c.description, unit=c.unit[:30], quantity=c.quantity,
                         unit_price=c.unit_price, gross=c.gross, discount=c.discount,
                         doc_discount_share=c.doc_discount_share, taxable=c.taxable, vat_exempt=c.vat_exempt,
                         vat_rate=c.vat_rate, vat=c.vat, total=c.total))
    for start in range(0, len(rows), 100):
        SalesLine.insert_many(rows[start:start + 100]).execute()


def _apply_totals(doc: SalesDocument, totals: Totals) -> None:
    doc.vat_rate = totals.vat_rate
    doc.subtotal = totals.subtotal
    doc.line_discount = totals.line_discount
    doc.doc_discount = totals.doc_discount
    doc.vat_total = totals.vat_total
    doc.total = totals.total


def _lines_of(doc: SalesDocument) -> list[LineInput]:
    return [LineInput(description=ln.description, quantity=ln.quantity, unit_price=ln.unit_price,
                      discount=ln.discount, unit=ln.unit, code=ln.code, goods_id=ln.goods_id,
                      product_id=ln.product_id, vat_exempt=ln.vat_exempt)
            for ln in SalesLine.select().where(SalesLine.document == doc.id).order_by(SalesLine.position)]


@roles.guard("money.view")
@audit.tracked(lambda a: "update" if a.get("doc_id") else "create", "document", key="doc_id")
def save_document(doc_type: str, customer_id: int, lines: Iterable[LineInput | dict], *,
                  doc_id: int | None = None, date: Any = None, doc_discount: Any = 0, invoice_type: int = 2,
                  settlement: str = "cash", due_date: Any = None, valid_until: Any = None, notes: str = "",
                  terms: str = "", rep_id: int | None = None, user: int | None = None,
                  issue: bool = False, source_id: int | None = None, corrects_id: int | None = None,
                  subject: int = 1) -> SalesDocument:
    """Create (doc_id None) or edit a proforma/draft invoice; with issue=True an invoice is issued at once.

    Everything is checked before anything is written, and written in one transaction.
    """
    if doc_type not in SalesDocument.TYPES:
        raise UserError("نوع سند درست نیست.")
    errors: dict[str, str] = {}
    day = _date(date, "date", errors) or today()
    due = _date(due_date, "due_date", errors)
    valid = _date(valid_until, "valid_until", errors)
    if invoice_type not in (1, 2):
        errors["invoice_type"] = "نوع صورتحساب باید نوع اول یا دوم باشد."
    if settlement not in SalesDocument.SETTLEMENTS:
        errors["settlement"] = "شرایط پرداخت درست نیست."
    customer = Customer.get_or_none(Customer.id == customer_id) if customer_id else None
    if customer is None:
        errors["customer"] = "مشتری را انتخاب کنید."
    elif customer.merged_into_id:
        errors["customer"] = "این پرونده با پرونده دیگری ادغام شده است؛ مشتری اصلی را انتخاب کنید."
    else:
        _check_buyer(customer, invoice_type, errors)
    if due and due < day:
        errors["due_date"] = "سررسید پرداخت نمی‌تواند پیش از تاریخ فاکتور باشد."
    try:
        totals = compute(lines, doc_discount, vat_rate_on(day))
    except ValidationError as e:
        errors.update(e.errors)
        totals = None
    if errors:
        raise ValidationError(errors)
    assert totals is not None and customer is not None
    if doc_type == "proforma" and issue:
        issue = False
    with _write_tx():
        if doc_id is None:
            doc = SalesDocument(doc_type=doc_type, state="open" if doc_type == "proforma" else "draft",
                                created_by=user, created_at=now())
            created = True
        else:
            doc = _get_doc(doc_id, lock=True)
            created = False
            if doc.doc_type != doc_type:
                raise UserError("نوع سند را نمی‌توان تغییر داد.")
            if doc.state not in ("open", "draft"):
                raise UserError(f"{_doc_label(doc)} {STATE_LABELS[doc.state]} است و دیگر ویرایش نمی‌شود؛ "
                                "برای تغییر، اصلاحیه صادر کنید.")
        doc.customer = customer.id
        doc.date = day
        doc.invoice_type = invoice_type
        doc.settlement = settlement
        doc.subject = subject
        doc.notes = clean(notes) if notes else ""
        doc.terms = clean(terms) if terms else ""
        doc.rep = rep_id or None
        doc.source = source_id or doc.source_id
        doc.corrects = corrects_id or doc.corrects_id
        doc.updated_at = now()
        if doc_type == "proforma":
            doc.valid_until = valid or (day + dt.timedelta(days=settings.get(options.SALES_PROFORMA_VALID_DAYS)))
            doc.due_date = None
        else:
            doc.due_date = due or _default_due(day, settlement)
        _apply_totals(doc, totals)
        doc.buyer = json.dumps(buyer_details(customer), ensure_ascii=False)
        doc.seller = json.dumps(seller_details(), ensure_ascii=False)
        if created and doc_type == "proforma":
            doc.year = to_jalali(day).year
            doc.seq, doc.number = _next_number("proforma", doc.year)
        doc.save()
        _write_lines(doc, totals)
        if issue:
            _issue(doc, user)
        else:
            verb = "ثبت شد" if created else "ویرایش شد"
            timeline.record(customer.id, doc_type, f"{_doc_label(doc)} به مبلغ {format_rial(doc.total)} {verb}",
                            ref_table="sales_document", ref_id=doc.id,
                            data={"event": "created" if created else "edited", "total": doc.total}, user=user)
    logger.info("%s %s saved (id %s, total %s)", doc_type, doc.number, doc.id, doc.total)
    return doc


def _default_due(day: dt.date, settlement: str) -> dt.date:
    if settlement == "cash":
        return day
    return day + dt.timedelta(days=settings.get(options.SALES_PAYMENT_DAYS))


def _issue(doc: SalesDocument, user: int | None) -> None:
    """Number and freeze a draft invoice, re-pricing it at the VAT rate in force on its date."""
    roles.require("invoice.issue")
    rate = vat_rate_on(doc.date)
    if rate != doc.vat_rate:
        totals = compute(_lines_of(doc), doc.doc_discount, rate)
        _apply_totals(doc, totals)
        _write_lines(doc, totals)
    customer = Customer.get_by_id(doc.customer_id)
    errors: dict[str, str] = {}
    _check_buyer(customer, doc.invoice_type, errors)
    if errors:
        raise ValidationError(errors)
    doc.buyer = json.dumps(buyer_details(customer), ensure_ascii=False)
    doc.seller = json.dumps(seller_details(), ensure_ascii=False)
    doc.year = to_jalali(doc.date).year
    doc.seq, doc.number = _next_number("invoice", doc.year)
    doc.state = "issued"
    doc.issued_at = now()
    doc.save()
    what = "اصلاحیه " + _doc_label(doc) if doc.subject == 2 else _doc_label(doc)
    timeline.record(doc.customer_id, "invoice", f"{what} به مبلغ {format_rial(doc.total)} صادر شد",
                    ref_table="sales_document", ref_id=doc.id,
                    data={"event": "issued", "number": doc.number, "total": doc.total,
                          "corrects": doc.corrects_id, "source": doc.source_id}, user=user)
    from app.pipeline.conversion import invoice_issued  # a lead becomes a customer with its first invoice

    invoice_issued(doc, user)


def create_proforma(customer_id: int, lines: Iterable[LineInput | dict], **kw) -> SalesDocument:
    return save_document("proforma", customer_id, lines, **kw)


def create_invoice(customer_id: int, lines: Iterable[LineInput | dict], issue: bool = True, **kw) -> SalesDocument:
    return save_document("invoice", customer_id, lines, issue=issue, **kw)


@audit.tracked("issue", "document", key="doc_id")
def issue_invoice(doc_id: int, user: int | None = None) -> SalesDocument:
    with _write_tx():
        doc = _get_doc(doc_id, lock=True)
        if doc.doc_type != "invoice" or doc.state != "draft":
            raise UserError(f"فقط فاکتور پیش‌نویس صادر می‌شود؛ {_doc_label(doc)} {STATE_LABELS[doc.state]} است.")
        _issue(doc, user)
    return doc


@roles.guard("money.view")
@audit.tracked("convert", "document", key="proforma_id")
def convert_proforma(proforma_id: int, user: int | None = None, issue: bool = True, date: Any = None,
                     invoice_type: int | None = None) -> SalesDocument:
    """Turn an open proforma into an invoice (issued at once unless issue=False). The proforma is kept,
    marked converted, and points at the invoice through invoice.source."""
    with _write_tx():
        pf = _get_doc(proforma_id, lock=True)
        if pf.doc_type != "proforma":
            raise UserError("فقط پیش‌فاکتور به فاکتور تبدیل می‌شود.")
        if pf.state != "open":
            raise UserError(f"{_doc_label(pf)} {STATE_LABELS[pf.state]} است و تبدیل نمی‌شود.")
        inv = save_document("invoice", pf.customer_id, _lines_of(pf), date=date, doc_discount=pf.doc_discount,
                            invoice_type=invoice_type or pf.invoice_type, settlement=pf.settlement,
                            notes=pf.notes, terms=pf.terms, rep_id=pf.rep_id, user=user, issue=issue,
                            source_id=pf.id)
        pf.state = "converted"
        pf.updated_at = now()
        pf.save()
        timeline.record(pf.customer_id, "proforma", f"{_doc_label(pf)} به {_doc_label(inv)} تبدیل شد",
                        ref_table="sales_document", ref_id=pf.id,
                        data={"event": "converted", "invoice_id": inv.id}, user=user)
    return inv


@roles.guard("money.view")
@audit.tracked("cancel", "document", key="doc_id")
def cancel_document(doc_id: int, reason: str, user: int | None = None) -> SalesDocument:
    """Cancel a proforma, a draft or an issued invoice. The document stays (state cancelled, with reason);
    payments allocated to it go back to the customer's credit."""
    reason = clean(reason or "")
    if not reason:
        raise ValidationError({"reason": "علت ابطال را بنویسید."})
    with _write_tx():
        doc = _get_doc(doc_id, lock=True)
        if doc.doc_type == "invoice":
            roles.require("invoice.cancel")
        if doc.state in ("cancelled", "corrected", "converted"):
            raise UserError(f"{_doc_label(doc)} {STATE_LABELS[doc.state]} است و ابطال نمی‌شود.")
        released = (PaymentAllocation.select(pw.fn.COALESCE(pw.fn.SUM(PaymentAllocation.amount), 0))
                    .where(PaymentAllocation.document == doc.id).scalar())
        PaymentAllocation.delete().where(PaymentAllocation.document == doc.id).execute()
        doc.state = "cancelled"
        doc.cancel_reason = reason
        doc.cancelled_at = now()
        doc.cancelled_by = user
        doc.save()
        timeline.record(doc.customer_id, doc.doc_type, f"{_doc_label(doc)} باطل شد: {reason}",
                        ref_table="sales_document", ref_id=doc.id,
                        data={"event": "cancelled", "reason": reason, "released": released}, user=user)
    return doc


@roles.guard("invoice.cancel")
@audit.tracked("correct", "document", key="doc_id")
def correct_invoice(doc_id: int, lines: Iterable[LineInput | dict], reason: str, user: int | None = None,
                    **kw) -> SalesDocument:
    """Issue a correcting invoice (subject 2) for an issued invoice; the old one becomes `corrected` and its
    payment allocations move to the new one (as far as the new total allows)."""
    reason = clean(reason or "")
    if not reason:
        raise ValidationError({"reason": "علت اصلاح را بنویسید."})
    with _write_tx():
        old = _get_doc(doc_id, lock=True)
        if old.doc_type != "invoice" or old.state != "issued":
            raise UserError("فقط فاکتور صادرشده اصلاح می‌شود.")
        kw.setdefault("invoice_type", old.invoice_type)
        kw.setdefault("settlement", old.settlement)
        kw.setdefault("rep_id", old.rep_id)
        kw.setdefault("notes", old.notes)
        customer_id = kw.pop("customer_id", old.customer_id)
        new = save_document("invoice", customer_id, lines, user=user, issue=True, corrects_id=old.id,
                            subject=2, **kw)
        old.state = "corrected"
        old.cancel_reason = reason
        old.cancelled_at = now()
        old.cancelled_by = user
        old.save()
        room = new.total
        for a in (PaymentAllocation.select().where(PaymentAllocation.document == old.id)
                  .order_by(PaymentAllocation.id)):
            take = min(a.amount, room)
            if take > 0 and customer_id == old.customer_id:
                PaymentAllocation.update(document=new.id, amount=take).where(PaymentAllocation.id == a.id).execute()
                room -= take
            else:
                PaymentAllocation.delete().where(PaymentAllocation.id == a.id).execute()
        timeline.record(old.customer_id, "invoice",
                        f"{_doc_label(old)} با {_doc_label(new)} اصلاح شد: {reason}",
                        ref_table="sales_document", ref_id=old.id,
                        data={"event": "corrected", "reason": reason, "by": new.id}, user=user)
    return new


def find_document(number: str) -> SalesDocument:
    """By printed number: an invoice, or a proforma when the number starts with P (or پ) or no invoice has
    that number. Persian digits are accepted."""
    s = to_ascii_digits(str(number or "")).strip().replace("-", "").replace(" ", "")
    types = ["invoice", "proforma"]
    if s[:1] in PROFORMA_PREFIXES:
        s = s[1:]
        types = ["proforma"]
    for t in types:
        doc = SalesDocument.get_or_none((SalesDocument.doc_type == t) & (SalesDocument.number == s))
        if doc:
            return doc
    raise NotFound(f"سندی با شماره «{to_persian_digits(number)}» پیدا نشد.")


# --- reading documents -------------------------------------------------------------------------------------

@dataclass
class LineView:
    position: int
    code: str
    goods_id: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: int
    gross: int
    discount: int
    doc_discount_share: int
    taxable: int
    vat_exempt: bool
    vat_rate: int
    vat: int
    total: int
    product_id: int | None = None


@dataclass
class DocumentView:
    id: int
    doc_type: str
    state: str
    number: str | None
    date: dt.date
    due_date: dt.date | None
    valid_until: dt.date | None
    invoice_type: int
    subject: int
    settlement: str
    vat_rate: int
    subtotal: int
    line_discount: int
    doc_discount: int
    vat_total: int
    total: int
    notes: str
    terms: str
    customer_id: int
    buyer: dict
    seller: dict
    lines: list[LineView]
    paid: int = 0
    cancel_reason: str = ""
    cancelled_at: dt.datetime | None = None
    source_number: str | None = None
    corrects_number: str | None = None
    corrected_by_number: str | None = None
    rep_name: str = ""

    @property
    def discount_total(self) -> int:
        return self.line_discount + self.doc_discount

    @property
    def taxable(self) -> int:
        return self.subtotal - self.discount_total

    @property
    def remaining(self) -> int:
        return self.total - self.paid if self.state == "issued" else 0

    @property
    def title(self) -> str:
        return TYPE_LABELS[self.doc_type]


@roles.guard("money.view")
def get_document(doc_id: int) -> DocumentView:
    doc = _get_doc(doc_id)
    lines = [LineView(ln.position, ln.code, ln.goods_id, ln.description, ln.quantity, ln.unit, ln.unit_price,
                      ln.gross, ln.discount, ln.doc_discount_share, ln.taxable, ln.vat_exempt, ln.vat_rate, ln.vat,
                      ln.total, ln.product_id)
             for ln in SalesLine.select().where(SalesLine.document == doc.id).order_by(SalesLine.position)]
    buyer = json.loads(doc.buyer) if doc.buyer else buyer_details(Customer.get_by_id(doc.customer_id))
    seller = json.loads(doc.seller) if doc.seller else seller_details()
    corrected_by = (SalesDocument.select(SalesDocument.number)
                    .where(SalesDocument.corrects == doc.id, SalesDocument.state == "issued").scalar())
    rep = User.get_or_none(User.id == doc.rep_id) if doc.rep_id else None
    return DocumentView(
        doc.id, doc.doc_type, doc.state, doc.number, doc.date, doc.due_date, doc.valid_until, doc.invoice_type,
        doc.subject, doc.settlement, doc.vat_rate, doc.subtotal, doc.line_discount, doc.doc_discount,
        doc.vat_total, doc.total, doc.notes, doc.terms, doc.customer_id, buyer, seller, lines,
        paid=paid_amount(doc.id), cancel_reason=doc.cancel_reason, cancelled_at=doc.cancelled_at,
        source_number=doc.source.number if doc.source_id else None,
        corrects_number=doc.corrects.number if doc.corrects_id else None,
        corrected_by_number=corrected_by, rep_name=rep.name if rep else "")


@dataclass
class DocRow:
    id: int
    doc_type: str
    state: str
    number: str | None
    date: dt.date
    due_date: dt.date | None
    customer_id: int
    customer_name: str
    total: int
    paid: int
    overdue: bool

    @property
    def remaining(self) -> int:
        return self.total - self.paid if self.state == "issued" else 0


def _filtered_documents(q: pw.ModelSelect, doc_type: str | None = None, state: str | None = None,
                        customer_id: int | None = None, text: str = "", date_from: dt.date | None = None,
                        date_to: dt.date | None = None, overdue_only: bool = False,
                        unpaid_only: bool = False) -> pw.ModelSelect:
    """The document list's filter, applied to a query joined to Customer (the list and its totals share it)."""
    if doc_type:
        q = q.where(SalesDocument.doc_type == doc_type)
    if state:
        q = q.where(SalesDocument.state == state)
    if customer_id:
        q = q.where(SalesDocument.customer == customer_id)
    if date_from:
        q = q.where(SalesDocument.date >= date_from)
    if date_to:
        q = q.where(SalesDocument.date <= date_to)
    t = to_ascii_digits(text or "").strip()
    if t:
        if t.lstrip("Pپp").isdigit():
            q = q.where(SalesDocument.number.contains(t.lstrip("Pپp")))
        else:
            for tok in search_key(t).split():
                q = q.where(Customer.search_text.contains(tok))
    if overdue_only or unpaid_only:
        q = q.where(SalesDocument.state == "issued", SalesDocument.total > _paid_expr())
        if overdue_only:
            q = q.where(SalesDocument.due_date < today())
    return q


@dataclass
class DocumentTotals:
    """Figures over every document the filter matches (not only the rows a list shows)."""
    count: int
    issued_count: int
    issued_total: int
    issued_remaining: int


@roles.guard("money.view")
def document_totals(**filters) -> DocumentTotals:
    """SQL sums over the whole filter of list_documents() (same keyword arguments, no limit)."""
    issued = (SalesDocument.doc_type == "invoice") & (SalesDocument.state == "issued")
    paid = _paid_expr()
    q = _filtered_documents(
        SalesDocument.select(
            pw.fn.COUNT(SalesDocument.id).alias("n"),
            pw.fn.SUM(pw.Case(None, [(issued, 1)], 0)).alias("issued_n"),
            pw.fn.SUM(pw.Case(None, [(issued, SalesDocument.total)], 0)).alias("issued_total"),
            pw.fn.SUM(pw.Case(None, [(issued, SalesDocument.total - paid)], 0)).alias("issued_remaining"))
        .join(Customer, on=(SalesDocument.customer == Customer.id)), **filters)
    r = q.dicts().get()
    return DocumentTotals(int(r["n"] or 0), int(r["issued_n"] or 0), int(r["issued_total"] or 0),
                          int(r["issued_remaining"] or 0))


@roles.guard("money.view")
def list_documents(doc_type: str | None = None, state: str | None = None, customer_id: int | None = None,
                   text: str = "", date_from: dt.date | None = None, date_to: dt.date | None = None,
                   overdue_only: bool = False, unpaid_only: bool = False, limit: int = 2000) -> list[DocRow]:
    """Newest first, at most `limit` rows (document_totals() gives the figures over all of them). `text`
    matches the number or the customer's name."""
    q = (SalesDocument.select(SalesDocument.id, SalesDocument.doc_type, SalesDocument.state, SalesDocument.number,
                              SalesDocument.date, SalesDocument.due_date, SalesDocument.customer,
                              SalesDocument.total, Customer.first_name, Customer.last_name, Customer.company,
                              Customer.kind, _paid_expr().alias("paid"))
         .join(Customer, on=(SalesDocument.customer == Customer.id)))
    q = _filtered_documents(q, doc_type=doc_type, state=state, customer_id=customer_id, text=text,
                            date_from=date_from, date_to=date_to, overdue_only=overdue_only,
                            unpaid_only=unpaid_only)
    q = q.order_by(SalesDocument.date.desc(), SalesDocument.id.desc()).limit(limit)
    out = []
    d0 = today()
    for r in q.dicts():
        name = _name_of(r)
        paid = int(r["paid"] or 0)
        overdue = (r["state"] == "issued" and r["due_date"] is not None and r["due_date"] < d0
                   and r["total"] > paid)
        out.append(DocRow(r["id"], r["doc_type"], r["state"], r["number"], r["date"], r["due_date"],
                          r["customer"], name, r["total"], paid, overdue))
    return out


def _name_of(r: dict) -> str:
    person = " ".join(p for p in (r.get("first_name"), r.get("last_name")) if p)
    if r.get("kind") == "organisation":
        return r.get("company") or person
    return person or r.get("company") or ""


def customer_name(customer_id: int) -> str:
    r = (Customer.select(Customer.first_name, Customer.last_name, Customer.company, Customer.kind)
         .where(Customer.id == customer_id).dicts().first())
    return _name_of(r) if r else ""


def customer_choices(text: str = "", limit: int = 50) -> list[tuple[int, str]]:
    """(id, name) of customers matching `text`, for the invoice editor's customer picker."""
    q = Customer.select(Customer.id, Customer.first_name, Customer.last_name, Customer.company, Customer.kind)
    q = q.where(Customer.merged_into.is_null())
    for tok in search_key(text).split():
        q = q.where(Customer.search_text.contains(tok))
    q = q.order_by(Customer.sort_key, Customer.id).limit(limit)
    return [(r["id"], _name_of(r)) for r in q.dicts()]


# --- payments ----------------------------------------------------------------------------------------------

def _counting_payments():
    """Payments that count: not voided, and not a bounced cheque."""
    return (Payment.state == "active") & (Payment.cheque_state != "bounced")


def _paid_expr():
    """Correlated sub-query: what counting payments have allocated to the outer SalesDocument row."""
    return (PaymentAllocation.select(pw.fn.COALESCE(pw.fn.SUM(PaymentAllocation.amount), 0))
            .join(Payment).where((PaymentAllocation.document == SalesDocument.id) & _counting_payments()))


def paid_amount(doc_id: int) -> int:
    return int(PaymentAllocation.select(pw.fn.COALESCE(pw.fn.SUM(PaymentAllocation.amount), 0))
               .join(Payment).where(PaymentAllocation.document == doc_id, _counting_payments()).scalar() or 0)


@dataclass
class OpenInvoice:
    id: int
    number: str
    date: dt.date
    due_date: dt.date | None
    total: int
    paid: int

    @property
    def remaining(self) -> int:
        return self.total - self.paid


@roles.guard("money.view")
def open_invoices(customer_id: int) -> list[OpenInvoice]:
    """Issued invoices not fully paid, oldest due first."""
    rows = list_documents(doc_type="invoice", state="issued", customer_id=customer_id, unpaid_only=True,
                          limit=100000)
    out = [OpenInvoice(r.id, r.number or "", r.date, r.due_date, r.total, r.paid) for r in rows]
    out.sort(key=lambda o: (o.due_date or o.date, o.date, o.id))
    return out


def _lock_customer(customer_id: int) -> None:
    """Serialise allocations per customer: on PostgreSQL lock the customer's row for this transaction
    (SQLite's BEGIN IMMEDIATE already serialises every writer)."""
    if not is_sqlite():
        list(Customer.select(Customer.id).where(Customer.id == customer_id).for_update())


@roles.guard("money.view")
@audit.tracked("create", "payment")
def record_payment(customer_id: int, kind: str, amount: Any, *, date: Any = None,
                   allocations: dict[int, Any] | None = None, auto_allocate: bool = True, reference: str = "",
                   cheque_number: str = "", cheque_bank: str = "", cheque_due: Any = None, note: str = "",
                   user: int | None = None) -> Payment:
    """Record money received. `allocations` maps invoice id → amount; without it the payment settles the
    oldest open invoices first (auto_allocate=False keeps it all as credit)."""
    errors: dict[str, str] = {}
    customer = Customer.get_or_none(Customer.id == customer_id) if customer_id else None
    if customer is None:
        errors["customer"] = "مشتری را انتخاب کنید."
    if kind not in Payment.KINDS:
        errors["kind"] = "نوع پرداخت درست نیست."
    amt = parse_money(amount)
    if amt is None:
        errors["amount"] = "مبلغ را به ریال و با رقم بنویسید."
    elif amt <= 0:
        errors["amount"] = "مبلغ دریافتی باید بیشتر از صفر باشد."
    elif amt > MAX_AMOUNT:
        errors["amount"] = "مبلغ بیش از حد مجاز است."
    day = _date(date, "date", errors) or today()
    due = _date(cheque_due, "cheque_due", errors)
    cheque_number = clean(to_ascii_digits(cheque_number or ""))
    if kind == "cheque":
        if not cheque_number:
            errors["cheque_number"] = "شماره چک را بنویسید."
        if due is None and "cheque_due" not in errors:
            errors["cheque_due"] = "تاریخ سررسید چک را وارد کنید."
        if not clean(cheque_bank or ""):
            errors["cheque_bank"] = "نام بانک چک را بنویسید."
    if errors:
        raise ValidationError(errors)
    assert amt is not None and customer is not None
    with _write_tx():
        _lock_customer(customer.id)
        plan: list[tuple[int, int]] = []
        if allocations:
            open_map = {o.id: o for o in open_invoices(customer.id)}
            total_alloc = 0
            for inv_id, value in allocations.items():
                a = parse_money(value)
                if a is None or a < 0:
                    raise ValidationError({"allocations": "مبلغ تخصیص به فاکتور درست نیست."})
                if a == 0:
                    continue
                o = open_map.get(int(inv_id))
                if o is None:
                    raise ValidationError({"allocations": "فاکتور انتخاب‌شده باز نیست یا از آن این مشتری نیست."})
                if a > o.remaining:
                    raise ValidationError({"allocations": (
                        f"مبلغ تخصیص به فاکتور {to_persian_digits(o.number)} از مانده آن "
                        f"({format_rial(o.remaining)}) بیشتر است.")})
                total_alloc += a
                plan.append((o.id, a))
            if total_alloc > amt:
                raise ValidationError({"allocations": "جمع تخصیص‌ها از مبلغ دریافتی بیشتر است."})
        elif auto_allocate:
            left = amt
            for o in open_invoices(customer.id):
                if left <= 0:
                    break
                take = min(left, o.remaining)
                plan.append((o.id, take))
                left -= take
        p = Payment.create(customer=customer.id, kind=kind, amount=amt, date=day,
                           reference=clean(to_ascii_digits(reference or "")), cheque_number=cheque_number,
                           cheque_bank=clean(cheque_bank or ""), cheque_due=due,
                           cheque_state="pending" if kind == "cheque" else "", note=clean(note or ""),
                           created_by=user, created_at=now())
        for inv_id, a in plan:
            PaymentAllocation.create(payment=p.id, document=inv_id, amount=a)
        what = PAYMENT_KIND_LABELS[kind]
        extra = ""
        if kind == "cheque":
            extra = f"، چک {to_persian_digits(cheque_number)} {p.cheque_bank} به سررسید {format_date(due)}"
        timeline.record(customer.id, "payment", f"دریافت {format_rial(amt)} ({what}{extra})",
                        ref_table="payment", ref_id=p.id,
                        data={"event": "received", "amount": amt, "kind": kind,
                              "allocations": {str(i): a for i, a in plan}}, user=user)
    return p


@roles.guard("money.view")
@audit.tracked("void", "payment", key="payment_id")
def void_payment(payment_id: int, reason: str, user: int | None = None) -> None:
    reason = clean(reason or "")
    if not reason:
        raise ValidationError({"reason": "علت ابطال دریافت را بنویسید."})
    with _write_tx():
        p = Payment.get_or_none(Payment.id == payment_id)
        if p is None:
            raise NotFound("دریافت پیدا نشد.")
        if p.state == "void":
            raise UserError("این دریافت پیش‌تر باطل شده است.")
        p.state = "void"
        p.void_reason = reason
        p.save()
        timeline.record(p.customer_id, "payment", f"دریافت {format_rial(p.amount)} باطل شد: {reason}",
                        ref_table="payment", ref_id=p.id, data={"event": "voided", "reason": reason}, user=user)


@roles.guard("money.view")
def set_cheque_state(payment_id: int, state: str, user: int | None = None) -> None:
    if state not in Payment.CHEQUE_STATES:
        raise UserError("وضعیت چک درست نیست.")
    with _write_tx():
        p = Payment.get_or_none(Payment.id == payment_id)
        if p is None or p.kind != "cheque":
            raise NotFound("چک پیدا نشد.")
        if p.cheque_state == state:
            return
        p.cheque_state = state
        p.save()
        timeline.record(p.customer_id, "payment",
                        f"چک {to_persian_digits(p.cheque_number)} به مبلغ {format_rial(p.amount)}: "
                        f"{CHEQUE_STATE_LABELS[state]}",
                        ref_table="payment", ref_id=p.id, data={"event": "cheque", "state": state}, user=user)


@dataclass
class PaymentRow:
    id: int
    kind: str
    amount: int
    date: dt.date
    reference: str
    cheque_number: str
    cheque_bank: str
    cheque_due: dt.date | None
    cheque_state: str
    state: str
    note: str
    allocated: int
    allocations: list[tuple[str, int]] = field(default_factory=list)   # (invoice number, amount)

    @property
    def counts(self) -> bool:
        return self.state == "active" and self.cheque_state != "bounced"


@roles.guard("money.view")
def customer_payments(customer_id: int) -> list[PaymentRow]:
    pays = list(Payment.select().where(Payment.customer == customer_id).order_by(Payment.date.desc(),
                                                                                Payment.id.desc()))
    allocs: dict[int, list[tuple[str, int]]] = {}
    if pays:
        for a in (PaymentAllocation.select(PaymentAllocation.payment, PaymentAllocation.amount, SalesDocument.number)
                  .join(SalesDocument).where(PaymentAllocation.payment.in_([p.id for p in pays])).dicts()):
            allocs.setdefault(a["payment"], []).append((a["number"] or "", a["amount"]))
    return [PaymentRow(p.id, p.kind, p.amount, p.date, p.reference, p.cheque_number, p.cheque_bank, p.cheque_due,
                       p.cheque_state, p.state, p.note, sum(x[1] for x in allocs.get(p.id, [])),
                       allocs.get(p.id, [])) for p in pays]


# --- balances ----------------------------------------------------------------------------------------------

def _invoiced(customer_id: int) -> int:
    return int(SalesDocument.select(pw.fn.COALESCE(pw.fn.SUM(SalesDocument.total), 0))
               .where(SalesDocument.customer == customer_id, SalesDocument.doc_type == "invoice",
                      SalesDocument.state == "issued").scalar() or 0)


def _received(customer_id: int) -> int:
    return int(Payment.select(pw.fn.COALESCE(pw.fn.SUM(Payment.amount), 0))
               .where(Payment.customer == customer_id, _counting_payments()).scalar() or 0)


@roles.guard("money.view")
def customer_balance(customer_id: int) -> int:
    """Σ issued invoices − Σ counting payments; positive = the customer owes us, negative = credit."""
    return _invoiced(customer_id) - _received(customer_id)


@roles.guard("money.view")
def customer_debt(customer_id: int) -> int:
    return max(customer_balance(customer_id), 0)


@dataclass
class OverdueRow:
    id: int
    number: str
    customer_id: int
    customer_name: str
    date: dt.date
    due_date: dt.date
    total: int
    paid: int

    @property
    def remaining(self) -> int:
        return self.total - self.paid

    def days_late(self, on: dt.date | None = None) -> int:
        return ((on or today()) - self.due_date).days


@roles.guard("money.view")
def overdue_invoices(customer_id: int | None = None) -> list[OverdueRow]:
    """Issued invoices past their due date with money still owed on them, most overdue first."""
    rows = list_documents(doc_type="invoice", customer_id=customer_id, overdue_only=True, limit=100000)
    out = [OverdueRow(r.id, r.number or "", r.customer_id, r.customer_name, r.date, r.due_date, r.total, r.paid)
           for r in rows if r.due_date]
    out.sort(key=lambda o: (o.due_date, o.id))
    return out


@roles.guard("money.view")
def overdue_amount(customer_id: int) -> int:
    """What is owed on this customer's invoices past their due date (one aggregate query)."""
    paid = _paid_expr()
    return int(SalesDocument.select(pw.fn.COALESCE(pw.fn.SUM(SalesDocument.total - paid), 0))
               .where(SalesDocument.customer == customer_id, SalesDocument.doc_type == "invoice",
                      SalesDocument.state == "issued", SalesDocument.due_date < today(),
                      SalesDocument.total > paid).scalar() or 0)


def _last(customer_id: int, doc_type: str) -> dict | None:
    q = (SalesDocument.select(SalesDocument.number, SalesDocument.date, SalesDocument.total)
         .where(SalesDocument.customer == customer_id, SalesDocument.doc_type == doc_type,
                SalesDocument.number.is_null(False))
         .order_by(SalesDocument.date.desc(), SalesDocument.id.desc()).limit(1).dicts())
    r = q.first()
    return {"number": r["number"], "date": r["date"], "total": r["total"]} if r else None


@roles.guard("money.view")
def customer_sales_snapshot(customer_id: int) -> dict:
    """For the caller-ID popup and the customer file (see the module docstring)."""
    return {
        "last_proforma": _last(customer_id, "proforma"),
        "last_invoice": _last(customer_id, "invoice"),
        "balance": customer_balance(customer_id),
        "overdue": overdue_amount(customer_id),
    }


# --- reports -----------------------------------------------------------------------------------------------

@dataclass
class SaleRow:
    id: int
    number: str
    date: dt.date
    jalali_year: int
    jalali_month: int
    customer_id: int
    customer_name: str
    rep_id: int | None
    rep_name: str
    subtotal: int
    discount: int
    vat: int
    total: int
    lines: int = 0


@dataclass
class CustomerSales:
    customer_id: int
    customer_name: str
    count: int
    amount: int


@dataclass
class MonthSales:
    jalali_year: int
    jalali_month: int
    count: int
    amount: int
    vat: int


@dataclass
class RepSales:
    rep_id: int | None
    rep_name: str
    count: int
    amount: int


NO_REP = "بدون مسئول"


@roles.guard("money.view")
def sales_rows(date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[SaleRow]:
    """Issued invoices between the dates (inclusive), oldest first."""
    Rep = User.alias()
    Assigned = User.alias()
    q = (SalesDocument.select(SalesDocument.id, SalesDocument.number, SalesDocument.date, SalesDocument.customer,
                              SalesDocument.rep, SalesDocument.subtotal, SalesDocument.line_discount,
                              SalesDocument.doc_discount, SalesDocument.vat_total, SalesDocument.total,
                              Customer.first_name, Customer.last_name, Customer.company, Customer.kind,
                              Customer.assigned_to, Rep.name.alias("rep_name"),
                              Assigned.name.alias("assigned_name"))
         .join(Customer, on=(SalesDocument.customer == Customer.id))
         .join(Rep, pw.JOIN.LEFT_OUTER, on=(SalesDocument.rep == Rep.id))
         .join(Assigned, pw.JOIN.LEFT_OUTER, on=(Customer.assigned_to == Assigned.id))
         .where(SalesDocument.doc_type == "invoice", SalesDocument.state == "issued"))
    if date_from:
        q = q.where(SalesDocument.date >= date_from)
    if date_to:
        q = q.where(SalesDocument.date <= date_to)
    out = []
    for r in q.order_by(SalesDocument.date, SalesDocument.id).dicts():
        j = to_jalali(r["date"])
        rep_id = r["rep"] or r["assigned_to"]
        rep_name = r["rep_name"] or r["assigned_name"] or NO_REP
        out.append(SaleRow(r["id"], r["number"], r["date"], j.year, j.month, r["customer"], _name_of(r), rep_id,
                           rep_name, r["subtotal"], r["line_discount"] + r["doc_discount"], r["vat_total"],
                           r["total"]))
    return out


@roles.guard("money.view")
def top_customers(date_from: dt.date | None = None, date_to: dt.date | None = None, by: str = "amount",
                  limit: int = 10) -> list[CustomerSales]:
    agg: dict[int, CustomerSales] = {}
    for r in sales_rows(date_from, date_to):
        c = agg.setdefault(r.customer_id, CustomerSales(r.customer_id, r.customer_name, 0, 0))
        c.count += 1
        c.amount += r.total
    key = (lambda c: (c.count, c.amount)) if by == "count" else (lambda c: (c.amount, c.count))
    return sorted(agg.values(), key=key, reverse=True)[:limit]


@roles.guard("money.view")
def sales_by_month(date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[MonthSales]:
    agg: dict[tuple[int, int], MonthSales] = {}
    for r in sales_rows(date_from, date_to):
        m = agg.setdefault((r.jalali_year, r.jalali_month), MonthSales(r.jalali_year, r.jalali_month, 0, 0, 0))
        m.count += 1
        m.amount += r.total
        m.vat += r.vat
    return [agg[k] for k in sorted(agg)]


@roles.guard("money.view")
def sales_by_rep(date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[RepSales]:
    agg: dict[int | None, RepSales] = {}
    for r in sales_rows(date_from, date_to):
        s = agg.setdefault(r.rep_id, RepSales(r.rep_id, r.rep_name, 0, 0))
        s.count += 1
        s.amount += r.total
    return sorted(agg.values(), key=lambda s: s.amount, reverse=True)


# --- what the audit log keeps of a record (before/after) ---

@audit.snapshotter("document")
def _document(doc_id: int) -> dict | None:
    try:
        from models.sales import SalesDocument, SalesLine
    except ImportError:
        return None
    doc = SalesDocument.get_or_none(SalesDocument.id == doc_id)
    if doc is None:
        return None
    d: dict[str, Any] = {f: getattr(doc, f) for f in (
        "doc_type", "state", "number", "date", "due_date", "valid_until", "invoice_type", "settlement",
        "subtotal", "line_discount", "doc_discount", "vat_total", "total", "notes", "terms", "cancel_reason")}
    d["customer"] = doc.customer.display_name if doc.customer_id else None
    d["lines"] = "؛ ".join(f"{ln.description} × {audit._jsonable(ln.quantity)} @ {ln.unit_price}"
                          for ln in SalesLine.select().where(SalesLine.document == doc_id)
                          .order_by(SalesLine.position))
    kind = "پیش‌فاکتور" if doc.doc_type == "proforma" else "فاکتور"
    d["_label"] = f"{kind} {doc.number}" if doc.number else f"{kind} پیش‌نویس (شناسه {doc.id})"
    return d


@audit.snapshotter("payment")
def _payment(pid: int) -> dict | None:
    try:
        from models.sales import Payment
    except ImportError:
        return None
    p = Payment.get_or_none(Payment.id == pid)
    if p is None:
        return None
    d = {f: getattr(p, f) for f in ("kind", "amount", "date", "reference", "cheque_number", "cheque_state",
                                      "state", "void_reason", "note")}
    d["customer"] = p.customer.display_name if p.customer_id else None
    d["_label"] = f"دریافت {p.amount:,} ریال".replace(",", "٬")
    return d
