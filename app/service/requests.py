"""Service requests (درخواست خدمت / تیکت): create from a call, a visit, an SMS or an e-mail; reply, note, change
status, hand over; survey after closing.

Status keys are fixed (new, in_progress, waiting, done, closed); the office names them in the settings.
Reaching done or closed the first time marks the request resolved: its service time and whether the target
(SLA) was met are written then, in business minutes, so the KPIs are sums and counts in SQL.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field

import peewee as pw

from app import options, settings
from app.core.clock import now
from app.core.errors import NotFound, UserError, ValidationError
from app.core.text import clean
from app.customers import timeline
from app.service import hours, reassign
from models.calls import Call
from models.core import Customer, User
from models.sales import DocumentCounter, Product, SalesDocument
from models.service import RequestEntry, ServiceCategory, ServiceRequest
from models.writer import writes

logger = logging.getLogger(__name__)




RESOLVED = ("done", "closed")
CHANNEL_LABELS = {"phone": "تلفن", "visit": "مراجعه حضوری", "sms": "پیامک", "email": "ایمیل", "other": "سایر"}
PRIORITY_LABELS = {0: "کم", 1: "عادی", 2: "زیاد", 3: "فوری"}
ENTRY_LABELS = {"reply": "پاسخ به مشتری", "note": "یادداشت داخلی", "status": "تغییر وضعیت",
                "assign": "ارجاع", "survey": "نظرسنجی"}
DEFAULT_CATEGORIES = (("تعمیر", 120, 16 * 60, False), ("نصب و راه‌اندازی", 240, 3 * 9 * 60, False),
                      ("پرسش فنی", 30, 4 * 60, False), ("شکایت", 60, 2 * 9 * 60, True))


def status_labels() -> dict[str, str]:
    names = settings.csv_list(options.SERVICE_STATUS_NAMES)
    defaults = ("جدید", "در دست بررسی", "در انتظار مشتری", "انجام شد", "بسته")
    return {k: (names[i] if i < len(names) else defaults[i]) for i, k in enumerate(ServiceRequest.STATUSES)}


# --- categories ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryRow:
    id: int
    name: str
    response_minutes: int
    resolve_minutes: int
    is_complaint: bool
    active: bool


def list_categories(active_only: bool = True) -> list[CategoryRow]:
    q = ServiceCategory.select().order_by(ServiceCategory.position, ServiceCategory.id)
    if active_only:
        q = q.where(ServiceCategory.active == True)  # noqa: E712
    return [CategoryRow(c.id, c.name, c.response_minutes, c.resolve_minutes, c.is_complaint, c.active) for c in q]


@writes
def save_category(name: str, response_minutes: int, resolve_minutes: int, is_complaint: bool = False,
                  category_id: int | None = None, active: bool = True) -> ServiceCategory:
    name = clean(name)
    errors = {}
    if not name:
        errors["name"] = "نام دسته را بنویسید."
    for key, v in (("response_minutes", response_minutes), ("resolve_minutes", resolve_minutes)):
        if not isinstance(v, int) or v <= 0 or v > 60 * 24 * 365:
            errors[key] = "مهلت باید عددی مثبت (دقیقه کاری) باشد."
    clash = ServiceCategory.get_or_none(ServiceCategory.name == name)
    if clash and clash.id != category_id:
        errors["name"] = "دسته‌ای با این نام هست."
    if errors:
        raise ValidationError(errors)
    fields = dict(name=name, response_minutes=response_minutes, resolve_minutes=resolve_minutes,
                  is_complaint=is_complaint, active=active)
    if category_id:
        ServiceCategory.update(**fields).where(ServiceCategory.id == category_id).execute()
        return ServiceCategory.get_by_id(category_id)
    pos = (ServiceCategory.select(pw.fn.MAX(ServiceCategory.position)).scalar() or 0) + 1
    return ServiceCategory.create(position=pos, **fields)


@writes
def delete_category(category_id: int) -> None:
    """Only a category no request uses; one in use is made inactive instead, so its reports keep their name."""
    used = ServiceRequest.select().where(ServiceRequest.category == category_id).count()
    if used:
        raise UserError(f"{used} درخواست در این دسته ثبت شده است؛ به جای حذف، آن را غیرفعال کنید "
                        "(در فهرست درخواست تازه نمی‌آید و گزارش‌های گذشته نامش را نگه می‌دارند).",
                        en=f"{used} requests use this category; make it inactive instead.")
    if not ServiceCategory.delete().where(ServiceCategory.id == category_id).execute():
        raise NotFound("این دسته پیدا نشد.", en="Category not found.")


@writes
def move_category(category_id: int, step: int) -> None:
    """One place up (step -1) or down (+1) in the lists the office sees."""
    ids = [c.id for c in list_categories(active_only=False)]
    if category_id not in ids:
        raise NotFound("این دسته پیدا نشد.", en="Category not found.")
    i = ids.index(category_id)
    j = max(0, min(len(ids) - 1, i + step))
    ids.insert(j, ids.pop(i))
    for pos, cid in enumerate(ids):
        ServiceCategory.update(position=pos).where(ServiceCategory.id == cid).execute()


def save_status_names(names: list[str]) -> list[str]:
    """The office's five names for new, in progress, waiting for the customer, done and closed."""
    names = [clean(n) for n in names]
    if len(names) != len(ServiceRequest.STATUSES) or not all(names):
        raise ValidationError({"status_names": "برای هر پنج وضعیت نامی بنویسید."})
    if len(set(names)) != len(names):
        raise ValidationError({"status_names": "نام دو وضعیت یکی است؛ هر وضعیت نام خودش را می‌خواهد."})
    if any(len(n) > 40 or any(ch in n for ch in ",،؛;") for n in names):
        raise ValidationError({"status_names": "نام وضعیت کوتاه باشد (تا ۴۰ نویسه) و ویرگول نداشته باشد."})
    settings.set(options.SERVICE_STATUS_NAMES, "، ".join(names))
    return names


