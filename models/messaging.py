"""SMS and email: templates, the outbox (one row per message, written before it is sent), replies and opt-outs."""
from __future__ import annotations

import peewee as pw

from models.base import BaseModel, now
from models.core import Customer, User


class MessageTemplate(BaseModel):
    """A text with merge fields ({نام}, {مانده}, …). `purpose` tells advertising from service messages."""

    CHANNELS = ("sms", "email")
    PURPOSES = ("service", "advertising")

    name = pw.CharField(max_length=120, unique=True)
    channel = pw.CharField(max_length=8, default="sms")
    purpose = pw.CharField(max_length=12, default="service")
    subject = pw.CharField(max_length=200, default="")          # email only
    body = pw.TextField(default="")
    created_at = pw.DateTimeField(default=now)
    updated_at = pw.DateTimeField(default=now)


class Campaign(BaseModel):
    """A group send: the segment it went to and the text, so the outbox can say where a message came from."""

    name = pw.CharField(max_length=200, default="")
    channel = pw.CharField(max_length=8, default="sms")
    purpose = pw.CharField(max_length=12, default="service")
    body = pw.TextField(default="")
    segment = pw.TextField(default="")                          # JSON of the filter it was sent to
    total = pw.IntegerField(default=0)
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)


class Message(BaseModel):
    """One outgoing SMS or email.

    States: queued → sending → sent → delivered | undelivered
                             ↘ failed (the provider refused it: no credit, blacklisted …)
            sending → uncertain (a crash while the provider had it, and the provider cannot be asked)
            queued → cancelled
    A row is committed as `queued` before anything is sent, and as `sending` before the provider is called;
    a crash therefore never leaves a message that may have gone out looking unsent.
    """

    STATES = ("queued", "sending", "sent", "delivered", "undelivered", "failed", "uncertain", "cancelled")

    channel = pw.CharField(max_length=8, default="sms")
    local_id = pw.BigIntegerField(unique=True)                  # our id, given to providers that accept one
    customer = pw.ForeignKeyField(Customer, null=True, backref="messages", on_delete="SET NULL")
    campaign = pw.ForeignKeyField(Campaign, null=True, backref="messages", on_delete="SET NULL")
    recipient = pw.CharField(max_length=200, index=True)        # canonical mobile, or an email address
    subject = pw.CharField(max_length=200, default="")
    body = pw.TextField(default="")
    parts = pw.IntegerField(default=1)
    purpose = pw.CharField(max_length=12, default="service")
    provider = pw.CharField(max_length=20, default="")
    sender = pw.CharField(max_length=40, default="")
    state = pw.CharField(max_length=12, default="queued", index=True)
    claim = pw.CharField(max_length=32, default="")             # which delivery run took it to "sending"
    provider_id = pw.CharField(max_length=64, default="", index=True)
    status_code = pw.CharField(max_length=20, default="")
    error = pw.TextField(default="")
    auto_key = pw.CharField(max_length=80, null=True, unique=True)   # automatic messages: one per event
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now, index=True)
    sending_at = pw.DateTimeField(null=True)
    sent_at = pw.DateTimeField(null=True)
    status_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("state", "channel"), False), (("customer", "created_at"), False))


class OptOut(BaseModel):
    """A number (or an address) that asked not to receive messages: a «لغو۱۱» reply or a manual entry."""

    recipient = pw.CharField(max_length=200, unique=True)
    source = pw.CharField(max_length=12, default="manual")      # manual / reply / provider (blacklisted)
    note = pw.TextField(default="")
    created_at = pw.DateTimeField(default=now)


class InboundMessage(BaseModel):
    """A reply read from the provider's inbox."""

    provider = pw.CharField(max_length=20, default="")
    provider_id = pw.CharField(max_length=64)
    sender = pw.CharField(max_length=40, index=True)
    line = pw.CharField(max_length=40, default="")
    body = pw.TextField(default="")
    customer = pw.ForeignKeyField(Customer, null=True, backref="+", on_delete="SET NULL")
    received_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("provider", "provider_id"), True),)


MESSAGING_MODELS = [MessageTemplate, Campaign, Message, OptOut, InboundMessage]
