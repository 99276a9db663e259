"""Builders for the pipeline tests: real rows in a real database, a frozen office clock."""
from __future__ import annotations

import datetime as dt

from app import clock
from app.jalali import parse_date
from models.core import Customer, User


def at(jalali_day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(parse_date(jalali_day), dt.time(hour, 0))


def freeze(jalali_day: str, hour: int = 10) -> dt.datetime:
    moment = at(jalali_day, hour)
    clock.set_now(moment)
    return moment


def make_customer(name: str = "علی رضایی", stage: str = "potential", source: str = "اینستاگرام", **kw) -> int:
    first, _, last = name.partition(" ")
    fields = dict(first_name=first, last_name=last, search_text=name, sort_key=name, stage=stage, source=source)
    fields.update(kw)
    return Customer.create(**fields).id


def make_user(name: str = "رضا کریمی", username: str = "reza", role: str = "sales") -> int:
    return User.create(name=name, username=username, role=role).id


def stage_ids() -> dict[str, int]:
    from app.pipeline.stages import list_stages

    return {s.name: s.id for s in list_stages()}