# --- views --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EntryView:
    id: int
    kind: str
    label: str
    body: str
    user_name: str
    at: dt.datetime
    data: dict


@dataclass
class RequestView:
    id: int
    number: str
    customer_id: int
    customer_name: str
    subject: str
    description: str
    category_id: int | None
    category_name: str
    is_complaint: bool
    priority: int
    channel: str
    status: str
    status_label: str
    assignee_id: int | None
    assignee_name: str
    call_id: int | None
    product_id: int | None
    product_name: str
    serial: str
    invoice_id: int | None
    invoice_number: str
    received_at: dt.datetime
    response_due_at: dt.datetime | None
    due_at: dt.datetime | None
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    sla_met: bool | None
    overdue: bool
    satisfaction: int | None
    satisfaction_comment: str
    entries: list[EntryView] = field(default_factory=list)


@dataclass(frozen=True)
class RequestRow:
    id: int
    number: str
    customer_id: int
    customer_name: str
    subject: str
    category_name: str
    priority: int
    status: str
    assignee_name: str
    received_at: dt.datetime
    due_at: dt.datetime | None
    overdue: bool


def _name(c: Customer | None) -> str:
    return c.display_name if c else ""


def _user_name(uid: int | None) -> str:
    if not uid:
        return ""
    u = User.get_or_none(User.id == uid)
    return u.name if u else ""


def is_overdue(status: str, due_at: dt.datetime | None, at: dt.datetime | None = None) -> bool:
    return status not in RESOLVED and due_at is not None and due_at < (at or now())


def get_request(request_id: int) -> ServiceRequest:
    r = ServiceRequest.get_or_none(ServiceRequest.id == request_id)
    if r is None:
        raise NotFound("این درخواست خدمت پیدا نشد (شاید حذف شده است).", en="Service request not found.")
    return r


def request_view(request_id: int) -> RequestView:
    r = get_request(request_id)
    cat = ServiceCategory.get_or_none(ServiceCategory.id == r.category_id) if r.category_id else None
    prod = Product.get_or_none(Product.id == r.product_id) if r.product_id else None
    inv = SalesDocument.get_or_none(SalesDocument.id == r.invoice_id) if r.invoice_id else None
    labels = status_labels()
    entries = []
    q = (RequestEntry.select(RequestEntry, User.name).join(User, pw.JOIN.LEFT_OUTER, on=(RequestEntry.user == User.id))
         .where(RequestEntry.request == r.id).order_by(RequestEntry.at, RequestEntry.id))
    for e in q.objects():
        try:
            data = json.loads(e.data) if e.data else {}
        except ValueError:
            data = {}
        entries.append(EntryView(e.id, e.kind, ENTRY_LABELS.get(e.kind, e.kind), e.body,
                                 getattr(e, "name", None) or "", e.at, data))
    return RequestView(
        r.id, r.number, r.customer_id, _name(Customer.get_or_none(Customer.id == r.customer_id)), r.subject,
        r.description, r.category_id, cat.name if cat else "", bool(cat and cat.is_complaint), r.priority,
        r.channel, r.status, labels.get(r.status, r.status), r.assignee_id, _user_name(r.assignee_id), r.call_id,
        r.product_id, prod.name if prod else "", r.serial, r.invoice_id, (inv.number or "") if inv else "",
        r.received_at, r.response_due_at, r.due_at, r.first_response_at, r.resolved_at, r.closed_at, r.sla_met,
        is_overdue(r.status, r.due_at), r.satisfaction, r.satisfaction_comment, entries)


