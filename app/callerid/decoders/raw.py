"""Unformatted caller ID (``AT+VCID=2`` / ``AT#CID=2``): the SDMF / MDMF message printed as hex.

Message = type byte, length byte (bytes that follow, checksum excluded), body, checksum; the checksum is
the two's complement of the sum of all preceding bytes, so all bytes including it sum to 0 mod 256
(Bellcore GR-30-CORE; NCID-API "ASCII Hex Format Caller ID"). A message that fails the checksum is logged
and dropped.

- SDMF, type 0x04: body = 8 ASCII digits MMDDHHMM, then the number, or a single letter for its absence
  (P private, O out of area, A anonymous).
- MDMF, type 0x80 (ETSI "call set-up"): body = parameters (type, length, value): 0x01 date/time MMDDHHMM,
  0x02 number, 0x03 dialable directory number (Bellcore; ETSI uses 0x03 for the *called* number, so it is
  taken only when 0x02 is missing), 0x04 reason the number is absent (P/O), 0x07 name, 0x08 reason the
  name is absent (P/O). Others (0x11 call type, 0x06 qualifier, …) are skipped.
- Other message types (0x06 / 0x82 message waiting, …) are logged and skipped.

The hex may arrive on one line or wrapped over several, with or without spaces; RING lines between
messages are reported as RING events. The ``raw`` format is this decoder; the ``modem`` decoder also
accepts these hex lines, so a modem switched to unformatted mode keeps working without a settings change.
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
    is_digits,
    parse_mmddhhmm,
    to_text,
)
from app.callerid.events import CallerIdEvent

logger = logging.getLogger(__name__)

SDMF = 0x04
MDMF = 0x80
KNOWN_TYPES = {SDMF, MDMF, 0x06, 0x82, 0x89, 0x81, 0x86}   # call set-up, message waiting, …

_HEX_LINE = re.compile(r"^[0-9A-Fa-f\s]+$")


def checksum_ok(msg: bytes) -> bool:
    return len(msg) >= 3 and sum(msg) % 256 == 0


def with_checksum(body: bytes) -> bytes:
    """type+length+body → the same with its checksum byte appended (for simulators and tests)."""
    return body + bytes([(-sum(body)) % 256])


def build_sdmf(mmddhhmm: str, number: str) -> bytes:
    payload = (mmddhhmm + number).encode("ascii")
    return with_checksum(bytes([SDMF, len(payload)]) + payload)


def build_mdmf(params: list[tuple[int, bytes]]) -> bytes:
    body = b"".join(bytes([t, len(v)]) + v for t, v in params)
    return with_checksum(bytes([MDMF, len(body)]) + body)


def parse_message(msg: bytes, now: dt.datetime, raw: str = "") -> CallerIdEvent | None:
    """One whole message (type, length, body, checksum) → an INCOMING event, or None (logged)."""
    if len(msg) < 3:
        logger.debug("caller-ID message too short: %s", msg.hex())
        return None
    mtype, length = msg[0], msg[1]
    if len(msg) != length + 3:
        logger.info("caller-ID message length %d does not match its header (%d): dropped", len(msg) - 3, length)
        return None
    if not checksum_ok(msg):
        logger.info("caller-ID message with a bad checksum dropped: %s", msg.hex().upper())
        return None
    body = msg[2:-1]
    if mtype == SDMF:
        return _sdmf(body, now, raw)
    if mtype == MDMF:
        return _mdmf(body, now, raw)
    logger.debug("caller-ID message type 0x%02X (not a call) skipped", mtype)
    return None


def _sdmf(body: bytes, now: dt.datetime, raw: str) -> CallerIdEvent | None:
    text = to_text(body)
    when = parse_mmddhhmm(text[:8], now) if len(text) >= 8 else None
    if when is None and len(text) >= 8 and is_digits(text[:8]):
        logger.debug("SDMF with an impossible date %r", text[:8])
    rest = text[8:] if len(text) >= 8 and is_digits(text[:8]) else text
    number, status = classify_number(rest)
    return CallerIdEvent(kind=ev.INCOMING, number=number, status=status, time=when, source="sdmf", raw=raw)


def _mdmf(body: bytes, now: dt.datetime, raw: str) -> CallerIdEvent | None:
    params: dict[int, bytes] = {}
    unknown: list[str] = []
    i = 0
    while i < len(body):
        if i + 2 > len(body):
            logger.info("MDMF parameter header cut short: message dropped")
            return None
        ptype, plen = body[i], body[i + 1]
        value = body[i + 2:i + 2 + plen]
        if len(value) != plen:
            logger.info("MDMF parameter 0x%02X overruns the message: dropped", ptype)
            return None
        if ptype in (0x01, 0x02, 0x03, 0x04, 0x07, 0x08):
            params.setdefault(ptype, value)
        else:
            unknown.append(f"{ptype:02X}:{value.hex().upper()}")
        i += 2 + plen
    if unknown:
        logger.debug("MDMF parameters skipped: %s", " ".join(unknown))
    when = parse_mmddhhmm(to_text(params[0x01]), now) if 0x01 in params else None
    if 0x02 in params:
        number, status = classify_number(to_text(params[0x02]))
    elif 0x03 in params:
        number, status = classify_number(to_text(params[0x03]))
    elif 0x04 in params:
        number, status = classify_number(to_text(params[0x04]) or "O")
    else:
        number, status = "", ev.UNAVAILABLE
    name = None
    if 0x07 in params:
        name = to_text(params[0x07]).strip() or None
    if name is None and 0x08 in params:
        name = None                                   # reason for no name: nothing to show
    if not params:
        logger.debug("MDMF message without caller-ID parameters skipped")
        return None
    extra = {"skipped_params": unknown} if unknown else {}
    return CallerIdEvent(kind=ev.INCOMING, number=number, name=name, status=status, time=when,
                         source="mdmf", raw=raw, extra=extra)


class HexAssembler:
    """Collects hex digits (one line or several) into whole messages, using the length byte."""

    def __init__(self):
        self._hex = ""

    def push_line(self, line: str, now: dt.datetime) -> tuple[bool, list[CallerIdEvent]]:
        """(was this line hex caller-ID data?, events)."""
        compact = re.sub(r"\s+", "", line)
        if not compact or not _HEX_LINE.match(line) or len(compact) < 2:
            return False, []
        if not self._hex:
            # A message starts with a known type byte; a stray word made of hex letters ("ADD", "BEEF")
            # must not be taken for one.
            if len(compact) < 6 or int(compact[:2], 16) not in KNOWN_TYPES:
                return False, []
        self._hex += compact
        out: list[CallerIdEvent] = []
        while len(self._hex) >= 4:
            length = int(self._hex[2:4], 16)
            need = (length + 3) * 2
            if len(self._hex) < need:
                break
            chunk, self._hex = self._hex[:need], self._hex[need:]
            if len(chunk) % 2:
                break
            event = parse_message(bytes.fromhex(chunk), now, raw=chunk.upper())
            if event is not None:
                out.append(event)
            if self._hex and (len(self._hex) < 2 or int(self._hex[:2], 16) not in KNOWN_TYPES):
                logger.debug("hex after a caller-ID message dropped: %s", self._hex)
                self._hex = ""
        if len(self._hex) % 2 and len(self._hex) >= 4:
            # An odd number of hex digits cannot be a byte stream; drop rather than misalign.
            logger.debug("odd hex digit count; partial message dropped")
            self._hex = ""
        if len(self._hex) > 600:
            self._hex = ""
        return True, out

    def reset(self) -> bool:
        had = bool(self._hex)
        if had:
            logger.info("incomplete caller-ID hex message dropped: %s", self._hex)
        self._hex = ""
        return had


class RawDecoder(Decoder):
    """fmt="raw": lines of hex messages, RING lines; everything else is logged and skipped."""

    source = "raw"

    def __init__(self, now=None):
        super().__init__(now)
        self._lines = RecordSplitter(b"\r\n")
        self._hex = HexAssembler()

    def _feed(self, data: bytes) -> list[CallerIdEvent]:
        out: list[CallerIdEvent] = []
        for rec in self._lines.push(data):
            out += self._line(to_text(rec).strip())
        return out

    def _line(self, line: str) -> list[CallerIdEvent]:
        if not line:
            return []
        if line.upper().startswith("RING"):
            self._hex.reset()
            return [CallerIdEvent(kind=ev.RING, source="raw", raw=line)]
        is_hex, events = self._hex.push_line(line, self._now())
        if not is_hex:
            self._hex.reset()
            logger.debug("raw decoder: line skipped: %r", line[:80])
        return events

    def _end(self) -> list[CallerIdEvent]:
        tail = self._lines.take_pending()
        out = self._line(to_text(tail).strip()) if tail.strip() else []
        self._hex.reset()
        return out

    def _reset_after_error(self) -> None:
        self._lines.clear()
        self._hex.reset()
