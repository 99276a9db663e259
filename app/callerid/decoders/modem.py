"""Voice/data modems in formatted caller-ID mode (``AT+VCID=1``, ``AT#CID=1`` …).

Between RING lines the modem prints ``KEY = value`` lines: DATE (MMDD), TIME (HHMM), NMBR or DDN_NMBR,
NAME, MESG (hex of parameters it did not understand). Order is not fixed, the space around ``=`` is
optional, a value may be empty or contain ``=`` (split on the first one). Sources: NCID-API "ASCII Plain
Format Caller ID", NCID's ncidd.c, IS-101.

Also understood, because real modems and boxes send them:
- single-line variants: ``DATE = 0511 TIME = 1852 NMBR = 4075550000 NAME = JOHN DOE`` or with ``;``/``,``
  between fields, and the NetCallerID form ``###DATE05111852...NMBR4075550000...NAMEJOHN DOE+++``;
- other labels real modems use (collected by mgetty, ncidd and MisterHouse): ``DDN``, ``NBR``,
  ``CALLER NUMBER:``/``CALLER'S NUMBER:``/``CALLER NAME:``, ZyXEL's ``TIME: MM-DD HH:MM``, the Swiss
  ``FM:<number> TO:<number>``; rings and fields on one line (``RING RING DATE=0224 NAME=ONMBR=…``);
  DATE as MMDD, MMDDYY, YYMMDD, MMDDYYYY or YYYYMMDD;
- a second NMBR that masks the first (``NMBR = <number>`` then ``NMBR = O``): the first one stands;
- ``\\r\\n``, ``\\n``, ``\\r`` line endings, blank lines, ``RING`` with a cadence suffix (``RING 1``, ``RINGA``),
  and the voice-mode ring report ``<DLE>R``;
- command echo (``AT+VCID=1``), result codes (OK, ERROR, CONNECT, NO CARRIER…), banners after a reset;
- unformatted hex messages (SDMF/MDMF, see raw.py) when the modem was switched to ``AT+VCID=2``.

A call is reported (INCOMING) when the next RING arrives, when all four of DATE, TIME, NMBR and NAME are in,
when a field repeats (a second call's block with no RING between), or at flush() (idle timeout / end of
input). It never waits for NAME: Iranian lines send only the number. A block with no number at all
(e.g. only DATE/TIME before a reset) is dropped. Withheld numbers (P, PRIVATE, ANONYMOUS…) give status
private; O, OUT-OF-AREA, Unavailable, empty, all zeros give unavailable.
"""
from __future__ import annotations

import logging
import re
from dataclasses import replace

from app.callerid import events as ev
from app.callerid.decoders.base import (
    MAX_RECORD,
    Decoder,
    classify_number,
    clean_name,
    fold_digits,
    is_digits,
    month_day_time,
    to_text,
)
from app.callerid.decoders.raw import HexAssembler
from app.callerid.events import CallerIdEvent

logger = logging.getLogger(__name__)

DLE = 0x10

_KEY_ALIASES = {
    "DATE": "DATE", "TIME": "TIME", "NMBR": "NMBR", "NBR": "NMBR", "NUMBER": "NMBR", "DDN_NMBR": "DDN_NMBR",
    "DDN": "DDN_NMBR", "NAME": "NAME", "MESG": "MESG", "CALLER NUMBER": "NMBR", "CALLER'S NUMBER": "NMBR",
    "CALLERS NUMBER": "NMBR", "CALLER NAME": "NAME", "CALLER ID": "NMBR", "CALLERID": "NMBR", "FM": "NMBR",
    "TO": "TO", "REASON FOR NO CALLER NUMBER": "NMBR", "REASON FOR NO CALLER NAME": "NAME",
}
# A field label, then = (or :). Labels stand at the start of the line or after a separator; NMBR may also
# follow a one-letter value glued to it, as in "NAME=ONMBR=5072884388" (seen from real modems).
_FIELD = re.compile(
    r"(?:(?<![A-Za-z_'])(DDN_NMBR|DDN|NBR|NUMBER|NAME|DATE|TIME|MESG|REASON FOR NO CALLER (?:NUMBER|NAME)|"
    r"CALLER'?S? NUMBER|CALLER NAME|CALLER ?ID|FM|TO)|(NMBR))\s*[=:]\s*", re.IGNORECASE)
# GSM modems (and mgetty's FALCOM A2D): +CLIP: "<number>",<type>[,<subaddr>,<satype>,<alpha>,<CLI validity>],
# repeated after every RING. Validity 1 = withheld, 2 = not available.
_CLIP = re.compile(r'^\+CLIP:\s*"([^"]*)"(?:\s*,\s*[0-9]*)?(?:\s*,[^,]*){0,2}(?:\s*,\s*"([^"]*)")?'
                   r'(?:\s*,\s*([0-9]))?', re.IGNORECASE)
