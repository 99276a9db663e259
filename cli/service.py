"""`crm service …`: service requests (درخواست خدمت) from a script, and their KPIs.

    crm service list [--status open|all|new|in_progress|waiting|done|closed] [--overdue] [--complaints]
                     [--assignee USERNAME] [--customer PHONE] [--text T] [--limit N] [--json]
    crm service add --customer PHONE|--customer-id ID --subject TEXT [--category NAME] [--priority P]
                    [--channel phone|visit|sms|email|other] [--assignee USERNAME] [--description T] [--serial SN]
                    [--by USERNAME]                          → prints the new request's number
    crm service show NUMBER [--json]
    crm service reply NUMBER TEXT [--note] [--by USERNAME]
    crm service close NUMBER [--done] [--note TEXT] [--by USERNAME] [--score 1-5] [--comment TEXT]
    crm service kpi [--from 1405/01/01] [--to 1405/01/31] [--by day|week|month|person|category]
                    [--complaints] [--json] [--out FILE.xlsx]
    crm service hand-over                                    → hands unhandled/overdue requests over now (cron)

Output is for scripts: one line per row, fields separated by tabs, dates Jalali with ASCII digits (or one JSON
object per line with --json). Exit 0 when done; 2 with a Persian message on stderr for bad input (an unknown
number, user name, category or date), and nothing is written then.
"""
from __future__ import annotations

import datetime as dt
import json
import sys

from app.core.errors import UserError

STATUS_CHOICES = ("open", "all", "new", "in_progress", "waiting", "done", "closed")
PRIORITIES = {"low": 0, "normal": 1, "high": 2, "urgent": 3, "کم": 0, "عادی": 1, "زیاد": 2, "فوری": 3}
BY = ("day", "week", "month", "person", "category")


