"""Jalali dates: parsing what people type, month lengths and leap years, formatting, yearly recurrences."""
from __future__ import annotations

import datetime as dt

import jdatetime
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core import clock
from app.core import jalali as J
from app.core.jalali import JalaliError


def j(y: int, m: int, d: int) -> dt.date:
    return jdatetime.date(y, m, d).togregorian()


def fmt(d: dt.date) -> str:
    return J.format_date(d, persian=False)


@pytest.fixture
def in_1405():
    """Today is 3 Azar 1405 (2026-11-24)."""
    clock.set_now(dt.datetime(2026, 11, 24, 10, 0))
    yield
    clock.set_now(None)


# --- leap years and month lengths ---------------------------------------------------------------------------

def test_leap_years_agree_with_jdatetime():
    for y in range(1300, 1500):
        assert J.is_leap(y) == jdatetime.date(y, 1, 1).isleap()
        # Esfand 30 exists exactly in leap years.
        try:
            jdatetime.date(y, 12, 30)
            exists = True
        except ValueError:
            exists = False
        assert exists == J.is_leap(y)


def test_known_leap_years():
    assert [y for y in range(1395, 1412) if J.is_leap(y)] == [1395, 1399, 1403, 1408]


def test_month_lengths():
    assert [J.month_length(1403, m) for m in range(1, 13)] == [31] * 6 + [30] * 5 + [30]
    assert [J.month_length(1402, m) for m in range(1, 13)] == [31] * 6 + [30] * 5 + [29]
    for bad in (0, 13, -1):
        with pytest.raises(JalaliError, match="ماه"):
            J.month_length(1403, bad)


def test_month_range_covers_the_whole_month():
    first, last = J.month_range(1403, 12)
    assert (first, last) == (j(1403, 12, 1), j(1403, 12, 30))
    assert (last - first).days == 29
    first, last = J.month_range(1402, 12)
    assert (last - first).days == 28
    assert J.month_range(1405, 1) == (dt.date(2026, 3, 21), dt.date(2026, 4, 20))


# --- parse_date ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", [
    "1403/05/12", "1403/5/12", "1403-05-12", "1403.05.12", "۱۴۰۳/۰۵/۱۲", "١٤٠٣/٠٥/١٢", "۱۴۰۳-۵-۱۲",
    " 1403 / 05 / 12 ", "\u200f1403/05/12\u200e", "1403\u200f/05/12", "۱۴۰۳/05/۱۲",
])
def test_parse_date_accepts_common_spellings(typed):
    assert J.parse_date(typed) == dt.date(2024, 8, 2)


def test_parse_date_first_and_last_day_of_year():
    assert J.parse_date("1403/01/01") == dt.date(2024, 3, 20)     # Nowruz 1403
    assert J.parse_date("1403/12/30") == dt.date(2025, 3, 20)     # 1403 is a leap year
    assert J.parse_date("1399/12/30") == dt.date(2021, 3, 20)
    assert J.parse_date("1402/12/29") == dt.date(2024, 3, 19)
    assert J.parse_date("1403/06/31") == dt.date(2024, 9, 21)


@pytest.mark.parametrize("typed, message", [
    ("1403/13/40", "ماه باید بین ۱ و ۱۲ باشد."),
    ("1403/00/10", "ماه باید بین ۱ و ۱۲ باشد."),
    ("1402/12/30", "اسفند ۱۴۰۲ فقط ۲۹ روز دارد."),        # 1402 is not a leap year
    ("1404/12/30", "اسفند ۱۴۰۴ فقط ۲۹ روز دارد."),
    ("1403/07/31", "مهر ۱۴۰۳ فقط ۳۰ روز دارد."),
    ("1403/01/32", "فروردین ۱۴۰۳ فقط ۳۱ روز دارد."),
    ("1403/01/00", "روز باید بین ۱ و ۳۱ باشد."),
    ("1403/12/00", "روز باید بین ۱ و ۳۰ باشد."),
    ("2024/05/12", "سال تاریخ درست نیست."),              # a Gregorian date typed into a Jalali field
    ("1100/01/01", "سال تاریخ درست نیست."),
    ("403/05/12", "سال تاریخ درست نیست."),
    ("", "تاریخ را به شکل ۱۴۰۳/۰۵/۱۲ بنویسید."),
    ("abc", "تاریخ را به شکل ۱۴۰۳/۰۵/۱۲ بنویسید."),
    ("1403/5", "تاریخ را به شکل ۱۴۰۳/۰۵/۱۲ بنویسید."),
    ("14030512", "تاریخ را به شکل ۱۴۰۳/۰۵/۱۲ بنویسید."),
    ("1403/05/12 10:00", "تاریخ را به شکل ۱۴۰۳/۰۵/۱۲ بنویسید."),
    ("۱۴۰۳ مرداد ۱۲", "تاریخ را به شکل ۱۴۰۳/۰۵/۱۲ بنویسید."),
])
def test_parse_date_refuses_with_a_persian_message(typed, message):
    with pytest.raises(JalaliError) as e:
        J.parse_date(typed)
    assert str(e.value) == message
    assert isinstance(e.value, ValueError)