@dataclass
class RequestFilter:
    text: str = ""
    status: str = ""                 # a key, "open" (not done/closed), or "" for all
    assignee_id: int | None = None
    customer_id: int | None = None
    overdue: bool = False
    complaints: bool = False
    limit: int = 500


def list_requests(f: RequestFilter | None = None, at: dt.datetime | None = None) -> tuple[list[RequestRow], int]:
    """Newest first; at most f.limit rows, and how many match in all."""
    f = f or RequestFilter()
    at = at or now()
    q = (ServiceRequest.select(ServiceRequest.id, ServiceRequest.number, ServiceRequest.customer,
                               Customer.first_name, Customer.last_name, Customer.company, Customer.kind,
                               ServiceRequest.subject, ServiceCategory.name.alias("cat"), ServiceRequest.priority,
                               ServiceRequest.status, User.name.alias("who"), ServiceRequest.received_at,
                               ServiceRequest.due_at)
         .join(Customer, on=(ServiceRequest.customer == Customer.id))
         .switch(ServiceRequest).join(ServiceCategory, pw.JOIN.LEFT_OUTER,
                                      on=(ServiceRequest.category == ServiceCategory.id))
         .switch(ServiceRequest).join(User, pw.JOIN.LEFT_OUTER, on=(ServiceRequest.assignee == User.id)))
    conds = []
    if f.status == "open":
        conds.append(ServiceRequest.status.not_in(RESOLVED))
    elif f.status:
        conds.append(ServiceRequest.status == f.status)
    if f.assignee_id:
        conds.append(ServiceRequest.assignee == f.assignee_id)
    if f.customer_id:
        conds.append(ServiceRequest.customer == f.customer_id)
    if f.overdue:
        conds += [ServiceRequest.status.not_in(RESOLVED), ServiceRequest.due_at < at]
    if f.complaints:
        conds.append(ServiceCategory.is_complaint == True)  # noqa: E712
    text = clean(f.text)
    if text:
        like = f"%{text}%"
        conds.append(ServiceRequest.subject.contains(text) | ServiceRequest.number.contains(text)
                     | ServiceRequest.serial.contains(text) | Customer.search_text.contains(text.lower())
                     | (Customer.last_name ** like) | (Customer.company ** like))
    if conds:
        q = q.where(*conds)
    total = q.count()
    rows = []
    for r in q.order_by(ServiceRequest.received_at.desc(), ServiceRequest.id.desc()).limit(f.limit).dicts():
        person = " ".join(p for p in (r["first_name"], r["last_name"]) if p)
        name = (r["company"] or person) if r["kind"] == "organisation" else (person or r["company"])
        rows.append(RequestRow(r["id"], r["number"], r["customer"], name, r["subject"], r["cat"] or "",
                               r["priority"], r["status"], r["who"] or "", _dt_set(r["received_at"]),
                               _dt(r["due_at"]), is_overdue(r["status"], _dt(r["due_at"]), at)))
    return rows, total


def _dt(v) -> dt.datetime | None:
    if v is None or isinstance(v, dt.datetime):
        return v
    return dt.datetime.fromisoformat(str(v))


def _dt_set(v) -> dt.datetime:
    """_dt for a NOT NULL column (received_at)."""
    d = _dt(v)
    if d is None:
        raise ValueError("a NOT NULL date-time column was read as NULL")
    return d


# --- writing ------------------------------------------------------------------------------------------------

def _entry(r: ServiceRequest, kind: str, body: str = "", user: int | None = None, at: dt.datetime | None = None,
           data: dict | None = None) -> RequestEntry:
    return RequestEntry.create(request=r.id, kind=kind, body=body, user=user, at=at or now(),
                               data=json.dumps(data, ensure_ascii=False, default=str) if data else "")


