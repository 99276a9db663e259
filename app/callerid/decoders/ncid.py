"""Lines from an NCID server (Network Caller ID, TCP port 3333), per NCID-API 1.0 – 1.x.

Every line is ``TYPE: `` followed by ``*LABEL*value*`` field pairs (sometimes ``***`` before the first
label). Fields are read by name, never by position: the order changes between versions and old servers
send no LINE. Handled:

- ``CID:`` incoming call, ``WID:`` call-waiting caller ID, ``PID:`` smartphone incoming → INCOMING;
- ``OUT:`` / ``PUT:`` outgoing call → OUTGOING;
- ``HUP:`` the server hung up on a (blacklisted) caller: it replaces that call's CID line → INCOMING
  (extra["hung_up_by_server"]) then HANGUP;
- ``END:`` (gateways) call ended → HANGUP with the duration from SCALL/ECALL; ``HTYPE*CANCEL`` on an
  incoming call (the caller gave up while it rang) → MISSED;
- a leading ``+`` (``+CID:``, ``+HUP:`` …, API 1.4 forwarding gateways) is read like the plain line;
- ``CIDINFO: *LINE*x*RING*n*``: n > 0 → RING (rings = n); 0 → ANSWERED (ringing stopped; the modem
  cannot tell more, so a call with ring 0 is taken as picked up); -1 → MISSED (ended without pick-up);
  -2 → HANGUP after pick-up; -3 (busy) → logged; -4 → HANGUP (automatic hang-up);
- ``200`` server banner → DEVICE (name = banner); 210, 250–254, 300, OPT:, MSG:, NOT:, BLK:, MWI:, ACK:,
  INFO:, RESP:, … are logged and skipped;
- every ``…LOG:`` line (CIDLOG:, HUPLOG:, OUTLOG:, LOG: …) is history replayed at connect, never a live
  call: skipped.

LINE labels that are numbers (``1``, ``01``, ``L2``, ``1234``) fill ``line``; any label is kept in
``extra["line_label"]`` (``-`` and ``NO-LINE`` mean none); `crm callerid decode` prints a label that is not a
number (``A``, ``POTS``) as ``"line_label"``. NMBR ``PRIVATE``/``ANONYMOUS`` → private;
``OUT-OF-AREA``/``NO NUMBER``/``NO-NUMBER`` → unavailable. NAME ``NO NAME`` or ``-`` → no name.
DATE is mmddyyyy or ddmmyyyy (server setting): a first pair above 12 is read as the day.
"""
from __future__ import annotations

import datetime as dt
import logging
import re

from app.callerid import events as ev
from app.callerid.decoders.base import (
    Decoder,
    RecordSplitter,
    classify_number,
    clean_name,
    fold_digits,
    line_number,
    month_day_time,
    to_text,
)
from app.callerid.events import CallerIdEvent

logger = logging.getLogger(__name__)

INCOMING_TYPES = {"CID", "WID", "PID"}
OUTGOING_TYPES = {"OUT", "PUT"}
KNOWN_LABELS = {
    "DATE", "TIME", "LINE", "NMBR", "MESG", "NAME", "FNMBR", "NTYPE", "CTRY", "LOCA", "CARI", "RING", "HTYPE",
    "SCALL", "ECALL", "CTYPE", "MTYPE", "CNT", "CALL", "MODE", "IDENT", "ID", "NMBRDEP", "TYPE",
}
# A leading '+' (API 1.4+) marks a line relayed by a forwarding gateway (+CID:, +HUP:, +CIDINFO: …).
_TYPE = re.compile(r"^\+?([A-Z]{2,10}):\s?(.*)$", re.DOTALL)


