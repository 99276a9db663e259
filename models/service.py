"""After the sale: service requests (درخواست خدمت) with their thread, documents, contracts and warranty.

Times are naive office-local datetimes. Three derived columns are kept by the service so the dashboard reads
100,000 requests with a handful of aggregate queries: the Jalali day a request was received and resolved
(``received_jd``/``resolved_jd``, an integer 14050312 — month = jd // 100, portable SQL on both backends) and
the business minutes to first response and to resolution (office hours, Fridays and holidays left out).
"""
from __future__ import annotations

import peewee as pw

from models.base import BaseModel, now
from models.calls import Call
from models.core import Customer, User
from models.sales import Product, SalesDocument


class ServiceCategory(BaseModel):
    """A kind of request the office defines, with its own targets (SLA) in business minutes."""

    name = pw.CharField(max_length=80, unique=True)
    response_minutes = pw.IntegerField(default=60)       # first contact with the customer
    resolve_minutes = pw.IntegerField(default=8 * 60)    # done (service time)
    is_complaint = pw.BooleanField(default=False)        # شکایت: its own report
    active = pw.BooleanField(default=True)
    position = pw.IntegerField(default=0)


class ServiceRequest(BaseModel):
    """A service request / ticket. Status keys are fixed; the office names them (settings)."""

    STATUSES = ("new", "in_progress", "waiting", "done", "closed")
    CHANNELS = ("phone", "visit", "sms", "email", "other")
    PRIORITIES = (0, 1, 2, 3)                            # low, normal, high, urgent

    number = pw.CharField(max_length=24, unique=True)    # S1405-00012
    customer = pw.ForeignKeyField(Customer, backref="service_requests", on_delete="RESTRICT")
    subject = pw.CharField(max_length=200)
    description = pw.TextField(default="")
    category = pw.ForeignKeyField(ServiceCategory, null=True, backref="requests", on_delete="SET NULL")
    priority = pw.IntegerField(default=1)
    channel = pw.CharField(max_length=8, default="phone")
    status = pw.CharField(max_length=12, default="new")
    assignee = pw.ForeignKeyField(User, null=True, backref="service_requests", on_delete="SET NULL")
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    call = pw.ForeignKeyField(Call, null=True, backref="service_requests", on_delete="SET NULL")
    product = pw.ForeignKeyField(Product, null=True, backref="+", on_delete="SET NULL")
    serial = pw.CharField(max_length=80, default="", index=True)
    invoice = pw.ForeignKeyField(SalesDocument, null=True, backref="service_requests", on_delete="SET NULL")
    received_at = pw.DateTimeField(default=now, index=True)
    received_jd = pw.IntegerField()
    response_due_at = pw.DateTimeField(null=True)
    due_at = pw.DateTimeField(null=True)
    first_response_at = pw.DateTimeField(null=True)
    first_response_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    response_minutes = pw.IntegerField(null=True)        # business minutes received → first response
    resolved_at = pw.DateTimeField(null=True)            # first reached done/closed
    resolved_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    resolved_jd = pw.IntegerField(null=True)
    service_minutes = pw.IntegerField(null=True)         # business minutes received → resolved
    sla_met = pw.BooleanField(null=True)                 # resolved by due_at
    closed_at = pw.DateTimeField(null=True)
    reply_count = pw.IntegerField(default=0)             # replies to the customer (seed KPI: exchanges per service)
    escalation = pw.CharField(max_length=10, default="")  # "", "unhandled", "overdue": last automatic hand-over
    reassign_count = pw.IntegerField(default=0)
    satisfaction = pw.IntegerField(null=True)            # 1..5 after closing
    satisfaction_comment = pw.TextField(default="")
    satisfaction_at = pw.DateTimeField(null=True)
    updated_at = pw.DateTimeField(default=now)

    class Meta:
        # The two last are covering indexes for the KPIs: each grouped query reads its index alone.
        indexes = (
            (("status", "assignee"), False),
            (("customer", "received_at"), False),
            (("received_jd", "assignee", "category", "response_minutes", "first_response_by", "resolved_jd"), False),
            (("resolved_jd", "resolved_by", "category", "service_minutes", "sla_met", "satisfaction",
              "reply_count"), False),
        )


