"""Unhandled or overdue requests go to a free colleague, by the rule the office sets.

- unhandled: no first response by its response target (``response_due_at``);
- overdue: not done by its due time.
Each happens at most once per request (``escalation`` remembers the last one), so a request never bounces
between colleagues every minute. The new assignee finds a task in their inbox (کارتابل).

Rules: ``round_robin`` (the team in turn; the turn is kept in the database so every desk shares it) or
``least_loaded`` (the member with the fewest open requests); ``off`` hands nothing over.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import peewee as pw

from app import options, settings
from app.core.errors import ValidationError
from models.core import User
from models.service import ServiceRequest
from models.writer import writes

logger = logging.getLogger(__name__)

RULES = options.SERVICE_REASSIGN_RULES
RULE_LABELS = {"off": "خاموش (ارجاع خودکار نشود)", "round_robin": "نوبتی میان اعضای تیم",
               "least_loaded": "به کم‌کارترین عضو تیم"}


OPEN = ("new", "in_progress", "waiting")


def team() -> list[int]:
    """Active team members' ids, in the order the office listed them (or by id when the list is empty)."""
    names = [n.lower() for n in settings.csv_list(options.SERVICE_TEAM)]
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
    rule = rule or settings.get(options.SERVICE_REASSIGN_RULE)
    members = [u for u in team() if u != exclude]
    if rule not in ("round_robin", "least_loaded") or not members:
        return None
    if rule == "round_robin":
        chosen = next(u for u in _turn_order() if u in members)
        settings.set(options.SERVICE_RR_LAST, chosen)
        return chosen
    load = open_load(members)
    return min(members, key=lambda u: (load[u], members.index(u)))


def _turn_order() -> list[int]:
    """The team from the one after the last who took a request by turn."""
    last = int(settings.get(options.SERVICE_RR_LAST) or 0)
    full = team()
    start = full.index(last) + 1 if last in full else 0
    return full[start:] + full[:start]


def next_in_turn() -> int | None:
    """Who gets the next request by turn (the turn is not used up by asking)."""
    order = _turn_order()
    return order[0] if order else None


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    username: str
    in_team: bool
    open_requests: int


def team_view() -> list[Member]:
    """Every active colleague: the team first, in its order (the turn's order), then the others."""
    users = list(User.select(User.id, User.name, User.username).where(User.active == True)  # noqa: E712
                 .order_by(User.id))
    members = team()
    load = open_load([u.id for u in users])
    by_id = {u.id: u for u in users}
    rest = [u.id for u in users if u.id not in members]
    return [Member(uid, by_id[uid].name, by_id[uid].username, uid in members, load[uid])
            for uid in [*members, *rest]]


@writes
def save_team(user_ids: list[int], rule: str) -> list[int]:
    """The team in its order and the hand-over rule. An empty team is refused while a rule hands requests over
    (stored empty, the team would silently mean every colleague)."""
    if rule not in RULES:
        raise ValidationError({"rule": "قاعده ارجاع درست نیست."})
    ids = list(dict.fromkeys(int(u) for u in user_ids))
    active = {u.id: u.username for u in User.select(User.id, User.username)
              .where(User.id.in_(ids or [0]), User.active == True)}  # noqa: E712
    missing = [u for u in ids if u not in active]
    if missing:
        raise ValidationError({"team": "یکی از همکاران انتخاب‌شده دیگر فعال نیست؛ فهرست را دوباره باز کنید."})
    if not ids:
        raise ValidationError({"team": "دست‌کم یک همکار را در تیم خدمات بگذارید."})
    settings.set(options.SERVICE_TEAM, ", ".join(active[u] for u in ids))
    settings.set(options.SERVICE_REASSIGN_RULE, rule)
    return ids