_NETCALLERID = re.compile(r"###(.*?)\+\+\+", re.DOTALL)
_RESULT_CODES = re.compile(
    r"^(OK|ERROR|CONNECT.*|NO CARRIER|NO DIAL ?TONE|BUSY|NO ANSWER|VCON|FAX|DATA|\+FCERROR|"
    r"NO CALLER ?ID|RING ?BACK|DELAYED|BLACKLISTED)$", re.IGNORECASE)
_ECHO = re.compile(r"^A\s*T", re.IGNORECASE)


class ModemDecoder(Decoder):
    source = "modem"

    def __init__(self, now=None):
        super().__init__(now)
        self._buf = bytearray()
        self._skipping = False
        self._hex = HexAssembler()
        self._pending: dict[str, str] = {}
        self._pending_raw: list[str] = []
        self._clip_last: str | None = None      # +CLIP repeats after each RING: one call, reported once

    # -- byte level: lines, and <DLE> codes between them --------------------------------------------------
    def _feed(self, data: bytes) -> list[CallerIdEvent]:
        self._buf += data
        out: list[CallerIdEvent] = []
        i = 0
        start = 0
        buf = self._buf
        n = len(buf)
        while i < n:
            b = buf[i]
            if b in (0x0D, 0x0A):
                out += self._end_line(bytes(buf[start:i]))
                i += 1
                start = i
            elif b == DLE:
                if i + 1 >= n:
                    break                                   # wait for the code byte
                code = buf[i + 1]
                del buf[i:i + 2]                            # DLE codes are in-band: not part of the text
                n -= 2
                if code in (ord("R"), ord("r")):           # voice mode: <DLE>R = ring
                    out += self._line("RING")
                continue
            else:
                i += 1
        del buf[:start]
        if len(buf) > MAX_RECORD:
            logger.debug("modem: %d bytes without a line end; dropped", len(buf))
            buf.clear()
            self._skipping = True
        return out

    def _end_line(self, rec: bytes) -> list[CallerIdEvent]:
        if self._skipping:
            self._skipping = False
            return []
        if len(rec) > MAX_RECORD:
            logger.debug("modem: line of %d bytes dropped", len(rec))
            return []
        text = to_text(rec).strip()
        return self._line(text) if text else []

    # -- line level ---------------------------------------------------------------------------------------
    def _line(self, line: str) -> list[CallerIdEvent]:
        upper = line.upper()
        if upper.startswith("+CRING:"):                  # GSM modems with AT+CRC=1: "+CRING: VOICE" is a ring
            line = upper = "RING"
        if re.fullmatch(r"RING\s*[A-Z0-9]?", upper):
            self._hex.reset()
            out = self._complete("ring")
            out.append(CallerIdEvent(kind=ev.RING, source=self.source, raw=line))
            return out
        if "###" in line and "+++" in line:
            return self._netcallerid(line)
        elsa = re.fullmatch(r"RING;\s*([^;]*?)\s*(?:;.*)?", line, re.IGNORECASE)
        if elsa:
            # ELSA MicroLink / TLV.34 (mgetty cnd.c): "RING;<caller>;<called>", on every ring.
            out = self._line("RING")
            if elsa[1] and elsa[1] != self._clip_last:
                self._clip_last = elsa[1]
                out += self._field("NMBR", elsa[1], line)
            return out
        clip = _CLIP.match(line)
        if clip:
            return self._clip(clip, line)
        if not re.fullmatch(r"RING\s*[A-Z0-9]?", upper):
            self._clip_last = None
        lead = re.match(r"^(?:RING\s+)+(?=\S)", line, re.IGNORECASE)
        if lead and _FIELD.match(line, lead.end()):
            # "RING RING DATE=0224 NAME=O NMBR=…": rings and a caller-ID block on one line.
            out = []
            for _ in range(lead.group(0).upper().count("RING")):
                out += self._line("RING")
            return out + self._line(line[lead.end():])
        fields = list(_FIELD.finditer(line))
        if fields and fields[0].start() == 0:
            self._hex.reset()
            out: list[CallerIdEvent] = []
            for k, m in enumerate(fields):
                end = fields[k + 1].start() if k + 1 < len(fields) else len(line)
                value = line[m.end():end].strip()
                if len(fields) > 1:
                    value = value.rstrip(";,|").strip()
                key = _KEY_ALIASES[re.sub(r"\s+", " ", (m.group(1) or m.group(2)).upper())]
                if key == "TO":
                    continue                             # the called number (our own line): not needed
                out += self._field(key, value, line)
            return out
        is_hex, events = self._hex.push_line(line, self._now())
        if is_hex:
            out = self._complete("hex message") if events else []
            return out + events
        if _RESULT_CODES.match(upper) or _ECHO.match(upper):
            logger.debug("modem: %s", line[:80])
            return []
        self._discard("unrecognised line", line)
        return []

    def _field(self, key: str, value: str, raw: str) -> list[CallerIdEvent]:
        out: list[CallerIdEvent] = []
        pending_key = "NMBR" if key == "DDN_NMBR" else key
        if key == "TIME":
            # ZyXEL: "TIME: MM-DD HH:MM" carries the date too.
            zm = re.fullmatch(r"([0-9]{2})[-/]([0-9]{2})\s+([0-9]{2}):([0-9]{2})", fold_digits(value))
            if zm:
                if "DATE" in self._pending and "TIME" not in self._pending:
                    self._pending.pop("DATE")
                out += self._field("DATE", zm[1] + zm[2], raw)
                value = zm[3] + zm[4]
        if pending_key in self._pending and key != "MESG":
            old, new = self._pending[pending_key], value
            if pending_key in ("NMBR", "NAME") and classify_number(new)[1] != ev.OK and \
                    (classify_number(old)[1] == ev.OK or pending_key == "NAME"):
                # Some exchanges send NMBR = <number> and then NMBR = O to mask it: the first one stands
                # (NCID's ncidd does the same).
                logger.debug("modem: %s %r after %r ignored", pending_key, new, old)
                self._pending_raw.append(raw)
                return out
            out += self._complete("field repeated")
        if key == "DDN_NMBR":
            self._pending.setdefault("NMBR", value)
        elif key == "MESG":
            self._pending["MESG"] = (self._pending.get("MESG", "") + " " + value).strip()
        else:
            self._pending[key] = value
        self._pending_raw.append(raw)
        if all(k in self._pending for k in ("DATE", "TIME", "NMBR", "NAME")):
            out += self._complete("all fields")
        return out

    def _clip(self, m: re.Match, line: str) -> list[CallerIdEvent]:
        number, alpha, validity = m[1].strip(), (m[2] or "").strip(), m[3]
        if not number:
            number = "P" if validity == "1" else "O"
        key = f"{number}|{alpha}"
        if key == self._clip_last and not self._pending:
            return []                                   # the same caller again after the next RING
        self._clip_last = key
        out = self._field("NMBR", number, line)
        if alpha:
            out += self._field("NAME", alpha, line)
        return out

    def _netcallerid(self, line: str) -> list[CallerIdEvent]:
        """###DATE<mmddhhmm>...NMBR<number>...NAME<words>+++"""
        m = _NETCALLERID.search(line)
        body = m.group(1) if m else ""
        out = self._complete("netcallerid")
        parts = {}
        flags = {piece.strip(". ").upper() for piece in body.split("...")}
        if flags & {"BYE", "CANCEL", "CALLED"} or line.lstrip().upper().startswith("CALLINFO"):
            # NCID gateway call-end records (CALLINFO: ###BYE…/###CANCEL…): the call was reported already;
            # reading their NMBR as a new caller would log every call twice.
            logger.debug("NetCallerID call-info record skipped: %r", line[:80])
            return out
        for piece in body.split("..."):
            piece = piece.strip(".")
            for key in ("DATE", "NMBR", "NAME", "LINE", "CALL"):
                if piece.upper().startswith(key):
                    parts[key] = piece[len(key):]
                    break
        if "NMBR" not in parts and "NAME" not in parts:
            logger.debug("NetCallerID record without number: %r", line[:80])
            return out
        dt_text = parts.get("DATE", "")
        dt_text = fold_digits(dt_text)
        if len(dt_text) == 8 and is_digits(dt_text):
            self._pending["DATE"], self._pending["TIME"] = dt_text[:4], dt_text[4:]
        nm = parts.get("NMBR", "")
        name = parts.get("NAME", "")
        self._pending["NMBR"] = nm
        if name and not (name.startswith("-") and name.endswith("-")):   # -UNKNOWN CALLER-, -MSG OFF-
            self._pending["NAME"] = name
        self._pending_raw.append(line)
        if parts.get("CALL", "").strip().upper() == "OUT":
            # NCID gateway "CALLOUT": a call placed from this line, not a caller.
            done = self._complete("netcallerid")
            return out + [replace(e, kind=ev.OUTGOING, status=None) for e in done]
        return out + self._complete("netcallerid")

    def _complete(self, why: str) -> list[CallerIdEvent]:
        p, raw = self._pending, self._pending_raw
        self._pending, self._pending_raw = {}, []
        if not p:
            return []
        if "NMBR" not in p and p.get("MESG"):
            p.update(_mesg_fields(p["MESG"]))
        if "NMBR" not in p and "NAME" not in p:
            logger.debug("modem: caller-ID block without a number dropped (%s): %s", why, p)
            return []
        now = self._now()
        when = None
        date, time_ = p.get("DATE", ""), p.get("TIME", "")
        md = _month_day_year(date.strip())
        # HHMM; some modems append a digit ("TIME = 12541" in NCID's test-modem-calls.data; ncidd keeps 1254).
        tm = re.fullmatch(r"([0-9]{2}):?([0-9]{2})[0-9]{0,2}", fold_digits(time_).strip())
        if md and tm:
            month, day, year = md
            when = month_day_time(month, day, int(tm[1]), int(tm[2]), now, year=year)
        if when is None and (date or time_):
            logger.debug("modem: unusable DATE/TIME %r %r", date, time_)
        name_raw = p.get("NAME")
        if "NMBR" in p:
            number, status = classify_number(p["NMBR"])
            if status != ev.OK and name_raw:
                # NMBR says nothing; NAME may say why (NAME = P / O / PRIVATE).
                n2, s2 = classify_number(name_raw)
                if s2 == ev.PRIVATE:
                    status = ev.PRIVATE
        else:
            n2, s2 = classify_number(name_raw)
            number, status = "", (s2 if s2 == ev.PRIVATE else ev.UNAVAILABLE)
        extra = {"mesg": p["MESG"]} if p.get("MESG") else {}
        return [CallerIdEvent(kind=ev.INCOMING, number=number, name=clean_name(name_raw), time=when,
                              status=status, source=self.source, raw=" | ".join(raw), extra=extra)]

    def _flush(self) -> list[CallerIdEvent]:
        self._clip_last = None
        # The idle timeout: the call whose lines are all in is reported now (never waiting for a NAME). A
        # line still missing its end stays in the buffer: reading it now could cut a number short, and the
        # block it belongs to waits with it.
        if bytes(self._buf).strip() and not self._skipping:
            return []
        return self._complete("flush")

    def _end(self) -> list[CallerIdEvent]:
        out: list[CallerIdEvent] = []
        tail = bytes(self._buf)
        self._buf.clear()
        if tail.strip() and not self._skipping:
            out += self._end_line(tail)
        self._skipping = False
        self._hex.reset()
        return out + self._complete("end of input")

    def has_pending(self) -> bool:
        return bool(self._pending) or bool(self._buf.strip())

    def _reset_after_error(self) -> None:
        self._clip_last = None
        self._buf.clear()
        self._pending, self._pending_raw = {}, []
        self._hex.reset()


