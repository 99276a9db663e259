"""Oj Segal / Danjeh multi-line boxes: records ending in ``@``, often with blank lines between them.

Grammar (from published integration code for these boxes, e.g. YasnaSDK's CallerIdOjSegal and its sample
capture, and the Danjeh processor of the same SDK):

    L<n>C<number>@           caller ID on line n (may come before the first ring record)
    L<n>R<nn>@               ring count
    L<n>HF@                  handset lifted (answers a ringing line, or starts an outgoing call)
    L<n>D<digit>@            one digit dialled
    L<n>HND:<dialled> T<t>@  handset down: the number dialled (possibly empty) and the call's duration

Danjeh firmware variants seen in the same SDK: ``L<n> <number>@`` / ``L<n>:<number>@`` (caller ID; the
space or ``:`` is required, as ``L109121234567`` cannot be split into line and number), ``L<n> hook-off@`` /
``L<n> hook-on@``, ``L<n> Dialed:<number>@``; the "Arya" firmware's ``L<n> CallerID:<number>@``. Fields are
read by their letters, never by fixed position; spaces, CR/LF, a ``:`` or ``-`` after the line number, and
leading zeros are tolerated.

The caller's number must be one (see base.box_number): digits only, a leading + or 00, 3 to 15 digits, or
P/O/empty for withheld/unavailable. Anything else (``6+9531``, a 37-digit run: line noise glued into a record)
is discarded, logged and counted in ``noise``, as is any record that is not one of the above.

Duration ``T<t>``: the published capture has ``T0257``, ``T0105``, ``T0021``, ``T0434``, ``T0000`` — every
value's last two digits are below 60, which fits minutes+seconds (the box's display shows mm:ss) better
than a plain count of seconds. So by default four digits whose last two are < 60 are read as MMSS
(T0257 = 177 s); any other digit string is seconds, and ``mm:ss`` / ``h:mm:ss`` are read as written.
``SegalDecoder(duration_format="seconds")`` reads every plain number as seconds for firmwares that count
seconds. The raw value is kept in ``extra["duration_raw"]``.

The box never says "missed": a line that rang and went quiet (``tick()``, ring_timeout seconds) is
reported MISSED; an outgoing call is the lift, the digits (DIGIT events) and, at HND, OUTGOING with the
number (HND's own, or the digits collected) and the duration, then HANGUP.
"""
from __future__ import annotations

import logging
import re

from app.callerid.decoders.base import (
    Decoder,
    LineTracker,
    RecordSplitter,
    fold_digits,
    parse_duration,
    to_text,
)
from app.callerid.events import CallerIdEvent

logger = logging.getLogger(__name__)

_RECORD = re.compile(r"^L\s*0*([0-9]{1,2})(\s*[:\-]?\s*)(.*)$", re.IGNORECASE | re.DOTALL)
_HND = re.compile(r"^HND\s*:?\s*([0-9+*#][0-9+*# ]*?)?\s*(?:T\s*([0-9:]*))?\s*$", re.IGNORECASE)


class SegalDecoder(Decoder):
    source = "segal"

    def __init__(self, now=None, duration_format: str = "mmss", ring_timeout: float = 8.0):
        super().__init__(now)
        self._records = RecordSplitter(b"@")
        self._lines = LineTracker(self.source, self._now, ring_timeout=ring_timeout, on_noise=self._discard)
        self.duration_format = duration_format

    def _feed(self, data: bytes) -> list[CallerIdEvent]:
        out: list[CallerIdEvent] = []
        for rec in self._records.push(data):
            out += self._record(to_text(rec))
        return out

    def _end(self) -> list[CallerIdEvent]:
        return []                      # a record is only whole once its "@" has arrived

    def _tick(self) -> list[CallerIdEvent]:
        return self._lines.expire()

    def _reset_after_error(self) -> None:
        self._records.clear()

    def _record(self, text: str) -> list[CallerIdEvent]:
        rec = re.sub(r"[\r\n]+", " ", fold_digits(text)).strip()
        # Noise before the record (a half record from before the port opened, line noise): keep from the
        # last "L<digit>" on.
        starts = [m.start() for m in re.finditer(r"L\s*[0-9]", rec, re.IGNORECASE)]
        if not starts:
            self._discard("record without a line number", rec)
            return []
        if starts[0] != 0:
            logger.debug("segal: noise before record dropped: %r", rec[:starts[0]][:80])
            rec = rec[starts[-1]:] if not _RECORD.match(rec[starts[0]:]) else rec[starts[0]:]
        m = _RECORD.match(rec)
        if not m:
            self._discard("unreadable record", rec)
            return []
        line = int(m.group(1))
        if line == 0:
            self._discard("line 0", rec)
            return []
        separated = bool(m.group(2))
        body = m.group(3).strip()
        raw = rec + "@"
        upper = body.upper()
        if upper.startswith("HND"):
            hm = _HND.match(body)
            if not hm:
                logger.debug("segal: unreadable hang-up record %r", rec)
                return self._lines.hang_up(line, None, None, raw)
            t = hm.group(2)
            duration = parse_duration(t, self.duration_format) if t else None
            events = self._lines.hang_up(line, duration, (hm.group(1) or "").replace(" ", ""), raw)
            if t:
                events = [e.__class__(**{**_fields(e), "extra": {**e.extra, "duration_raw": t}}) for e in events]
            return events
        if upper == "HF":
            return self._lines.lift(line, raw)
        if re.fullmatch(r"(HOOK[\s_-]?(ON|OFF)|(ON|OFF)[\s_-]?HOOK)", upper):
            return self._lines.hook_word(line, upper, raw)
        rm = re.fullmatch(r"R\s*([0-9]{1,3})", upper)
        if rm:
            return self._lines.ring(line, int(rm.group(1)), raw)
        dm = re.fullmatch(r"D\s*([0-9*#])", upper)
        if dm:
            return self._lines.digit(line, dm.group(1), raw)
        dial = re.fullmatch(r"DIALED\s*:?\s*([0-9+*#]*)", upper)
        if dial:
            return self._lines.hang_up(line, None, dial.group(1), raw, force_outgoing=True)
        am = re.fullmatch(r"CALLER\s*ID\s*[:=]?\s*(.*)", body, re.IGNORECASE | re.DOTALL)
        if am:
            return self._lines.caller_id(line, am.group(1), raw)      # "Arya" firmware: L1 CallerID:<number>@
        cm = re.fullmatch(r"C\s*(.*)", body, re.IGNORECASE | re.DOTALL)
        if cm:
            return self._lines.caller_id(line, cm.group(1), raw)
        if separated and re.fullmatch(r"\+?[0-9][0-9 ]*", body):
            # Danjeh: "L1 09121234567@" / "L2:2122514321@". Without the space or ":" ("L109121234567") the
            # line number and the caller's number cannot be told apart: noise, not a guess.
            return self._lines.caller_id(line, body, raw)
        self._discard("unknown record", raw)
        return []


def _fields(e: CallerIdEvent) -> dict:
    return {k: getattr(e, k) for k in e.__dataclass_fields__}
