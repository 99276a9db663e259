"""Panasonic SMDR (Station Message Detail Recording) call records → CallerIdEvent.

A Panasonic PBX (KX-TES/TDA/TDE/NS …) prints one fixed-column line per *finished* call on its SMDR port
(serial, or TCP after a login on the LAN models; see shared/reference/telephony-ami-smdr.md, part B):

    Date     Time    Ext   CO Dial Number               Ring Duration Acc code   CD
    05/14/24 10:07AM 103   03 <I>09121234567            0'05 00:01'05            AN
    05/14/24 10:12AM 105   01 02188776655                    00:03'40

The columns are read by position when the line has the standard layout (Pattern A: date 0–7, time 9–15,
ext 17–21, CO 23–24, dial number 26–50, ring 52–55, duration 57–64, account code 66–75, CD 77–79) and by
fields otherwise (the KX-TD816 manual's own example, ``06/24/96 10:07AM 103 03 <I> 09243121 TONY 0'20 AN``,
is not column-aligned). Header lines, dashes, blank lines, form feeds (page breaks), the LAN login
prompts and LOG IN / LOG OUT records are skipped.

What a record becomes (the call is reported once, when it has ended, so these events fill the call log and
do not pop a "ringing" window; each carries ``extra["after_the_fact"] = True``):

- incoming (``<I>``, ``<INCOMING>``, ``<incoming>``, optionally after ``<D>`` + DDI digits), answered —
  a duration above zero, or CD AN/TR: INCOMING, ANSWERED, HANGUP (duration);
- incoming not answered — CD NA, or no duration: INCOMING, MISSED;
- outgoing (digits dialled): OUTGOING (number, duration), HANGUP (direction out).

``line`` is the CO (trunk) number (None for 00); ``extra`` holds ``extension``, ``extensions``,
``answered_by`` (incoming answered), ``co``, ``account_code``, ``condition``, ``ring_seconds``, ``ddi``.
``time`` is the record's date and time (MM/DD/YY by default; a first number above 12 is read as the day;
``date_order="dmy"`` for PBXs set to D/M/Y); ``**/**/**`` (clock changed) gives no time.
"""
from __future__ import annotations

import datetime as dt
import logging
import re

from app.callerid import events as ev
from app.callerid.decoders.base import Decoder, RecordSplitter, classify_number, clean_name, to_text
from app.callerid.events import CallerIdEvent

logger = logging.getLogger(__name__)

_HEAD = re.compile(
    r"(?P<date>\d{1,2}/\d{1,2}/\d{2,4}|\*\*/\*\*/\*\*)\s+(?P<time>\d{1,2}:\d\d\s?(?:[AaPp][Mm])?)\s+"
    r"(?P<ext>[A-Z*#]{0,3}\d{1,8}|[A-Z]{1,3}\d*)\s+(?P<co>\d{1,4})\s+(?P<rest>.*)$")
_TAIL = re.compile(
    r"^(?P<dial>.*?)(?:\s+(?P<ring>\d{1,2}'\d\d))?(?:\s+(?P<dur>\d{1,2}:\d\d'\d\d)(?:\s+(?P<acc>(?!(?:AN|NA|RC|TR|FW|RM)\s*$)[0-9A-Za-z*#]{1,10}))?)?"
    r"(?:\s+(?P<cd>[A-Z]{2}))?\s*$")
_INCOMING = re.compile(r"^(?:<D>(?P<ddi>[0-9A-Z*#]*)\s*)?<(?:I|INCOMING|DISA INCOMING)>\s*(?P<caller>.*)$",
                       re.IGNORECASE)
_RING = re.compile(r"^(\d{1,2})'(\d\d)$")
_DUR = re.compile(r"^(\d{1,2}):(\d\d)'(\d\d)$")
CONDITION_CODES = {"AN", "NA", "RC", "TR", "FW", "RM", "AC", "CO", "DS", "OT"}
_SKIP = re.compile(r"^\s*(?:-+|=+|Date\b.*|DATE\b.*|Login:?|Password:?|Enter Password:?|SMDR|Ready.*|[-=\s]*)\s*$",
                   re.IGNORECASE)


def parse_ring(text: str | None) -> int | None:
    m = _RING.match((text or "").strip())
    return int(m[1]) * 60 + int(m[2]) if m else None


def parse_duration(text: str | None) -> int | None:
    m = _DUR.match((text or "").strip())
    return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3]) if m else None


def _fixed_columns(line: str) -> dict | None:
    """The Pattern A slices, when the line has that layout (separators where the columns end)."""
    if len(line) < 27 or line[8] != " " or line[16] != " " or line[22] != " " or line[25] != " ":
        return None
    co = line[23:25].strip()
    if not co.isdigit():
        return None
    for col in (51, 56, 65, 76):                  # the spaces between the later columns, where the line has them
        if len(line) > col and line[col] != " ":
            return None
    cd = line[77:80].strip()
    if cd and not re.fullmatch(r"[A-Z]{1,3}", cd):
        return None
    return {"dial": line[26:51].strip(), "ring": line[52:56].strip(), "dur": line[57:65].strip(),
            "acc": line[66:76].strip(), "cd": line[77:80].strip()}