def _month_day_year(date: str) -> tuple[int, int, int | None] | None:
    """DATE values seen from modems: MMDD (the standard), MMDDYY, YYMMDD (990305), MMDDYYYY, YYYYMMDD."""
    d = re.sub(r"[-/.]", "", fold_digits(date))
    if not is_digits(d):
        return None
    if len(d) == 4:
        return int(d[:2]), int(d[2:]), None
    if len(d) == 6:
        a, b, c = int(d[:2]), int(d[2:4]), int(d[4:])
        if 1 <= a <= 12 and 1 <= b <= 31:
            return a, b, 2000 + c                       # MMDDYY
        if 1 <= b <= 12 and 1 <= c <= 31:
            return b, c, (1900 if a >= 70 else 2000) + a  # YYMMDD
        return None
    if len(d) == 8:
        if int(d[:4]) >= 1900 and 1 <= int(d[4:6]) <= 12:
            return int(d[4:6]), int(d[6:]), int(d[:4])  # YYYYMMDD
        return int(d[:2]), int(d[2:4]), int(d[4:])      # MMDDYYYY
    return None


def _mesg_fields(mesg: str) -> dict[str, str]:
    """NMBR/NAME carried only inside MESG: MDMF parameters as hex, e.g. Bell Canada through Rockwell/Supra
    modems, ``MESG = 030735353531323132`` = parameter 03, 7 bytes, "5551212" (mgetty cnd.c)."""
    out: dict[str, str] = {}
    for word in mesg.split():
        try:
            data = bytes.fromhex(word)
        except ValueError:
            continue
        i = 0
        while i + 2 <= len(data):
            ptype, plen = data[i], data[i + 1]
            value = data[i + 2:i + 2 + plen]
            if len(value) < plen:
                break
            text = value.decode("latin-1").strip()
            if ptype in (0x02, 0x03) and text:
                out.setdefault("NMBR", text)
            elif ptype == 0x04 and text:
                out.setdefault("NMBR", text)                # reason for no number: O / P
            elif ptype == 0x07 and text:
                out.setdefault("NAME", text)
            i += 2 + plen
    return out

