"""The sales pipeline: office-defined stages, opportunities (فرصت فروش) with their lines, competitors, stage
history, linked proformas/invoices, the lead → customer conversion record and sales targets.

Money is integer Rials. Dates of the deal (expected close, closed, next step) are Gregorian dates; moments
(stage changes) are naive office-local datetimes. Probability is a whole percent 0–100.
"""
from __future__ import annotations

import peewee as pw

from models.base import BaseModel, now
from models.core import Customer, User
from models.sales import Product, SalesDocument
from models.tasks import Task


class PipelineStage(BaseModel):
    """A column of the board. `position` orders them (right to left on screen). A won stage closes the deal as
    won (probability 100), a lost stage as lost (probability 0, a lost reason required). `rot_days`: an open
    opportunity idle longer than this in the stage is flagged (0 = never)."""

    name = pw.CharField(max_length=60)
    position = pw.IntegerField(default=0, index=True)
    probability = pw.IntegerField(default=10)
    is_won = pw.BooleanField(default=False)
    is_lost = pw.BooleanField(default=False)
    rot_days = pw.IntegerField(default=0)
    color = pw.CharField(max_length=9, default="")
    active = pw.BooleanField(default=True)


class LostReason(BaseModel):
    name = pw.CharField(max_length=120, unique=True)
    position = pw.IntegerField(default=0)
    active = pw.BooleanField(default=True)


class Competitor(BaseModel):
    """A rival (رقیب) the office meets in deals."""

    name = pw.CharField(max_length=120, unique=True)
    website = pw.CharField(max_length=200, default="")
    strengths = pw.TextField(default="")
    weaknesses = pw.TextField(default="")
    notes = pw.TextField(default="")
    active = pw.BooleanField(default=True)


class Opportunity(BaseModel):
    STATUSES = ("open", "won", "lost")

    customer = pw.ForeignKeyField(Customer, backref="opportunities", on_delete="CASCADE")
    title = pw.CharField(max_length=200)
    value = pw.BigIntegerField(default=0)                       # expected value, Rials
    close_date = pw.DateField(null=True, index=True)            # expected close (the forecast date)
    stage = pw.ForeignKeyField(PipelineStage, backref="opportunities", on_delete="RESTRICT")
    probability = pw.IntegerField(default=10)
    probability_manual = pw.BooleanField(default=False)         # True: typed by a person, not the stage's default
    status = pw.CharField(max_length=8, default="open")
    owner = pw.ForeignKeyField(User, null=True, backref="opportunities", on_delete="SET NULL")
    source = pw.CharField(max_length=80, default="", index=True)
    campaign = pw.CharField(max_length=120, default="")
    next_step = pw.CharField(max_length=250, default="")
    next_step_date = pw.DateField(null=True)
    next_task = pw.ForeignKeyField(Task, null=True, backref="+", on_delete="SET NULL")
    notes = pw.TextField(default="")
    lost_reason = pw.ForeignKeyField(LostReason, null=True, backref="+", on_delete="SET NULL")
    close_note = pw.TextField(default="")                       # why it was won / lost, in words
    closed_at = pw.DateField(null=True, index=True)
    stage_changed_at = pw.DateTimeField(default=now)
    last_activity_at = pw.DateTimeField(default=now)            # rotting is measured from here
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now, index=True)
    updated_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = (
            (("status", "stage"), False),
            (("status", "close_date"), False),
            (("owner", "status"), False),
            (("customer", "status"), False),
        )


class OpportunityLine(BaseModel):
    """A product or service the customer is interested in (optional)."""

    opportunity = pw.ForeignKeyField(Opportunity, backref="lines", on_delete="CASCADE")
    position = pw.IntegerField(default=0)
    product = pw.ForeignKeyField(Product, null=True, backref="+", on_delete="SET NULL")
    description = pw.CharField(max_length=300, default="")
    quantity = pw.DecimalField(max_digits=18, decimal_places=3, auto_round=True, default=1)
    unit_price = pw.BigIntegerField(default=0)
    amount = pw.BigIntegerField(default=0)


class OpportunityCompetitor(BaseModel):
    opportunity = pw.ForeignKeyField(Opportunity, backref="competitors", on_delete="CASCADE")
    competitor = pw.ForeignKeyField(Competitor, backref="opportunities", on_delete="CASCADE")
    price = pw.BigIntegerField(null=True)                       # their offer, Rials
    strengths = pw.TextField(default="")
    notes = pw.TextField(default="")

    class Meta:
        indexes = ((("opportunity", "competitor"), True),)


class StageChange(BaseModel):
    """One move of an opportunity (the first row is its creation: from_stage empty). Never edited."""

    opportunity = pw.ForeignKeyField(Opportunity, backref="history", on_delete="CASCADE")
    from_stage = pw.ForeignKeyField(PipelineStage, null=True, backref="+", on_delete="SET NULL")
    to_stage = pw.ForeignKeyField(PipelineStage, backref="+", on_delete="CASCADE")
    at = pw.DateTimeField(default=now)
    user = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    probability = pw.IntegerField(default=0)
    value = pw.BigIntegerField(default=0)
    note = pw.TextField(default="")

    class Meta:
        indexes = ((("opportunity", "at"), False),)


class OpportunityDocument(BaseModel):
    """A proforma or invoice issued for the opportunity."""

    opportunity = pw.ForeignKeyField(Opportunity, backref="documents", on_delete="CASCADE")
    document = pw.ForeignKeyField(SalesDocument, backref="+", on_delete="CASCADE")
    linked_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("opportunity", "document"), True), (("document",), False))


class CustomerConversion(BaseModel):
    """When, by whom and from what a lead (سرنخ) became a customer."""

    VIA = ("opportunity", "invoice", "manual")

    customer = pw.ForeignKeyField(Customer, backref="conversions", on_delete="CASCADE")
    at = pw.DateTimeField(default=now)
    user = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    via = pw.CharField(max_length=12)
    opportunity = pw.ForeignKeyField(Opportunity, null=True, backref="+", on_delete="SET NULL")
    document = pw.ForeignKeyField(SalesDocument, null=True, backref="+", on_delete="SET NULL")
    source = pw.CharField(max_length=80, default="")            # the lead's source at conversion


class SalesTarget(BaseModel):
    """A rep's sales target for one Jalali month (Rials)."""

    user = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    year = pw.IntegerField()
    month = pw.IntegerField()
    amount = pw.BigIntegerField(default=0)

    class Meta:
        indexes = ((("user", "year", "month"), True),)


PIPELINE_MODELS = [PipelineStage, LostReason, Competitor, Opportunity, OpportunityLine, OpportunityCompetitor,
                   StageChange, OpportunityDocument, CustomerConversion, SalesTarget]