def test_parse_date_none_is_a_message_not_a_crash():
    with pytest.raises(JalaliError):
        J.parse_date(None)


@pytest.mark.parametrize("typed, year", [
    ("03/05/12", 1403),
    ("05/01/01", 1405),
    ("10/01/01", 1410),     # a due date a few years ahead
    ("25/01/01", 1425),     # at most 20 years ahead
    ("26/01/01", 1326),     # beyond that: the previous century
    ("60/05/12", 1360),     # a birth year
    ("79/01/01", 1379),
    ("99/12/30", 1399),     # 1399 is a leap year
    ("۶۵/۰۳/۲۰", 1365),
])
def test_two_digit_years(in_1405, typed, year):
    assert J.to_jalali(J.parse_date(typed)).year == year


def test_two_digit_year_validates_esfand_30_in_the_right_year(in_1405):
    with pytest.raises(JalaliError, match="اسفند ۱۴۰۲"):
        J.parse_date("02/12/30")


def test_parse_datetime():
    assert J.parse_datetime("1403/05/12", "14:30") == dt.datetime(2024, 8, 2, 14, 30)
    assert J.parse_datetime("1403/05/12", "۱۴:۳۰") == dt.datetime(2024, 8, 2, 14, 30)
    assert J.parse_datetime("1403/05/12", "9:5:7") == dt.datetime(2024, 8, 2, 9, 5, 7)
    assert J.parse_datetime("1403/05/12") == dt.datetime(2024, 8, 2)
    for bad, msg in (("24:00", "ساعت درست نیست."), ("12:60", "ساعت درست نیست."),
                     ("ظهر", "ساعت را به شکل ۱۴:۳۰ بنویسید."), ("14", "ساعت را به شکل ۱۴:۳۰ بنویسید.")):
        with pytest.raises(JalaliError) as e:
            J.parse_datetime("1403/05/12", bad)
        assert str(e.value) == msg


# --- formatting -----------------------------------------------------------------------------------------------

def test_format_date_and_friends():
    d = dt.date(2026, 11, 24)
    assert J.format_date(d) == "۱۴۰۵/۰۹/۰۳"
    assert J.format_date(d, persian=False) == "1405/09/03"
    assert J.format_date(dt.datetime(2026, 11, 24, 23, 59)) == "۱۴۰۵/۰۹/۰۳"
    assert J.format_date(None) == ""
    assert J.format_datetime(dt.datetime(2026, 11, 24, 9, 5)) == "۱۴۰۵/۰۹/۰۳ ۰۹:۰۵"
    assert J.format_datetime(dt.datetime(2026, 11, 24, 9, 5, 7), persian=False, seconds=True) == "1405/09/03 09:05:07"
    assert J.format_datetime(None) == ""
    assert J.format_time(dt.time(14, 30)) == "۱۴:۳۰"
    assert J.format_time(None) == ""
    assert J.format_long(d) == "سه‌شنبه ۳ آذر ۱۴۰۵"
    assert J.format_long(dt.datetime(2026, 11, 24, 10, 0)) == "سه‌شنبه ۳ آذر ۱۴۰۵"
    assert J.format_long(None) == ""
    assert J.month_label(1403, 12) == "اسفند ۱۴۰۳"


def test_month_and_weekday_names():
    assert [J.month_name(m) for m in (1, 6, 7, 12)] == ["فروردین", "شهریور", "مهر", "اسفند"]
    # 1405/01/01 (2026-03-21) is a Saturday, the first day of the Iranian week.
    week = [J.weekday_name(dt.date(2026, 3, 21) + dt.timedelta(days=k)) for k in range(7)]
    assert tuple(week) == J.WEEK_ORDER
    assert J.weekday_name(dt.date(2026, 3, 27)) == "جمعه"


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_format_then_parse_round_trips(d):
    assert J.parse_date(J.format_date(d)) == d
    assert J.parse_date(J.format_date(d, persian=False)) == d
    jd = J.to_jalali(d)
    assert J.from_jalali(jd.year, jd.month, jd.day) == d


