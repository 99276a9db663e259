"""Jalali (Shamsi) calendar helpers: parse and format 1403/05/12 dates, names, yearly recurrences, and grouping by
Jalali period (day, week from Saturday, month, year)."""
from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable
from typing import TypeVar

import jdatetime
from jalali_core import JalaliToGregorian

from app.core.clock import today
from app.core.text import to_ascii_digits, to_persian_digits

T = TypeVar("T")

MONTHS = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
          "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند")
# Python's weekday(): Monday = 0 … Sunday = 6
WEEKDAYS = ("دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه", "شنبه", "یکشنبه")
# The Iranian week starts on Saturday.
WEEK_ORDER = ("شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه")

_DATE_RE = re.compile(r"^\s*(\d{2,4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*$")
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_TIME_RE = re.compile(r"^\s*(\d{1,2})\s*:\s*(\d{1,2})(?:\s*:\s*(\d{1,2}))?\s*$")


class JalaliError(ValueError):
    """Carries a Persian message."""


def month_length(year: int, month: int) -> int:
    if not 1 <= month <= 12:
        raise JalaliError("ماه باید بین ۱ و ۱۲ باشد.")
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if is_leap(year) else 29


@functools.lru_cache(maxsize=1024)
def is_leap(year: int) -> bool:
    return jdatetime.date(year, 1, 1).isleap()


def parse_date(text: str) -> dt.date:
    """'1403/05/12', '۱۴۰۳-۵-۱۲', '03/05/12' → Gregorian date. Raises JalaliError with a Persian message."""
    s = _BIDI.sub("", to_ascii_digits(text or "")).strip()
    m = _DATE_RE.match(s)
    if not m:
        raise JalaliError("تاریخ را به شکل ۱۴۰۳/۰۵/۱۲ بنویسید.")
    y, mo, d = (int(g) for g in m.groups())
    if y < 100:
        # Two-digit year: the nearest one that is at most 20 years ahead (in 1405: 03 → 1403, 24 → 1424,
        # 60 → 1360, 99 → 1399), so a birth year and next year's due date both read as meant.
        current = to_jalali(today()).year
        y += current - current % 100
        if y > current + 20:
            y -= 100
    if not 1200 <= y <= 1600:
        raise JalaliError("سال تاریخ درست نیست.")
    if not 1 <= mo <= 12:
        raise JalaliError("ماه باید بین ۱ و ۱۲ باشد.")
    if d < 1:
        raise JalaliError(f"روز باید بین ۱ و {to_persian_digits(month_length(y, mo))} باشد.")
    if d > month_length(y, mo):
        raise JalaliError(f"{MONTHS[mo - 1]} {to_persian_digits(y)} فقط {to_persian_digits(month_length(y, mo))} روز دارد.")
    return _gregorian_of(y, mo, d)


@functools.lru_cache(maxsize=8192)
def _gregorian_of(y: int, mo: int, d: int) -> dt.date:
    """A checked Jalali date → Gregorian (dates repeat: an import of 50,000 birthdays meets each day many times).
    jdatetime's own conversion, without building a jdatetime.date (which asks the locale module each time)."""
    return dt.date(*JalaliToGregorian(y, mo, d).getGregorianList())


def date_field(value: object, key: str, errors: dict[str, str], required: bool = False) -> dt.date | None:
    """A form's date (a date, a datetime, or Jalali text) → a date; a problem is written to errors[key] in Persian
    and None returned. Empty is None, or an error when required."""
    if value in (None, ""):
        if required:
            errors[key] = "تاریخ را وارد کنید."
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return parse_date(str(value))
    except JalaliError as e:
        errors[key] = str(e)
        return None


def parse_datetime(date_text: str, time_text: str = "") -> dt.datetime:
    d = parse_date(date_text)
    if not time_text.strip():
        return dt.datetime.combine(d, dt.time())
    m = _TIME_RE.match(to_ascii_digits(time_text))
    if not m:
        raise JalaliError("ساعت را به شکل ۱۴:۳۰ بنویسید.")
    h, mi, se = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if h > 23 or mi > 59 or se > 59:
        raise JalaliError("ساعت درست نیست.")
    return dt.datetime.combine(d, dt.time(h, mi, se))


def to_jalali(d: dt.date | dt.datetime) -> jdatetime.date:
    if isinstance(d, dt.datetime):
        d = d.date()
    return jdatetime.date.fromgregorian(date=d)


def from_jalali(year: int, month: int, day: int) -> dt.date:
    return jdatetime.date(year, month, day).togregorian()


@functools.lru_cache(maxsize=8192)
def _ymd(d: dt.date) -> tuple[str, str]:
    """(ASCII, Persian digits) of one day's Jalali date: jdatetime's conversion (it reads the locale each time)
    costs more than a whole indexed query, and lists and the popup show the same days again and again."""
    j = jdatetime.date.fromgregorian(date=d)
    s = f"{j.year:04d}/{j.month:02d}/{j.day:02d}"
    return s, to_persian_digits(s)


def format_date(d: dt.date | dt.datetime | None, persian: bool = True) -> str:
    """Gregorian date → '۱۴۰۳/۰۵/۱۲' (or ASCII digits with persian=False)."""
    if d is None:
        return ""
    if isinstance(d, dt.datetime):
        d = d.date()
    return _ymd(d)[1 if persian else 0]


