"""Sales: products and services, proformas and invoices with their lines, payments and their allocation.

Money is integer Rials (BigIntegerField). Quantities are decimals (2.5 metres). VAT rates are basis points
(1000 = 10%). Issued documents are never updated except for their state (cancelled/corrected/converted), which
the service changes inside the same transaction that writes the timeline.
"""
from __future__ import annotations

import peewee as pw

from models.base import BaseModel, now
from models.core import Customer, User


class Product(BaseModel):
    """A product or a service (کالا یا خدمت) in the office's price list."""

    KINDS = ("goods", "service")

    code = pw.CharField(max_length=40, unique=True)
    name = pw.CharField(max_length=300, index=True)
    kind = pw.CharField(max_length=10, default="goods")
    unit = pw.CharField(max_length=30, default="عدد")
    price = pw.BigIntegerField(default=0)                    # Rials, before VAT
    vat_exempt = pw.BooleanField(default=False)              # معاف از مالیات بر ارزش افزوده
    goods_id = pw.CharField(max_length=13, default="")       # شناسه کالا/خدمت (13 digits, tax system)
    description = pw.TextField(default="")
    active = pw.BooleanField(default=True, index=True)
    search_text = pw.TextField(default="")
    created_at = pw.DateTimeField(default=now)
    updated_at = pw.DateTimeField(default=now)


class DocumentCounter(BaseModel):
    """The last number given per document type and Jalali year; updated inside the document's transaction,
    so a rolled-back document gives its number back and the sequence has no gaps."""

    doc_type = pw.CharField(max_length=12)
    year = pw.IntegerField()
    last = pw.IntegerField(default=0)

    class Meta:
        primary_key = pw.CompositeKey("doc_type", "year")


class SalesDocument(BaseModel):
    """A proforma (پیش‌فاکتور) or an invoice (صورتحساب فروش).

    States: proforma  open → converted | cancelled
            invoice   draft → issued → cancelled | corrected
    Only a proforma in `open` and an invoice in `draft` may be edited. An invoice gets its number when issued.
    """

    TYPES = ("proforma", "invoice")
    STATES = ("draft", "open", "issued", "converted", "cancelled", "corrected")
    SUBJECTS = (1, 2, 3, 4)           # tax system: 1 original, 2 correction, 3 cancellation, 4 return
    SETTLEMENTS = ("cash", "credit", "mixed")

    doc_type = pw.CharField(max_length=12, index=True)
    state = pw.CharField(max_length=12, index=True)
    number = pw.CharField(max_length=24, null=True)          # P1405-0007 / 1405-0012; null for a draft
    year = pw.IntegerField(null=True)                          # Jalali year of the numbering
    seq = pw.IntegerField(null=True)
    customer = pw.ForeignKeyField(Customer, backref="sales_documents", on_delete="RESTRICT")
    date = pw.DateField(index=True)                            # the document's (Gregorian) date
    due_date = pw.DateField(null=True)                         # invoices: when payment is due
    valid_until = pw.DateField(null=True)                      # proformas: offer valid until
    invoice_type = pw.IntegerField(default=2)                  # 1 buyer identified, 2 buyer optional
    subject = pw.IntegerField(default=1)
    settlement = pw.CharField(max_length=8, default="cash")
    vat_rate = pw.IntegerField(default=0)                      # basis points the document was issued with
    # totals (Rials), kept in step with the lines by the service
    subtotal = pw.BigIntegerField(default=0)                   # Σ quantity × unit price
    line_discount = pw.BigIntegerField(default=0)              # Σ per-line discounts
    doc_discount = pw.BigIntegerField(default=0)               # discount on the total
    vat_total = pw.BigIntegerField(default=0)
    total = pw.BigIntegerField(default=0)                      # payable
    # what counting payments have allocated to it (app.sales.paid), kept by the database's own triggers
    # (migration 22): the open invoices (total > paid) are read from an index of their own
    paid = pw.BigIntegerField(default=0)
    notes = pw.TextField(default="")
    terms = pw.TextField(default="")
    buyer = pw.TextField(default="")        # JSON snapshot of the buyer's details as issued
    seller = pw.TextField(default="")       # JSON snapshot of the office's details as issued
    source = pw.ForeignKeyField("self", null=True, backref="derived", on_delete="SET NULL")  # proforma → invoice
    corrects = pw.ForeignKeyField("self", null=True, backref="corrections", on_delete="SET NULL")
    rep = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")   # sales rep
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)
    updated_at = pw.DateTimeField(default=now)
    issued_at = pw.DateTimeField(null=True)
    cancelled_at = pw.DateTimeField(null=True)
    cancel_reason = pw.TextField(default="")
    cancelled_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        indexes = (
            (("doc_type", "number"), True),
            (("customer", "doc_type", "state"), False),
        )