def _next_number(at: dt.datetime) -> str:
    year = hours.jd(at) // 10000
    DocumentCounter.insert(doc_type="service", year=year, last=0).on_conflict_ignore().execute()
    (DocumentCounter.update(last=DocumentCounter.last + 1)
     .where((DocumentCounter.doc_type == "service") & (DocumentCounter.year == year)).execute())
    seq = (DocumentCounter.select(DocumentCounter.last)
           .where((DocumentCounter.doc_type == "service") & (DocumentCounter.year == year)).scalar())
    return f"S{year}-{seq:05d}"


def _targets(category_id: int | None) -> tuple[int, int]:
    cat = ServiceCategory.get_or_none(ServiceCategory.id == category_id) if category_id else None
    if cat is not None:
        return cat.response_minutes, cat.resolve_minutes
    return (int(settings.get(options.SERVICE_DEFAULT_RESPONSE_MINUTES)),
            int(settings.get(options.SERVICE_DEFAULT_RESOLVE_MINUTES)))


def _set_due(r: ServiceRequest, sched: hours.Schedule) -> None:
    resp, res = _targets(r.category_id)
    r.response_due_at = hours.add_business_minutes(r.received_at, resp, sched)
    r.due_at = hours.add_business_minutes(r.received_at, res, sched)


def _validate(data: dict, existing: ServiceRequest | None = None) -> dict:
    def old(key, default=None):
        return getattr(existing, key) if existing is not None else default

    errors: dict[str, str] = {}
    out: dict = {}
    subject = clean(data.get("subject", old("subject", "")))
    if not subject:
        errors["subject"] = "موضوع درخواست را بنویسید."
    elif len(subject) > 200:
        errors["subject"] = "موضوع درخواست بیش از ۲۰۰ نویسه است."
    out["subject"] = subject
    desc = data.get("description", old("description", "")) or ""
    out["description"] = "\n".join(clean(x) for x in str(desc).splitlines()).strip()
    for key, model, label in (("customer_id", Customer, "این مشتری پیدا نشد."),
                              ("category_id", ServiceCategory, "این دسته پیدا نشد."),
                              ("assignee_id", User, "این همکار پیدا نشد."),
                              ("product_id", Product, "این کالا پیدا نشد."),
                              ("invoice_id", SalesDocument, "این فاکتور پیدا نشد."),
                              ("call_id", Call, "این تماس پیدا نشد.")):
        v = data.get(key, old(key))
        if v in ("", 0):
            v = None
        if v is not None and not model.select().where(model.id == v).exists():
            errors[key] = label
        out[key] = v
    if out["customer_id"] is None and "customer_id" not in errors:
        errors["customer_id"] = "مشتری درخواست را انتخاب کنید."
    prio = data.get("priority", old("priority", 1))
    try:
        prio = int(prio)
    except (TypeError, ValueError):
        prio = -1
    if prio not in ServiceRequest.PRIORITIES:
        errors["priority"] = "اولویت درست نیست."
    out["priority"] = prio
    channel = data.get("channel") or old("channel", "phone")
    if channel not in ServiceRequest.CHANNELS:
        errors["channel"] = "راه دریافت درخواست درست نیست."
    out["channel"] = channel
    out["serial"] = clean(data.get("serial", old("serial", "")))[:80]
    if errors:
        raise ValidationError(errors)
    return out


