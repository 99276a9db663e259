"""Customers and the records around them: users, phones, addresses, tags, notes, the timeline."""
from __future__ import annotations

import peewee as pw

from models.base import BaseModel, now


class User(BaseModel):
    """A colleague. Login comes later; the table exists so work can be assigned and referred."""

    ROLES = ("admin", "manager", "sales", "reception")

    name = pw.CharField(max_length=120)
    username = pw.CharField(max_length=60, unique=True)
    role = pw.CharField(max_length=20, default="sales")
    active = pw.BooleanField(default=True)
    created_at = pw.DateTimeField(default=now)
    extension = pw.CharField(max_length=20, default="")   # their phone on the office's PBX ("" when none)


class Customer(BaseModel):
    KINDS = ("person", "organisation")          # حقیقی / حقوقی
    STAGES = ("potential", "actual")             # سرنخ یا مشتری بالقوه / مشتری

    kind = pw.CharField(max_length=20, default="person", index=True)
    stage = pw.CharField(max_length=20, default="actual", index=True)
    first_name = pw.CharField(max_length=100, default="")
    last_name = pw.CharField(max_length=100, default="")
    company = pw.CharField(max_length=200, default="", index=True)
    title = pw.CharField(max_length=40, default="")              # آقای / خانم / دکتر
    job = pw.CharField(max_length=120, default="")
    customer_type = pw.CharField(max_length=60, default="", index=True)   # office-defined: عمده‌فروش، …
    rank = pw.CharField(max_length=10, default="", index=True)            # A/B/C or stars
    status = pw.CharField(max_length=40, default="active", index=True)
    activity_field = pw.CharField(max_length=120, default="")             # زمینه فعالیت
    source = pw.CharField(max_length=80, default="", index=True)          # نحوه آشنایی
    assigned_to = pw.ForeignKeyField(User, null=True, backref="customers", on_delete="SET NULL")
    birthday = pw.DateField(null=True)
    anniversary = pw.DateField(null=True)
    national_id = pw.CharField(max_length=11, default="", index=True)     # کد ملی (10) / شناسه ملی (11)
    economic_code = pw.CharField(max_length=14, default="")
    registration_no = pw.CharField(max_length=20, default="")
    postal_code = pw.CharField(max_length=10, default="")
    email = pw.CharField(max_length=200, default="")
    website = pw.CharField(max_length=200, default="")
    description = pw.TextField(default="")
    # Derived keys kept by the service: the display name folded for sorting, and everything searchable.
    sort_key = pw.CharField(max_length=300, default="", index=True)
    search_text = pw.TextField(default="")
    merged_into = pw.ForeignKeyField("self", null=True, backref="merged_from", on_delete="SET NULL")
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now, index=True)
    updated_at = pw.DateTimeField(default=now)

    @property
    def display_name(self) -> str:
        person = " ".join(p for p in (self.first_name, self.last_name) if p)
        if self.kind == "organisation":
            return self.company or person
        return person or self.company


class PhoneNumber(BaseModel):
    LABELS = ("mobile", "work", "home", "fax", "other")

    customer = pw.ForeignKeyField(Customer, backref="phones", on_delete="CASCADE")
    label = pw.CharField(max_length=20, default="mobile")
    raw = pw.CharField(max_length=60)
    canonical = pw.CharField(max_length=24, index=True)
    tail = pw.CharField(max_length=8, index=True, default="")
    extension = pw.CharField(max_length=8, default="")
    is_primary = pw.BooleanField(default=False)


class Address(BaseModel):
    LABELS = ("work", "home", "warehouse", "other")

    customer = pw.ForeignKeyField(Customer, backref="addresses", on_delete="CASCADE")
    label = pw.CharField(max_length=20, default="work")
    province = pw.CharField(max_length=60, default="")
    city = pw.CharField(max_length=60, default="", index=True)
    line = pw.TextField(default="")
    postal_code = pw.CharField(max_length=10, default="")


class Tag(BaseModel):
    name = pw.CharField(max_length=60, unique=True)
    color = pw.CharField(max_length=9, default="")


class CustomerTag(BaseModel):
    customer = pw.ForeignKeyField(Customer, backref="tag_links", on_delete="CASCADE")
    tag = pw.ForeignKeyField(Tag, backref="customer_links", on_delete="CASCADE")

    class Meta:
        indexes = ((("customer", "tag"), True),)


class Note(BaseModel):
    customer = pw.ForeignKeyField(Customer, backref="notes", on_delete="CASCADE")
    author = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    body = pw.TextField()
    created_at = pw.DateTimeField(default=now)


class Activity(BaseModel):
    """The append-only timeline. Every feature writes here; nothing updates or deletes a row
    (a merge re-points rows to the surviving customer, which keeps them)."""

    customer = pw.ForeignKeyField(Customer, null=True, backref="activities", on_delete="CASCADE")
    at = pw.DateTimeField(default=now, index=True)
    kind = pw.CharField(max_length=40, index=True)        # created, edited, note, call_in, call_out, task, invoice…
    summary = pw.TextField(default="")
    user = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    ref_table = pw.CharField(max_length=40, default="")
    ref_id = pw.IntegerField(null=True)
    data = pw.TextField(default="")                        # JSON details

    class Meta:
        indexes = ((("customer", "at"), False),)


class SavedFilter(BaseModel):
    name = pw.CharField(max_length=80)
    owner = pw.ForeignKeyField(User, null=True, backref="+", on_delete="CASCADE")
    spec = pw.TextField()                                   # JSON of the filter fields


class Setting(BaseModel):
    """Office-wide settings (shared by every desk on a shared database)."""

    key = pw.CharField(max_length=80, primary_key=True)
    value = pw.TextField(default="")


class SchemaMigration(BaseModel):
    number = pw.IntegerField(primary_key=True)
    name = pw.CharField(max_length=120)
    applied_at = pw.DateTimeField(default=now)


CORE_MODELS = [User, Customer, PhoneNumber, Address, Tag, CustomerTag, Note, Activity, SavedFilter, Setting]
