"""Office hours for service targets and KPIs.

A week is Saturday–Wednesday with the weekday hours, Thursday with its own (often a half day), Friday off;
holidays (Jalali dates the office lists) are off too. With business hours off, every minute counts.
Pure functions over a Schedule, so the KPI tests can compute figures by hand.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from app import options, settings
from app.core import jalali
from app.core.text import to_ascii_digits

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Schedule:
    """Working window per Python weekday (Monday = 0 … Sunday = 6); None = a day off."""

    days: dict[int, tuple[dt.time, dt.time] | None]
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    enabled: bool = True

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        if day in self.holidays:
            return None
        w = self.days.get(day.weekday())
        if w is None:
            return None
        return dt.datetime.combine(day, w[0]), dt.datetime.combine(day, w[1])


def parse_range(text: str) -> tuple[dt.time, dt.time] | None:
    """'08:00-17:00' (Persian digits too) → (08:00, 17:00); '' → None (a day off)."""
    s = to_ascii_digits(text or "").strip()
    if not s:
        return None
    m = _RANGE.match(s)
    if not m:
        raise ValueError("ساعت کاری را به شکل ۰۸:۰۰-۱۷:۰۰ بنویسید.")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
        raise ValueError("ساعت کاری درست نیست.")
    start, end = dt.time(h1, m1), (dt.time(23, 59, 59) if h2 == 24 else dt.time(h2, m2))
    if end <= start:
        raise ValueError("پایان ساعت کاری باید پس از شروع آن باشد.")
    return start, end


def make_schedule(weekday: str = "08:00-17:00", thursday: str = "08:00-13:00", holidays=(),
                  enabled: bool = True) -> Schedule:
    wd = parse_range(weekday)
    th = parse_range(thursday)
    # Saturday (5), Sunday (6), Monday (0), Tuesday (1), Wednesday (2); Thursday (3); Friday (4) off
    days = {5: wd, 6: wd, 0: wd, 1: wd, 2: wd, 3: th, 4: None}
    return Schedule(days, frozenset(holidays), enabled)


def office_schedule() -> Schedule:
    """The office's schedule from its settings (a bad value falls back to the default)."""
    hol = []
    for part in settings.csv_list(options.SERVICE_HOLIDAYS):
        try:
            hol.append(jalali.parse_date(part))
        except jalali.JalaliError:
            continue
    try:
        return make_schedule(settings.get(options.SERVICE_HOURS_WEEKDAY), settings.get(options.SERVICE_HOURS_THURSDAY),
                             hol, bool(settings.get(options.SERVICE_BUSINESS_HOURS)))
    except ValueError:
        return make_schedule(holidays=hol, enabled=bool(settings.get(options.SERVICE_BUSINESS_HOURS)))


def business_minutes(start: dt.datetime, end: dt.datetime, sched: Schedule) -> int:
    """Whole minutes of office time between two moments (0 when end ≤ start)."""
    if end <= start:
        return 0
    if not sched.enabled:
        return int((end - start).total_seconds() // 60)
    total = 0.0
    day = start.date()
    last = end.date()
    while day <= last:
        w = sched.window(day)
        if w is not None:
            lo, hi = max(w[0], start), min(w[1], end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += dt.timedelta(days=1)
    return int(total // 60)


def add_business_minutes(start: dt.datetime, minutes: int, sched: Schedule) -> dt.datetime:
    """The moment `minutes` of office time after `start` (a request received on Thursday evening with a
    two-hour target is due on Saturday at 10:00)."""
    if not sched.enabled:
        return start + dt.timedelta(minutes=minutes)
    left = dt.timedelta(minutes=max(0, minutes))
    day = start.date()
    for _ in range(3660):           # ten years of days: bounded, so a schedule with no working day cannot loop
        w = sched.window(day)
        if w is not None:
            lo = max(w[0], start)
            if lo < w[1]:
                avail = w[1] - lo
                if left <= avail:
                    return lo + left
                left -= avail
        day += dt.timedelta(days=1)
    return start + dt.timedelta(minutes=minutes)


def jd(d: dt.date | dt.datetime) -> int:
    """The Jalali day as one integer: 1405/03/12 → 14050312."""
    j = jalali.to_jalali(d)
    return j.year * 10000 + j.month * 100 + j.day
