"""Raw driver values made into dates (models.base.as_date / as_datetime): what SQLite stores as text and what
PostgreSQL gives as objects come out the same."""
from __future__ import annotations

import datetime as dt

from models.base import as_date, as_datetime


def test_dates_from_either_driver():
    d = dt.date(2026, 12, 7)
    assert as_date(None) is None
    assert as_date(d) is d
    assert as_date("2026-12-07") == d
    assert as_date("2026-12-07 10:20:30.123456") == d           # a date-time column read as a day
    assert as_date(dt.datetime(2026, 12, 7, 23, 59)) == d and type(as_date(dt.datetime(2026, 12, 7))) is dt.date


def test_date_times_from_either_driver():
    t = dt.datetime(2026, 12, 7, 10, 20, 30, 123456)
    assert as_datetime(None) is None
    assert as_datetime(t) is t
    assert as_datetime(str(t)) == t                                # how peewee writes one to SQLite
    assert as_datetime("2026-12-07 10:20:30") == t.replace(microsecond=0)
    assert as_datetime(dt.date(2026, 12, 7)) == dt.datetime(2026, 12, 7)
    assert as_datetime("2026-12-07") == dt.datetime(2026, 12, 7)