class SalesLine(BaseModel):
    document = pw.ForeignKeyField(SalesDocument, backref="lines", on_delete="CASCADE")
    position = pw.IntegerField(default=0)
    product = pw.ForeignKeyField(Product, null=True, backref="+", on_delete="SET NULL")
    code = pw.CharField(max_length=40, default="")
    goods_id = pw.CharField(max_length=13, default="")
    description = pw.TextField(default="")
    unit = pw.CharField(max_length=30, default="")
    quantity = pw.DecimalField(max_digits=18, decimal_places=3, auto_round=True)
    unit_price = pw.BigIntegerField(default=0)
    gross = pw.BigIntegerField(default=0)                      # quantity × unit price, rounded
    discount = pw.BigIntegerField(default=0)                   # this line's own discount
    doc_discount_share = pw.BigIntegerField(default=0)         # its share of the discount on the total
    taxable = pw.BigIntegerField(default=0)                    # gross − discount − share
    vat_exempt = pw.BooleanField(default=False)
    vat_rate = pw.IntegerField(default=0)                      # basis points; 0 when exempt
    vat = pw.BigIntegerField(default=0)
    total = pw.BigIntegerField(default=0)                      # taxable + vat


class Payment(BaseModel):
    """Money received from a customer. Never deleted: a mistaken one is voided with a reason."""

    KINDS = ("cash", "card", "transfer", "cheque")
    STATES = ("active", "void")
    CHEQUE_STATES = ("pending", "cleared", "bounced")

    customer = pw.ForeignKeyField(Customer, backref="payments", on_delete="RESTRICT")
    kind = pw.CharField(max_length=10, default="cash")
    amount = pw.BigIntegerField()
    date = pw.DateField(index=True)
    reference = pw.CharField(max_length=60, default="")       # card/transfer tracking number
    cheque_number = pw.CharField(max_length=30, default="")
    cheque_bank = pw.CharField(max_length=60, default="")
    cheque_due = pw.DateField(null=True)
    cheque_state = pw.CharField(max_length=10, default="")
    note = pw.TextField(default="")
    state = pw.CharField(max_length=8, default="active", index=True)
    void_reason = pw.TextField(default="")
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("customer", "state"), False),)


class PaymentAllocation(BaseModel):
    payment = pw.ForeignKeyField(Payment, backref="allocations", on_delete="CASCADE")
    document = pw.ForeignKeyField(SalesDocument, backref="allocations", on_delete="CASCADE")
    amount = pw.BigIntegerField()


SALES_MODELS = [Product, DocumentCounter, SalesDocument, SalesLine, Payment, PaymentAllocation]


class IssuedCheque(BaseModel):
    """A cheque the office itself wrote (چک پرداختی), to a supplier or anyone else: the money that leaves on
    its due date. Never deleted: a mistaken one is cancelled. States: pending → cleared | bounced | cancelled."""

    STATES = ("pending", "cleared", "bounced", "cancelled")

    number = pw.CharField(max_length=30)
    bank = pw.CharField(max_length=60)
    account = pw.CharField(max_length=40, default="")          # the office's account the cheque is drawn on
    amount = pw.BigIntegerField()                              # Rials
    payee = pw.CharField(max_length=200)                       # در وجه
    customer = pw.ForeignKeyField(Customer, null=True, backref="issued_cheques", on_delete="SET NULL")
    issue_date = pw.DateField()
    due_date = pw.DateField(index=True)
    state = pw.CharField(max_length=10, default="pending", index=True)
    note = pw.TextField(default="")
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)
    updated_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("state", "due_date"), False),)


# Created by migration 10 (not by 4, which only knows SALES_MODELS).
ISSUED_CHEQUE_MODELS = [IssuedCheque]