# --- month/year arithmetic ------------------------------------------------------------------------------------

@pytest.mark.parametrize("start, months, expected", [
    ((1403, 5, 5), 0, (1403, 5, 5)),
    ((1403, 5, 5), 1, (1403, 6, 5)),
    ((1403, 6, 31), 1, (1403, 7, 30)),      # 31-day month into a 30-day month: clamped
    ((1403, 11, 30), 1, (1403, 12, 30)),    # Esfand 1403 has 30 days
    ((1402, 11, 30), 1, (1402, 12, 29)),    # Esfand 1402 has 29
    ((1403, 12, 15), 1, (1404, 1, 15)),     # across Nowruz
    ((1403, 1, 15), -1, (1402, 12, 15)),
    ((1403, 1, 31), -13, (1401, 12, 29)),
    ((1403, 12, 30), 12, (1404, 12, 29)),
    ((1403, 1, 1), 120, (1413, 1, 1)),
])
def test_add_months(start, months, expected):
    assert J.add_months(j(*start), months) == j(*expected)


def test_add_months_keeps_a_requested_day():
    # A monthly installment on the 31st: 31 in the first half of the year, clamped in the second.
    d = j(1403, 6, 31)
    assert J.add_months(d, 1, day=31) == j(1403, 7, 30)
    assert J.add_months(j(1403, 7, 30), 6, day=31) == j(1404, 1, 31)


def test_add_years():
    assert J.add_years(j(1403, 12, 30), 1) == j(1404, 12, 29)
    assert J.add_years(j(1403, 12, 30), 5) == j(1408, 12, 30)
    assert J.add_years(j(1403, 12, 30), -4) == j(1399, 12, 30)
    assert J.add_years(j(1403, 5, 12), 1, month=12, day=30) == j(1404, 12, 29)


# --- yearly recurrences: birthdays and anniversaries ---------------------------------------------------------

def test_next_anniversary_today_counts():
    born = j(1370, 5, 12)
    assert J.next_anniversary(born, j(1405, 5, 12)) == j(1405, 5, 12)
    assert J.next_anniversary(born, j(1405, 5, 13)) == j(1406, 5, 12)
    assert J.next_anniversary(born, j(1405, 1, 1)) == j(1405, 5, 12)
    assert J.is_anniversary(born, j(1405, 5, 12))
    assert not J.is_anniversary(born, j(1405, 5, 11))


def test_jalali_birthday_moves_in_the_gregorian_calendar():
    # 12 Mordad is 3 August in 1402 but 2 August in 1403: the Jalali date is what recurs.
    born = j(1370, 5, 12)
    assert J.next_anniversary(born, dt.date(2023, 7, 1)) == dt.date(2023, 8, 3)
    assert J.next_anniversary(born, dt.date(2024, 7, 1)) == dt.date(2024, 8, 2)


@pytest.mark.parametrize("today, expected", [
    ((1404, 1, 1), (1404, 12, 29)),      # 1404 is common: celebrated on Esfand 29
    ((1404, 12, 29), (1404, 12, 29)),
    ((1405, 1, 1), (1405, 12, 29)),
    ((1407, 12, 29), (1407, 12, 29)),
    ((1408, 1, 1), (1408, 12, 30)),      # 1408 is leap: on the day itself
    ((1408, 12, 29), (1408, 12, 30)),
    ((1408, 12, 30), (1408, 12, 30)),
])
def test_esfand_30_anniversary(today, expected):
    born = j(1399, 12, 30)
    assert J.next_anniversary(born, j(*today)) == j(*expected)


def test_esfand_30_is_celebrated_once_a_year():
    born = j(1399, 12, 30)
    days = [j(1400, 1, 1) + dt.timedelta(days=k) for k in range(365 * 9 + 2)]
    hits = [J.to_jalali(d) for d in days if J.is_anniversary(born, d)]
    assert [(h.year, h.month, h.day) for h in hits] == [
        (1400, 12, 29), (1401, 12, 29), (1402, 12, 29), (1403, 12, 30), (1404, 12, 29), (1405, 12, 29),
        (1406, 12, 29), (1407, 12, 29), (1408, 12, 30)]