def register(sub) -> None:
    p = sub.add_parser("service", help="درخواست‌های خدمت پس از فروش و شاخص‌های آن")
    ss = p.add_subparsers(dest="service_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    lst = ss.add_parser("list", help="فهرست درخواست‌ها (پیش‌فرض: باز)، تازه‌ترین اول")
    lst.add_argument("--status", choices=STATUS_CHOICES, default="open",
                     help="open: باز (پیش‌فرض)، all: همه، یا یکی از وضعیت‌ها")
    lst.add_argument("--overdue", action="store_true", help="فقط آن‌ها که از موعد گذشته‌اند")
    lst.add_argument("--complaints", action="store_true", help="فقط شکایت‌ها")
    lst.add_argument("--assignee", metavar="USERNAME", help="نام کاربری مسئول")
    lst.add_argument("--customer", metavar="PHONE", help="شماره تلفن مشتری")
    lst.add_argument("--text", default="", help="جست‌وجو در موضوع، شماره، سریال و نام مشتری")
    lst.add_argument("--limit", type=int, default=500)
    lst.add_argument("--json", action="store_true", help="هر درخواست یک شیء JSON در یک خط")
    lst.set_defaults(func=cmd_list)

    a = ss.add_parser("add", help="ثبت درخواست تازه؛ شماره آن چاپ می‌شود")
    a.add_argument("--customer", metavar="PHONE", help="شماره تلفن مشتری")
    a.add_argument("--customer-id", dest="customer_id", type=int, help="شناسه مشتری")
    a.add_argument("--subject", required=True, help="موضوع درخواست")
    a.add_argument("--description", default="", help="شرح")
    a.add_argument("--category", help="نام دسته (مثل «تعمیر» یا «شکایت»)")
    a.add_argument("--priority", default="normal", help="low | normal | high | urgent (یا کم، عادی، زیاد، فوری)")
    a.add_argument("--channel", default="phone", help="phone | visit | sms | email | other")
    a.add_argument("--assignee", metavar="USERNAME", help="مسئول (پیش‌فرض: قاعده ارجاع دفتر)")
    a.add_argument("--serial", default="", help="شماره سریال کالا")
    a.add_argument("--by", metavar="USERNAME", help="ثبت‌کننده")
    a.set_defaults(func=cmd_add)

    s = ss.add_parser("show", help="یک درخواست با رشته پاسخ‌ها و یادداشت‌هایش")
    s.add_argument("number", help="شماره درخواست، مثل S1405-00012")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)

    r = ss.add_parser("reply", help="پاسخ به مشتری (یا با --note یادداشت داخلی)")
    r.add_argument("number")
    r.add_argument("text")
    r.add_argument("--note", action="store_true", help="یادداشت داخلی، نه پاسخ به مشتری")
    r.add_argument("--by", metavar="USERNAME", help="نویسنده (پیش‌فرض: مسئول درخواست)")
    r.set_defaults(func=cmd_reply)

    c = ss.add_parser("close", help="بستن درخواست (با --done: «انجام شد»)، با نظرسنجی اختیاری")
    c.add_argument("number")
    c.add_argument("--done", action="store_true", help="وضعیت «انجام شد» به جای «بسته»")
    c.add_argument("--note", default="", help="یادداشت بستن")
    c.add_argument("--by", metavar="USERNAME", help="بسته‌کننده (پیش‌فرض: مسئول درخواست)")
    c.add_argument("--score", type=str, help="رضایت مشتری از ۱ تا ۵")
    c.add_argument("--comment", default="", help="نظر مشتری")
    c.set_defaults(func=cmd_close)

    k = ss.add_parser("kpi", help="شاخص‌های خدمات یک بازه (پیش‌فرض: ماه جاری)؛ با --out خروجی اکسل")
    k.add_argument("--from", dest="date_from", help="آغاز بازه، تاریخ شمسی مثل 1405/01/01")
    k.add_argument("--to", dest="date_to", help="پایان بازه (پیش‌فرض: امروز)")
    k.add_argument("--by", choices=BY, help="ردیف به ازای هر روز، هفته، ماه، همکار یا دسته")
    k.add_argument("--complaints", action="store_true", help="فقط شکایت‌ها")
    k.add_argument("--json", action="store_true")
    k.add_argument("--out", help="پرونده اکسل همه جدول‌ها")
    k.set_defaults(func=cmd_kpi)

    h = ss.add_parser("hand-over", help="ارجاع خودکار درخواست‌های بی‌پاسخ یا دیرکرده به همکار آزاد (برای cron)")
    h.set_defaults(func=cmd_hand_over)


# --- helpers ------------------------------------------------------------------------------------------------

def _open(args) -> None:
    from cli.common import open_db

    open_db(args)


def _date(d: dt.datetime | dt.date | None) -> str:
    from app.core import jalali

    if d is None:
        return ""
    if isinstance(d, dt.datetime):
        return jalali.format_datetime(d, persian=False)
    return jalali.format_date(d, persian=False)


def _customer(phone: str | None, customer_id: int | None) -> int:
    from app.customers import service as customers

    if customer_id:
        customers.get_customer(customer_id)           # NotFound with its Persian message
        return customer_id
    if not phone:
        raise UserError("مشتری را با --customer PHONE یا --customer-id ID بدهید.",
                        en="Give the customer: --customer PHONE or --customer-id ID.")
    found = customers.find_by_phone(phone)
    if not found:
        raise UserError(f"مشتری‌ای با شماره «{phone}» پیدا نشد.", en=f"No customer with the number {phone}.")
    if len(found) > 1:
        names = "، ".join(f"{c.display_name} (#{c.id})" for c in found[:5])
        raise UserError(f"چند مشتری این شماره را دارند: {names}. یکی را با --customer-id بدهید.",
                        en="Several customers share this number; give one with --customer-id.")
    return found[0].id


def _by(username: str | None, default: int | None) -> int | None:
    from app.service import requests as rq

    return rq.colleague_id(username) if username else default


def _emit(rows: list[dict], as_json: bool, columns: tuple[str, ...]) -> None:
    for row in rows:
        if as_json:
            print(json.dumps(row, ensure_ascii=False, default=str))
        else:
            print("\t".join("" if row[c] is None else str(row[c]) for c in columns))


# --- verbs --------------------------------------------------------------------------------------------------

