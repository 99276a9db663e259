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


# --- the office's hours, as the settings screen shows and saves them -------------------------------------------

# The official holidays fixed in the solar calendar. The religious ones follow the lunar calendar and move
# every year (the official calendar announces them), so the office adds those dates itself.
FIXED_HOLIDAYS = ((1, 1, "نوروز"), (1, 2, "نوروز"), (1, 3, "نوروز"), (1, 4, "نوروز"),
                  (1, 12, "روز جمهوری اسلامی"), (1, 13, "روز طبیعت"), (3, 14, "رحلت امام خمینی"),
                  (3, 15, "قیام ۱۵ خرداد"), (11, 22, "پیروزی انقلاب اسلامی"), (12, 29, "ملی شدن صنعت نفت"))


def fixed_holidays(year: int) -> list[tuple[dt.date, str]]:
    """The solar official holidays of a Jalali year, with their names."""
    return [(jalali.from_jalali(year, m, d), name) for m, d, name in FIXED_HOLIDAYS]


@dataclass(frozen=True)
class OfficeHours:
    business_hours: bool
    weekday: tuple[dt.time, dt.time]
    thursday: tuple[dt.time, dt.time] | None       # None: Thursday off
    holidays: tuple[dt.date, ...]


def office_hours() -> OfficeHours:
    """What the settings screen shows: the schedule the service computes with (a bad stored value reads as the
    default, as office_schedule() does)."""
    s = office_schedule()
    weekday = s.days.get(5) or (dt.time(8), dt.time(17))
    return OfficeHours(s.enabled, weekday, s.days.get(3), tuple(sorted(s.holidays)))


def range_text(r: tuple[dt.time, dt.time] | None) -> str:
    return "" if r is None else f"{r[0]:%H:%M}-{r[1]:%H:%M}"


def save_office_hours(business_hours: bool, weekday: tuple[dt.time, dt.time] | str,
                      thursday: tuple[dt.time, dt.time] | str | None, holidays) -> Schedule:
    """Check everything first, then store it all (nothing is stored when one value is wrong). Holidays are dates
    or Jalali text; each bad one is named. New requests get their due times by these hours; the settings screen
    then has open requests measured again (app.service.requests.recompute_minutes), while solved ones keep the
    minutes measured when they were solved unless the manager asks."""
    from app.core.errors import ValidationError
    from models.writer import writer

    errors: dict[str, str] = {}
    texts = {}
    for key, value, label in (("weekday", weekday, "شنبه تا چهارشنبه"), ("thursday", thursday, "پنجشنبه")):
        text = value if isinstance(value, str) or value is None else range_text(value)
        try:
            rng = parse_range(text or "")
        except ValueError as e:
            errors[key] = f"ساعت کاری {label}: {e}"
            continue
        if key == "weekday" and rng is None:
            errors[key] = "ساعت کاری شنبه تا چهارشنبه را بنویسید (مثل ۰۸:۰۰-۱۷:۰۰)."
        texts[key] = range_text(rng)
    days: list[dt.date] = []
    for h in holidays or ():
        if isinstance(h, dt.date):
            days.append(h)
            continue
        try:
            days.append(jalali.parse_date(str(h)))
        except jalali.JalaliError as e:
            errors.setdefault("holidays", f"تعطیل «{h}»: {e}")
    if errors:
        raise ValidationError(errors)
    days = sorted(set(days))
    holiday_text = "، ".join(jalali.format_date(d, persian=False) for d in days)

    def job() -> None:
        settings.set(options.SERVICE_BUSINESS_HOURS, bool(business_hours))
        settings.set(options.SERVICE_HOURS_WEEKDAY, texts["weekday"])
        settings.set(options.SERVICE_HOURS_THURSDAY, texts["thursday"])
        settings.set(options.SERVICE_HOLIDAYS, holiday_text)

    writer.run(job)
    return office_schedule()


def example_due(sched: Schedule, received: dt.datetime, minutes: int) -> dt.datetime:
    """For the settings screen's example line: the due time the service would give."""
    return add_business_minutes(received, minutes, sched)