@writes
def create_request(data: dict, user: int | None = None) -> ServiceRequest:
    """data: customer_id (or call_id: the caller's customer), subject, description, category_id, priority,
    channel, assignee_id (default: the office's rule, else the creator), product_id, serial, invoice_id,
    received_at (default: the call's start, else now)."""
    data = dict(data)
    call = Call.get_or_none(Call.id == data["call_id"]) if data.get("call_id") else None
    if call is not None:
        data.setdefault("channel", "phone")
        if not data.get("customer_id") and call.customer_id:
            data["customer_id"] = call.customer_id
    d = _validate(data)
    received = data.get("received_at") or (call.started_at if call is not None else None) or now()
    if not isinstance(received, dt.datetime):
        raise ValidationError({"received_at": "زمان دریافت درخواست درست نیست."})
    assignee = d["assignee_id"]
    if assignee is None:
        assignee = reassign.pick(exclude=None) or user
    sched = hours.office_schedule()
    r = ServiceRequest(number=_next_number(received), customer=d["customer_id"], subject=d["subject"],
                       description=d["description"], category=d["category_id"], priority=d["priority"],
                       channel=d["channel"], status="new", assignee=assignee, created_by=user, call=d["call_id"],
                       product=d["product_id"], serial=d["serial"], invoice=d["invoice_id"], received_at=received,
                       received_jd=hours.jd(received), updated_at=now())
    _set_due(r, sched)
    r.save()
    _entry(r, "status", "", user, received, {"to": "new", "assignee": assignee})
    timeline.record(r.customer_id, "service", f"درخواست خدمت {r.number}: {r.subject}", "service_request", r.id,
                    user=user, at=received)
    if assignee and assignee != user:
        _notice(r, assignee, user, "درخواست تازه به شما سپرده شد.")
    logger.info("service request %s created", r.number)
    return r


@writes
def update_request(request_id: int, data: dict, user: int | None = None) -> ServiceRequest:
    r = get_request(request_id)
    d = _validate(data, existing=r)
    category_changed = d["category_id"] != r.category_id
    for k in ("subject", "description", "priority", "channel", "serial"):
        setattr(r, k, d[k])
    r.customer, r.category, r.product, r.invoice = d["customer_id"], d["category_id"], d["product_id"], d["invoice_id"]
    if category_changed:
        _set_due(r, hours.office_schedule())
    r.updated_at = now()
    r.save()
    if d["assignee_id"] and d["assignee_id"] != r.assignee_id:
        assign(r.id, d["assignee_id"], by_user=user)
    return r


def _respond(r: ServiceRequest, user: int | None, at: dt.datetime, sched: hours.Schedule) -> None:
    if r.first_response_at is None:
        r.first_response_at = at
        r.first_response_by = user
        r.response_minutes = hours.business_minutes(r.received_at, at, sched)


@writes
def reply(request_id: int, body: str, user: int | None = None, at: dt.datetime | None = None) -> RequestEntry:
    """A reply to the customer (by phone, SMS, in person): the first one is the first response."""
    body = "\n".join(clean(x) for x in str(body or "").splitlines()).strip()
    if not body:
        raise ValidationError({"body": "متن پاسخ را بنویسید."})
    r = get_request(request_id)
    at = at or now()
    e = _entry(r, "reply", body, user, at)
    _respond(r, user, at, hours.office_schedule())
    r.reply_count += 1
    if r.status == "new":
        _entry(r, "status", "", user, at, {"from": "new", "to": "in_progress"})
        r.status = "in_progress"
    r.updated_at = at
    r.save()
    return e


@writes
def add_note(request_id: int, body: str, user: int | None = None, at: dt.datetime | None = None) -> RequestEntry:
    """An internal note: colleagues see it; it is not a response to the customer."""
    body = "\n".join(clean(x) for x in str(body or "").splitlines()).strip()
    if not body:
        raise ValidationError({"body": "متن یادداشت را بنویسید."})
    r = get_request(request_id)
    return _entry(r, "note", body, user, at)


@writes
def set_status(request_id: int, status: str, user: int | None = None, note: str = "",
               at: dt.datetime | None = None) -> ServiceRequest:
    if status not in ServiceRequest.STATUSES:
        raise ValidationError({"status": "وضعیت درست نیست."})
    r = get_request(request_id)
    if r.status == status:
        return r
    at = at or now()
    sched = hours.office_schedule()
    old = r.status
    if status in RESOLVED and r.resolved_at is None:
        _respond(r, user, at, sched)            # solving it is contacting the customer
        r.resolved_at, r.resolved_by, r.resolved_jd = at, user, hours.jd(at)
        r.service_minutes = hours.business_minutes(r.received_at, at, sched)
        r.sla_met = r.due_at is None or at <= r.due_at
        timeline.record(r.customer_id, "service_done", f"درخواست خدمت {r.number} انجام شد: {r.subject}",
                        "service_request", r.id, user=user, at=at)
    elif status not in RESOLVED:                 # reopened: not resolved any more
        r.resolved_at = r.resolved_by = r.resolved_jd = r.service_minutes = r.sla_met = None
        r.closed_at = None
    if status == "closed":
        r.closed_at = at
    elif status == "done":
        r.closed_at = None
    r.status = status
    r.updated_at = at
    r.save()
    _entry(r, "status", clean(note), user, at, {"from": old, "to": status})
    return r