class RequestEntry(BaseModel):
    """The request's thread: replies to the customer, internal notes, status changes and hand-overs. Never
    edited."""

    KINDS = ("reply", "note", "status", "assign", "survey")

    request = pw.ForeignKeyField(ServiceRequest, backref="entries", on_delete="CASCADE")
    kind = pw.CharField(max_length=8)
    body = pw.TextField(default="")
    user = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    at = pw.DateTimeField(default=now)
    data = pw.TextField(default="")                      # JSON: from/to status or user, reason


class DocumentBlob(BaseModel):
    """File content, once per sha256, in the database (both backends): backups, restores and every desk of a
    shared PostgreSQL office see the same files. Stored in chunks so no single row holds 50 MB."""

    sha256 = pw.CharField(max_length=64, unique=True)
    size = pw.BigIntegerField()
    chunks = pw.IntegerField()
    created_at = pw.DateTimeField(default=now)


class DocumentChunk(BaseModel):
    blob = pw.ForeignKeyField(DocumentBlob, backref="parts", on_delete="CASCADE")
    seq = pw.IntegerField()
    data = pw.BlobField()

    class Meta:
        indexes = ((("blob", "seq"), True),)


class Document(BaseModel):
    """A file attached to a customer, an opportunity, a service request, an invoice or a contract."""

    OWNERS = ("customer", "opportunity", "request", "invoice", "contract")

    owner_type = pw.CharField(max_length=12)
    owner_id = pw.IntegerField()
    customer = pw.ForeignKeyField(Customer, null=True, backref="documents", on_delete="CASCADE")
    blob = pw.ForeignKeyField(DocumentBlob, backref="documents", on_delete="RESTRICT")
    name = pw.CharField(max_length=255)                  # the original file name
    mime = pw.CharField(max_length=120, default="application/octet-stream")
    size = pw.BigIntegerField()
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("owner_type", "owner_id"), False),)


class Contract(BaseModel):
    STATES = ("active", "ended", "cancelled")

    customer = pw.ForeignKeyField(Customer, backref="contracts", on_delete="RESTRICT")
    number = pw.CharField(max_length=40, default="")
    title = pw.CharField(max_length=200)
    start_date = pw.DateField()
    end_date = pw.DateField(index=True)
    value = pw.BigIntegerField(default=0)                # Rials
    remind_days = pw.IntegerField(default=30)            # renewal reminder this many days before the end
    renewal_task = pw.IntegerField(null=True)            # the task that reminds of the renewal
    state = pw.CharField(max_length=10, default="active")
    notes = pw.TextField(default="")
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)


class Warranty(BaseModel):
    """The warranty of one sold item: from the invoice date (or a given date) for a number of months."""

    customer = pw.ForeignKeyField(Customer, backref="warranties", on_delete="RESTRICT")
    invoice = pw.ForeignKeyField(SalesDocument, null=True, backref="warranties", on_delete="SET NULL")
    product = pw.ForeignKeyField(Product, null=True, backref="+", on_delete="SET NULL")
    item = pw.CharField(max_length=300)                  # what was sold, as written
    serial = pw.CharField(max_length=80, index=True)
    serial_key = pw.CharField(max_length=80, index=True)  # folded: upper case, ASCII digits, no spaces/dashes
    start_date = pw.DateField()
    months = pw.IntegerField(default=12)
    end_date = pw.DateField(index=True)
    remind_days = pw.IntegerField(default=30)
    reminder_task = pw.IntegerField(null=True)
    notes = pw.TextField(default="")
    created_at = pw.DateTimeField(default=now)


SERVICE_MODELS = [ServiceCategory, ServiceRequest, RequestEntry, DocumentBlob, DocumentChunk, Document,
                  Contract, Warranty]