class SmdrDecoder(Decoder):
    source = "smdr"

    def __init__(self, now=None, date_order: str = "mdy"):
        super().__init__(now)
        self._lines = RecordSplitter(b"\r\n\x0c")
        self.date_order = date_order

    def _feed(self, data: bytes) -> list[CallerIdEvent]:
        out: list[CallerIdEvent] = []
        for rec in self._lines.push(data):
            out += self._record(to_text(rec))
        return out

    def _end(self) -> list[CallerIdEvent]:
        tail = self._lines.take_pending()
        return self._record(to_text(tail)) if tail.strip() else []

    def _reset_after_error(self) -> None:
        self._lines.clear()

    # -- one record -------------------------------------------------------------------------------------------
    def _record(self, line: str) -> list[CallerIdEvent]:
        line = line.rstrip()
        if not line.strip() or _SKIP.match(line):
            return []
        m = _HEAD.search(line)
        if not m:
            logger.debug("smdr: not a call record: %r", line[:120])
            return []
        record = line[m.start():]
        fields = _fixed_columns(record)
        if fields is None or (fields["dur"] and parse_duration(fields["dur"]) is None) or \
                (fields["ring"] and parse_ring(fields["ring"]) is None):
            t = _TAIL.match(m["rest"])
            fields = {"dial": (t["dial"] or "").strip(), "ring": t["ring"] or "", "dur": t["dur"] or "",
                      "acc": t["acc"] or "", "cd": t["cd"] or ""} if t else None
        if fields is None:
            return []
        cd = fields["cd"].upper()
        if cd and cd not in CONDITION_CODES:
            logger.debug("smdr: unknown condition code %r", cd)
        dial = fields["dial"]
        if re.match(r"^LOG\s*(?:IN|OUT)", dial, re.IGNORECASE):
            return []
        ext = m["ext"]
        co = int(m["co"])
        when = self._when(m["date"], m["time"])
        ring = parse_ring(fields["ring"])
        duration = parse_duration(fields["dur"])
        extra = {"extension": ext, "extensions": [ext], "co": m["co"], "account_code": fields["acc"] or None,
                 "condition": cd or None, "ring_seconds": ring, "after_the_fact": True}
        base = dict(line=co or None, time=when, source=self.source, raw=line)
        inc = _INCOMING.match(dial)
        if inc:
            if inc["ddi"]:
                extra["ddi"] = inc["ddi"]
            number, name = _caller(inc["caller"])
            n, status = classify_number(number)
            answered = cd in ("AN", "TR", "RC") or (cd != "NA" and bool(duration))
            extra_in = {**extra, "direction": "in", "answered_by": ext if answered else None}
            out = [CallerIdEvent(kind=ev.INCOMING, number=n, name=name, status=status, extra=dict(extra_in), **base)]
            if answered:
                out.append(CallerIdEvent(kind=ev.ANSWERED, number=n, status=status, extra=dict(extra_in), **base))
                out.append(CallerIdEvent(kind=ev.HANGUP, number=n, status=status, duration=duration or 0,
                                         extra=dict(extra_in), **base))
            else:
                out.append(CallerIdEvent(kind=ev.MISSED, number=n, status=status, extra=dict(extra_in), **base))
            return out
        first = dial.split()[0] if dial.split() else ""
        m_pause = re.match(r"^[0-9]{1,2}P+(.*)$", first, re.IGNORECASE)
        if m_pause:                                  # "9P0216…": the outside-line digit, a pause, the number
            extra["access_code"] = first.split("P", 1)[0].split("p", 1)[0]
            first = m_pause[1]
        number = re.sub(r"[^0-9*#+]", "", first)
        if not number:
            logger.debug("smdr: record with no number dialled: %r", line[:120])
            return []
        extra_out = {**extra, "direction": "out", "answered_by": None}
        return [CallerIdEvent(kind=ev.OUTGOING, number=number, duration=duration or 0, extra=dict(extra_out), **base),
                CallerIdEvent(kind=ev.HANGUP, number=number, duration=duration or 0, extra=dict(extra_out), **base)]

    def _when(self, date: str, time_: str) -> dt.datetime | None:
        dm = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2,4})", date)
        tm = re.fullmatch(r"(\d{1,2}):(\d\d)\s?([AaPp][Mm])?", time_.strip())
        if not dm or not tm:
            return None
        a, b, y = int(dm[1]), int(dm[2]), int(dm[3])
        month, day = (b, a) if self.date_order == "dmy" or a > 12 else (a, b)
        year = y if y >= 100 else 2000 + y
        if year > self._now().year + 1:
            year -= 100                               # '96 is 1996
        hour, minute = int(tm[1]), int(tm[2])
        if tm[3]:
            pm = tm[3].upper() == "PM"
            hour = hour % 12 + (12 if pm else 0)
        try:
            return dt.datetime(year, month, day, hour, minute)
        except ValueError:
            return None


def _caller(text: str) -> tuple[str, str | None]:
    """'09121234567 TONY' → ('09121234567', 'TONY'); 'Q COMPANY' → ('', 'Q COMPANY')."""
    t = (text or "").strip()
    m = re.match(r"^(\+?[0-9*#][0-9*#\-]*)\s*(.*)$", t)
    if m:
        return m[1].replace("-", ""), clean_name(m[2]) if m[2].strip() else None
    return "", clean_name(t) if t else None