def _notice(r: ServiceRequest, to_user: int, by_user: int | None, reason: str) -> None:
    """The new assignee's inbox gets a task pointing at the request."""
    from app.tasks import service as tasks

    tasks.create_task({"title": f"درخواست خدمت {r.number}: {r.subject}"[:200], "kind": "task",
                       "customer_id": r.customer_id, "assignee_id": to_user, "due_at": r.due_at or now(),
                       "priority": 2 if r.priority < 2 else 3, "description": reason}, user=by_user)


@writes
def assign(request_id: int, to_user: int, by_user: int | None = None, reason: str = "",
           auto: str = "", at: dt.datetime | None = None) -> ServiceRequest:
    """Hand the request to a colleague; a task lands in their inbox. `auto` names an automatic hand-over
    ("unhandled" / "overdue")."""
    target = User.get_or_none(User.id == to_user) if to_user else None
    if target is None or not target.active:
        raise ValidationError({"assignee_id": "این همکار پیدا نشد یا غیرفعال است."})
    r = get_request(request_id)
    if r.status in RESOLVED:
        raise UserError("درخواست انجام‌شده یا بسته را نمی‌توان ارجاع داد؛ اول آن را دوباره باز کنید.")
    if r.assignee_id == to_user:
        raise ValidationError({"assignee_id": f"این درخواست همین حالا با {target.name} است."})
    at = at or now()
    old = r.assignee_id
    r.assignee = to_user
    r.reassign_count += 1
    if auto:
        r.escalation = auto
    r.updated_at = at
    r.save()
    reason = clean(reason)
    _entry(r, "assign", reason, by_user, at, {"from": old, "to": to_user, "auto": auto})
    who = _user_name(old) or "—"
    timeline.record(r.customer_id, "service_assigned",
                    f"درخواست {r.number} از {who} به {target.name} ارجاع شد" + (f": {reason}" if reason else "."),
                    "service_request", r.id, user=by_user, at=at)
    _notice(r, to_user, by_user, reason or "این درخواست به شما ارجاع شد.")
    return r


@writes
def record_survey(request_id: int, score: int, comment: str = "", user: int | None = None,
                  at: dt.datetime | None = None) -> ServiceRequest:
    """The customer's satisfaction (1–5) after the request was done, as the receptionist heard it."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ValidationError({"score": "امتیاز رضایت باید عددی از ۱ تا ۵ باشد."})
    r = get_request(request_id)
    if r.status not in RESOLVED:
        raise UserError("نظرسنجی پس از انجام یا بستن درخواست ثبت می‌شود.")
    at = at or now()
    r.satisfaction, r.satisfaction_comment, r.satisfaction_at = score, clean(comment), at
    r.save()
    _entry(r, "survey", clean(comment), user, at, {"score": score})
    timeline.record(r.customer_id, "service_survey", f"رضایت از درخواست {r.number}: {score} از ۵", "service_request",
                    r.id, user=user, at=at)
    return r


def request_id_of(number: str) -> int:
    """The request numbered «S1405-00012» (Persian digits, spaces or lower case too)."""
    key = clean(number).replace(" ", "").upper()          # clean() makes the digits ASCII
    rid = ServiceRequest.select(ServiceRequest.id).where(ServiceRequest.number == key).scalar() if key else None
    if rid is None:
        raise NotFound(f"درخواست خدمتی با شماره «{clean(number)}» پیدا نشد.",
                       en=f"No service request numbered {number}.")
    return int(rid)


def colleague_id(username: str) -> int:
    """An active colleague's id by user name (the command line names people so)."""
    name = clean(username).lower()
    uid = (User.select(User.id).where(pw.fn.LOWER(User.username) == name, User.active == True).scalar()  # noqa: E712
           if name else None)
    if uid is None:
        raise NotFound(f"همکار فعالی با نام کاربری «{clean(username)}» نیست.",
                       en=f"No active colleague with the user name {username}.")
    return int(uid)


def category_id_of(name: str) -> int:
    """A category by its name as the office wrote it (Arabic ی/ک and spacing folded)."""
    from app.core.text import compact_key

    key = compact_key(name)
    for c in list_categories(active_only=False):
        if compact_key(c.name) == key:
            return c.id
    names = "، ".join(c.name for c in list_categories())
    raise NotFound(f"دسته‌ای با نام «{clean(name)}» نیست. دسته‌ها: {names}",
                   en=f"No category named {name}.")


