"""Iranian phone numbers: one canonical form for storage and caller-ID matching.

The canonical form is the national form with its leading zero: mobiles 09xxxxxxxxx, landlines
0 + two-digit area code + 8-digit subscriber number (02122514321). Foreign numbers keep "+" and their
digits; short service numbers (110, 1818) stay as digits. Whatever a caller-ID device reports (+98…, 0098…,
98…, no leading zero, subscriber number only) folds to the same canonical form, so it matches the stored one.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from app.core.text import to_ascii_digits

# Area codes of Iran's provinces (without the leading 0).
AREA_CODES = frozenset({
    "11", "13", "17", "21", "23", "24", "25", "26", "28", "31", "34", "35", "38", "41", "44", "45",
    "51", "54", "56", "58", "61", "66", "71", "74", "76", "77", "81", "83", "84", "86", "87",
})
DEFAULT_AREA_CODE = "021"

_EXT_RE = re.compile(
    r"(?:داخلی|داخل|ext\.?|extension|int\.?|x|#|-?\s*د\.?)\s*[:.]?\s*(\d{1,6})\s*$", re.IGNORECASE)
_ALLOWED = re.compile(r"^[\d\s+\-().\u200c\u00a0/]*$")
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

MOBILE = "mobile"
LANDLINE = "landline"
INTERNATIONAL = "international"
SERVICE = "service"
INVALID = "invalid"


@dataclass(frozen=True)
class Phone:
    raw: str
    canonical: str
    kind: str
    extension: str | None = None
    area_code: str | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        return self.kind != INVALID

    @property
    def tail(self) -> str:
        """Last 8 digits: the subscriber part, used as a fallback match key."""
        return _NON_DIGITS.sub("", self.canonical)[-8:]

    def display(self) -> str:
        """0912 123 4567 / 021 2251 4321, ASCII digits (callers convert for display)."""
        c = self.canonical
        if self.kind == MOBILE:
            s = f"{c[:4]} {c[4:7]} {c[7:]}"
        elif self.kind == LANDLINE:
            s = f"{c[:3]} {c[3:7]} {c[7:]}"
        else:
            s = c
        if self.extension:
            s += f" داخلی {self.extension}"
        return s


_NON_DIGITS = re.compile(r"\D")


@functools.lru_cache(maxsize=64)
def _area(area_code: str | None) -> str:
    a = re.sub(r"\D", "", to_ascii_digits(area_code or DEFAULT_AREA_CODE)).lstrip("0")
    return a if a in AREA_CODES else DEFAULT_AREA_CODE.lstrip("0")


def normalize(raw: str | int | None, area_code: str | None = DEFAULT_AREA_CODE) -> Phone:
    """Parse a number as typed or reported. Never raises; an unusable number has kind INVALID."""
    if type(raw) is str and len(raw) <= 40 and (area_code is None or type(area_code) is str):
        return _normalize_cached(raw, area_code)       # a Phone is immutable: the same text, the same Phone
    return _normalize(raw, area_code)


def _normalize(raw: str | int | None, area_code: str | None) -> Phone:
    if type(raw) is str and raw.isascii() and raw.isdigit():
        return _classify(raw, raw, False, None, _area(area_code))    # plain digits: nothing to strip or split
    # Bidi marks come along when a number is copied out of a Persian Word document or web page.
    text = _BIDI.sub("", to_ascii_digits(str(raw if raw is not None else ""))).strip()
    ext = None
    m = _EXT_RE.search(text)
    if m and len(re.sub(r"\D", "", text[: m.start()])) >= 7:
        ext = m.group(1)
        text = text[: m.start()].strip()
    text = text.strip(" -,;")
    if not text:
        return Phone(str(raw or ""), "", INVALID, problems=("empty",))
    if not _ALLOWED.match(text):
        return Phone(str(raw), re.sub(r"\D", "", text), INVALID, ext, problems=("characters",))
    plus = text.lstrip("( ").startswith("+")
    digits = re.sub(r"\D", "", text)
    # An Excel cell may come back as 9121234567.0
    if re.fullmatch(r"\d+\.0", text.strip()):
        digits = text.strip()[:-2]
    return _classify(str(raw), digits, plus, ext, _area(area_code))


# the same number is parsed several times in a row (its cell, the primary-number column, validation)
_normalize_cached = functools.lru_cache(maxsize=4096)(_normalize)


def _classify(raw: str, d: str, plus: bool, ext: str | None, area: str) -> Phone:
    if plus:
        if d.startswith("98"):
            d = "0" + d[2:]
        elif not d.startswith("0"):
            return _international(raw, d, ext)
        # else «+0912…»: no country code starts with 0 — a national number with a stray plus.
    elif d.startswith("00"):
        if d.startswith("0098"):
            d = "0" + d[4:]
        else:
            return _international(raw, d[2:], ext)
    elif d.startswith("98") and len(d) == 12:
        d = "0" + d[2:]
    if len(d) == 12 and d.startswith("00"):
        # «+98 (0)21 2251 4321», «0098 (0)912…»: the trunk 0 written after the country code as well.
        d = d[1:]
    # Some lines prefix a trunk 0 twice (0021…) — but 00 was handled above as international; nothing here.
    if len(d) == 10 and not d.startswith("0"):
        d = "0" + d
    if len(d) == 11 and d.startswith("09"):
        return Phone(raw, d, MOBILE, ext)
    if len(d) == 11 and d.startswith("0"):
        if d[1:3] in AREA_CODES:
            return Phone(raw, d, LANDLINE, ext, "0" + d[1:3])
        return Phone(raw, d, INVALID, ext, problems=("area_code",))
    if len(d) == 8 and d[0] != "0":
        return Phone(raw, "0" + area + d, LANDLINE, ext, "0" + area)
    if len(d) == 7 and d[0] != "0":
        # Some provincial subscriber numbers used to be 7 digits; keep them local, unvalidated.
        return Phone(raw, "0" + area + d, LANDLINE, ext, "0" + area, problems=("short",))
    if 3 <= len(d) <= 6 and d[0] != "0":
        return Phone(raw, d, SERVICE, ext)
    if not d:
        return Phone(raw, "", INVALID, ext, problems=("empty",))
    return Phone(raw, d, INVALID, ext, problems=("length",))


def _international(raw: str, d: str, ext: str | None) -> Phone:
    if 7 <= len(d) <= 15:
        return Phone(raw, "+" + d, INTERNATIONAL, ext)
    return Phone(raw, "+" + d, INVALID, ext, problems=("length",))


PROBLEM_MESSAGES = {
    "empty": "شماره تلفن خالی است.",
    "characters": "شماره تلفن فقط می‌تواند رقم، فاصله، خط تیره، پرانتز و + داشته باشد.",
    "area_code": "پیش‌شماره این شماره در ایران وجود ندارد.",
    "length": "تعداد رقم‌های شماره درست نیست (همراه ۱۱ رقم با ۰۹، ثابت ۸ رقم یا ۱۱ رقم با کد شهر).",
}


def problem_message(p: Phone) -> str:
    for code in p.problems:
        if code in PROBLEM_MESSAGES:
            return PROBLEM_MESSAGES[code]
    return "شماره تلفن معتبر نیست."


def lookup_keys(reported: str, area_code: str | None = DEFAULT_AREA_CODE) -> list[str]:
    """The canonical forms to try for a number a caller-ID device reported, best first.

    A number reported without an area code is tried with the office's area code; a number that cannot be
    classified is still tried as its bare digits (a support person can then see what was tried).
    """
    p = normalize(reported, area_code)
    keys: list[str] = []
    if p.canonical:
        keys.append(p.canonical)
    digits = re.sub(r"\D", "", to_ascii_digits(reported or ""))
    if digits and digits not in keys:
        keys.append(digits)
    if len(digits) == 12 and digits[0] in "09":
        # A box that prefixes an outside-line digit (e.g. 0 or 9) before the number: 0 + 09121234567 reads as
        # the international 00 91…, 9 + 02122514321 as nothing at all; try the number behind the digit too.
        alt = normalize(digits[1:], area_code)
        if alt.kind in (MOBILE, LANDLINE) and alt.canonical not in keys:
            keys.append(alt.canonical)
    return keys
