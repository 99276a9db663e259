"""Recognise the protocol from the first records, then hand everything (from the first byte) to its decoder.

Each protocol has a recogniser that looks only at *complete* records in its own framing (lines for the
modem, NCID, Yasna, Asterisk AMI and Panasonic SMDR; ``@`` for Segal/Danjeh; ``.`` for Techno) and says whether a record is a sure sign
of it. The protocol whose first sure record *ends* earliest in the stream wins (ties go to the order of
PROTOCOLS), so the choice does not depend on how the bytes were split into reads. Until then the bytes
are held (at most ``HOLD_LIMIT``; past that the oldest are dropped, as garbage before a device spoke).
At end() (end of input) with nothing sure, weaker signs decide (OK/AT echo → modem); with none at all
nothing is emitted and the bytes are logged. An idle flush() while the protocol is unknown changes nothing.

Detection is incremental (``Detector``): each framing remembers where its current record starts and how far
it has looked, so every byte is examined once however it is split into reads (the whole held buffer used to be
rescanned on each 64-byte read: 30-110 s per MB of unrecognised input).

Hex SDMF/MDMF lines are recognised as the modem (its decoder reads them), since a modem in unformatted
mode also sends RING and OK lines.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable

from app.callerid.decoders.base import Decoder, fold_digits
from app.callerid.decoders.raw import KNOWN_TYPES, checksum_ok
from app.callerid.events import CallerIdEvent

logger = logging.getLogger(__name__)

HOLD_LIMIT = 16384

_MODEM_FIELD = re.compile(r"^\s*(?:RING\s+)*(?:(?:DATE|TIME|NMBR|DDN_NMBR|DDN|NBR|NAME|MESG)\s*=|"
                          r"CALLER'?S? (?:NUMBER|NAME)\s*:)", re.IGNORECASE)
_NCID = re.compile(
    r"^\s*(?:\+?(?:CID|CIDINFO|CIDLOG|HUP|HUPLOG|OUT|OUTLOG|BLK|BLKLOG|PID|PIDLOG|WID|WIDLOG|END|ENDLOG|MWI|PUT|"
    r"RID|MSG|MSGLOG|NOT|NOTLOG|OPT|LOG):|200 .*(?:NCID|ncidd|Server)|210 API|25[0-4] .*[Cc]all log|300 End)")
_SEGAL = re.compile(r"^\s*L\s*[0-9]{1,2}\s*[:\- ]?\s*(?:C[0-9+PO]*|R\s*[0-9]{1,3}|HF|HND.*|D\s*[0-9*#]|"
                    r"hook-?o(?:n|ff)|Dialed\s*:?.*|[0-9]{3,})\s*$", re.IGNORECASE | re.DOTALL)
_TECHNO = re.compile(r"^\s*D\s*[0-9]{1,2}\s*:\s*(?:L\s*[0-9]{1,2}\s*:\s*)?(?:CallerID=|Ring=|Answer|HangDown|HangUp|"
                     r"MissCall|Dial=|DeviceConnect|DeviceDisconnect|LineConnect|LineDisconnect)", re.IGNORECASE)
_YASNA = re.compile(r"(?:^|\s)L(?:INE)?\s*[0-9]{1,2}\b.*(?:CallerID\s*:|RingsCount\s*:|Duration\s*:|Dialed\s*:|"
                    r"\bRinging\b|\bHookO(?:n|ff)\b|\bO(?:n|ff)-hook\b)", re.IGNORECASE)


# The office's telephone systems. Asterisk's AMI greets every client with its banner, and every packet has an
# "Event:" or "Response:" line; a Panasonic PBX's SMDR port prints its column header and fixed-column records
# (date, time, extension, CO line …; see decoders/smdr.py), on a serial port or after the LAN login.
_AMI = re.compile(r"^\s*(?:Asterisk Call Manager/\d|Event:\s*[A-Za-z]+\s*$|Response:\s*(?:Success|Error|Follows|"
                  r"Goodbye)\s*$)")
_SMDR = re.compile(r"^\s*(?:Date\s+Time\s+Ext\s+CO\b|(?:\d{1,2}/\d{1,2}/\d{2}|\*\*/\*\*/\*\*)\s+"
                   r"\d{1,2}:\d\d\s?(?:[AaPp][Mm])?\s+[A-Z*#]{0,3}\d{1,8}\s+\d{1,4}\s+\S)")


def _modem_sure(rec: str) -> bool:
    s = rec.strip()
    if re.fullmatch(r"RING\s*[A-Z0-9]?", s.upper()) or _MODEM_FIELD.match(s) or ("###" in s and "NMBR" in s) \
            or re.match(r'RING;|\+CLIP:\s*"', s, re.IGNORECASE):
        return True
    compact = re.sub(r"\s+", "", s)
    if len(compact) >= 8 and len(compact) % 2 == 0 and re.fullmatch(r"[0-9A-Fa-f]+", compact):
        try:
            msg = bytes.fromhex(compact)
        except ValueError:
            return False
        return msg[0] in KNOWN_TYPES and len(msg) == msg[1] + 3 and checksum_ok(msg)
    return False


def _modem_weak(rec: str) -> bool:
    s = rec.strip().upper()
    return s in ("OK", "ERROR") or s.startswith("AT")


# (name, record terminators, sure-sign test)
PROTOCOLS: list[tuple[str, bytes, Callable[[str], bool]]] = [
    ("ncid", b"\r\n", lambda r: bool(_NCID.match(r))),
    ("techno", b".\r\n", lambda r: bool(_TECHNO.match(r))),
    ("segal", b"@", lambda r: bool(_SEGAL.match(r.strip()))),
    ("yasna", b"\r\n", lambda r: bool(_YASNA.search(r)) and "@" not in r and not _TECHNO.match(r)),
    ("modem", b"\r\n", _modem_sure),
    ("ami", b"\r\n", lambda r: bool(_AMI.match(r))),
    ("smdr", b"\r\n", lambda r: bool(_SMDR.match(r))),
]


MAX_SURE_RECORD = 4096     # bytes: a longer "record" is noise, never a sure sign


def _records(buf: bytes, terminators: bytes):
    """(text, end offset) of each complete record."""
    start = 0
    for i, b in enumerate(buf):
        if b in terminators:
            if i > start:
                yield buf[start:i].decode("utf-8", errors="replace"), i
            start = i + 1


class _Scanner:
    """The search, in one framing, for the first sure record of each protocol that uses that framing, resumed
    where the previous bytes left off (the modem, NCID and Yasna share line framing: each line is read once)."""

    __slots__ = ("protocols", "pattern", "start", "pos", "found")

    def __init__(self, terms: bytes, protocols: list[tuple[int, str, Callable[[str], bool]]]):
        self.protocols = protocols      # (order, name, sure) still looking
        self.pattern = re.compile(b"[" + re.escape(terms) + b"]")
        self.start = 0                  # where the record being read begins
        self.pos = 0                    # how far the bytes have been looked at
        self.found: list[tuple[int, int, str]] = []     # (end offset, order, name) of first sure records

    def scan(self, buf: bytes | bytearray) -> None:
        start = self.start
        for m in self.pattern.finditer(buf, self.pos):
            i = m.start()
            if MAX_SURE_RECORD >= i - start > 0:
                text = fold_digits(bytes(buf[start:i]).decode("utf-8", errors="replace"))
                for p in [p for p in self.protocols if p[2](text)]:
                    self.protocols.remove(p)
                    self.found.append((i, p[0], p[1]))
                if self.found:
                    self.start, self.pos = i + 1, m.end()
                    return                  # the earliest sure record in this framing ends here
            start = i + 1
        self.start, self.pos = start, len(buf)

    def drop(self, n: int) -> None:
        """The first n bytes of the buffer were dropped."""
        self.start = max(0, self.start - n)
        self.pos = max(0, self.pos - n)


class Detector:
    """detect() for a growing buffer: each call to scan() looks only at the bytes not seen before, so finding
    the protocol costs time in proportion to the input, not to the input times the bytes held."""

    def __init__(self):
        groups: dict[bytes, list] = {}
        for order, (name, terms, sure) in enumerate(PROTOCOLS):
            groups.setdefault(terms, []).append((order, name, sure))
        self._scanners = [_Scanner(terms, protocols) for terms, protocols in groups.items()]

    def scan(self, buf: bytes | bytearray) -> str | None:
        """The protocol whose first sure record ends earliest in ``buf`` (ties: PROTOCOLS order), or None.
        ``buf`` must be the previous buffer with bytes appended (or with its front cut, see drop())."""
        found = []
        for sc in self._scanners:
            if not sc.found:
                sc.scan(buf)
            found += sc.found
        return min(found)[2] if found else None

    def drop(self, n: int) -> None:
        for sc in self._scanners:
            sc.drop(n)


def detect(buf: bytes, final: bool = False) -> str | None:
    """The protocol of a byte stream's beginning, or None while unsure."""
    name = Detector().scan(buf)
    if name:
        return name
    if final:
        tail_terms = b"\r\n"
        for text, _end in _records(buf + b"\n", tail_terms):
            if _modem_weak(text):
                return "modem"
        # An unterminated last record may still be sure on its own (e.g. "L1C0912…" without its "@").
        for name, _terms, sure in PROTOCOLS:
            for text, _end in _records(buf + b"\n", b"\n"):
                if sure(fold_digits(text)):
                    return name
    return None


