"""The streaming decoder interface and the helpers every protocol shares.

A decoder turns the bytes a caller-ID device sends into CallerIdEvent objects. It is pure: no I/O, no Qt,
no timers of its own. The source that owns the port calls:

- ``feed(data)`` with whatever bytes arrived (a record may be split across reads or glued to the next one);
- ``flush()`` after a short idle time (``IDLE_FLUSH_SECONDS``): a modem call that had a number but no NAME is
  completed then, never held back waiting for a NAME that Iranian lines do not send; a record still missing
  its terminator is kept for the bytes that complete it;
- ``end()`` at the end of input (a capture file, a port closed): flush(), and the last record is read even
  without its terminator;
- ``tick()`` now and then (about once a second) on multi-line boxes: a line that rang and then went quiet
  for ``ring_timeout`` seconds is forgotten (idle again), and nothing is reported: decoders report only what
  the device said. Deciding that a quiet line was a missed call belongs to the call lifecycle
  (app/callerid/lifecycle.py), the one owner of every call timeout.

Nothing a device sends can make a decoder raise: every record is parsed inside a guard, garbage is logged
(debug), skipped and counted (``noise``), and the unterminated tail kept between reads is bounded
(``MAX_RECORD`` bytes). Only ASCII 0-9 are digits (Persian/Arabic-Indic digits are folded to them first): a
'²' in a date or a ring count makes that field unreadable, never the call. The number field of the Iranian
boxes is validated (``box_number``): line noise is not a caller.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from app.callerid import events as ev
from app.callerid.events import CallerIdEvent
from app.text import to_ascii_digits

logger = logging.getLogger(__name__)

MAX_RECORD = 4096          # bytes: a record longer than this is garbage, dropped up to its terminator
IDLE_FLUSH_SECONDS = 0.8   # how long a source waits after the last byte before calling flush()

NowFn = Callable[[], dt.datetime]


def _default_now() -> dt.datetime:
    from app import clock

    return clock.now()


class Decoder:
    """Base class: subclasses implement ``_feed`` (and optionally ``_flush`` / ``_tick``)."""

    source = ""

    def __init__(self, now: NowFn | dt.datetime | None = None):
        if isinstance(now, dt.datetime):          # a fixed time passed instead of a clock: accept it
            fixed = now
            now = lambda: fixed                   # noqa: E731
        self._now: NowFn = now or _default_now
        self._noise = 0

    @property
    def noise(self) -> int:
        """Records read whole but not understood (line noise, a number that cannot be one, an unknown record),
        discarded since the decoder was made. `crm callerid decode` reports the count."""
        return self._noise

    def _discard(self, why: str, raw: str) -> None:
        """One record discarded as noise: logged (debug) and counted, never reported as a call."""
        self._noise += 1
        logger.debug("%s: %s; record discarded: %r", self.source, why, raw[:120])

    # -- public interface (never raises) ------------------------------------------------------------------
    def feed(self, data: bytes) -> list[CallerIdEvent]:
        if not data:
            return []
        if isinstance(data, str):          # tolerate callers that already decoded the bytes
            data = data.encode("utf-8", errors="replace")
        try:
            return self._feed(bytes(data))
        except Exception:  # noqa: BLE001 - nothing a device sends may escape into the GUI
            logger.exception("%s decoder: unexpected error; input dropped and state reset", self.source)
            self._reset_after_error()
            return []

    def flush(self) -> list[CallerIdEvent]:
        try:
            return self._flush()
        except Exception:  # noqa: BLE001
            logger.exception("%s decoder: unexpected error in flush", self.source)
            self._reset_after_error()
            return []

    def end(self) -> list[CallerIdEvent]:
        """End of input (a capture file read to its end, a port closed): like flush(), and the last record is
        read even without its terminator. flush() alone never reads an unterminated record, so an idle gap
        in the middle of one cannot turn into a truncated number."""
        try:
            return self._end()
        except Exception:  # noqa: BLE001
            logger.exception("%s decoder: unexpected error at end of input", self.source)
            self._reset_after_error()
            return []

    def tick(self) -> list[CallerIdEvent]:
        """Time-based events (a ringing line gone quiet → MISSED). Sources call it about once a second."""
        try:
            return self._tick()
        except Exception:  # noqa: BLE001
            logger.exception("%s decoder: unexpected error in tick", self.source)
            return []

    @property
    def protocol(self) -> str:
        return self.source

    # -- for subclasses ------------------------------------------------------------------------------------
    def _feed(self, data: bytes) -> list[CallerIdEvent]:
        raise NotImplementedError

    def _flush(self) -> list[CallerIdEvent]:
        return []

    def _end(self) -> list[CallerIdEvent]:
        return self._flush()

    def _tick(self) -> list[CallerIdEvent]:
        return []

    def _reset_after_error(self) -> None:
        pass


class RecordSplitter:
    """Cuts a byte stream into records at any of the given terminator bytes, keeping a bounded tail.

    Empty records (e.g. the blank lines between Segal records, or \\r\\n counted as two terminators) are
    dropped. A record that grows past ``limit`` without a terminator is discarded up to its terminator, so
    the result does not depend on how the stream was chunked.
    """

    def __init__(self, terminators: bytes, limit: int = MAX_RECORD):
        self._pattern = re.compile(b"[" + re.escape(terminators) + b"]")
        self._buf = bytearray()
        self._skipping = False
        self._limit = limit

    def push(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        self._buf += data
        start = 0
        buf = bytes(self._buf)
        for m in self._pattern.finditer(buf):
            rec = buf[start:m.start()]
            start = m.end()
            if self._skipping:
                self._skipping = False
                logger.debug("record too long: dropped up to its terminator")
                continue
            if len(rec) > self._limit:
                logger.debug("record of %d bytes is too long; dropped", len(rec))
                continue
            if rec.strip():
                out.append(rec)
        del self._buf[:start]
        if len(self._buf) > self._limit:
            logger.debug("no terminator in %d bytes: dropping the partial record", len(self._buf))
            self._buf.clear()
            self._skipping = True
        return out

    def pending(self) -> bytes:
        return b"" if self._skipping else bytes(self._buf)

    def take_pending(self) -> bytes:
        rest = self.pending()
        self._buf.clear()
        self._skipping = False
        return rest

    def clear(self) -> None:
        self._buf.clear()
        self._skipping = False


# ---------------------------------------------------------------------------------------------------------
# text, numbers, dates
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# Field separators of every protocol (NCID "*", modem "=", box ":" "@" ",", line ends): text is decoded one
# field at a time, so a Latin-1 name and a Windows-1256 one in the same record are each read right.
_FIELD_SEPARATORS = re.compile(rb"([*=:;,|@\r\n\t])")
_ARABIC_RANGES = "\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff"
_ANY_ARABIC = re.compile(f"[{_ARABIC_RANGES}]")
_NOT_ARABIC = re.compile(f"[^{_ARABIC_RANGES}]")
_WORD = re.compile(r"[^\W\d_]+")
# Windows-1256 has no Persian yeh/kaf of its own on older systems: Persian Windows writes ی as ي (0xED) and
# often ک as ك (0xDF). The caller's name is shown to a Persian desk, so they are read as the Persian letters.
_ARABIC_TO_PERSIAN = str.maketrans({"\u064a": "\u06cc", "\u0643": "\u06a9"})


def _mostly_arabic_script(text: str) -> bool:
    """True when most of the letters are in words written wholly in Arabic script. A word that mixes Latin and
    Arabic letters ("Vنhنlن" = "Vähälä" read as Windows-1256) is a sign of the wrong code page."""
    if not _ANY_ARABIC.search(text):
        return False
    letters = arabic = 0
    for word in _WORD.findall(text):
        letters += len(word)
        if not _NOT_ARABIC.search(word):
            arabic += len(word)
    return arabic * 2 > letters


def _decode_field(data: bytes) -> str:
    if data.isascii():
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    arabic = data.decode("cp1256", errors="replace")
    if _mostly_arabic_script(arabic):
        return arabic.translate(_ARABIC_TO_PERSIAN)
    return data.decode("cp1252", errors="replace")


def to_text(data: bytes) -> str:
    """Bytes as text, never raising, decided field by field: UTF-8 when valid; otherwise Windows-1256 when that
    reads as words in Arabic script (Iranian boxes and Windows software), else Windows-1252 (NCID's published
    tests carry Latin-1 names).

    Control characters are removed; undecodable bytes become U+FFFD.
    """
    data = bytes(data)
    if data.isascii():
        text = data.decode("ascii")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = "".join(_decode_field(part) for part in _FIELD_SEPARATORS.split(data))
    return _CONTROL.sub("", text)


# Digits: only ASCII 0-9 are digits to a decoder. Persian and Arabic-Indic digits are folded to them first;
# anything else that str.isdigit() or \d would accept ('²', '１', '৩' …) makes the field unreadable, never
# the call: the rest of the record still counts.
_ASCII_DIGITS = re.compile(r"[0-9]+")
_FOLDABLE_DIGIT = re.compile(r"[\u0660-\u0669\u06f0-\u06f9]")


def fold_digits(text: str | None) -> str:
    """Persian (۰-۹) and Arabic-Indic (٠-٩) digits → ASCII; everything else unchanged."""
    if not text or not _FOLDABLE_DIGIT.search(text):      # the common case, and str.translate is slow
        return text or ""
    return to_ascii_digits(text)


def is_digits(text: str | None) -> bool:
    """True for a non-empty run of ASCII digits only ('²'.isdigit() is True; this is not)."""
    return bool(text) and _ASCII_DIGITS.fullmatch(text) is not None


def to_int(text: str | None) -> int | None:
    """A whole number from ASCII (or Persian/Arabic-Indic) digits, spaces around allowed; otherwise None."""
    t = fold_digits(text).strip()
    return int(t) if is_digits(t) else None


# Words a device or exchange uses instead of a number.
PRIVATE_WORDS = frozenset({
    "P", "A", "PRIVATE", "ANONYMOUS", "RESTRICTED", "WITHHELD", "BLOCKED", "PRIVATE NUMBER",
    "PRIVATE CALLER", "ANONYMOUS CALLER", "UNKNOWN CALLER ID BLOCKED",
})
UNAVAILABLE_WORDS = frozenset({
    "O", "OUT-OF-AREA", "OUT OF AREA", "OUT_OF_AREA", "UNAVAILABLE", "UNKNOWN", "NO NUMBER", "NO-NUMBER",
    "NONUMBER", "NOT AVAILABLE", "-", "RING", "NO CALLER ID", "ERROR", "OUT OF AREA CALLER",
})
_NUMBER_JUNK = re.compile(r"[\s\-().]")
_NUMBER_OK = re.compile(r"^\+?[0-9*#]+$")


def classify_number(raw: str | None) -> tuple[str, str]:
    """(number as reported, status) for what a device put in its number field.

    Withheld (P, PRIVATE, ANONYMOUS, Restricted…) → ("", private); out of area / unavailable / empty / all
    zeros → ("", unavailable); otherwise the digits as reported (spaces, dashes, dots and brackets removed,
    a leading + kept) and ok. Persian/Arabic-Indic digits are folded to ASCII.
    """
    text = to_ascii_digits((raw or "").strip()).strip()
    word = re.sub(r"\s+", " ", text.upper())
    if word in PRIVATE_WORDS:
        return "", ev.PRIVATE
    if word in UNAVAILABLE_WORDS or not word:
        return "", ev.UNAVAILABLE
    number = _NUMBER_JUNK.sub("", text)
    if number.startswith("++"):                   # seen in vendor code: "++98…"
        number = "+" + number.lstrip("+")
    if not number or not _NUMBER_OK.match(number):
        if "PRIVATE" in word or "ANONYM" in word or "RESTRICT" in word or "WITHHELD" in word:
            return "", ev.PRIVATE
        if "AREA" in word or "UNAVAIL" in word:
            return "", ev.UNAVAILABLE
        digits = re.sub(r"[^0-9+]", "", number)
        if len(digits) >= 3:
            logger.debug("number field %r has stray characters; keeping its digits", raw)
            number = digits
        else:
            return "", ev.UNAVAILABLE
    if not number.strip("+0*#"):
        return "", ev.UNAVAILABLE                 # "0000000000": the exchange did not send the number
    return number, ev.OK


_BOX_NUMBER = re.compile(r"\+?[0-9]+(?:[ \-][0-9]+)*")
BOX_NUMBER_DIGITS = (3, 15)


def box_number(raw: str | None) -> tuple[str, str] | None:
    """The number field of an Iranian multi-line box (Oj Segal/Danjeh, Yasna/Caspian, Techno), validated.

    Those boxes send the digits as the exchange gave them: digits only (a leading + or 00 where the exchange
    sends one; spaces or dashes between groups tolerated), 3 to 15 digits, or a word / letter for a withheld or
    missing number (P, O, PRIVATE…), or nothing. Returns (number, status) as classify_number does, or None
    when the field cannot be a number (line noise such as "6+9531" or a 37-digit run): the record is noise.
    """
    text = fold_digits(raw).strip()
    word = re.sub(r"\s+", " ", text.upper())
    if not word or word in PRIVATE_WORDS or word in UNAVAILABLE_WORDS:
        return classify_number(text)
    if not _BOX_NUMBER.fullmatch(text):
        return None
    digits = sum(c.isascii() and c.isdigit() for c in text)
    lo, hi = BOX_NUMBER_DIGITS
    if not lo <= digits <= hi:
        return None
    return classify_number(text)


def clean_name(raw: str | None) -> str | None:
    """A caller name, or None when the field is empty or says there is no name (NO NAME, P, O, -)."""
    if raw is None:
        return None
    name = raw.strip()
    word = re.sub(r"\s+", " ", name.upper())
    if not name or word in {"NO NAME", "NONAME", "NO-NAME", "UNKNOWN NAME"} or word in PRIVATE_WORDS \
            or word in UNAVAILABLE_WORDS:
        return None
    return name


def month_day_time(month: int, day: int, hour: int, minute: int, now: dt.datetime,
                   year: int | None = None, second: int = 0) -> dt.datetime | None:
    """A device's date/time. Without a year, the current one, or last year when that would put the call
    more than a day in the future (a call on 29 Esfand/20 March decoded after New Year, or 31 Dec → 1 Jan).
    Impossible dates give None."""
    try:
        if year is not None:
            return dt.datetime(year, month, day, hour, minute, second)
        when = dt.datetime(now.year, month, day, hour, minute, second)
    except ValueError:                             # includes 29 Feb in a non-leap year: a wrong device clock
        return None
    if when - now > dt.timedelta(days=1):
        try:
            when = when.replace(year=now.year - 1)
        except ValueError:
            return None
    return when


def parse_mmddhhmm(text: str, now: dt.datetime) -> dt.datetime | None:
    """'05111852' → 11 May, 18:52 of the current year."""
    m = re.fullmatch(r"\s*([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})\s*", fold_digits(text))
    if not m:
        return None
    return month_day_time(int(m[1]), int(m[2]), int(m[3]), int(m[4]), now)


def parse_duration(text: str | None, four_digits: str = "seconds") -> int | None:
    """A hang-up record's duration in seconds, tolerant of the forms boxes use.

    - ``h:mm:ss`` / ``mm:ss`` → as written;
    - plain digits → seconds, except that with ``four_digits="mmss"`` exactly four digits whose last two are
      below 60 are read as minutes and seconds (Oj Segal's ``T0257`` = 2 min 57 s; see decoders/segal.py);
    - anything else → None.
    """
    if text is None:
        return None
    t = fold_digits(text).strip()
    if not t:
        return None
    m = re.fullmatch(r"(?:([0-9]{1,3}):)?([0-9]{1,3}):([0-9]{1,2})", t)
    if m:
        h = int(m[1] or 0)
        return h * 3600 + int(m[2]) * 60 + int(m[3])
    if not is_digits(t) or len(t) > 7:
        return None
    if four_digits == "mmss" and len(t) == 4 and int(t[2:]) < 60:
        return int(t[:2]) * 60 + int(t[2:])
    return int(t)


# ---------------------------------------------------------------------------------------------------------
# the life of a call on one line of a multi-line box
IDLE = "idle"
RINGING = "ringing"
ANSWERED = "answered"
OFFHOOK = "offhook"


@dataclass
class LineState:
    line: int
    state: str = IDLE
    number: str | None = None          # the caller's number for the current incoming call
    status: str | None = None
    digits: str = ""                   # digits dialled since the handset was lifted
    rings: int = 0
    last_activity: dt.datetime | None = None
    reported_number: bool = False      # INCOMING already emitted for this ring cycle


@dataclass
class LineTracker:
    """Turns per-line box records into the call's life: ring → answered/missed → hang-up; lift → digits →
    outgoing → hang-up. Shared by the Segal, Yasna and Techno decoders."""

    source: str
    now: NowFn
    ring_timeout: float = 8.0          # seconds of silence after a ring before the line is idle again
    lines: dict[int, LineState] = field(default_factory=dict)
    on_noise: Callable[[str, str], None] | None = None   # (why, raw): a record discarded as noise

    def get(self, line: int) -> LineState:
        st = self.lines.get(line)
        if st is None:
            st = self.lines[line] = LineState(line)
        st.last_activity = self.now()
        return st

    def _event(self, kind: str, st: LineState, raw: str, **kw) -> CallerIdEvent:
        return CallerIdEvent(kind=kind, line=st.line, source=self.source, raw=raw, **kw)

    def caller_id(self, line: int, reported: str | None, raw: str) -> list[CallerIdEvent]:
        parsed = box_number(reported)
        if parsed is None:
            # Not a number these boxes send: noise, not a caller. The line's state is left as it was.
            if self.on_noise is not None:
                self.on_noise(f"line {line}: {str(reported)[:40]!r} is not a phone number", raw)
            else:
                logger.debug("%s line %s: %r is not a phone number; record discarded", self.source, line, reported)
            return []
        number, status = parsed
        st = self.get(line)
        if st.state in (ANSWERED, OFFHOOK):
            # A caller ID while the handset is up: a new call (call waiting, or a lost hang-up record).
            logger.debug("line %s: caller ID while %s; starting a new call", line, st.state)
            self._reset(st)
        if st.state == RINGING and st.reported_number and (number, status) == (st.number, st.status):
            return []                                   # the same caller ID repeated with each ring
        if st.state == RINGING and st.reported_number and st.number and number != st.number:
            out = self.missed(line, raw, rings=None)    # a different caller: the previous one rang out
            st = self.get(line)
        else:
            out = []
        st.state = RINGING
        st.number, st.status = number, status
        st.reported_number = True
        out.append(self._event(ev.INCOMING, st, raw, number=number, status=status))
        return out

    def ring(self, line: int, rings: int | None, raw: str) -> list[CallerIdEvent]:
        st = self.get(line)
        if st.state in (ANSWERED, OFFHOOK):
            logger.debug("line %s: ring while %s; the previous call's end was not reported", line, st.state)
            self._reset(st)
        if st.state == IDLE:
            st.state = RINGING
            st.rings = 0
        st.rings = rings if rings is not None else st.rings + 1
        return [self._event(ev.RING, st, raw, number=st.number, status=st.status, rings=st.rings)]

    def lift(self, line: int, raw: str) -> list[CallerIdEvent]:
        """Handset lifted: answers a ringing line, or starts an outgoing call on an idle one."""
        st = self.get(line)
        if st.state == RINGING:
            st.state = ANSWERED
            return [self._event(ev.ANSWERED, st, raw, number=st.number, status=st.status, rings=st.rings or None)]
        if st.state == IDLE:
            st.state = OFFHOOK
            st.digits = ""
            return [self._event(ev.OFFHOOK, st, raw)]
        return []                                       # already off-hook: a repeated record

    def hook_word(self, line: int, word: str, raw: str) -> list[CallerIdEvent]:
        """A hook-state word. The telephone terms "off-hook" (handset up) and "on-hook" (handset down) are
        read as such. The vendor words "HookOn"/"HookOff"/"hook-on"/"hook-off" are not used consistently:
        the brief and the telephone sense say HookOff = handset up, while the published integration code
        (YasnaSDK) maps Yasna's "HookOn" and Danjeh's "hook-on" to "line in use" and "HookOff"/"hook-off"
        to "idle". Both readings agree on one thing: the word marks a change. So these words toggle by the
        line's state: on a ringing or idle line the handset went up; during a call it went down."""
        w = re.sub(r"[\s_\-]", "", word.upper())
        st = self.get(line)
        if w == "OFFHOOK":
            return self.lift(line, raw)
        if w == "ONHOOK":
            if st.state in (ANSWERED, OFFHOOK):
                return self.hang_up(line, None, None, raw)
            logger.debug("line %s: on-hook while %s; nothing to end", line, st.state)
            return []
        if st.state in (ANSWERED, OFFHOOK):
            return self.hang_up(line, None, None, raw)
        return self.lift(line, raw)

    def in_call(self, line: int) -> bool:
        st = self.lines.get(line)
        return st is not None and st.state in (ANSWERED, OFFHOOK)

    def answered(self, line: int, raw: str) -> list[CallerIdEvent]:
        st = self.get(line)
        if st.state == ANSWERED:
            return []
        if st.state == OFFHOOK:
            return []                                   # "answer" during an outgoing call: the far end picked up
        st.state = ANSWERED
        return [self._event(ev.ANSWERED, st, raw, number=st.number, status=st.status, rings=st.rings or None)]

    def digit(self, line: int, digits: str, raw: str) -> list[CallerIdEvent]:
        st = self.get(line)
        out: list[CallerIdEvent] = []
        if st.state in (IDLE, RINGING):
            # A digit with no lift reported before it: the handset must be up.
            if st.state == RINGING:
                logger.debug("line %s: digit while ringing; treating the call as answered", line)
                out += self.answered(line, raw)
            else:
                st.state = OFFHOOK
                st.digits = ""
                out.append(self._event(ev.OFFHOOK, st, raw))
        for d in digits:
            if st.state == OFFHOOK:
                st.digits += d
            out.append(self._event(ev.DIGIT, st, raw, number=d))
        return out

    def hang_up(self, line: int, duration: int | None, dialled: str | None, raw: str,
                force_outgoing: bool = False) -> list[CallerIdEvent]:
        """Handset down. An outgoing call reports OUTGOING (number dialled + duration) before HANGUP."""
        st = self.get(line)
        out: list[CallerIdEvent] = []
        if st.state == RINGING and not force_outgoing:
            # Down without an "up" record: the answer record was lost; still a finished answered call.
            logger.debug("line %s: hang-up while ringing; assuming it was answered", line)
            st.state = ANSWERED
        if st.state == IDLE and not dialled and not force_outgoing:
            logger.debug("line %s: hang-up on an idle line (duration %s)", line, duration)
            out.append(self._event(ev.HANGUP, st, raw, duration=duration))
            self._reset(st)
            return out
        if st.state in (OFFHOOK, IDLE) or force_outgoing:
            number = (dialled or "").strip() or st.digits
            if number:
                out.append(self._event(ev.OUTGOING, st, raw, number=number, duration=duration))
            out.append(self._event(ev.HANGUP, st, raw, number=number or None, duration=duration,
                                   extra={"direction": "out"}))
        else:
            out.append(self._event(ev.HANGUP, st, raw, number=st.number, status=st.status, duration=duration,
                                   extra={"direction": "in"}))
        self._reset(st)
        return out

    def missed(self, line: int, raw: str, rings: int | None) -> list[CallerIdEvent]:
        st = self.get(line)
        if st.state in (ANSWERED, OFFHOOK):
            logger.debug("line %s: 'missed' while %s; ignored", line, st.state)
            return []
        out = [self._event(ev.MISSED, st, raw, number=st.number, status=st.status,
                           rings=rings if rings is not None else (st.rings or None))]
        self._reset(st)
        return out

    def expire(self) -> list[CallerIdEvent]:
        """Lines that rang and went quiet for ring_timeout seconds are idle again, silently.

        Whether such a call rang out is not the decoder's to say: the call's life (ringing → missed / ended)
        has one owner, app/callerid/lifecycle.py, which keeps its own ring timeout. A MISSED invented here
        used to reach the lifecycle after it had already closed the call, and opened a second one. The
        tracker only forgets the ring so that a later lift reads as an outgoing call, not as an answer."""
        now = self.now()
        for st in list(self.lines.values()):
            if st.state == RINGING and st.last_activity is not None and \
                    (now - st.last_activity).total_seconds() >= self.ring_timeout:
                logger.debug("line %s: quiet for %.0f s after ringing; line idle", st.line, self.ring_timeout)
                self._reset(st)
        return []

    @staticmethod
    def _reset(st: LineState) -> None:
        st.state = IDLE
        st.number = st.status = None
        st.digits = ""
        st.rings = 0
        st.reported_number = False


def line_number(text: str | None) -> int | None:
    """'1', '01', 'L2', 'LINE3', '1234' → int; anything else None (a label such as 'POTS' or 'A')."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(?:L|LINE)?\s*0*([0-9]{1,9})\s*", fold_digits(text), re.IGNORECASE)
    if not m:
        return None
    n = int(m[1])
    return n
