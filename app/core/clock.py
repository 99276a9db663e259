"""The office's clock. Iran has kept one offset, +03:30, all year since 1401 (no DST)."""
from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_override: dt.datetime | None = None


def _zone() -> dt.tzinfo:
    name = os.environ.get("CRM_TIMEZONE", "Asia/Tehran")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return dt.timezone(dt.timedelta(hours=3, minutes=30))


def now() -> dt.datetime:
    """Naive local office time (what the database stores), to the second."""
    if _override is not None:
        return _override
    return dt.datetime.now(_zone()).replace(tzinfo=None, microsecond=0)


def today() -> dt.date:
    return now().date()


def set_now(value: dt.datetime | None) -> None:
    """For tests and demos: freeze the clock (None returns to real time)."""
    global _override
    _override = value
