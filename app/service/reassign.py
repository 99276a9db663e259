"""Unhandled or overdue requests go to a free colleague, by the rule the office sets.

- unhandled: no first response by its response target (``response_due_at``);
- overdue: not done by its due time.
Each happens at most once per request (``escalation`` remembers the last one), so a request never bounces
between colleagues every minute. The new assignee finds a task in their inbox (کارتابل).

Rules: ``round_robin`` (the team in turn; the turn is kept in the database so every desk shares it) or
``least_loaded`` (the member with the fewest open requests); ``off`` hands nothing over.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import peewee as pw

from app import settings
from app.clock import now
from models.core import User
from models.service import ServiceRequest
from models.writer import writes

logger = logging.getLogger(__name__)

RULES = ("off", "round_robin", "least_loaded")
RULE_LABELS = {"off": "خاموش (ارجاع خودکار نشود)", "round_robin": "نوبتی میان اعضای تیم",
               "least_loaded": "به کم‌کارترین عضو تیم"}

settings.declare("service.reassign_rule", str, "least_loaded", "ارجاع خودکار درخواست‌های رسیدگی‌نشده",
                 choices=RULES)
settings.declare("service.team", str, "", "تیم خدمات (نام‌های کاربری جدا با ویرگول؛ خالی: همه همکاران)")
settings.declare("service.rr_last", int, 0, "آخرین همکاری که در نوبت درخواست گرفت")

OPEN = ("new", "in_progress", "waiting")


def team() -> list[int]:
    """Active team members' ids, in the order the office listed them (or by id when the list is empty)."""
    names = [n.lower() for n in settings.csv_list("service.team")]
    users = list(User.select(User.id, User.username).where(User.active == True).order_by(User.id))  # noqa: E712
    if not names:
        return [u.id for u in users]
    by_name = {u.username.lower(): u.id for u in users}
    return [by_name[n] for n in names if n in by_name]


def open_load(user_ids: list[int]) -> dict[int, int]:
    q = (ServiceRequest.select(ServiceRequest.assignee, pw.fn.COUNT(ServiceRequest.id))
         .where(ServiceRequest.status.in_(OPEN), ServiceRequest.assignee.in_(user_ids))
         .group_by(ServiceRequest.assignee).tuples())
    load = dict.fromkeys(user_ids, 0)
    load.update({uid: n for uid, n in q})
    return load


def pick(exclude: int | None, rule: str | None = None) -> int | None:
    """The colleague the next request (or a hand-over) goes to, or None (rule off, nobody else free)."""
    rule = rule or settings.get("service.reassign_rule")
    members = [u for u in team() if u != exclude]
    if rule not in ("round_robin", "least_loaded") or not members:
        return None
    if rule == "round_robin":
        last = int(settings.get("service.rr_last") or 0)
        full = team()
        start = full.index(last) + 1 if last in full else 0
        order = full[start:] + full[:start]
        chosen = next(u for u in order if u in members)
        settings.set("service.rr_last", chosen)
        return chosen
    load = open_load(members)
    return min(members, key=lambda u: (load[u], members.index(u)))


@dataclass(frozen=True)
class HandOver:
    request_id: int
    number: str
    from_user: int | None
    to_user: int
    reason: str            # "unhandled" | "overdue"


REASONS = {"unhandled": "در مهلت پاسخ اول به آن رسیدگی نشد؛ خودکار ارجاع شد.",
           "overdue": "از موعد انجامش گذشت؛ خودکار ارجاع شد."}


@writes
def run_due(at: dt.datetime | None = None) -> list[HandOver]:
    """Hand over every request that is unhandled or overdue at `at` (default now). Returns what moved."""
    at = at or now()
    if settings.get("service.reassign_rule") not in ("round_robin", "least_loaded"):
        return []
    from app.service import requests

    out: list[HandOver] = []
    unhandled = (ServiceRequest.select().where(
        ServiceRequest.status.in_(OPEN), ServiceRequest.first_response_at.is_null(),
        ServiceRequest.response_due_at < at, ServiceRequest.escalation == "")
        .order_by(ServiceRequest.response_due_at, ServiceRequest.id))
    overdue = (ServiceRequest.select().where(
        ServiceRequest.status.in_(OPEN), ServiceRequest.due_at < at, ServiceRequest.escalation != "overdue")
        .order_by(ServiceRequest.due_at, ServiceRequest.id))
    seen: set[int] = set()
    for reason, q in (("unhandled", unhandled), ("overdue", overdue)):
        for r in list(q):
            if r.id in seen:
                continue
            seen.add(r.id)
            to = pick(exclude=r.assignee_id)
            if to is None:
                r.escalation = reason        # nobody to hand it to: do not try again every minute
                r.save(only=[ServiceRequest.escalation])
                continue
            requests.assign(r.id, to, by_user=None, reason=REASONS[reason], auto=reason, at=at)
            out.append(HandOver(r.id, r.number, r.assignee_id, to, reason))
            logger.info("request %s handed over (%s) to user %s", r.number, reason, to)
    return out