def cmd_list(args) -> int:
    from app.service import requests as rq

    _open(args)
    f = rq.RequestFilter(text=args.text, status="" if args.status == "all" else args.status,
                         overdue=args.overdue, complaints=args.complaints, limit=max(1, args.limit))
    if args.assignee:
        f.assignee_id = rq.colleague_id(args.assignee)
    if args.customer:
        f.customer_id = _customer(args.customer, None)
    rows, total = rq.list_requests(f)
    labels = rq.status_labels()
    out = [{"number": r.number, "received": _date(r.received_at), "status": r.status,
            "status_label": labels.get(r.status, r.status), "assignee": r.assignee_name,
            "customer": r.customer_name, "subject": r.subject, "category": r.category_name,
            "due": _date(r.due_at), "overdue": r.overdue} for r in rows]
    _emit(out, args.json, ("number", "received", "status_label", "assignee", "customer", "subject", "due"))
    if total > len(rows):
        print(f"{total - len(rows)} درخواست دیگر هم هست (--limit).", file=sys.stderr)
    return 0


def cmd_add(args) -> int:
    from app.service import requests as rq

    _open(args)
    prio = PRIORITIES.get(args.priority.strip().lower()) if args.priority else 1
    if prio is None:
        try:
            prio = int(args.priority)
        except ValueError:
            raise UserError("اولویت یکی از low، normal، high یا urgent است.",
                            en="The priority is low, normal, high or urgent.") from None
    data = {"customer_id": _customer(args.customer, args.customer_id), "subject": args.subject,
            "description": args.description, "priority": prio, "channel": args.channel, "serial": args.serial,
            "category_id": rq.category_id_of(args.category) if args.category else None}
    if args.assignee:
        data["assignee_id"] = rq.colleague_id(args.assignee)
    r = rq.create_request(data, user=_by(args.by, None))
    print(r.number)
    return 0


def cmd_show(args) -> int:
    from app.service import requests as rq

    _open(args)
    v = rq.request_view(rq.request_id_of(args.number))
    head = {"number": v.number, "customer": v.customer_name, "subject": v.subject, "category": v.category_name,
            "status": v.status, "status_label": v.status_label, "assignee": v.assignee_name,
            "channel": v.channel, "priority": rq.PRIORITY_LABELS.get(v.priority, str(v.priority)),
            "received": _date(v.received_at), "due": _date(v.due_at), "overdue": v.overdue,
            "first_response": _date(v.first_response_at), "resolved": _date(v.resolved_at),
            "sla_met": v.sla_met, "satisfaction": v.satisfaction, "serial": v.serial,
            "description": v.description}
    labels = rq.status_labels()

    def body(e) -> str:
        if e.kind == "status" and e.data.get("to"):           # «جدید → بسته»: what the change was
            move = " → ".join(labels.get(x, x) for x in (e.data.get("from"), e.data["to"]) if x)
            return f"{move}: {e.body}" if e.body else move
        if e.kind == "survey" and e.data.get("score"):
            return f"{e.data['score']} از 5" + (f": {e.body}" if e.body else "")
        return e.body

    entries = [{"at": _date(e.at), "kind": e.kind, "label": e.label, "by": e.user_name, "body": body(e)}
               for e in v.entries]
    if args.json:
        print(json.dumps({**head, "entries": entries}, ensure_ascii=False, default=str))
        return 0
    names = {"number": "شماره", "customer": "مشتری", "subject": "موضوع", "category": "دسته",
             "status_label": "وضعیت", "assignee": "مسئول", "received": "دریافت", "due": "موعد",
             "first_response": "پاسخ اول", "resolved": "انجام", "satisfaction": "رضایت", "serial": "سریال"}
    for key, label in names.items():
        if head[key] not in (None, ""):
            print(f"{label}:\t{head[key]}")
    for e in entries:
        print("\t".join((e["at"], e["label"], e["by"], e["body"].replace("\n", " "))))
    return 0


