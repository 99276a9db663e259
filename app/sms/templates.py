"""Message templates with merge fields, and the preview: text per customer, length, parts, warnings.

Merge fields are written in braces with Persian names: «{نام} عزیز، مانده حساب شما {مانده} است.» Values come
from the customer (bulk-read for a group send: one query per kind of field used, not per customer) and, for
automatic messages, from the event (the cheque, the invoice, the call).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import peewee as pw

from app import fmt, options, settings
from app.core import jalali
from app.core.errors import ValidationError
from app.core.text import clean
from app.sms import config, encoding
from models.core import Customer
from models.messaging import MessageTemplate

FIELDS: dict[str, str] = {
    "نام": "نام کامل با عنوان (آقای علی رضایی)",
    "نام_کوچک": "نام",
    "نام_خانوادگی": "نام خانوادگی",
    "عنوان": "آقای / خانم",
    "شرکت": "نام شرکت",
    "مانده": "مانده بدهی",
    "مبلغ_چک": "مبلغ چک",
    "سررسید_چک": "تاریخ سررسید چک",
    "شماره_چک": "شماره چک",
    "شماره_فاکتور": "شماره فاکتور",
    "مبلغ_فاکتور": "مبلغ فاکتور",
    "شماره_درخواست": "شماره درخواست خدمت (در نظرسنجی)",
    "تاریخ": "تاریخ امروز",
    "نام_دفتر": "نام شرکت شما",
    "تلفن_دفتر": "تلفن شرکت شما",
}
FIELD_RE = re.compile(r"\{([^{}\s]+)\}")

# Words that make a text advertising (تبلیغاتی); a service line may carry only the office's own service messages.
AD_WORDS = ("تخفیف", "حراج", "فروش ویژه", "جشنواره", "پیشنهاد ویژه", "رایگان", "قرعه", "جایزه", "کد تخفیف",
            "آفر", "خرید کنید", "سفارش دهید", "ارزان", "فرصت محدود", "http://", "https://", "www.", "%", "٪")


def fields_in(body: str) -> list[str]:
    return list(dict.fromkeys(FIELD_RE.findall(body or "")))


def unknown_fields(body: str) -> list[str]:
    return [f for f in fields_in(body) if f not in FIELDS]


def render(body: str, ctx: dict) -> str:
    def sub(m: re.Match) -> str:
        return str(ctx.get(m.group(1), m.group(0)))

    text = FIELD_RE.sub(sub, body or "")
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def looks_advertising(text: str) -> bool:
    t = (text or "").lower()
    return any(w in t for w in AD_WORDS)


# --- values per customer ------------------------------------------------------------------------------------

def _full_name(title: str, first: str, last: str, company: str, kind: str) -> str:
    person = " ".join(p for p in (first, last) if p)
    if kind == "organisation":
        return company or person
    if not person:
        return company
    return f"{title} {person}".strip() if title else person


def office_context() -> dict:
    return {"تاریخ": jalali.format_date(_today()), "نام_دفتر": settings.get(options.OFFICE_NAME),
            "تلفن_دفتر": fmt.text_digits(settings.get(options.OFFICE_PHONE))}


def _today() -> dt.date:
    from app.core.clock import today

    return today()


def contexts(customer_ids: Iterable[int], body: str = "") -> dict[int, dict]:
    """Merge values for many customers at once; only the fields the body uses are computed."""
    ids = list(customer_ids)
    used = set(fields_in(body)) if body else set(FIELDS)
    base = office_context()
    out: dict[int, dict] = {}
    for lo in range(0, len(ids), 500):
        chunk = ids[lo:lo + 500]
        for cid, title, first, last, company, kind in (Customer.select(
                Customer.id, Customer.title, Customer.first_name, Customer.last_name, Customer.company,
                Customer.kind).where(Customer.id.in_(chunk)).tuples()):
            out[cid] = {**base, "نام": _full_name(title, first, last, company, kind), "نام_کوچک": first,
                        "نام_خانوادگی": last, "عنوان": title, "شرکت": company}
        if "مانده" in used:
            for cid, bal in _balances(chunk).items():
                if cid in out:
                    out[cid]["مانده"] = fmt.money(max(bal, 0))
    for c in out.values():
        c.setdefault("مانده", fmt.money(0))
    return out


def _balances(ids: list[int]) -> dict[int, int]:
    from app.sales.paid import counting_payments
    from models.sales import Payment, SalesDocument

    inv = dict(SalesDocument.select(SalesDocument.customer, pw.fn.SUM(SalesDocument.total))
               .where(SalesDocument.customer.in_(ids), SalesDocument.doc_type == "invoice",
                      SalesDocument.state == "issued").group_by(SalesDocument.customer).tuples())
    paid = dict(Payment.select(Payment.customer, pw.fn.SUM(Payment.amount))
                .where(Payment.customer.in_(ids), counting_payments()).group_by(Payment.customer).tuples())
    return {cid: int(inv.get(cid) or 0) - int(paid.get(cid) or 0) for cid in ids}


def cheque_context(payment) -> dict:
    return {"مبلغ_چک": fmt.money(payment.amount), "سررسید_چک": jalali.format_date(payment.cheque_due),
            "شماره_چک": fmt.digits(payment.cheque_number)}


def invoice_context(doc) -> dict:
    return {"شماره_فاکتور": fmt.digits(doc.number or ""), "مبلغ_فاکتور": fmt.money(doc.total)}


SAMPLE = {"نام": "آقای علی رضایی", "نام_کوچک": "علی", "نام_خانوادگی": "رضایی", "عنوان": "آقای",
          "شرکت": "بازرگانی نمونه", "مانده": fmt.money(12_500_000), "مبلغ_چک": fmt.money(50_000_000),
          "سررسید_چک": "۱۴۰۵/۰۲/۱۵", "شماره_چک": "۱۲۳۴۵۶", "شماره_فاکتور": "۱۴۰۵-۰۰۱۲",
          "مبلغ_فاکتور": fmt.money(8_700_000)}


# --- the preview ----------------------------------------------------------------------------------------------

@dataclass
class Preview:
    text: str
    info: encoding.Info
    warnings: list[str] = field(default_factory=list)

    @property
    def counter(self) -> str:
        """«۴۵ نویسه، ۱ پیامک، فارسی (۷۰ نویسه در هر پیامک)». Not a middle dot «·» beside a digit: next to
        Persian digits it reads as the zero «۰» (۱ · پیامک looked like ۱۰ پیامک)."""
        kind = "فارسی" if self.info.persian else "لاتین"
        per = encoding.SINGLE[self.info.encoding] if self.info.parts <= 1 else self.info.per_part
        return (f"{fmt.num(self.info.length)} نویسه، {fmt.num(max(self.info.parts, 1))} پیامک، "
                f"{kind} ({fmt.num(per)} نویسه در هر پیامک)")


def preview(body: str, ctx: dict | None = None, purpose: str = "service", group: bool = False) -> Preview:
    """The text as a customer will read it, and what the office should know before sending it."""
    ctx = {**office_context(), **SAMPLE, **(ctx or {})}
    text = render(body, ctx)
    if group and config.service_line() and settings.get(options.SMS_APPEND_OPTOUT):
        text = with_optout(text)
    warnings = []
    bad = unknown_fields(body)
    if bad:
        warnings.append("این فیلدها شناخته نیستند و همان‌طور که هست فرستاده می‌شوند: "
                        + "، ".join("{" + b + "}" for b in bad))
    if config.service_line() and (purpose == "advertising" or looks_advertising(text)):
        warnings.append("این متن تبلیغاتی به نظر می‌رسد و خط شما خدماتی است؛ فرستادن پیام تبلیغاتی از خط "
                        "خدماتی ممنوع است و ممکن است خط مسدود شود.")
    info = encoding.info(text)
    if info.persian and info.length > 268:
        warnings.append("پیام فارسی بلندتر از ۲۶۸ نویسه را بیشتر سامانه‌ها نمی‌پذیرند.")
    return Preview(text, info, warnings)


def with_optout(text: str) -> str:
    folded = text.replace(" ", "").replace("11", "۱۱")
    return text if config.OPTOUT_SUFFIX in folded else f"{text}\n{config.OPTOUT_SUFFIX}"


# --- stored templates -----------------------------------------------------------------------------------------

def save_template(name: str, body: str, purpose: str = "service", channel: str = "sms", subject: str = "",
                  template_id: int | None = None) -> MessageTemplate:
    from models.writer import writer

    name = clean(name)
    errors = {}
    if not name:
        errors["name"] = "برای الگو نامی بنویسید."
    if not (body or "").strip():
        errors["body"] = "متن الگو خالی است."
    if purpose not in MessageTemplate.PURPOSES:
        errors["purpose"] = "نوع پیام باید خدماتی یا تبلیغاتی باشد."
    if errors:
        raise ValidationError(errors)

    def write() -> MessageTemplate:
        t = (MessageTemplate.get_or_none(MessageTemplate.id == template_id) if template_id
             else MessageTemplate.get_or_none(MessageTemplate.name == name))
        if t is None:
            t = MessageTemplate(name=name)
        t.name, t.body, t.purpose, t.channel, t.subject = name, body, purpose, channel, subject
        from app.core.clock import now

        t.updated_at = now()
        t.save()
        return t

    return writer.run(write)


def templates(channel: str = "sms") -> list[MessageTemplate]:
    return list(MessageTemplate.select().where(MessageTemplate.channel == channel).order_by(MessageTemplate.name))


def get_template(name_or_id) -> MessageTemplate | None:
    if isinstance(name_or_id, int):
        return MessageTemplate.get_or_none(MessageTemplate.id == name_or_id)
    return MessageTemplate.get_or_none(MessageTemplate.name == name_or_id)
