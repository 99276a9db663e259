"""Numbers in Persian words, as written on invoices and cheques: 1_200_000 → «یک میلیون و دویست هزار».

Groups of three digits are named with the short scale Iran uses (هزار، میلیون، میلیارد، تریلیون، …) and
joined with « و ». A group of one before a scale is written out («یک هزار», «یک میلیون»), as on cheques.
"""
from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

ZERO = "صفر"
NEGATIVE = "منفی"
AND = " و "

_ONES = ("", "یک", "دو", "سه", "چهار", "پنج", "شش", "هفت", "هشت", "نه")
_TEENS = ("ده", "یازده", "دوازده", "سیزده", "چهارده", "پانزده", "شانزده", "هفده", "هجده", "نوزده")
_TENS = ("", "", "بیست", "سی", "چهل", "پنجاه", "شصت", "هفتاد", "هشتاد", "نود")
_HUNDREDS = ("", "یکصد", "دویست", "سیصد", "چهارصد", "پانصد", "ششصد", "هفتصد", "هشتصد", "نهصد")
# 10^3 … 10^21
_SCALES = ("", "هزار", "میلیون", "میلیارد", "تریلیون", "کوادریلیون", "کوینتیلیون")

MAX = 10 ** (3 * len(_SCALES)) - 1


def _below_thousand(n: int) -> list[str]:
    parts = []
    h, rest = divmod(n, 100)
    if h:
        parts.append(_HUNDREDS[h])
    if 10 <= rest < 20:
        parts.append(_TEENS[rest - 10])
    else:
        t, o = divmod(rest, 10)
        if t:
            parts.append(_TENS[t])
        if o:
            parts.append(_ONES[o])
    return parts


def to_words(n: int | float) -> str:
    """An integer in Persian words. Zero is «صفر»; a negative number starts with «منفی».

    Raises ValueError beyond the named scales (about 10^21).
    """
    if isinstance(n, bool) or not isinstance(n, int):
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        else:
            raise TypeError(f"to_words needs an integer, not {type(n).__name__}")
    if n == 0:
        return ZERO
    if n < 0:
        return f"{NEGATIVE} {to_words(-n)}"
    if n > MAX:
        raise ValueError(f"number too large to write in words: {n}")
    groups = []
    scale = 0
    while n:
        n, g = divmod(n, 1000)
        if g:
            words = AND.join(_below_thousand(g))
            if scale:
                words = f"{words} {_SCALES[scale]}"
            groups.append(words)
        scale += 1
    return AND.join(reversed(groups))


def amount_in_words(rials: int, toman: bool = False) -> str:
    """«یک میلیون و دویست هزار ریال»; with toman=True the amount is divided by ten and named in Toman
    (a remainder of Rials, if any, is added: «… تومان و پنج ریال»)."""
    if not toman:
        return f"{to_words(rials)} ریال"
    sign = -1 if rials < 0 else 1
    tomans, rest = divmod(abs(rials), 10)
    if rest and not tomans:
        return f"{to_words(sign * rest)} ریال"
    text = f"{to_words(sign * tomans)} تومان"
    if rest:
        text += f"{AND}{to_words(rest)} ریال"
    return text
