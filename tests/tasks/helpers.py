"""Small builders for task tests: users and customers written straight through the models."""
from __future__ import annotations

import datetime as dt

from app.core import jalali
from models.core import Activity, Customer, PhoneNumber, User


def user(name: str, username: str, role: str = "sales") -> int:
    return User.create(name=name, username=username, role=role).id


def customer(first: str = "علی", last: str = "رضایی", phone: str = "09121234567", **kw) -> int:
    c = Customer.create(first_name=first, last_name=last, **kw)
    if phone:
        PhoneNumber.create(customer=c.id, raw=phone, canonical=phone, tail=phone[-8:], is_primary=True)
    return c.id


def j(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    """A Jalali date (and time) as the naive office-local datetime the database stores."""
    return dt.datetime.combine(jalali.from_jalali(y, m, d), dt.time(hh, mm))


def jd(value: dt.date | dt.datetime) -> tuple[int, int, int]:
    t = jalali.to_jalali(value)
    return t.year, t.month, t.day


def timeline_kinds(customer_id: int) -> list[str]:
    """The customer's timeline kinds, oldest first (read straight from the table)."""
    return [a.kind for a in Activity.select().where(Activity.customer == customer_id).order_by(Activity.at, Activity.id)]
