"""Reading documents: one document with its lines (the editor, the PDF), the filtered list and its totals, and
customer names for the pickers.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from decimal import Decimal

import peewee as pw

from app.core.clock import today
from app.core.text import party_name, search_key, to_ascii_digits
from app.office import roles
from app.sales.common import TYPE_LABELS
from app.sales.documents import buyer_details, get_doc, seller_details
from app.sales.paid import paid_expr
from models.base import as_date, db
from models.core import Customer, User
from models.sales import SalesDocument, SalesLine

logger = logging.getLogger(__name__)


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
    doc = get_doc(doc_id)
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
        paid=doc.paid, cancel_reason=doc.cancel_reason, cancelled_at=doc.cancelled_at,
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
    """The document list's filter (the list and its totals share it), applied to a query joined to Customer when
    names_searched(text)."""
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
        if not names_searched(t):
            q = q.where(SalesDocument.number.contains(t.lstrip("Pپp")))
        else:
            for tok in search_key(t).split():
                q = q.where(Customer.search_text.contains(tok))
    if overdue_only or unpaid_only:
        q = q.where(SalesDocument.state == "issued", SalesDocument.total > paid_expr())
        if overdue_only:
            q = q.where(SalesDocument.due_date < today())
    return q


def names_searched(text: str) -> bool:
    """Does the list's search `text` look in the customers' names (not in the documents' numbers)?"""
    t = to_ascii_digits(text or "").strip()
    return bool(t) and not t.lstrip("Pپp").isdigit()


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
    paid = paid_expr()
    q = SalesDocument.select(
        pw.fn.COUNT(SalesDocument.id).alias("n"),
        pw.fn.SUM(pw.Case(None, [(issued, 1)], 0)).alias("issued_n"),
        pw.fn.SUM(pw.Case(None, [(issued, SalesDocument.total)], 0)).alias("issued_total"),
        pw.fn.SUM(pw.Case(None, [(issued, SalesDocument.total - paid)], 0)).alias("issued_remaining"))
    if names_searched(filters.get("text", "")):
        # joined only for a search by name: at 250,000 documents the join made the footer's sums ten times slower
        q = q.join(Customer, on=(SalesDocument.customer == Customer.id))
    q = _filtered_documents(q, **filters)
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
                              Customer.kind, paid_expr().alias("paid"))
         .join(Customer, on=(SalesDocument.customer == Customer.id)))
    q = _filtered_documents(q, doc_type=doc_type, state=state, customer_id=customer_id, text=text,
                            date_from=date_from, date_to=date_to, overdue_only=overdue_only,
                            unpaid_only=unpaid_only)
    q = q.order_by(SalesDocument.date.desc(), SalesDocument.id.desc()).limit(limit)
    out = []
    d0 = today()
    # the driver's rows as they come, dates made from SQLite's text here: peewee's conversion of each value cost
    # more than the query at 2,000 rows
    for (doc_id, doc_type, state, number, date, due, customer, total, first, last, company, kind,
         paid) in db.execute(q):
        due = as_date(due)
        paid = int(paid or 0)
        overdue = state == "issued" and due is not None and due < d0 and total > paid
        out.append(DocRow(doc_id, doc_type, state, number, as_date(date), due, customer,
                          party_name(first, last, company, kind), total, paid, overdue))
    return out


def name_of(r: dict) -> str:
    return party_name(r.get("first_name"), r.get("last_name"), r.get("company"), r.get("kind"))


def customer_name(customer_id: int) -> str:
    r = (Customer.select(Customer.first_name, Customer.last_name, Customer.company, Customer.kind)
         .where(Customer.id == customer_id).dicts().first())
    return name_of(r) if r else ""


def customer_choices(text: str = "", limit: int = 50) -> list[tuple[int, str]]:
    """(id, name) of customers matching `text`, for the invoice editor's customer picker."""
    q = Customer.select(Customer.id, Customer.first_name, Customer.last_name, Customer.company, Customer.kind)
    q = q.where(Customer.merged_into.is_null())
    for tok in search_key(text).split():
        q = q.where(Customer.search_text.contains(tok))
    q = q.order_by(Customer.sort_key, Customer.id).limit(limit)
    return [(r["id"], name_of(r)) for r in q.dicts()]
