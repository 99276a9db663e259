"""Handing unhandled or overdue service requests to a free colleague (the rule in app/service/reassign.py),
checked every minute by the main window; each request moves at most once per reason."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from app import options, settings
from app.core.clock import now
from app.service import requests
from app.service.reassign import OPEN, pick
from models.service import ServiceRequest
from models.writer import writes

logger = logging.getLogger(__name__)


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
    if settings.get(options.SERVICE_REASSIGN_RULE) not in ("round_robin", "least_loaded"):
        return []

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