def parse_fields(rest: str) -> dict[str, str]:
    """'*DATE*0511*TIME*1852*NMBR*…*' → {'DATE': '0511', …}. Reads label/value pairs in order, resyncing
    on the next known label if the pairs drift (a value holding a stray '*')."""
    tokens = rest.strip().lstrip("*").split("*")
    fields: dict[str, str] = {}

    def is_label(tok: str) -> bool:
        t = tok.strip().upper()
        return t in KNOWN_LABELS or bool(re.fullmatch(r"[A-Z]{2,8}", t))

    i = 0
    while i < len(tokens):
        label = tokens[i].strip().upper()
        if is_label(label):
            if i + 1 < len(tokens):
                # A value may itself hold '*': Fritz!Box internal numbers reach NCID as "NMBR***622*"
                # (number **622). Up to the next label, the tokens are one value; the last, empty token after
                # the closing '*' is not part of it.
                j = i + 2
                while j < len(tokens) - 1 and not is_label(tokens[j]):
                    j += 1
                fields.setdefault(label, "*".join(tokens[i + 1:j]).strip())
                i = j
            else:
                i += 1
        else:
            i += 1
    return fields


def _date_time(fields: dict[str, str], now: dt.datetime) -> dt.datetime | None:
    date = fold_digits(fields.get("DATE", "")).strip()
    time_ = fold_digits(fields.get("TIME", "")).strip()
    tm = re.fullmatch(r"([0-9]{2}):?([0-9]{2})(?::?([0-9]{2}))?", time_)
    dm = re.fullmatch(r"([0-9]{2})/?([0-9]{2})/?([0-9]{4}|[0-9]{2})?", date)
    if not tm:
        return None
    hour, minute, second = int(tm[1]), int(tm[2]), int(tm[3] or 0)
    if not dm:
        if date:
            return None
        # CIDINFO carries only a time: today's date.
        try:
            return now.replace(hour=hour, minute=minute, second=second, microsecond=0)
        except ValueError:
            return None
    a, b = int(dm[1]), int(dm[2])
    month, day = (b, a) if a > 12 >= b else (a, b)
    year = None
    if dm[3]:
        year = int(dm[3]) if len(dm[3]) == 4 else 2000 + int(dm[3])
    return month_day_time(month, day, hour, minute, now, year=year, second=second)


def _stamp(text: str) -> dt.datetime | None:
    """SCALL/ECALL: 'mm/dd/yyyy hh:mm:ss'."""
    m = re.fullmatch(r"\s*([0-9]{2})/([0-9]{2})/([0-9]{4})\s+([0-9]{2}):([0-9]{2}):([0-9]{2})\s*", fold_digits(text))
    if not m:
        return None
    try:
        return dt.datetime(int(m[3]), int(m[1]), int(m[2]), int(m[4]), int(m[5]), int(m[6]))
    except ValueError:
        return None