def cmd_reply(args) -> int:
    from app.service import requests as rq

    _open(args)
    rid = rq.request_id_of(args.number)
    who = _by(args.by, rq.request_view(rid).assignee_id)
    (rq.add_note if args.note else rq.reply)(rid, args.text, who)
    return 0


def cmd_close(args) -> int:
    from app.core.text import parse_int
    from app.service import requests as rq

    _open(args)
    rid = rq.request_id_of(args.number)
    v = rq.request_view(rid)
    who = _by(args.by, v.assignee_id)
    score = None
    if args.score is not None:
        score = parse_int(args.score)
        if score is None or not 1 <= score <= 5:
            raise UserError("رضایت عددی از ۱ تا ۵ است؛ درخواست بسته نشد.",
                            en="The score is a number from 1 to 5; the request was not closed.")
    status = "done" if args.done else "closed"
    if v.status != status:
        rq.set_status(rid, status, who, note=args.note)
    if score is not None:
        rq.record_survey(rid, score, args.comment, who)
    print(f"{v.number}\t{rq.status_labels()[status]}" + ("\t(از پیش)" if v.status == status else ""))
    return 0


def _period(args) -> tuple[dt.date, dt.date]:
    from app.core import jalali
    from app.core.clock import today

    def parse(text: str, which: str) -> dt.date:
        try:
            return jalali.parse_date(text)
        except jalali.JalaliError as e:
            raise UserError(f"تاریخ {which} درست نیست: {e}", en=f"Bad {which} date: {text}") from None

    hi = parse(args.date_to, "پایان") if args.date_to else today()
    if args.date_from:
        lo = parse(args.date_from, "آغاز")
    else:
        j = jalali.to_jalali(hi)
        lo = jalali.from_jalali(j.year, j.month, 1)
    if hi < lo:
        raise UserError("پایان بازه پیش از آغاز آن است.", en="The period ends before it starts.")
    if (hi - lo).days > 3660:
        raise UserError("بازه بیش از ده سال است.", en="The period is longer than ten years.")
    return lo, hi


KPI_FIELDS = ("received", "closed", "open_end", "avg_response", "p90_response", "avg_service", "sla_pct",
              "satisfaction", "avg_replies")


def cmd_kpi(args) -> int:
    from app.core.text import to_ascii_digits
    from app.service import kpi

    _open(args)
    lo, hi = _period(args)
    k = kpi.compute(lo, hi, complaints_only=args.complaints, detail=bool(args.out or args.by in ("month",)))
    if args.out:
        path = kpi.export_xlsx(k, args.out)
        print(path)
        return 0
    if args.by == "category":
        rows = [{"label": c.name, "complaint": c.is_complaint, "received": c.received, "open": c.open_now,
                 "closed": c.closed, "avg_service": c.avg_service, "sla_pct": c.sla_pct,
                 "satisfaction": c.satisfaction} for c in k.categories]
        _emit(rows, args.json, ("label", "received", "open", "closed", "avg_service", "sla_pct", "satisfaction"))
        return 0
    buckets = {None: [k.total], "day": k.days, "week": k.weeks, "month": k.months, "person": k.people}[args.by]
    rows = []
    for b in buckets:
        row = {"label": to_ascii_digits(b.label) if b is not k.total else f"{_date(lo)}–{_date(hi)}"}
        row.update({f: getattr(b, f) for f in KPI_FIELDS})
        rows.append(row)
    if args.by is None and not args.json:
        names = dict(kpi.COLUMNS)
        print(f"بازه:\t{rows[0]['label']}")
        for f in KPI_FIELDS:
            v = rows[0][f]
            print(f"{names[f]}:\t{'—' if v is None else v}")
        return 0
    _emit(rows, args.json, ("label", *KPI_FIELDS))
    return 0


def cmd_hand_over(args) -> int:
    from app.service import handover

    _open(args)
    from app.service import requests as rq

    moved = handover.run_due()
    for h in moved:
        why = "بی‌پاسخ" if h.reason == "unhandled" else "دیرکرده"
        print(f"{h.number}\t{why}\t{rq.request_view(h.request_id).assignee_name}")
    return 0