class AutoDecoder(Decoder):
    """fmt="auto": holds bytes until the protocol is known, then delegates to that decoder."""

    source = "auto"

    def __init__(self, now=None, factory: Callable[[str], Decoder] | None = None):
        super().__init__(now)
        self._factory = factory
        self._held = bytearray()
        self._dropped = 0
        self._detector = Detector()
        self.delegate: Decoder | None = None

    @property
    def noise(self) -> int:
        return self.delegate.noise if self.delegate is not None else 0

    @property
    def protocol(self) -> str:
        return self.delegate.protocol if self.delegate else "auto"

    @property
    def unrecognised_bytes(self) -> int:
        """Bytes received while no protocol was recognised (held + dropped). Many of them with no protocol
        found usually mean a wrong baud rate: a status line can say so."""
        return 0 if self.delegate else self._dropped + len(self._held)

    def _make(self, name: str) -> Decoder:
        if self._factory is not None:
            return self._factory(name)
        from app.callerid.decoders import decoder_for

        return decoder_for(name, now=self._now)

    def _feed(self, data: bytes) -> list[CallerIdEvent]:
        if self.delegate is not None:
            return self.delegate.feed(data)
        self._held += data
        name = self._detector.scan(self._held)
        if name is None:
            if len(self._held) > HOLD_LIMIT:
                cut = len(self._held) - HOLD_LIMIT // 2
                # Cut at a record boundary so what is kept starts cleanly.
                nl = max(self._held.rfind(b"\n", 0, cut), self._held.rfind(b"@", 0, cut),
                         self._held.rfind(b".", 0, cut))
                cut = nl + 1 if nl >= 0 else cut
                self._dropped += cut
                logger.info("caller-ID protocol not recognised in %d bytes; dropping the oldest %d",
                            len(self._held), cut)
                del self._held[:cut]
                self._detector.drop(cut)
            return []
        return self._start(name)

    def _start(self, name: str) -> list[CallerIdEvent]:
        logger.info("caller-ID protocol detected: %s", name)
        self.delegate = self._make(name)
        held, self._held = bytes(self._held), bytearray()
        return self.delegate.feed(held)

    def _flush(self) -> list[CallerIdEvent]:
        # Idle with the protocol still unknown: keep holding; only sure records decide while input flows.
        return self.delegate.flush() if self.delegate is not None else []

    def _end(self) -> list[CallerIdEvent]:
        if self.delegate is None:
            if not self._held.strip():
                return []
            name = detect(bytes(self._held), final=True)
            if name is None:
                logger.info("caller-ID protocol not recognised; %d bytes ignored: %r", len(self._held),
                            bytes(self._held[:120]))
                self._held.clear()
                return []
            return self._start(name) + self.delegate.end()
        return self.delegate.end()

    def _tick(self) -> list[CallerIdEvent]:
        return self.delegate.tick() if self.delegate else []

    def _reset_after_error(self) -> None:
        self._held.clear()
        self._detector = Detector()
