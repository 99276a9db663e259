"""Hand-over: one colleague's customers, open tasks and follow-ups (and opportunities, where that table exists)
go to others in one step — all of them, or those a filter picks — and each receiver finds a notice in their
inbox (کارتابل) saying what they received.

With several receivers the customers are dealt out in turn; a task or opportunity about a handed-over customer
follows its customer to the same receiver, the rest are dealt out in turn too. Everything happens in one
transaction and is written to the audit log.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import peewee as pw

from app.core.clock import now
from app.core.errors import ValidationError
from app.core.text import to_persian_digits
from app.office import audit, roles
from models.base import db
from models.core import Customer, User
from models.writer import writer

if TYPE_CHECKING:
    from app.customers.service import Filter

OPPORTUNITY_TABLE = "opportunity"
OPPORTUNITY_OWNER_COLUMNS = ("owner_id", "assigned_to_id", "user_id", "rep_id", "assignee_id")
OPPORTUNITY_OPEN = ("status", "state", "stage")
CLOSED_WORDS = ("won", "lost", "closed", "cancelled")
TASK_KINDS = {"task": "کار", "followup": "پیگیری", "call": "تماس"}


@dataclass
class Scope:
    """What to hand over. customer_filter: an app.customers.Filter to pick some customers (None = all);
    customer_ids: an explicit choice (wins over the filter); kinds: which task kinds; only_with_customers:
    move only the tasks of the customers handed over."""

    customers: bool = True
    tasks: bool = True
    opportunities: bool = True
    kinds: tuple[str, ...] = ("task", "followup", "call")
    customer_filter: Filter | None = None
    customer_ids: list[int] | None = None
    only_with_customers: bool = False


@dataclass
class Plan:
    from_user: int
    to_users: list[int]
    customers: dict[int, int] = field(default_factory=dict)       # customer id → receiver
    tasks: dict[int, int] = field(default_factory=dict)           # task id → receiver
    opportunities: dict[int, int] = field(default_factory=dict)   # opportunity id → receiver
    owner_column: str = ""

    def counts(self) -> dict[str, int]:
        return {"customers": len(self.customers), "tasks": len(self.tasks), "opportunities": len(self.opportunities)}


def _opportunity_column() -> str:
    """The owner column of the opportunity table, or '' when that table does not exist (yet)."""
    database = db.obj
    try:
        if not database.table_exists(OPPORTUNITY_TABLE):
            return ""
        cols = {c.name for c in database.get_columns(OPPORTUNITY_TABLE)}
    except pw.DatabaseError:
        return ""
    return next((c for c in OPPORTUNITY_OWNER_COLUMNS if c in cols), "")


def _selected_customers(from_user: int, scope: Scope) -> list[int]:
    q = Customer.select(Customer.id).where(Customer.assigned_to == from_user, Customer.merged_into.is_null())
    if scope.customer_ids is not None:
        q = q.where(Customer.id.in_(scope.customer_ids or [0]))
    elif scope.customer_filter is not None:
        from app.customers.service import _filtered

        q = q.where(Customer.id.in_(_filtered(scope.customer_filter)))
    return [r[0] for r in q.order_by(Customer.sort_key, Customer.id).tuples()]


def plan(from_user: int, to_users: list[int], scope: Scope | None = None) -> Plan:
    """What a hand-over would move, without moving anything (the screen shows the counts first)."""
    from models.tasks import Task

    scope = scope or Scope()
    to_users = [int(u) for u in to_users if u]
    errors = {}
    src = User.get_or_none(User.id == from_user)
    if src is None:
        errors["from_user"] = "همکاری که کارش واگذار می‌شود پیدا نشد."
    if not to_users:
        errors["to_users"] = "دست‌کم یک همکار برای گرفتن کارها انتخاب کنید."
    elif from_user in to_users:
        errors["to_users"] = "کارها را نمی‌توان به خود همان همکار واگذار کرد."
    else:
        found = {u.id: u for u in User.select().where(User.id.in_(to_users))}
        for uid in to_users:
            if uid not in found:
                errors["to_users"] = "یکی از همکاران گیرنده پیدا نشد."
            elif not found[uid].active:
                errors["to_users"] = f"«{found[uid].name}» غیرفعال است و نمی‌تواند کاری بگیرد."
    bad = [k for k in scope.kinds if k not in TASK_KINDS]
    if bad:
        errors["kinds"] = "نوع کار ناشناخته: " + "، ".join(bad)
    if errors:
        raise ValidationError(errors)
    p = Plan(from_user, to_users)
    turn = 0

    def deal() -> int:
        nonlocal turn
        uid = to_users[turn % len(to_users)]
        turn += 1
        return uid

    picked = _selected_customers(from_user, scope)
    if scope.customers:
        for cid in picked:
            p.customers[cid] = deal()
    owner_of = dict(p.customers)
    picked_set = set(picked)
    if scope.tasks and scope.kinds:
        q = (Task.select(Task.id, Task.customer).where(Task.assignee == from_user, Task.status == "open",
                                                       Task.kind.in_(list(scope.kinds)))
             .order_by(Task.due_at, Task.id))
        filtered = scope.customer_ids is not None or scope.customer_filter is not None
        for tid, cid in q.tuples():
            if (scope.only_with_customers or filtered) and cid not in picked_set:
                continue
            p.tasks[tid] = owner_of.get(cid) or deal()
    if scope.opportunities:
        col = _opportunity_column()
        if col:
            p.owner_column = col
            t = pw.Table(OPPORTUNITY_TABLE).bind(db.obj)
            cols = {c.name for c in db.obj.get_columns(OPPORTUNITY_TABLE)}
            q = t.select(t.c.id, t.c.customer_id if "customer_id" in cols else pw.Value(None)).where(
                getattr(t.c, col) == from_user)
            state_col = next((c for c in OPPORTUNITY_OPEN if c in cols), None)
            if state_col:
                q = q.where(getattr(t.c, state_col).not_in(list(CLOSED_WORDS)))
            filtered = scope.customer_ids is not None or scope.customer_filter is not None
            for oid, cid in q.tuples():
                if filtered and cid not in picked_set:
                    continue
                p.opportunities[oid] = owner_of.get(cid) or deal()
    return p


def _notice_text(counts: dict[str, int], giver: str) -> tuple[str, str]:
    parts = []
    if counts.get("customers"):
        parts.append(f"{to_persian_digits(counts['customers'])} مشتری")
    if counts.get("tasks"):
        parts.append(f"{to_persian_digits(counts['tasks'])} کار و پیگیری")
    if counts.get("opportunities"):
        parts.append(f"{to_persian_digits(counts['opportunities'])} فرصت فروش")
    what = "، ".join(parts)
    return (f"واگذاری از «{giver}»: {what}"[:200],
            f"{what} از کارهای «{giver}» به شما سپرده شد. فهرست مشتریان را با فیلتر «مسئول: خودم» ببینید.")


def hand_over(from_user: int, to_users: list[int], scope: Scope | None = None, note: str = "",
              deactivate: bool = False) -> Plan:
    """Move what plan() picks, leave a notice in each receiver's inbox, log it; optionally deactivate the
    giver afterwards (someone who left the office)."""
    roles.require("handover")
    if deactivate:
        roles.require("users.manage")
    from models.tasks import Task

    def job() -> Plan:
        p = plan(from_user, to_users, scope)
        at = now()
        giver = User.get_by_id(from_user).name
        by_receiver: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for cid, uid in p.customers.items():
            by_receiver[uid]["customers"].append(cid)
        for tid, uid in p.tasks.items():
            by_receiver[uid]["tasks"].append(tid)
        for oid, uid in p.opportunities.items():
            by_receiver[uid]["opportunities"].append(oid)
        from app.office.session import current_user_id

        actor = current_user_id()
        for uid, moved in by_receiver.items():
            for i in range(0, len(moved["customers"]), 500):
                chunk = moved["customers"][i:i + 500]
                (Customer.update(assigned_to=uid, updated_at=at)
                 .where(Customer.id.in_(chunk), Customer.assigned_to == from_user).execute())
            for i in range(0, len(moved["tasks"]), 500):
                chunk = moved["tasks"][i:i + 500]
                (Task.update(assignee=uid, referred_by=from_user, referred_at=at,
                             referral_note=note or "واگذاری کارهای همکار", updated_at=at,
                             referral_count=Task.referral_count + 1)
                 .where(Task.id.in_(chunk), Task.assignee == from_user, Task.status == "open").execute())
            if moved["opportunities"]:
                t = pw.Table(OPPORTUNITY_TABLE).bind(db.obj)
                for i in range(0, len(moved["opportunities"]), 500):
                    chunk = moved["opportunities"][i:i + 500]
                    (t.update({getattr(t.c, p.owner_column): uid})
                     .where(t.c.id.in_(chunk), getattr(t.c, p.owner_column) == from_user).execute())
            counts = {k: len(v) for k, v in moved.items()}
            title, body = _notice_text(counts, giver)
            if note:
                body += f"\nیادداشت: {note}"
            Task.create(title=title, description=body, kind="task", assignee=uid, created_by=actor,
                        due_at=at.replace(hour=0, minute=0, second=0), all_day=True, priority=2,
                        referred_by=from_user, referred_at=at, referral_note=note or "واگذاری", created_at=at,
                        updated_at=at)
            receiver = User.get_by_id(uid).name
            audit.record("handover", "user", from_user, f"واگذاری کارهای «{giver}» به «{receiver}»: "
                         + _notice_text(counts, giver)[0].split(": ", 1)[-1],
                         {"customers": [None, moved["customers"][:200]], "tasks": [None, moved["tasks"][:200]],
                          "opportunities": [None, moved["opportunities"][:200]], "to": [giver, receiver]})
        if deactivate:
            from app.office.auth import deactivate as deactivate_user

            deactivate_user(from_user)
        return p

    return writer.run(job)
