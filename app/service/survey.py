"""Satisfaction by SMS. When a request is done, the office's automatic message «نظرسنجی پس از انجام درخواست
خدمت» (app/sms/automatic: its send window, opt-outs, template and once-only key) asks the customer for a score
from 1 to 5; the reply becomes the request's survey, as if the receptionist had recorded it.

    due(since, at)     requests done in (since, at] without a score: whom the message goes to
    take_replies(at)   replies holding one score (۵, «5», «۴ ممنون») from a number asked within LOOKBACK become the
                       survey of the request it was asked about, once; a score the office recorded is never
                       overwritten, and a reply with no score or several numbers is left for a person to read
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from app.core.clock import now
from app.core.errors import UserError
from app.core.text import clean, to_ascii_digits
from app.service import requests as rq
from models.messaging import InboundMessage, Message
from models.service import ServiceRequest

SR = ServiceRequest

logger = logging.getLogger(__name__)

LOOKBACK = dt.timedelta(days=3)
_PREFIX = "survey:"


@dataclass(frozen=True)
class Due:
    request_id: int
    number: str
    customer_id: int


def key_of(request_id: int) -> str:
    """The automatic message's once-only key for a request's survey."""
    return f"{_PREFIX}{request_id}"


def due(since: dt.datetime, at: dt.datetime) -> list[Due]:
    q = (SR.select(SR.id, SR.number, SR.customer)
         .where(SR.resolved_at > since, SR.resolved_at <= at, SR.satisfaction.is_null(), SR.status.in_(rq.RESOLVED))
         .order_by(SR.resolved_at, SR.id))
    return [Due(r.id, r.number, r.customer_id) for r in q]


def score_of(text: str | None) -> int | None:
    """The one score a reply holds: «۵», «5»، «۴ ممنون» → 4; «۵۰»، «۳ یا ۴»، «سلام» → None."""
    numbers = re.findall(r"\d+", to_ascii_digits(text or ""))
    if len(numbers) != 1 or numbers[0] not in ("1", "2", "3", "4", "5"):
        return None
    return int(numbers[0])


def take_replies(at: dt.datetime | None = None) -> int:
    """Record the scores among the replies of the last LOOKBACK; returns how many requests got one."""
    at = at or now()
    replies = (InboundMessage.select().where(InboundMessage.received_at >= at - LOOKBACK,
                                             InboundMessage.received_at <= at)
               .order_by(InboundMessage.received_at, InboundMessage.id))
    n = 0
    for reply in replies:
        score = score_of(reply.body)
        if score is None:
            continue
        asked = (Message.select(Message.auto_key)
                 .where(Message.recipient == reply.sender, Message.auto_key.startswith(_PREFIX),
                        Message.sent_at.is_null(False), Message.sent_at <= reply.received_at,
                        Message.sent_at >= reply.received_at - LOOKBACK)
                 .order_by(Message.sent_at.desc(), Message.id.desc()).first())
        if asked is None:
            continue
        rid = int(asked.auto_key[len(_PREFIX):])
        r = SR.select(SR.id, SR.satisfaction, SR.status).where(SR.id == rid).first()
        if r is None or r.satisfaction is not None or r.status not in rq.RESOLVED:
            continue
        words = clean(reply.body)
        comment = "" if re.fullmatch(r"\d", to_ascii_digits(words)) else f"پیامک: {words}"
        try:
            rq.record_survey(rid, score, comment, user=None, at=reply.received_at)
        except UserError as e:                     # reopened meanwhile: the score waits for a person
            logger.info("survey reply for request %s not recorded: %s", rid, e.message)
            continue
        n += 1
    return n
