"""Yasna System / Caspian (ALM) multi-line boxes: one record per line (``\\n``, ``\\r\\n`` or ``\\r``).

Grammar (from the published integration code for these boxes, YasnaSDK's ALMCallerID / CallerIdALM,
which reads a line at a time and looks for these fields): a record names its line ``L<n>`` and carries
space-terminated fields and state words, in any order:

    CallerID:<number>   RingsCount:<n>   Duration:<seconds>   Dialed:<number>
    Ringing   HookOn   HookOff   On-hook   Off-hook

e.g. ``L1 Ringing CallerID:09121234567 RingsCount:1`` … ``L1 HookOff`` … ``L1 HookOn Duration:35``.
Fields are found by name, anywhere in the record (``Line1``, ``L01`` and ``L1:`` are all line 1; a field's
value ends at the next space; an empty value is allowed). Every field of a record is applied, in the
order caller ID → ring → hook/dial/duration.

- "On-hook"/"Off-hook" are read in the telephone sense; "HookOn"/"HookOff" toggle by the line's state
  (see LineTracker.hook_word for why);
- a record with Duration (and/or Dialed) during a call ends it: HANGUP with the duration (seconds; mm:ss
  tolerated), preceded on an outgoing call by OUTGOING with the dialled number;
- Dialed without Duration or a hang-up word during an outgoing call is remembered for the hang-up;
- the box does not say "missed": a line that stops ringing unanswered becomes MISSED on tick().
"""
from __future__ import annotations

import logging
import re

from app.callerid.decoders.base import (
    IDLE,
    OFFHOOK,
    Decoder,
    LineTracker,
    RecordSplitter,
    fold_digits,
    parse_duration,
    to_int,
    to_text,
)
from app.callerid.events import CallerIdEvent

logger = logging.getLogger(__name__)

_LINE = re.compile(r"(?:^|[\s,;:|])(?:L|LINE)\s*[:#]?\s*0*([0-9]{1,2})(?=$|[\s,;:|])", re.IGNORECASE)
# A field's value ends at the next space; an empty value ("CallerID: RingsCount:1") is not the next field.
_FIELD = re.compile(r"(CallerID|CallerId|Caller_ID|RingsCount|RingCount|Rings|Duration|Dialed|Dialled)\s*[:=]"
                    r"[ \t]*(?:(?![A-Za-z_]+\s*[:=])(\S*))?", re.IGNORECASE)
_WORDS = re.compile(r"(?<![A-Za-z])(Ringing|Hook[-_ ]?On|Hook[-_ ]?Off|On[-_ ]?hook|Off[-_ ]?hook)(?![A-Za-z])",
                    re.IGNORECASE)


class YasnaDecoder(Decoder):
    source = "yasna"

    def __init__(self, now=None, ring_timeout: float = 8.0):
        super().__init__(now)
        self._records = RecordSplitter(b"\r\n")
        self._lines = LineTracker(self.source, self._now, ring_timeout=ring_timeout, on_noise=self._discard)

    def _feed(self, data: bytes) -> list[CallerIdEvent]:
        out: list[CallerIdEvent] = []
        for rec in self._records.push(data):
            out += self._record(fold_digits(to_text(rec)).strip())
        return out

    def _end(self) -> list[CallerIdEvent]:
        tail = self._records.take_pending()
        return self._record(fold_digits(to_text(tail)).strip()) if tail.strip() else []

    def _tick(self) -> list[CallerIdEvent]:
        return self._lines.expire()

    def _reset_after_error(self) -> None:
        self._records.clear()

    def _record(self, rec: str) -> list[CallerIdEvent]:
        if not rec:
            return []
        lm = _LINE.search(rec)
        if not lm:
            self._discard("record without a line number", rec)
            return []
        line = int(lm.group(1))
        if line == 0:
            self._discard("line 0", rec)
            return []
        fields: dict[str, str] = {}
        for m in _FIELD.finditer(rec):
            key = m.group(1).lower().replace("_", "")
            key = {"callerid": "callerid", "ringscount": "rings", "ringcount": "rings", "rings": "rings",
                   "duration": "duration", "dialed": "dialed", "dialled": "dialed"}[key]
            fields.setdefault(key, m.group(2) or "")
        words = [re.sub(r"[-_ ]", "", w).upper() for w in _WORDS.findall(rec)]
        if not fields and not words:
            self._discard("unknown record", rec)
            return []
        out: list[CallerIdEvent] = []
        lines = self._lines
        if "callerid" in fields:
            out += lines.caller_id(line, fields["callerid"], rec)
        rings_text = fields.get("rings", "")
        if "RINGING" in words or rings_text:
            rings = to_int(rings_text)
            out += lines.ring(line, rings, rec)
        duration = parse_duration(fields.get("duration"), "seconds") if "duration" in fields else None
        dialled = fields.get("dialed")
        hook = [w for w in words if w != "RINGING"]
        ends = "duration" in fields or (dialled is not None and bool(hook))
        if ends:
            # A duration means the call is over, whatever state we thought the line was in (a ring-out that
            # a firmware reports as "HookOn Duration:0" stays a hang-up from ringing: the call log's
            # lifecycle records it as missed).
            out += lines.hang_up(line, duration, dialled, rec)
        elif hook:
            for w in hook:
                out += lines.hook_word(line, w, rec)
            if dialled:
                st = lines.get(line)
                if st.state == OFFHOOK:
                    st.digits = dialled
        elif dialled is not None:
            st = lines.get(line)
            if st.state == IDLE:
                out += lines.lift(line, rec)
            if st.state == OFFHOOK:
                st.digits = dialled                          # the number, reported before the hang-up
        return out
