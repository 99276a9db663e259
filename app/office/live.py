"""What a desk does with the other desks' events, as plain rules (the widgets are in ui/office/live.py).

- Calls: which lines this desk watches (desk setting office.watch_lines: «all», «none», or line numbers such as
  «2» or «1،3»); a call event becomes a CallView again for the popup.
- `changed`: which list of the program a table belongs to (the bus's data_changed keys).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from app import options, settings

logger = logging.getLogger(__name__)

WATCH_LINES = options.OFFICE_WATCH_LINES       # declared in app/options.py

ALL = "all"
NONE = "none"

# table → the key of Bus.data_changed that shows it
TABLE_KEYS = {
    "customer": "customers", "phone_number": "customers", "address": "customers", "tag": "customers",
    "customer_tag": "customers", "note": "customers", "activity": "customers", "saved_filter": "customers",
    "call": "calls",
    "task": "tasks", "task_referral": "tasks", "reminder": "tasks",
    "meeting": "meetings",
    "sales_document": "invoices", "sales_line": "invoices", "document_counter": "invoices",
    "payment": "payments", "payment_allocation": "payments",
    "product": "products",
    "setting": "settings",
    "user": "users",
}


def bus_key(table: str) -> str:
    """The data_changed key for a table (unknown tables pass as they are)."""
    return TABLE_KEYS.get(table, table)


def parse_watch(text: Any) -> str | frozenset[int]:
    """«all» / «همه» → ALL, «none» / «هیچ» / empty → NONE, «1، 3» / «۲» → those line numbers."""
    from app.core.text import to_ascii_digits

    t = to_ascii_digits(str(text or "")).strip().lower()
    if t in ("all", "همه", "*"):
        return ALL
    if t in ("", "none", "هیچ", "هیچکدام", "هیچ‌کدام"):
        return NONE
    lines = set()
    for part in t.replace("،", ",").replace("؛", ",").replace(";", ",").replace(" ", ",").split(","):
        part = part.strip()
        if part.isdigit():
            lines.add(int(part))
    return frozenset(lines) if lines else NONE


def watched_lines() -> str | frozenset[int]:
    return parse_watch(settings.get(WATCH_LINES))


def watches(line: int | None, watch: str | frozenset[int] | None = None) -> bool:
    """Does this desk show calls on `line`? A call with no line number (a one-line modem) counts as line 1."""
    w = watched_lines() if watch is None else watch
    if w == ALL:
        return True
    if w == NONE:
        return False
    return (line or 1) in w


def call_payload(view: Any) -> dict:
    """A CallView as JSON-ready data (dates as ISO text)."""
    out = {}
    for f in dataclasses.fields(view):
        v = getattr(view, f.name)
        out[f.name] = v.isoformat() if isinstance(v, dt.datetime | dt.date) else v
    return out


def call_view(payload: dict) -> Any | None:
    """The CallView a call event describes, or None when it cannot be read (another version's fields)."""
    from app.callerid.service import CallView

    kwargs = {}
    try:
        for f in dataclasses.fields(CallView):
            if f.name not in payload:
                continue
            v = payload[f.name]
            if isinstance(v, str) and f.name.endswith("_at"):
                v = dt.datetime.fromisoformat(v)
            kwargs[f.name] = v
        return CallView(**kwargs)
    except (TypeError, ValueError):
        logger.warning("a call event from another desk could not be read: %r", payload, exc_info=True)
        return None


def publish_call(view: Any) -> None:
    """The desk that owns the caller-ID device tells the others about each call update."""
    from app.office import events

    try:
        events.publish("call", call_payload(view))
    except Exception:  # the popup on this desk matters more than the others'
        logger.exception("call event not sent")