class NcidDecoder(Decoder):
    source = "ncid"

    def __init__(self, now=None):
        super().__init__(now)
        self._lines = RecordSplitter(b"\r\n")

    def _feed(self, data: bytes) -> list[CallerIdEvent]:
        out: list[CallerIdEvent] = []
        for rec in self._lines.push(data):
            out += self._line(to_text(rec).strip())
        return out

    def _end(self) -> list[CallerIdEvent]:
        tail = self._lines.take_pending()
        return self._line(to_text(tail).strip()) if tail.strip() else []

    def _reset_after_error(self) -> None:
        self._lines.clear()

    def _line(self, line: str) -> list[CallerIdEvent]:
        if not line:
            return []
        m = re.match(r"^([0-9]{3})(?:\s+(.*))?$", line)
        if m:
            code, text = m.group(1), (m.group(2) or "").strip()
            if code == "200":
                return [CallerIdEvent(kind=ev.DEVICE, name=text or line, source=self.source, raw=line,
                                      extra={"code": 200})]
            logger.debug("ncid: %s", line)
            return []
        m = _TYPE.match(line)
        if not m:
            self._discard("unrecognised line", line)
            return []
        ltype, rest = m.group(1), m.group(2)
        if ltype.endswith("LOG"):
            return []                                # call-log history replayed at connect
        fields = parse_fields(rest) if "*" in rest else {}
        if ltype in INCOMING_TYPES:
            return self._call(ev.INCOMING, fields, line)
        if ltype in OUTGOING_TYPES:
            return self._call(ev.OUTGOING, fields, line)
        if ltype == "HUP":
            # NCID-API: HUP is the CID line relabelled when the server hangs up on a blacklisted caller; no CID
            # line comes for that call. Report the caller, then the hang-up (a HANGUP alone, with no call
            # before it, reads as an outgoing call reported at its end).
            rings = self._call(ev.INCOMING, fields, line)
            for e in rings:
                e.extra["hung_up_by_server"] = True
            return rings + self._call(ev.HANGUP, fields, line)
        if ltype == "CIDINFO":
            return self._cidinfo(fields, line)
        if ltype == "END":
            return self._call_ended(fields, line)
        logger.debug("ncid: %s line skipped", ltype)
        return []

    def _line_fields(self, fields: dict[str, str]) -> tuple[int | None, dict]:
        label = fields.get("LINE")
        extra: dict = {}
        if label and label not in ("-", "NO-LINE"):
            extra["line_label"] = label
            return line_number(label), extra
        return None, extra

    def _call(self, kind: str, fields: dict[str, str], raw: str) -> list[CallerIdEvent]:
        if "NMBR" not in fields and "NAME" not in fields:
            logger.debug("ncid: %s line without NMBR skipped: %r", kind, raw[:120])
            return []
        now = self._now()
        line, extra = self._line_fields(fields)
        number, status = classify_number(fields.get("NMBR"))
        name = clean_name(fields.get("NAME"))
        if status != ev.OK and name:
            n2, s2 = classify_number(name)
            if s2 == ev.PRIVATE:
                status = ev.PRIVATE
            if name.upper() in {"PRIVATE", "ANONYMOUS", "OUT-OF-AREA", "UNAVAILABLE", "NO NUMBER"}:
                name = None
        mesg = fields.get("MESG", "")
        if mesg and mesg.upper() != "NONE":
            extra["mesg"] = mesg
        if kind == ev.OUTGOING and not number:
            logger.debug("ncid: outgoing call without a number: %r", raw[:120])
        return [CallerIdEvent(kind=kind, number=number, name=name, time=_date_time(fields, now), line=line,
                              status=status if kind != ev.OUTGOING else None, source=self.source, raw=raw,
                              extra=extra)]

    def _cidinfo(self, fields: dict[str, str], raw: str) -> list[CallerIdEvent]:
        ring_text = fold_digits(fields.get("RING", "")).strip()
        if not re.fullmatch(r"-?[0-9]{1,4}", ring_text):
            logger.debug("ncid: CIDINFO without a ring count: %r", raw[:120])
            return []
        ring = int(ring_text)
        line, extra = self._line_fields(fields)
        when = _date_time(fields, self._now())
        base = dict(line=line, time=when, source=self.source, raw=raw, extra=extra)
        if ring > 0:
            return [CallerIdEvent(kind=ev.RING, rings=ring, **base)]
        if ring == 0:
            return [CallerIdEvent(kind=ev.ANSWERED, **base)]
        if ring == -1:
            return [CallerIdEvent(kind=ev.MISSED, **base)]
        if ring in (-2, -4):
            return [CallerIdEvent(kind=ev.HANGUP, **base)]
        logger.debug("ncid: CIDINFO ring %d (busy / unknown) skipped", ring)
        return []

    def _call_ended(self, fields: dict[str, str], raw: str) -> list[CallerIdEvent]:
        line, extra = self._line_fields(fields)
        start, end = _stamp(fields.get("SCALL", "")), _stamp(fields.get("ECALL", ""))
        duration = int((end - start).total_seconds()) if start and end and end >= start else None
        number, status = classify_number(fields.get("NMBR"))
        ctype = fields.get("CTYPE", "").upper()
        if ctype in ("IN", "OUT"):
            extra["direction"] = ctype.lower()
        if fields.get("HTYPE"):
            extra["htype"] = fields["HTYPE"]
        if fields.get("HTYPE", "").strip().upper() == "CANCEL" and ctype != "OUT":
            # SIP CANCEL: the caller gave up before anyone answered. SCALL→ECALL is then ringing time, not a
            # conversation; a HANGUP with that duration would log the call as answered.
            return [CallerIdEvent(kind=ev.MISSED, number=number or None, status=status, line=line,
                                  time=end or _date_time(fields, self._now()), source=self.source, raw=raw,
                                  extra=extra)]
        return [CallerIdEvent(kind=ev.HANGUP, number=number or None, status=status, line=line, duration=duration,
                              time=end or _date_time(fields, self._now()), source=self.source, raw=raw,
                              extra=extra)]
