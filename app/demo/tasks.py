"""Demo calls, tasks, follow-ups, referrals and meetings for `crm demo-data`: bulk inserts, so half a million
rows take well under a minute or two on SQLite."""
from __future__ import annotations

import datetime as dt
import logging
import random

from app.core.clock import now
from models.base import db, is_postgres
from models.calls import Call
from models.core import Activity
from models.tasks import Meeting, Reminder, Task, TaskReferral

logger = logging.getLogger(__name__)

CALL_NOTES = (
    "قیمت کابل افشان ۲.۵ را پرسید.", "درخواست پیش‌فاکتور برای ۵۰ عدد پنل.", "از کیفیت ارسال قبلی راضی بود.",
    "گفت هفته بعد تماس بگیریم.", "شکایت از تأخیر در ارسال بار.", "موجودی انبار را پرسید.",
    "برای تخفیف حجمی مذاکره شد.", "شماره حساب برای واریز خواست.", "قرار بازدید حضوری گذاشته شد.",
    "کاتالوگ جدید را خواست.", "پیگیری چک برگشتی.", "سفارش تلفنی ثبت شد.", "درباره گارانتی پرسید.",
    "منتظر تأیید مدیرشان است.", "", "", "")
TASK_TITLES = (
    "ارسال پیش‌فاکتور", "پیگیری پرداخت فاکتور", "ارسال کاتالوگ", "هماهنگی ارسال بار", "تمدید قرارداد",
    "پیگیری چک", "تهیه نمونه کالا", "بررسی شکایت مشتری", "ارسال لیست قیمت جدید", "تأیید سفارش",
    "هماهنگی نصب", "صدور فاکتور رسمی", "پیگیری مرجوعی", "دعوت به نمایشگاه")
REFER_REASONS = ("من مرخصی هستم", "مربوط به واحد مالی است", "مشتری با شما آشناتر است", "نیاز به تأیید مدیر دارد",
                 "لطفاً شما پیگیری کنید", "تخصص فنی لازم دارد")
MEETING_SUBJECTS = ("بازدید از کارگاه", "جلسه معرفی محصول", "مذاکره قرارداد سالانه", "تحویل سفارش",
                    "بازدید از فروشگاه", "جلسه رفع اشکال", "امضای قرارداد")
MEETING_SUMMARIES = ("سفارش اولیه ثبت شد.", "قرار شد پیش‌فاکتور ارسال شود.", "تخفیف ۵ درصد توافق شد.",
                     "نمونه‌ها تحویل داده شد.", "مشتری به فکر خرید عمده است.", "")
RESULTS = ("answered",) * 12 + ("no_answer",) * 4 + ("busy",) * 2 + ("voicemail", "wrong_number")

BATCH = 2000



def office_time(t: dt.datetime, at: dt.datetime) -> dt.datetime:
    """The moment moved into office hours (08:00–18:59, the minutes kept) and never after `at` (now): a demo
    office neither calls at 02:00 nor logs a call that has not happened yet."""
    if not 8 <= t.hour <= 18:
        t = t.replace(hour=8 + t.hour % 11)
    while t > at:
        t -= dt.timedelta(days=1)
    return t

def _fix_sequence(model) -> None:
    if is_postgres():
        table = model._meta.table_name
        db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                       f"(SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")


def _next_id(model) -> int:
    return (model.select(model.id).order_by(model.id.desc()).scalar() or 0) + 1


def _insert(model, fields, rows) -> None:
    """Plain executemany: building peewee's INSERT for half a million rows costs 5x the insert itself."""
    if not rows:
        return
    table = model._meta.table_name
    # columns left out get their model defaults, as peewee would have filled them in
    given = {f.name for f in fields}        # (a peewee Field's == builds SQL, so no `in` on fields)
    extra = [f for f in model._meta.sorted_fields if f.name not in given and f.default is not None]
    if extra:
        tail = tuple(f.default() if callable(f.default) else f.default for f in extra)
        fields = list(fields) + extra
        rows = [r + tail for r in rows]
    cols = ", ".join(f'"{f.column_name}"' for f in fields)
    cursor = db.cursor()
    if is_postgres():
        from psycopg2.extras import execute_values

        execute_values(cursor, f'INSERT INTO "{table}" ({cols}) VALUES %s', rows, page_size=BATCH)
        return
    sql = f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("?" * len(fields))})'
    for lo in range(0, len(rows), BATCH):
        cursor.executemany(sql, rows[lo:lo + BATCH])


