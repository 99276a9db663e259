"""Writing proformas and invoices: save, issue, convert, cancel, correct, and find by number.

An issued invoice is never edited. ``cancel_document`` marks it cancelled with a reason (its payment allocations
are released back to the customer's credit); ``correct_invoice`` issues a new invoice pointing at the old
(subject 2) and marks the old one ``corrected``. Both stay listed, and both go on the timeline.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from typing import Any

import peewee as pw

from app import fmt, options, settings
from app.core.clock import now, today
from app.core.errors import NotFound, UserError, ValidationError
from app.core.identity import check_national_id, is_valid_national_code
from app.core.identity import digits as id_digits
from app.core.jalali import date_field, to_jalali
from app.core.text import clean, to_ascii_digits, to_persian_digits
from app.customers import timeline
from app.office import audit, roles
from app.sales.common import STATE_LABELS, TYPE_LABELS, write_tx
from app.sales.numbering import PROFORMA_PREFIXES, next_number
from app.sales.totals import LineInput, Totals, compute
from app.sales.vat import vat_rate_on
from models.base import for_update
from models.core import Address, Customer, PhoneNumber
from models.sales import PaymentAllocation, SalesDocument, SalesLine

logger = logging.getLogger(__name__)


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


def get_doc(doc_id: int, lock: bool = False) -> SalesDocument:
    q = SalesDocument.select().where(SalesDocument.id == doc_id)
    doc = (for_update(q) if lock else q).first()
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
    day = date_field(date, "date", errors) or today()
    due = date_field(due_date, "due_date", errors)
    valid = date_field(valid_until, "valid_until", errors)
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
    with write_tx():
        if doc_id is None:
            doc = SalesDocument(doc_type=doc_type, state="open" if doc_type == "proforma" else "draft",
                                created_by=user, created_at=now())
            created = True
        else:
            doc = get_doc(doc_id, lock=True)
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
            doc.seq, doc.number = next_number("proforma", doc.year)
        doc.save()
        _write_lines(doc, totals)
        if issue:
            _issue(doc, user)
        else:
            verb = "ثبت شد" if created else "ویرایش شد"
            timeline.record(customer.id, doc_type, f"{_doc_label(doc)} به مبلغ {fmt.money(doc.total, toman=False)} {verb}",
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
    doc.seq, doc.number = next_number("invoice", doc.year)
    doc.state = "issued"
    doc.issued_at = now()
    doc.save()
    what = "اصلاحیه " + _doc_label(doc) if doc.subject == 2 else _doc_label(doc)
    timeline.record(doc.customer_id, "invoice", f"{what} به مبلغ {fmt.money(doc.total, toman=False)} صادر شد",
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
    with write_tx():
        doc = get_doc(doc_id, lock=True)
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
    with write_tx():
        pf = get_doc(proforma_id, lock=True)
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
    with write_tx():
        doc = get_doc(doc_id, lock=True)
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
    with write_tx():
        old = get_doc(doc_id, lock=True)
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