def format_datetime(d: dt.datetime | None, persian: bool = True, seconds: bool = False) -> str:
    if d is None:
        return ""
    t = f"{d.hour:02d}:{d.minute:02d}:{d.second:02d}" if seconds else f"{d.hour:02d}:{d.minute:02d}"
    s = format_date(d, persian=False) + " " + t
    return to_persian_digits(s) if persian else s


def format_time(d: dt.datetime | dt.time | None, persian: bool = True) -> str:
    if d is None:
        return ""
    s = f"{d.hour:02d}:{d.minute:02d}"
    return to_persian_digits(s) if persian else s


def month_name(month: int) -> str:
    return MONTHS[month - 1]


def weekday_name(d: dt.date) -> str:
    return WEEKDAYS[d.weekday()]


def format_long(d: dt.date | dt.datetime | None) -> str:
    """'سه‌شنبه ۳ آذر ۱۴۰۵'."""
    if d is None:
        return ""
    return _long(d.date() if isinstance(d, dt.datetime) else d)


@functools.lru_cache(maxsize=4096)
def _long(d: dt.date) -> str:
    """One day's long form: a customer's history shows it on each of thousands of entries, most on a few days."""
    j = to_jalali(d)
    return f"{weekday_name(d)} {to_persian_digits(j.day)} {MONTHS[j.month - 1]} {to_persian_digits(j.year)}"


def add_months(d: dt.date, months: int, day: int | None = None) -> dt.date:
    """Move by whole Jalali months, keeping the day of month (or `day`), clamped to the month's length."""
    j = to_jalali(d)
    total = j.year * 12 + (j.month - 1) + months
    y, m = divmod(total, 12)
    m += 1
    want = day or j.day
    return from_jalali(y, m, min(want, month_length(y, m)))


def add_years(d: dt.date, years: int, month: int | None = None, day: int | None = None) -> dt.date:
    j = to_jalali(d)
    y = j.year + years
    mo = month or j.month
    return from_jalali(y, mo, min(day or j.day, month_length(y, mo)))


def next_anniversary(original: dt.date, today: dt.date) -> dt.date:
    """The next occurrence (today included) of a Jalali birthday/anniversary.

    Esfand 30 (only in leap years) falls on Esfand 29 in common years.
    """
    o = to_jalali(original)
    t = to_jalali(today)
    for y in (t.year, t.year + 1):
        cand = from_jalali(y, o.month, min(o.day, month_length(y, o.month)))
        if cand >= today:
            return cand
    raise AssertionError("unreachable")


def is_anniversary(original: dt.date, day: dt.date) -> bool:
    return next_anniversary(original, day) == day


def years_since(original: dt.date, day: dt.date) -> int:
    o, t = to_jalali(original), to_jalali(day)
    # Esfand 30 is celebrated on Esfand 29 in common years (as next_anniversary does).
    o_day = min(o.day, month_length(t.year, o.month))
    return t.year - o.year - ((t.month, t.day) < (o.month, o_day))


def month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    """First and last Gregorian day of a Jalali month."""
    return from_jalali(year, month, 1), from_jalali(year, month, month_length(year, month))


def month_label(year: int, month: int) -> str:
    return f"{MONTHS[month - 1]} {to_persian_digits(year)}"


# --- Jalali periods: a day, an Iranian week (from Saturday), a Jalali month, a Jalali year ---

PERIODS = ("day", "week", "month", "year")


def period_bounds(d: dt.date | dt.datetime, period: str) -> tuple[dt.date, dt.date]:
    """The Jalali period holding `d` as [first day, first day of the next period)."""
    if isinstance(d, dt.datetime):
        d = d.date()
    if period == "day":
        return d, d + dt.timedelta(days=1)
    if period == "week":
        start = d - dt.timedelta(days=(d.weekday() - 5) % 7)       # back to Saturday
        return start, start + dt.timedelta(days=7)
    j = to_jalali(d)
    if period == "month":
        start = d - dt.timedelta(days=j.day - 1)
        return start, start + dt.timedelta(days=month_length(j.year, j.month))
    if period == "year":
        return from_jalali(j.year, 1, 1), from_jalali(j.year + 1, 1, 1)
    raise ValueError(f"unknown period {period!r}; one of {PERIODS}")


def period_start(d: dt.date | dt.datetime, period: str) -> dt.date:
    """The first day of the Jalali period holding `d`: the day itself, its week's Saturday, the 1st of its Jalali
    month, or 1 Farvardin of its Jalali year."""
    return period_bounds(d, period)[0]


def group_by_period(items: Iterable[T], date_of: Callable[[T], dt.date | dt.datetime],
                    period: str) -> list[tuple[dt.date, list[T]]]:
    """Items grouped by the Jalali period their date falls in: (the period's first day, its items in their
    order), oldest period first. Periods with no items are left out. Items in date order cost one calendar
    conversion per period, not per item."""
    groups: dict[dt.date, list[T]] = {}
    start = end = None
    for item in items:
        d = date_of(item)
        day = d.date() if isinstance(d, dt.datetime) else d
        if start is None or end is None or not start <= day < end:
            start, end = period_bounds(day, period)
        groups.setdefault(start, []).append(item)
    return sorted(groups.items(), key=lambda kv: kv[0])
