"""One rule for how numbers, money, dates, phones and paths look, on every screen, PDF and sheet.

Persian text reads Persian digits with the Arabic thousands separator «٬» (U+066C), the way
QLocale(Persian, Iran) writes 1234567 → ۱٬۲۳۴٬۵۶۷. Counts carry the same separator («۳٬۰۰۰ مشتری»,
«۱٬۵۳۴ تماس»). Phone numbers are grouped (۰۹۱۲ ۱۲۳ ۴۵۶۷, ۰۲۱ ۸۸۷۶ ۵۴۳۲) and isolated left-to-right so the
groups keep their order inside Persian text; so are file paths («/tmp/…/modem» would otherwise be shown back
to front). Plain Python, no Qt: app/ (PDF, Excel) and ui/ both format through here.
"""
from __future__ import annotations

import datetime as _dt
import functools
import os
import re

from app import options as _options
from app.core import jalali as _jalali
from app.core.text import format_number, to_persian_digits

THOUSANDS = "٬"          # U+066C ARABIC THOUSANDS SEPARATOR
DECIMAL = "٫"            # U+066B ARABIC DECIMAL SEPARATOR
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"


def digits(value: object) -> str:
    """Any text or number with its ASCII digits made Persian (no grouping): codes, years, row numbers."""
    if value is None:
        return ""
    return to_persian_digits(value)


def num(n: int | float | None) -> str:
    """1234567 → ۱٬۲۳۴٬۵۶۷; 2.5 → ۲٫۵; None → ''."""
    if n is None:
        return ""
    return format_number(n)


def count(n: int, noun: str = "") -> str:
    """3000, «مشتری» → «۳٬۰۰۰ مشتری» (the noun stays singular after a number, as Persian has it)."""
    s = num(n)
    return f"{s} {noun}" if noun else s


def money(amount: int | None, toman: bool | None = None, unit: bool = True) -> str:
    """Integer Rials for display: «۱٬۲۰۰٬۰۰۰ ریال», or Toman (÷10) when the office shows Toman."""
    if amount is None:
        return ""
    if toman is None:
        toman = _show_toman()
    if toman:
        v = amount // 10 if amount % 10 == 0 else amount / 10
        return num(v) + (" تومان" if unit else "")
    return num(amount) + (" ریال" if unit else "")


@functools.cache
def _settings():
    """app.settings, imported on first use (fmt is imported before anything else; a function-level import
    costs more than the look-up it serves when a list formats thousands of cells)."""
    from app import settings

    return settings


@functools.cache
def _phones():
    from app.core import phones

    return phones


def _show_toman() -> bool:
    try:
        return bool(_settings().get(_options.MONEY_SHOW_TOMAN))
    except Exception:  # noqa: BLE001 - before a database is open the default (Rial) applies
        return False


def date(d: _dt.date | _dt.datetime | None) -> str:
    """Gregorian → «۱۴۰۵/۰۹/۰۳»."""
    return _jalali.format_date(d)


def datetime(d: _dt.datetime | None) -> str:
    """«۱۴۰۵/۰۹/۰۳ ۱۴:۳۰»."""
    return _jalali.format_datetime(d)


def time(t: _dt.datetime | _dt.time | None) -> str:
    """«۱۴:۳۰»."""
    return _jalali.format_time(t)


def ltr(s: object) -> str:
    """Isolate a left-to-right run (a path, a grouped phone, a code) so Persian text does not reorder it."""
    s = "" if s is None else str(s)
    return f"{LRI}{s}{PDI}" if s else ""


def path(p: str | os.PathLike | None) -> str:
    """A file path inside Persian text, in its own order: LRI … PDI around it (digits stay ASCII)."""
    if p is None:
        return ""
    return ltr(os.fspath(p))


# A path inside a message: /home/ali/…, ~/…, C:\Users\…, \\server\share\…, COM3 needs nothing. It runs to the
# next space or a bracket/quote/Persian punctuation; Persian letters do not end it (a Persian folder name).
_PATH_RE = re.compile(r"(?<![\w\u2066:/\\])(?:[A-Za-z]:[\\/]|\\\\|~/|/)[^\s«»()\[\]\u060c\u061b\"'\u2066-\u2069]*")


def isolate_paths(text: str | None) -> str:
    """Every file path in a message wrapped in LRI … PDI, so «(/tmp/x/modem)» is not shown «(tmp/x/modem/)»."""
    if not text:
        return ""

    def wrap(m: re.Match) -> str:
        s = m.group(0)
        trail = ""
        while s and s[-1] in ".:!?؟":       # a sentence's full stop is not part of the path
            trail = s[-1] + trail
            s = s[:-1]
        if len(s) < 2 or not re.search(r"[\\/]", s[1:] or ""):
            return m.group(0)
        return ltr(s) + trail

    return _PATH_RE.sub(wrap, text)


def isolate_message(text: str | None) -> str:
    """A message for a dialog: its paths isolated, and a line that is a command to type (``crm …``) kept whole
    in left-to-right order."""
    lines = isolate_paths(text).split("\n")
    return "\n".join(ltr(line) if line.startswith("crm ") else line for line in lines)


def phone(raw: str | None, extension: str | None = None, area_code: str | None = None) -> str:
    """Any stored number → «۰۹۱۲ ۱۲۳ ۴۵۶۷» / «۰۲۱ ۸۸۷۶ ۵۴۳۲ داخلی ۲۱۴», the number isolated LTR.

    A number that is not a valid Iranian one keeps its own spelling (Persian digits)."""
    if not raw:
        return ""
    if area_code is None:
        try:
            area_code = _settings().area_code()
        except Exception:  # noqa: BLE001 - no database: the default area code applies
            area_code = _phones().DEFAULT_AREA_CODE
    return _phone_text(str(raw), extension or None, area_code)


@functools.lru_cache(maxsize=4096)
def _phone_text(raw: str, extension: str | None, area_code: str) -> str:
    """phone()'s text, remembered: a list (the dashboard, every minute) shows the same numbers again and again."""
    ph = _phones()
    p = ph.normalize(raw, area_code)
    number = p.display().split(" داخلی ")[0] if p.valid else str(raw).strip()
    text = ltr(digits(number))
    ext = extension or p.extension
    if ext:
        text += f" داخلی {digits(ext)}"
    return text


_LATIN_WORD = re.compile(r"[A-Za-z@]")


def text_digits(s: str | None) -> str:
    """Persian digits in running text («پروژکتور ۱۰۰ وات»), except inside Latin words and codes (LED-40W,
    an e-mail address), which keep their ASCII digits."""
    if not s:
        return ""
    return re.sub(r"\S+", lambda m: m.group(0) if _LATIN_WORD.search(m.group(0)) else digits(m.group(0)), s)


def percent(value: int | float) -> str:
    """10 → «۱۰٪»."""
    return num(value) + "٪"
