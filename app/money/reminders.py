"""The owner's money as reminders: invoices just overdue, cheques due this week (received and issued), bounced
cheques. Made once a day beside the birthday reminders (ui/tasks/reminder_popup.py runs both)."""
from __future__ import annotations

import datetime as dt

from app.core.clock import now
from app.tasks.reminders import CATCH_UP_DAYS, OVERDUE_REPEAT_DAYS, day_start_time
from models.base import db
from models.core import Customer
from models.tasks import Reminder


def money_reminder_rows(today: dt.date) -> list[dict]:
    """Today's money reminders (one per thing and occasion, keyed so they are made once): invoices that fell
    due in the last week (and every 30 days after), cheques due within the week, received and issued, and
    bounced cheques not made good yet."""
    from app import fmt
    from app.money import cheques, collection

    fire = dt.datetime.combine(today, day_start_time())
    rows: list[dict] = []

    def add(kind: str, key: str, title: str, event: dt.date, customer: int | None, user: int | None) -> None:
        rows.append({"kind": kind, "customer": customer, "user": user, "title": title[:250], "fire_at": fire,
                     "event_at": dt.datetime.combine(event, day_start_time()), "state": "pending",
                     "key": key[:60], "created_at": now()})

    for o in collection.overdue_invoices(today):
        if o.days_late % OVERDUE_REPEAT_DAYS >= CATCH_UP_DAYS:
            continue
        add("overdue", f"overdue:{o.id}:{o.days_late // OVERDUE_REPEAT_DAYS}",
            f"فاکتور {fmt.digits(o.number)} {o.customer_name}: {fmt.money(o.remaining)} "
            f"با {fmt.count(o.days_late, 'روز')} دیرکرد", o.due_date, o.customer_id, o.assigned_to)
    for c in cheques.cheques_this_week(today):
        if c.due < today - dt.timedelta(days=CATCH_UP_DAYS):
            continue
        who = f"از {c.party}" if c.direction == "in" else f"در وجه {c.party}"
        add("cheque_in" if c.direction == "in" else "cheque_out", f"cheque_{c.direction}:{c.id}:{c.due}",
            f"چک {fmt.digits(c.number)} {c.bank} {who}: {fmt.money(c.amount)}، سررسید {fmt.date(c.due)}",
            c.due, c.customer_id if c.direction == "in" else None, None)
    for c in cheques.bounced_cheques():
        who = f"از {c.party}" if c.direction == "in" else f"در وجه {c.party}"
        add("bounced", f"bounced_{c.direction}:{c.id}",
            f"چک برگشتی {fmt.digits(c.number)} {c.bank} {who}: {fmt.money(c.amount)}", c.due,
            c.customer_id if c.direction == "in" else None, None)
    if rows:
        # the customer's own rep hears about their money; the rest goes to everyone
        ids = [r["customer"] for r in rows if r["customer"] and r["user"] is None]
        if ids:
            owners = dict(Customer.select(Customer.id, Customer.assigned_to).where(Customer.id.in_(ids)).tuples())
            for r in rows:
                if r["customer"] and r["user"] is None:
                    r["user"] = owners.get(r["customer"])
    return rows


def generate_money_reminders(today: dt.date | None = None) -> int:
    """Create today's money reminders (idempotent: each has a key). Returns how many were created."""
    today = today or now().date()
    rows = money_reminder_rows(today)
    created = 0
    with db.atomic():
        for lo in range(0, len(rows), 500):
            created += Reminder.insert_many(rows[lo:lo + 500]).on_conflict_ignore().as_rowcount().execute() or 0
    return created