def test_esfand_29_birthday_in_a_leap_year_stays_on_29():
    assert J.next_anniversary(j(1370, 12, 29), j(1403, 12, 1)) == j(1403, 12, 29)


def test_years_since():
    born = j(1370, 5, 12)
    assert J.years_since(born, j(1405, 5, 11)) == 34
    assert J.years_since(born, j(1405, 5, 12)) == 35
    assert J.years_since(born, j(1370, 5, 12)) == 0


def test_years_since_on_the_esfand_29_stand_in_day():
    # Born 1399/12/30; on 1404/12/29 (the day the birthday is celebrated) they turn 5, not 4.
    born = j(1399, 12, 30)
    assert J.is_anniversary(born, j(1404, 12, 29))
    assert J.years_since(born, j(1404, 12, 29)) == 5
    assert J.years_since(born, j(1404, 12, 28)) == 4
    assert J.years_since(born, j(1403, 12, 29)) == 3
    assert J.years_since(born, j(1403, 12, 30)) == 4


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 1, 1)),
       st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 1, 1)))
def test_next_anniversary_properties(original, today):
    nxt = J.next_anniversary(original, today)
    assert today <= nxt < today + dt.timedelta(days=367)
    o, n = J.to_jalali(original), J.to_jalali(nxt)
    assert n.month == o.month
    assert n.day == o.day or (o.month, o.day, n.day) == (12, 30, 29)
    assert J.is_anniversary(original, nxt)


# --- Jalali periods ---

def test_period_start_of_each_kind():
    d = J.from_jalali(1403, 5, 12)                  # a Friday
    assert d.weekday() == 4
    assert J.period_start(d, "day") == d
    assert J.period_start(d, "week") == J.from_jalali(1403, 5, 6)        # the Saturday before
    assert J.period_start(J.from_jalali(1403, 5, 6), "week") == J.from_jalali(1403, 5, 6)
    assert J.period_start(d, "month") == J.from_jalali(1403, 5, 1)
    assert J.period_start(dt.datetime.combine(d, dt.time(23, 59)), "year") == J.from_jalali(1403, 1, 1)
    with pytest.raises(ValueError):
        J.period_start(d, "fortnight")


def test_group_by_period_splits_at_jalali_month_ends_not_gregorian_ones():
    esfand_30, farvardin_1 = J.from_jalali(1403, 12, 30), J.from_jalali(1404, 1, 1)    # 20 and 21 March 2025
    assert (esfand_30.month, farvardin_1.month) == (3, 3)
    days = [farvardin_1, esfand_30, J.from_jalali(1403, 12, 1), J.from_jalali(1404, 1, 2)]
    groups = J.group_by_period(days, lambda d: d, "month")
    assert [start for start, _ in groups] == [J.from_jalali(1403, 12, 1), farvardin_1]     # oldest first
    assert groups[0][1] == [esfand_30, J.from_jalali(1403, 12, 1)]                          # input order kept
    assert groups[1][1] == [farvardin_1, J.from_jalali(1404, 1, 2)]
    assert J.group_by_period([], lambda d: d, "week") == []


def test_group_by_period_weeks_run_saturday_to_friday():
    friday, saturday = J.from_jalali(1403, 5, 12), J.from_jalali(1403, 5, 13)
    groups = J.group_by_period([saturday, friday], lambda d: d, "week")
    assert [(start, items) for start, items in groups] == [(J.from_jalali(1403, 5, 6), [friday]),
                                                          (saturday, [saturday])]


def test_group_by_period_over_consecutive_days_matches_period_start_for_each_day():
    days = [J.from_jalali(1403, 12, 25) + dt.timedelta(days=i) for i in range(400)]      # over two year ends
    for period in J.PERIODS:
        groups = J.group_by_period(days, lambda d: d, period)
        assert [d for _, items in groups for d in items] == days
        assert all(J.period_start(d, period) == start for start, items in groups for d in items)
        assert len({start for start, _ in groups}) == len(groups)
    assert [len(items) for _, items in J.group_by_period(days[:12], lambda d: d, "month")] == [6, 6]  # Esfand 30
    assert J.period_bounds(J.from_jalali(1403, 12, 30), "year") == (J.from_jalali(1403, 1, 1),
                                                                  J.from_jalali(1404, 1, 1))
