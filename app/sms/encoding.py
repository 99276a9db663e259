"""How a text travels as SMS: GSM-7 when every character is in the GSM default alphabet, UCS-2 otherwise
(any Persian letter forces UCS-2). Lengths per 3GPP 23.038/23.040: one part holds 160 GSM-7 septets or 70
UCS-2 characters; a concatenated part loses 6 octets to its header: 153 septets or 67 characters."""
from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXT = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E,
            "|": 0x40, "€": 0x65}
_BASIC_INDEX = {ch: i for i, ch in enumerate(GSM7_BASIC) if ch != "\x1b"}

GSM7 = "gsm7"
UCS2 = "ucs2"
SINGLE = {GSM7: 160, UCS2: 70}
MULTI = {GSM7: 153, UCS2: 67}


def is_gsm7(text: str) -> bool:
    return all(ch in _BASIC_INDEX or ch in GSM7_EXT for ch in text)


def gsm7_septets(text: str) -> list[int]:
    """The GSM-7 code of each character; an extension character is two septets (ESC, code)."""
    out: list[int] = []
    for ch in text:
        if ch in _BASIC_INDEX:
            out.append(_BASIC_INDEX[ch])
        else:
            out.extend((0x1B, GSM7_EXT[ch]))
    return out


def width(ch: str, encoding: str) -> int:
    """An extension character takes 2 septets and a character outside the BMP 2 UTF-16 code units; neither
    is ever split between parts."""
    if encoding == GSM7:
        return 1 if ch in _BASIC_INDEX else 2
    return 2 if ord(ch) > 0xFFFF else 1


@dataclass(frozen=True)
class Info:
    encoding: str
    length: int          # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int
    per_part: int        # capacity of each part at this length
    remaining: int       # room left in the last part

    @property
    def persian(self) -> bool:
        return self.encoding == UCS2


def info(text: str) -> Info:
    enc = GSM7 if is_gsm7(text) else UCS2
    length = sum(width(ch, enc) for ch in text)
    if length <= SINGLE[enc]:
        return Info(enc, length, 1 if length else 0, SINGLE[enc], SINGLE[enc] - length)
    chunks = split(text, enc)
    per = MULTI[enc]
    last = sum(width(ch, enc) for ch in chunks[-1])
    return Info(enc, length, len(chunks), per, per - last)


def parts_of(text: str) -> int:
    return max(1, info(text).parts)


def split(text: str, encoding: str | None = None) -> list[str]:
    """The text cut into parts (one part when it fits in a single message)."""
    enc = encoding or (GSM7 if is_gsm7(text) else UCS2)
    total = sum(width(ch, enc) for ch in text)
    if total <= SINGLE[enc]:
        return [text]
    cap = MULTI[enc]
    out: list[str] = []
    cur: list[str] = []
    used = 0
    for ch in text:
        w = width(ch, enc)
        if used + w > cap:
            out.append("".join(cur))
            cur, used = [], 0
        cur.append(ch)
        used += w
    if cur:
        out.append("".join(cur))
    return out

