"""app.fmt: one rule for digits, separators, counts, money, phones and paths, everywhere."""
from __future__ import annotations

import datetime as dt

from app import fmt

LRI, PDI = "\u2066", "\u2069"


def test_numbers_and_counts_use_persian_digits_and_the_persian_separator():
    assert fmt.num(1534) == "۱٬۵۳۴"
    assert fmt.count(3000, "مشتری") == "۳٬۰۰۰ مشتری"
    assert fmt.count(1534, "تماس") == "۱٬۵۳۴ تماس"
    assert fmt.num(-2_500_000) == "-۲٬۵۰۰٬۰۰۰"
    assert fmt.num(2.5) == "۲٫۵"
    assert fmt.num(None) == ""
    assert fmt.digits(0) == "۰"
    assert fmt.percent(10) == "۱۰٪"


def test_money_in_rial_and_toman():
    assert fmt.money(12_500_000, toman=False) == "۱۲٬۵۰۰٬۰۰۰ ریال"
    assert fmt.money(12_500_000, toman=True) == "۱٬۲۵۰٬۰۰۰ تومان"
    assert fmt.money(15, toman=True) == "۱٫۵ تومان"
    assert fmt.money(None) == ""


def test_dates():
    assert fmt.date(dt.date(2026, 11, 24)) == "۱۴۰۵/۰۹/۰۳"
    assert fmt.datetime(dt.datetime(2026, 11, 24, 9, 5)) == "۱۴۰۵/۰۹/۰۳ ۰۹:۰۵"
    assert fmt.time(dt.time(14, 30)) == "۱۴:۳۰"
    assert fmt.time(None) == ""


def test_phones_are_grouped_and_isolated():
    assert fmt.phone("09121234567", area_code="021") == f"{LRI}۰۹۱۲ ۱۲۳ ۴۵۶۷{PDI}"
    assert fmt.phone("88765432", area_code="021") == f"{LRI}۰۲۱ ۸۸۷۶ ۵۴۳۲{PDI}"
    assert fmt.phone("02188765432", "214", area_code="021") == f"{LRI}۰۲۱ ۸۸۷۶ ۵۴۳۲{PDI} داخلی ۲۱۴"
    assert fmt.phone("") == ""


def test_paths_keep_their_order_inside_persian_text():
    assert fmt.path("/tmp/x/modem") == f"{LRI}/tmp/x/modem{PDI}"
    assert fmt.isolate_paths("شناسه تماس: وصل (/tmp/pytest-1/modem)") == \
        f"شناسه تماس: وصل ({LRI}/tmp/pytest-1/modem{PDI})"
    # a sentence's full stop stays outside; a Persian folder name stays inside
    assert fmt.isolate_paths("پشتیبان ذخیره شد: /home/علی/backup-1.sqlite3.") == \
        f"پشتیبان ذخیره شد: {LRI}/home/علی/backup-1.sqlite3{PDI}."
    assert fmt.isolate_paths(r"فایل C:\Users\Ali\a.pdf را ببینید") == f"فایل {LRI}C:\\Users\\Ali\\a.pdf{PDI} را ببینید"
    # not paths: a date, a URL, a port name, a fraction
    for text in ("۱۴۰۵/۰۹/۰۳", "1405/09/03", "https://x.ir/a", "درگاه COM3", "a/b"):
        assert fmt.isolate_paths(text) == text
    # already isolated: not wrapped twice
    once = fmt.isolate_paths("در /tmp/a/b")
    assert fmt.isolate_paths(once) == once


def test_text_digits_leave_latin_codes_alone():
    assert fmt.text_digits("پروژکتور 100 وات LED-40W") == "پروژکتور ۱۰۰ وات LED-40W"