@dataclass(frozen=True)
class CallOrigin:
    """What a request taken from a call starts with: the call, its customer (if known) and its time."""

    call_id: int
    customer_id: int | None
    started_at: dt.datetime | None


def call_origin(call_id: int | None) -> CallOrigin | None:
    """The call a new request comes from (the popup's or a call row's «درخواست خدمت»), or None if it is gone."""
    if not call_id:
        return None
    c = (Call.select(Call.id, Call.customer, Call.started_at).where(Call.id == call_id).first())
    return CallOrigin(c.id, c.customer_id, c.started_at) if c is not None else None


def first_received_day() -> dt.date | None:
    """The day the office's first request arrived (the dashboard's «همه» period starts there)."""
    first = ServiceRequest.select(pw.fn.MIN(ServiceRequest.received_at)).scalar()
    if first is None:
        return None
    if isinstance(first, str):                  # SQLite hands an aggregate's datetime back as text
        first = dt.datetime.fromisoformat(first)
    return first.date() if isinstance(first, dt.datetime) else first


def requests_of_customer(customer_id: int, limit: int = 200) -> list[RequestRow]:
    rows, _n = list_requests(RequestFilter(customer_id=customer_id, limit=limit))
    return rows


@dataclass(frozen=True)
class Recomputed:
    """What re-measuring under new office hours changed."""

    open: int           # open requests given new due times (and response minutes, when answered)
    closed: int         # done/closed requests measured again (only when the manager asked)


RECOMPUTE_CHUNK = 500          # requests per write transaction: calls and saves interleave with a long recompute


def _recompute_chunk(ids: list[int], sched: hours.Schedule, closed_too: bool,
                     targets: dict[int | None, tuple[int, int]]) -> Recomputed:
    n_open = n_closed = 0
    query = ServiceRequest.select().where(ServiceRequest.id.in_(ids))
    if not closed_too:
        query = query.where(ServiceRequest.status.not_in(RESOLVED))      # solved since the ids were read
    for r in query:
        if r.category_id not in targets:
            targets[r.category_id] = _targets(r.category_id)
        resp, res = targets[r.category_id]
        r.response_due_at = hours.add_business_minutes(r.received_at, resp, sched)
        r.due_at = hours.add_business_minutes(r.received_at, res, sched)
        if r.first_response_at:
            r.response_minutes = hours.business_minutes(r.received_at, r.first_response_at, sched)
        fields = [ServiceRequest.response_due_at, ServiceRequest.due_at, ServiceRequest.response_minutes]
        if r.status in RESOLVED and r.resolved_at:
            r.service_minutes = hours.business_minutes(r.received_at, r.resolved_at, sched)
            r.sla_met = r.due_at is None or r.resolved_at <= r.due_at
            fields += [ServiceRequest.service_minutes, ServiceRequest.sla_met]
            n_closed += 1
        else:
            n_open += 1
        r.save(only=fields)
    return Recomputed(n_open, n_closed)


def recompute_minutes(closed_too: bool = False) -> Recomputed:
    """After the office changes its hours or holidays: every open request gets its due times (first response and
    resolution, from its category's targets) under the new hours, and the response minutes it already has are
    measured again. Done and closed requests keep the figures recorded when they were solved — the KPIs of past
    months do not move — unless the manager asks (closed_too): then their response and service minutes, due
    times and SLA flag (solved by the new due time or not) are measured again too.

    Written through the writer a few hundred requests per transaction, so a call's record or a colleague's save
    is never held up behind the whole table (100,000 requests take tens of seconds)."""
    from models.writer import writer

    sched = hours.office_schedule()
    query = ServiceRequest.select(ServiceRequest.id).order_by(ServiceRequest.id)
    if not closed_too:
        query = query.where(ServiceRequest.status.not_in(RESOLVED))
    ids = [r[0] for r in query.tuples()]
    targets: dict[int | None, tuple[int, int]] = {}
    n_open = n_closed = 0
    for lo in range(0, len(ids), RECOMPUTE_CHUNK):
        got = writer.run(_recompute_chunk, ids[lo:lo + RECOMPUTE_CHUNK], sched, closed_too, targets)
        n_open, n_closed = n_open + got.open, n_closed + got.closed
    return Recomputed(n_open, n_closed)

