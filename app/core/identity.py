"""Iranian identity numbers: a person's national code (کد ملی), a company's national ID (شناسه ملی),
the economic code (کد اقتصادی), postal code."""
from __future__ import annotations

import re

from app.core.text import to_ascii_digits

_SPACES_DASHES = re.compile(r"[\s\-]")


def digits(s: str | None) -> str:
    if not s:
        return ""
    if s.isascii() and s.isdigit():
        return s
    return _SPACES_DASHES.sub("", to_ascii_digits(s))


def is_valid_national_code(code: str) -> bool:
    """10 digits, the last a mod-11 check digit; 0000000000-style repeats are not issued."""
    c = digits(code)
    if not re.fullmatch(r"\d{10}", c) or len(set(c)) == 1:
        return False
    s = sum(int(c[i]) * (10 - i) for i in range(9)) % 11
    check = int(c[9])
    return check == s if s < 2 else check == 11 - s


def is_valid_company_id(code: str) -> bool:
    """11-digit national ID of a legal entity, with its check digit (weights 29,27,23,19,17 repeated, the
    tenth digit + 2 added to each of the first ten)."""
    c = digits(code)
    if not re.fullmatch(r"\d{11}", c) or len(set(c)) == 1:
        return False
    weights = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)
    d = int(c[9]) + 2
    s = sum((int(c[i]) + d) * weights[i] for i in range(10)) % 11
    return int(c[10]) == (0 if s == 10 else s)


def check_national_id(value: str, kind: str) -> str | None:
    """Persian message if `value` is not a valid national code (person) or national ID (organisation)."""
    c = digits(value)
    if not c:
        return None
    if not re.fullmatch(r"[0-9]+", c):
        return "شناسه ملی فقط رقم دارد." if kind == "organisation" else "کد ملی فقط رقم دارد."
    if kind == "organisation":
        if len(c) == 11:
            # The published check-digit rules for legal IDs disagree; only the length is enforced.
            return None
        if len(c) == 10:
            return None if is_valid_national_code(c) else "کد ملی معتبر نیست."
        return "شناسه ملی شرکت ۱۱ رقم است."
    if len(c) != 10:
        return "کد ملی ۱۰ رقم است."
    return None if is_valid_national_code(c) else "کد ملی معتبر نیست (رقم کنترل نمی‌خواند)."


def check_economic_code(value: str) -> str | None:
    c = digits(value)
    if not c:
        return None
    if not re.fullmatch(r"\d{10,14}", c):
        return "کد اقتصادی باید ۱۰ تا ۱۴ رقم باشد."
    return None


def check_postal_code(value: str) -> str | None:
    c = digits(value)
    if not c:
        return None
    if not re.fullmatch(r"\d{10}", c):
        return "کد پستی ۱۰ رقم است."
    return None
