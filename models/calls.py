"""The call log: every call, known caller or not, from caller ID or typed by hand."""
from __future__ import annotations

import peewee as pw

from models.base import BaseModel, now
from models.core import Customer, User


class Call(BaseModel):
    DIRECTIONS = ("in", "out")
    # ringing → answered → ended, or ringing → missed; outgoing: dialing → ended
    STATES = ("ringing", "answered", "missed", "ended", "dialing")
    RESULTS = ("answered", "no_answer", "busy", "wrong_number", "voicemail", "")

    customer = pw.ForeignKeyField(Customer, null=True, backref="calls", on_delete="SET NULL")
    direction = pw.CharField(max_length=4, default="in", index=True)
    state = pw.CharField(max_length=10, default="ringing", index=True)
    result = pw.CharField(max_length=20, default="")
    number_raw = pw.CharField(max_length=40, default="")        # as the device reported / as typed
    number = pw.CharField(max_length=24, default="", index=True)  # canonical
    caller_name = pw.CharField(max_length=120, default="")      # name the network sent, if any
    number_status = pw.CharField(max_length=12, default="ok")   # ok / private / unavailable
    line = pw.IntegerField(null=True)
    line_label = pw.CharField(max_length=60, default="")
    source = pw.CharField(max_length=12, default="manual")      # manual, modem, ncid, segal, yasna, techno
    started_at = pw.DateTimeField(default=now, index=True)
    answered_at = pw.DateTimeField(null=True)
    ended_at = pw.DateTimeField(null=True)
    duration = pw.IntegerField(null=True)                       # seconds
    note = pw.TextField(default="")
    user = pw.ForeignKeyField(User, null=True, backref="calls", on_delete="SET NULL")
    handled = pw.BooleanField(default=False, index=True)        # someone logged what was said / called back

    class Meta:
        indexes = ((("customer", "started_at"), False),)