def seed_tasks(rng: random.Random, customer_ids: list[int], user_ids: list[int], n_tasks: int,
               n_calls: int) -> dict[str, int]:
    """Calls over the last six months (most handled, some missed or waiting this week), tasks and follow-ups
    around today (old ones mostly done, a few overdue), referrals with reasons, meetings, and reminders for
    the coming ones. Every call and task with a customer is on that customer's timeline."""
    if not customer_ids:
        return {"calls": 0, "tasks": 0}
    at = now().replace(second=0)
    today0 = dt.datetime.combine(at.date(), dt.time())
    users: list[int | None] = list(user_ids) or [None]
    # the sales people carry most of the work
    weights = [3 if i in (2, 3) else 1 for i in range(len(users))]
    pick_user = lambda: rng.choices(users, weights)[0]  # noqa: E731
    counts = {"calls": 0, "tasks": 0, "meetings": 0, "referrals": 0}

    # --- calls -------------------------------------------------------------------------------------------
    call_fields = [Call.id, Call.customer, Call.direction, Call.state, Call.result, Call.number_raw, Call.number,
                   Call.source, Call.started_at, Call.answered_at, Call.ended_at, Call.duration, Call.note,
                   Call.user, Call.handled]
    act_fields = [Activity.customer, Activity.at, Activity.kind, Activity.summary, Activity.user,
                  Activity.ref_table, Activity.ref_id, Activity.data]
    from models.core import PhoneNumber

    next_call = _next_id(Call)
    sample_ids = customer_ids
    phone_of: dict[int, str] = {}
    calls_per_customer: dict[int, int] = {}
    with db.atomic():
        for lo in range(0, n_calls, 20000):
            hi = min(n_calls, lo + 20000)
            chunk = [rng.choice(sample_ids) for _ in range(hi - lo)]
            need = [c for c in set(chunk) if c not in phone_of]
            for k in range(0, len(need), 900):
                for cid, num in (PhoneNumber.select(PhoneNumber.customer, PhoneNumber.canonical)
                                 .where(PhoneNumber.customer.in_(need[k:k + 900]),
                                        PhoneNumber.is_primary == True).tuples()):  # noqa: E712
                    phone_of[cid] = num
            rows: list[tuple] = []
            acts: list[tuple] = []
            for call_cust in chunk:
                cid = next_call
                next_call += 1
                # recent days are denser: the dashboard's "this week" is realistic
                age_min = rng.randrange(7 * 24 * 60) if rng.random() < 0.1 else rng.randrange(180 * 24 * 60)
                started = office_time(at - dt.timedelta(minutes=age_min), at)
                inbound = rng.random() < 0.55
                result = rng.choice(RESULTS)
                if inbound:
                    state = "missed" if result in ("no_answer", "busy") else "ended"
                    result = "" if state == "missed" else "answered"
                else:
                    state = "ended"
                dur = rng.randint(15, 900) if result == "answered" else None
                recent = (at - started) < dt.timedelta(days=7)
                handled = not (recent and inbound and rng.random() < 0.15)
                note = rng.choice(CALL_NOTES) if handled and result == "answered" else ""
                number = phone_of.get(call_cust, "")
                user = pick_user()
                rows.append((cid, call_cust, "in" if inbound else "out", state, result, number, number,
                             "modem" if inbound else "manual", started,
                             started if result == "answered" else None,
                             started + dt.timedelta(seconds=dur) if dur else None, dur, note, user, handled))
                kind = "call_missed" if state == "missed" else ("call_in" if inbound else "call_out")
                label = {"answered": "پاسخ داده شد", "no_answer": "پاسخ نداد", "busy": "مشغول بود",
                         "voicemail": "پیغام‌گیر", "wrong_number": "شماره اشتباه", "": "تماس بی‌پاسخ"}[result]
                acts.append((call_cust, started, kind, f"{label}: {note}" if note else label, user, "call", cid, ""))
                calls_per_customer[call_cust] = calls_per_customer.get(call_cust, 0) + 1
            _insert(Call, call_fields, rows)
            _insert(Activity, act_fields, acts)
            counts["calls"] += len(rows)
    _fix_sequence(Call)

    # --- tasks and follow-ups ----------------------------------------------------------------------------
    task_fields = [Task.id, Task.title, Task.description, Task.kind, Task.customer, Task.assignee, Task.created_by,
                   Task.due_at, Task.all_day, Task.priority, Task.status, Task.done_at, Task.done_by,
                   Task.recurrence, Task.recur_interval, Task.recur_day, Task.recur_month, Task.series,
                   Task.remind_before, Task.referred_by, Task.referred_at, Task.referral_note, Task.referral_count,
                   Task.created_at, Task.updated_at]
    ref_fields = [TaskReferral.task, TaskReferral.from_user, TaskReferral.to_user, TaskReferral.at,
                  TaskReferral.reason]
    rem_fields = [Reminder.kind, Reminder.task, Reminder.customer, Reminder.user, Reminder.title, Reminder.fire_at,
                  Reminder.event_at, Reminder.state, Reminder.created_at]
    from app.core import jalali
    from app.core.text import party_name as _name
    from models.core import Customer

    next_task = _next_id(Task)
    names: dict[int, str] = {}
    with db.atomic():
        for lo in range(0, n_tasks, 20000):
            hi = min(n_tasks, lo + 20000)
            task_customers: list[int | None] = [rng.choice(customer_ids) if rng.random() < 0.9 else None
                                                for _ in range(hi - lo)]
            need = [c for c in set(task_customers) if c and c not in names]
            for k in range(0, len(need), 900):
                for cid, f, la, co, kd in (Customer.select(Customer.id, Customer.first_name, Customer.last_name,
                                                           Customer.company, Customer.kind)
                                           .where(Customer.id.in_(need[k:k + 900])).tuples()):
                    names[cid] = _name(f, la, co, kd)
            rows = []
            refs: list[tuple] = []
            acts = []
            rems: list[tuple] = []
            for cust in task_customers:
                tid = next_task
                next_task += 1
                kind = rng.choice(("call", "call", "followup", "followup", "task"))
                # due: mostly past (history), some today and the coming weeks
                r = rng.random()
                if r < 0.75:
                    due = today0 - dt.timedelta(days=rng.randint(1, 180))
                elif r < 0.80:
                    due = today0
                else:
                    due = today0 + dt.timedelta(days=rng.randint(1, 30))
                all_day = rng.random() < 0.4
                if not all_day:
                    due = due.replace(hour=rng.choice((9, 10, 11, 12, 14, 15, 16, 17)),
                                      minute=rng.choice((0, 0, 15, 30, 45)))
                created = office_time(due - dt.timedelta(days=rng.randint(0, 10), hours=rng.randint(0, 8)), at)
                past = due < today0
                # old work is nearly all done; the last week still has loose ends
                done = past and rng.random() < (0.8 if due >= today0 - dt.timedelta(days=7) else 0.995)
                assignee = pick_user()
                creator = pick_user()
                name = names.get(cust, "") if cust else ""
                if kind == "call":
                    title = f"تماس با {name}" if name else "تماس با تأمین‌کننده"
                elif kind == "followup":
                    base = rng.choice(TASK_TITLES)
                    title = base if base.startswith("پیگیری") else f"پیگیری {base}"
                else:
                    title = rng.choice(TASK_TITLES)
                rec = ""
                rday = rmonth = series = None
                if cust is None and rng.random() < 0.2:
                    rec = rng.choice(("weekly", "monthly", "monthly", "yearly"))
                    jd = jalali.to_jalali(due)
                    rday, rmonth, series = jd.day, jd.month, tid
                remind = rng.choice((None, None, 15, 30, 60)) if not done else None
                referred_by = referred_at = None
                note = ""
                nref = 0
                if rng.random() < 0.08 and len(users) > 1:
                    nref = 1 + (rng.random() < 0.25)
                    holder = creator
                    t_ref = created
                    for _ in range(nref):
                        to = rng.choice([u for u in users if u != holder] or users)
                        t_ref = min(at, t_ref + dt.timedelta(hours=rng.randint(1, 30)))
                        note = rng.choice(REFER_REASONS)
                        refs.append((tid, holder, to, t_ref, note))
                        if cust:
                            acts.append((cust, t_ref, "task_referred", f"«{title}» ارجاع شد: {note}", holder,
                                         "task", tid, ""))
                        referred_by, referred_at = holder, t_ref
                        holder = to
                    assignee = holder
                done_at = office_time(due + dt.timedelta(hours=rng.randint(0, 30)), at) if done else None
                if done_at and done_at > at:
                    done_at = at
                if done_at and done_at < created:
                    done_at = created
                rows.append((tid, title[:200], "", kind, cust, assignee, creator, due, all_day,
                             rng.choice((0, 1, 1, 1, 2, 2, 3)), "done" if done else "open", done_at,
                             assignee if done else None, rec, 1, rday, rmonth, series, remind, referred_by,
                             referred_at, note, nref, created, done_at or created))
                if cust:
                    acts.append((cust, created, "followup" if kind != "task" else "task", f"{title}", creator,
                                 "task", tid, ""))
                    if done:
                        acts.append((cust, done_at, "task_done", f"انجام شد: {title}", assignee, "task", tid, ""))
                if remind is not None:
                    event = dt.datetime.combine(due.date(), dt.time(9)) if all_day else due
                    fire = event - dt.timedelta(minutes=remind)
                    # reminders already past were handled on the desks (only today's stay pending)
                    state = "pending" if fire >= today0 else "done"
                    rems.append(("task", tid, cust, assignee, title[:250], fire, event, state, created))
            _insert(Task, task_fields, rows)
            _insert(TaskReferral, ref_fields, refs)
            _insert(Activity, act_fields, acts)
            _insert(Reminder, rem_fields, rems)
            counts["tasks"] += len(rows)
            counts["referrals"] += len(refs)
    _fix_sequence(Task)

    # --- meetings: about one per 50 customers, a few today --------------------------------------------------
    m_fields = [Meeting.id, Meeting.customer, Meeting.user, Meeting.kind, Meeting.status, Meeting.start_at, Meeting.duration,
                Meeting.subject, Meeting.location, Meeting.summary, Meeting.created_by, Meeting.created_at]
    rows = []
    acts = []
    n_meet = max(3, len(customer_ids) // 50)
    next_meeting = _next_id(Meeting)
    for i in range(n_meet):
        cust = rng.choice(customer_ids)
        if i < 4:
            start = today0.replace(hour=10 + 2 * i, minute=rng.choice((0, 30)))
        else:
            start = today0 + dt.timedelta(days=rng.randint(-200, 20), hours=rng.randint(9, 17))
        held = start < at
        kind = rng.choice(("office", "office", "onsite", "online"))
        subject = rng.choice(MEETING_SUBJECTS)
        summary = rng.choice(MEETING_SUMMARIES) if held else ""
        u = pick_user()
        rows.append((next_meeting + i, cust, u, kind, "held" if held else "planned", start, rng.choice((30, 45, 60, 90)), subject,
                     "", summary, u, start - dt.timedelta(days=3)))
        acts.append((cust, start, "meeting" if held else "meeting_planned",
                     f"{subject}" + (f" — {summary}" if summary else ""), u, "meeting", next_meeting + i, ""))
    with db.atomic():
        _insert(Meeting, m_fields, rows)
        _insert(Activity, act_fields, acts)
    _fix_sequence(Meeting)
    counts["meetings"] = len(rows)
    logger.info("demo tasks: %s", counts)
    return counts
