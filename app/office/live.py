"""What a desk does with the other desks' events, as plain rules (the widgets are in ui/office/live.py).

- Calls: which lines this desk watches (desk setting office.watch_lines: «all», «none», or line numbers such as
  «2» or «1،3»); a call event becomes a CallView again for the popup.
- Calls from the office's telephone system name the extensions that ring: such a call pops on the desk of the
  colleague whose extension rings (the signed-in person's extension, or the desk's own «داخلی این میز»), and not
  on the desks of colleagues with another extension (unless their desk asks for every extension,
  office.watch_other_extensions). A desk with no extension (a reception PC without a phone of its own) follows
  its lines. The desk holding the device applies the same rule to its own popups when other desks share the
  office (PostgreSQL); alone (SQLite) it shows every call.
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
WATCH_OTHER_EXTENSIONS = options.OFFICE_WATCH_OTHER_EXTENSIONS

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


def format_watch(watch: str | frozenset[int]) -> str:
    """The stored form of a watch choice: «all», «none» or «1,3»."""
    if watch in (ALL, NONE):
        return str(watch)
    return ",".join(str(n) for n in sorted(watch)) or NONE


def desk_extensions(user_id: int | None) -> frozenset[str]:
    """The extensions whose calls are this desk's: the signed-in colleague's own and the desk's «داخلی این
    میز» (callerid.pbx_extension)."""
    from app.core.text import to_ascii_digits

    out = set()
    desk = to_ascii_digits(str(settings.get(options.CALLERID_PBX_EXTENSION) or "")).strip()
    if desk:
        out.add(desk)
    if user_id:
        try:
            from models.core import User

            ext = User.select(User.extension).where(User.id == user_id).scalar()
        except Exception:  # an old database without the column, a lost connection: the desk's own only
            logger.warning("extension of user %s not read", user_id, exc_info=True)
            ext = None
        if ext:
            out.add(str(ext).strip())
    return frozenset(out)


def call_extensions(view: Any) -> frozenset[str]:
    """The extensions a call rang (from a PBX); empty for the lines of a caller-ID box."""
    exts = {str(e) for e in (getattr(view, "extensions", None) or ()) if e}
    if getattr(view, "extension", ""):
        exts.add(str(view.extension))
    return frozenset(exts)


def extension_decides(view: Any, mine: frozenset[str], others: bool | None = None) -> bool | None:
    """True: the call rings this desk's extension; False: it rings only others' and this desk has an extension
    of its own (and does not ask for everyone's); None: extensions do not decide (no PBX, or no extension here,
    or the desk watches every extension)."""
    rang = call_extensions(view)
    if not rang:
        return None
    if mine & rang:
        return True
    if not mine:
        return None
    if others is None:
        others = bool(settings.get(WATCH_OTHER_EXTENSIONS))
    return None if others else False


def shows_call(view: Any, mine: frozenset[str] = frozenset(), watch: str | frozenset[int] | None = None,
               others: bool | None = None) -> bool:
    """Does this desk pop another desk's call? Its extension first, then its lines."""
    by_ext = extension_decides(view, mine, others)
    if by_ext is not None:
        return by_ext
    return watches(view.line, watch)


def shows_own_call(view: Any, mine: frozenset[str], shared: bool, others: bool | None = None) -> bool:
    """Does the desk holding the device pop its own call? Always when it is the only desk; with other desks
    (shared), not a call that rings only a colleague's extension."""
    if not shared:
        return True
    return extension_decides(view, mine, others) is not False


def answered_elsewhere(view: Any, mine: frozenset[str]) -> bool:
    """A ring group's call answered at another extension: the popup on this desk has done its job (it only
    rang here). Only a desk with an extension of its own can tell; a reception PC without one (it follows its
    lines) and the answering desk keep their popups."""
    answered = str(getattr(view, "answered_by", "") or "").strip()
    if not answered or not mine or view.direction != "in" or view.state != "answered":
        return False
    return answered not in mine


def answerer_name(ext: str) -> str:
    """Who answered at an extension, for «پاسخ داده شد: …»: the colleague's name, else «داخلی ۱۰۳»."""
    from app import fmt
    from app.callerid.service import user_at_extension

    try:
        uid = user_at_extension(ext)
        if uid:
            from models.core import User

            name = User.select(User.name).where(User.id == uid).scalar()
            if name:
                return str(name)
    except Exception:  # the extension rather than nothing
        logger.warning("name of extension %s not read", ext, exc_info=True)
    return f"داخلی {fmt.digits(ext)}"


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
            elif isinstance(v, list):
                v = tuple(v)
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
