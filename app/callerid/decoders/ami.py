"""Asterisk Manager Interface (AMI) event stream → the same CallerIdEvent objects the boxes produce.

An Asterisk / Issabel / FreePBX telephone system tells a logged-in AMI client about every channel (one leg
of a call: the trunk leg from the exchange, each extension's phone leg, Local helper legs). This decoder
reads those packets (``Key: Value`` lines, a blank line ending each packet; see
shared/reference/telephony-ami-smdr.md) and follows each *external* call:

- a call is identified by ``Linkedid`` (Asterisk 12+), or on Asterisk 11, which has no Linkedid, by
  linking the legs the ``Dial`` events (``SubEvent: Begin``) and Local ``;1``/``;2`` pairs connect;
- an inbound call (its first leg is a trunk) gives INCOMING when the first extension starts ringing
  (DialBegin / ``Dial`` Begin to it, or its leg in ``ChannelState: 5``), RING when another extension of a
  ring group or queue starts ringing (and every ``RING_REFRESH`` seconds while it rings: the call-life
  model ends a ringing call that has not rung for a while), ANSWERED when an extension answers (DialEnd
  ``DialStatus: ANSWER``, its leg going Up, BridgeEnter / ``Bridge`` Link with a leg of the call),
  ANSWERED again with ``extra["transferred_from"]`` when the caller ends up talking to another extension
  (a transfer: still the same call), and at the end HANGUP with the talk time, or MISSED if nobody
  answered (a call that hung up in the IVR before any phone rang is INCOMING + MISSED too);
- an outgoing call (its first leg is an extension that dials a trunk) gives OUTGOING with the dialled
  number when the trunk is dialled and HANGUP (number, talk time, ``extra["direction"] = "out"``) at the end;
- calls between two extensions are not external calls and give nothing.

Every event of a call carries the same ``line``: a slot (1, 2, …) allocated when the call starts and freed
when it ends, so concurrent calls are separate calls in app/callerid/lifecycle.py. ``extra`` holds
``pbx_call_id`` (the Linkedid), ``extension`` (the answering extension, else the first that rang),
``extensions`` (every extension that rang), ``answered_by``, ``direction`` and ``did`` (the number the
caller dialled, inbound only).

Which legs are extensions: a SIP / PJSIP / IAX2 … channel whose peer name (``PJSIP/101-0000001b`` → 101) is
2–5 digits, or is one of the ``extensions`` given to the decoder; any other non-Local channel is a trunk.
Talk time comes from the events' ``Timestamp`` field when the PBX sends it (``timestampevents = yes``),
else from the clock. ``Cdr`` events are used only for calls whose legs were never seen (the CRM connected
mid-call): they give the whole call at once.
"""
from __future__ import annotations

import collections
import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.callerid import events as ev
from app.callerid.decoders.base import Decoder, classify_number, clean_name, to_text
from app.callerid.events import CallerIdEvent

logger = logging.getLogger(__name__)

MAX_PACKET_BYTES = 64 * 1024
MAX_LINE = 8192
RING_REFRESH = 4.0              # seconds between RING events while an extension rings
DEFAULT_EXTENSION_PATTERN = r"\d{2,5}"
BANNER_PREFIX = "Asterisk Call Manager"
PHONE_TECHS = {"SIP", "PJSIP", "IAX2", "SCCP", "SKINNY", "MGCP", "UNISTIM", "H323", "OOH323", "WEBRTC"}
# Technologies of real telephone legs; Message/, Announcer/, Recorder/, Parked/, Bridge/ … are not calls.
TRUNK_TECHS = PHONE_TECHS | {"DAHDI", "ZAP", "MISDN", "MOTIF", "JINGLE", "GTALK", "SKYPE", "CHAN_DONGLE", "DONGLE",
                             "KHOMP", "OOH323C"}
ENDED_MEMORY = 512              # call ids remembered after their end (to ignore their late Cdr records)


# ---------------------------------------------------------------------------------------------------------
# packets
class Packet:
    """One AMI packet: ordered (key, value) pairs; keys are looked up case-insensitively, the first wins."""

    __slots__ = ("pairs", "_map", "raw")

    def __init__(self, pairs: list[tuple[str, str]], raw: str = ""):
        self.pairs = pairs
        self._map: dict[str, str] = {}
        for k, v in pairs:
            self._map.setdefault(k.lower(), v)
        self.raw = raw

    def get(self, *keys: str, default: str = "") -> str:
        for k in keys:
            v = self._map.get(k.lower())
            if v is not None:
                return v
        return default

    def has(self, key: str) -> bool:
        return key.lower() in self._map

    def all(self, key: str) -> list[str]:
        k = key.lower()
        return [v for kk, v in self.pairs if kk.lower() == k]

    @property
    def event(self) -> str:
        return self.get("Event")

    @property
    def response(self) -> str:
        return self.get("Response")

    def __repr__(self) -> str:
        return f"Packet({self.pairs!r})"


def parse_line(line: str) -> tuple[str, str] | None:
    """'Key: Value' → ('Key', 'Value'); a line without ': ' (or ':' at the end) → None."""
    i = line.find(":")
    if i <= 0:
        return None
    key = line[:i].strip()
    if not key or " " in key and not key.startswith("Cause"):
        return None
    value = line[i + 1:]
    if value.startswith(" "):
        value = value[1:]
    return key, value.rstrip("\r")


class PacketReader:
    """Cuts an AMI byte stream into packets (the banner line becomes a packet of its own: {'Banner': …})."""

    def __init__(self):
        self._buf = bytearray()
        self._lines: list[tuple[str, str]] = []
        self._raw: list[str] = []
        self._size = 0

    def push(self, data: bytes) -> list[Packet]:
        out: list[Packet] = []
        self._buf += data
        start = 0
        buf = bytes(self._buf)
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                break
            line = buf[start:nl]
            start = nl + 1
            out += self._line(line)
        del self._buf[:start]
        if len(self._buf) > MAX_LINE:
            logger.debug("ami: line of %d bytes without an end; dropped", len(self._buf))
            self._buf.clear()
        return out

    def _line(self, line: bytes) -> list[Packet]:
        text = to_text(line.rstrip(b"\r"))
        if not text.strip():
            return self._end_packet()
        if len(line) > MAX_LINE:
            return []
        if text.startswith(BANNER_PREFIX) and not self._lines:
            return [Packet([("Banner", text.strip())], raw=text.strip())]
        kv = parse_line(text)
        if kv is None:
            logger.debug("ami: line without 'Key: Value' skipped: %r", text[:120])
            return []
        self._lines.append(kv)
        self._raw.append(text)
        self._size += len(line)
        if self._size > MAX_PACKET_BYTES:
            logger.debug("ami: packet over %d bytes dropped", MAX_PACKET_BYTES)
            self.clear()
        return []

    def _end_packet(self) -> list[Packet]:
        if not self._lines:
            return []
        p = Packet(self._lines, raw="\n".join(self._raw))
        self._lines, self._raw, self._size = [], [], 0
        return [p]

    def end(self) -> list[Packet]:
        """End of input: the last line and packet even without their terminators."""
        out: list[Packet] = []
        if self._buf.strip():
            out += self._line(bytes(self._buf))
        self._buf.clear()
        return out + self._end_packet()

    def clear(self) -> None:
        self._buf.clear()
        self._lines, self._raw, self._size = [], [], 0


def encode_action(fields: Iterable[tuple[str, str]] | dict) -> bytes:
    """An action packet: 'Key: Value' lines with CR LF and a blank line at the end."""
    items = fields.items() if isinstance(fields, dict) else fields
    text = "".join(f"{k}: {v}\r\n" for k, v in items if v is not None)
    return (text + "\r\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------------------
# channels and calls
@dataclass(frozen=True)
class ChannelName:
    tech: str
    peer: str
    local: bool
    zombie: bool


def parse_channel(name: str) -> ChannelName:
    """'PJSIP/101-0000001b' → (PJSIP, 101); 'Local/102@from-queue-00000003;1' → (Local, 102, local);
    'SIP/trunk-0000001a<ZOMBIE>' → zombie; 'DAHDI/1-1' → (DAHDI, 1)."""
    n = (name or "").strip()
    zombie = n.upper().endswith("<ZOMBIE>")
    n = re.sub(r"<[A-Z]+>$", "", n, flags=re.IGNORECASE)
    if "/" not in n:
        return ChannelName("", n, False, zombie)
    tech, rest = n.split("/", 1)
    if ";" in rest:
        rest = rest.rsplit(";", 1)[0]
    if tech.upper() == "LOCAL":
        return ChannelName(tech, rest.split("@", 1)[0], True, zombie)
    peer = rest.rsplit("-", 1)[0] if "-" in rest else rest
    return ChannelName(tech, peer, False, zombie)


def dialled_from_dialstring(text: str) -> str:
    """'trunk/09121234567' / '09121234567@trunk' / 'PJSIP/0912…@tci' → '09121234567' ('' when not digits)."""
    t = (text or "").strip()
    if not t:
        return ""
    t = t.split("&", 1)[0]
    t = t.rsplit("/", 1)[-1]
    t = t.split("@", 1)[0]
    t = t.split(",", 1)[0]
    return t if re.fullmatch(r"\+?[0-9*#]{3,}", t) else ""


@dataclass
class _Chan:
    uid: str
    name: str
    ext: str | None                   # the extension when this is a phone leg
    local: bool
    call: _Call | None = None
    state: int = 0
    exten: str = ""                   # the dialplan Exten of the leg (the number dialled, on an outgoing call)
    bridges: set[str] = field(default_factory=set)


@dataclass(eq=False)
class _Call:
    cid: str
    root: str                         # uid of the first leg
    direction: str | None             # "in", "out", "internal"; None = from an extension, not decided yet
    started: dt.datetime
    number: str = ""
    status: str = ev.OK
    name: str | None = None
    did: str = ""
    ext: str | None = None            # outgoing: the extension that called
    rang: list[str] = field(default_factory=list)
    ringing: set[str] = field(default_factory=set)
    answered_by: str | None = None
    answered_at: dt.datetime | None = None
    dialled: str = ""
    dial_status: str = ""
    line: int | None = None
    emitted: bool = False
    last_ring: dt.datetime | None = None
    rings: int = 0
    chans: set[str] = field(default_factory=set)


class AmiDecoder(Decoder):
    source = "ami"

    def __init__(self, now=None, extensions: Iterable[str] | None = None,
                 extension_pattern: str = DEFAULT_EXTENSION_PATTERN, ring_refresh: float = RING_REFRESH):
        super().__init__(now)
        self._reader = PacketReader()
        self._known_ext = {str(e).strip() for e in (extensions or ()) if str(e).strip()}
        self._ext_re = re.compile(extension_pattern or DEFAULT_EXTENSION_PATTERN)
        self.ring_refresh = float(ring_refresh)
        self._chans: dict[str, _Chan] = {}
        self._calls: dict[str, _Call] = {}
        self._bridges: dict[str, set[str]] = {}
        self._lines_used: set[int] = set()
        self._ended: collections.OrderedDict[str, None] = collections.OrderedDict()
        self.banner: str = ""

    # -- the Decoder interface -----------------------------------------------------------------------------
    def _feed(self, data: bytes) -> list[CallerIdEvent]:
        out: list[CallerIdEvent] = []
        for p in self._reader.push(data):
            out += self._packet_guarded(p)
        return out

    def _end(self) -> list[CallerIdEvent]:
        out: list[CallerIdEvent] = []
        for p in self._reader.end():
            out += self._packet_guarded(p)
        return out

    def _tick(self) -> list[CallerIdEvent]:
        out: list[CallerIdEvent] = []
        now = self._now()
        for call in list(self._calls.values()):
            if call.direction == "in" and call.emitted and call.answered_by is None and call.last_ring is not None \
                    and (now - call.last_ring).total_seconds() >= self.ring_refresh:
                out += self._ring_event(call, None, now)
        return out

    def _reset_after_error(self) -> None:
        self._reader.clear()

    # -- state -----------------------------------------------------------------------------------------
    @property
    def active_calls(self) -> int:
        return sum(1 for c in self._calls.values() if c.emitted)

    def is_extension(self, name: str) -> str | None:
        c = parse_channel(name)
        if c.local or not c.peer:
            return None
        if c.peer in self._known_ext:
            return c.peer
        if c.tech.upper() in PHONE_TECHS and self._ext_re.fullmatch(c.peer):
            return c.peer
        return None

    def _packet_guarded(self, p: Packet) -> list[CallerIdEvent]:
        try:
            return self._packet(p)
        except Exception:  # one odd packet must not lose the others
            logger.warning("ami: packet could not be read: %r", p.raw[:300], exc_info=True)
            return []

    def _time(self, p: Packet) -> dt.datetime:
        ts = p.get("Timestamp")
        if ts:
            try:
                return dt.datetime.fromtimestamp(float(ts))
            except (ValueError, OverflowError, OSError):
                pass
        return self._now()

    def _chan(self, uid: str, name: str = "", linkedid: str = "", at: dt.datetime | None = None) -> _Chan | None:
        """The leg with this Uniqueid, created (with its call) when first seen."""
        if not uid:
            return None
        ch = self._chans.get(uid)
        if ch is not None:
            if name and name != ch.name and not parse_channel(name).zombie:
                ch.name = name
            return ch
        if not name:
            return None
        cn = parse_channel(name)
        ch = _Chan(uid=uid, name=name, ext=self.is_extension(name), local=cn.local)
        self._chans[uid] = ch
        call = None
        if linkedid and linkedid in self._ended:
            return ch                                 # a late leg of a call already over
        if linkedid and linkedid != uid:
            call = self._calls.get(linkedid)
            if call is None:
                # The first leg was never seen (connected mid-call): a call of unknown direction.
                call = self._calls[linkedid] = _Call(cid=linkedid, root=linkedid, direction="unknown",
                                                     started=at or self._now())
        elif cn.local:
            # Asterisk 11 has no Linkedid: the two halves of a Local channel belong to the same call.
            base = re.sub(r";\d$", "", re.sub(r"<[A-Z]+>$", "", name))
            for other in self._chans.values():
                if other is not ch and other.local and other.call is not None and \
                        re.sub(r";\d$", "", other.name) == base:
                    call = other.call
                    break
        if call is None:
            call = self._calls[uid] = _Call(cid=linkedid or uid, root=uid, direction=None, started=at or self._now())
            if ch.ext:
                call.ext = ch.ext
            elif cn.local:
                call.ext = cn.peer if self._ext_re.fullmatch(cn.peer or "") else None
            elif cn.tech.upper() in TRUNK_TECHS:
                call.direction = "in"
            else:
                call.direction = "other"
        ch.call = call
        call.chans.add(uid)
        return ch

    def _join(self, ch: _Chan, call: _Call) -> None:
        """Put a leg into ``call``; a provisional call the leg started (Asterisk 11, no Linkedid) is merged
        into it with every leg it holds (a Local channel's two halves)."""
        old = ch.call
        if old is call:
            return
        if old is None:
            ch.call = call
            call.chans.add(ch.uid)
            return
        if old.emitted:
            return                                    # a call of its own already reported: left alone
        for uid in list(old.chans):
            other = self._chans.get(uid)
            if other is not None:
                other.call = call
                call.chans.add(uid)
        self._calls.pop(old.root, None)
        self._calls.pop(old.cid, None)

    # -- packets -----------------------------------------------------------------------------------------
    def _packet(self, p: Packet) -> list[CallerIdEvent]:
        if p.has("Banner"):
            self.banner = p.get("Banner")
            return [CallerIdEvent(kind=ev.DEVICE, name=self.banner, source=self.source, raw=p.raw,
                                  extra={"banner": self.banner})]
        name = p.event.strip().lower()
        if not name:
            return []                                 # a Response to an action: the client's business
        at = self._time(p)
        if name == "dial":                            # Asterisk 11
            sub = p.get("SubEvent").strip().lower()
            name = "dialbegin" if sub == "begin" else "dialend" if sub == "end" else ""
        handler = getattr(self, f"_on_{name}", None)
        if handler is None:
            return []
        return handler(p, at) or []

    def _on_newchannel(self, p: Packet, at: dt.datetime) -> list[CallerIdEvent]:
        uid = p.get("Uniqueid", "UniqueID")
        existed = uid in self._chans
        ch = self._chan(uid, p.get("Channel"), p.get("Linkedid"), at)
        if ch is None or existed:
            return []
        ch.exten = p.get("Exten")
        call = ch.call
        if call is not None and call.root == uid and call.direction == "in":
            call.number, call.status = classify_number(_unknown(p.get("CallerIDNum")))
            call.name = clean_name(_unknown(p.get("CallerIDName")))
            call.did = p.get("Exten") if re.fullmatch(r"\+?\d{3,}", p.get("Exten")) else ""
        return []

    def _on_newcallerid(self, p: Packet, at: dt.datetime) -> list[CallerIdEvent]:
        ch = self._chans.get(p.get("Uniqueid", "UniqueID"))
        call = ch.call if ch else None
        if call is not None and call.root == ch.uid and call.direction == "in" and not call.emitted:
            number, status = classify_number(_unknown(p.get("CallerIDNum")))
            if number or not call.number:
                call.number, call.status = number, status
            call.name = clean_name(_unknown(p.get("CallerIDName"))) or call.name
        return []

    def _on_newexten(self, p: Packet, at: dt.datetime) -> list[CallerIdEvent]:
        ch = self._chans.get(p.get("Uniqueid", "UniqueID"))
        if ch is not None:
            ch.exten = p.get("Exten", "Extension") or ch.exten
        return []

    def _on_rename(self, p: Packet, at: dt.datetime) -> list[CallerIdEvent]:
        ch = self._chans.get(p.get("Uniqueid", "UniqueID"))
        if ch is not None and p.get("Newname"):
            ch.name = p.get("Newname")
        return []

    def _on_newstate(self, p: Packet, at: dt.datetime) -> list[CallerIdEvent]:
        ch = self._chan(p.get("Uniqueid", "UniqueID"), p.get("Channel"), p.get("Linkedid"), at)
        if ch is None or ch.call is None:
            return []
        try:
            state = int(p.get("ChannelState", default="0").strip() or 0)
        except ValueError:
            state = 0
        ch.state = state
        call = ch.call
        if call.direction == "in" and ch.ext:
            if state == 5 and call.answered_by is None:
                return self._ring(call, ch.ext, at, p.raw)
            if state == 6 and (ch.ext in call.ringing or ch.ext in call.rang):
                return self._answer(call, ch.ext, at, p.raw)
        elif call.direction == "out" and state == 6 and ch.uid != call.root and not ch.ext and not ch.local:
            call.answered_at = call.answered_at or at
        return []

    def _on_dialbegin(self, p: Packet, at: dt.datetime) -> list[CallerIdEvent]:
        src = self._chan(p.get("Uniqueid", "UniqueID"), p.get("Channel"), p.get("Linkedid"), at)
        dest = self._chan(p.get("DestUniqueid", "DestUniqueID"), p.get("DestChannel", "Destination"),
                          p.get("DestLinkedid"), at)
        if src is None or dest is None or src.call is None:
            return []
        call = src.call
        self._join(dest, call)
        if call.direction == "in":
            if dest.ext:
                return self._ring(call, dest.ext, at, p.raw)
            return []
        if call.direction in (None, "internal"):
            if dest.ext:
                if src.local:
                    call.ext = call.ext or dest.ext      # an Originate through a Local channel rings the agent
                elif call.direction is None:
                    call.direction = "internal"
                return []
            if not dest.local:
                number = (dialled_from_dialstring(p.get("DialString", "Dialstring"))
                          or (src.exten if re.fullmatch(r"\+?[0-9*#]{3,}", src.exten or "") else "")
                          or dialled_from_dialstring(p.get("Exten"))
                          or dialled_from_dialstring(p.get("DestExten")))
                call.direction = "out"
                call.ext = call.ext or src.ext
                call.dialled = number
                call.started = at
                return self._start_out(call, at, p.raw)
        return []

    def _on_dialend(self, p: Packet, at: dt.datetime) -> list[CallerIdEvent]:
        status = p.get("DialStatus").strip().upper()
        src = self._chans.get(p.get("Uniqueid", "UniqueID"))
        dest = self._chans.get(p.get("DestUniqueid", "DestUniqueID"))
        call = (src.call if src else None) or (dest.call if dest else None)
        if call is None:
            return []
        if call.direction == "in" and dest is not None and dest.ext:
            if status == "ANSWER":
                return self._answer(call, dest.ext, at, p.raw)
            call.ringing.discard(dest.ext)
            return []
        if call.direction == "out":
            call.dial_status = status or call.dial_status
            if status == "ANSWER":
                call.answered_at = call.answered_at or at
        return []

    def _on_bridgeenter(self, p: Packet, at: dt.datetime) -> list[CallerIdEvent]:
        ch = self._chan(p.get("Uniqueid"), p.get("Channel"), p.get("Linkedid"), at)
        bid = p.get("BridgeUniqueid")
        if ch is None or not bid:
            return []
        members = self._bridges.setdefault(bid, set())
        members.add(ch.uid)
        ch.bridges.add(bid)
        return self._bridged(members, at, p.raw, entering=ch)

    def _on_bridgeleave(self, p: Packet, at: dt.datetime) -> list[CallerIdEvent]:
        bid = p.get("BridgeUniqueid")
        uid = p.get("Uniqueid")
        members = self._bridges.get(bid)
        if members is not None:
            members.discard(uid)
            if not members:
                self._bridges.pop(bid, None)
        ch = self._chans.get(uid)
        if ch is not None:
            ch.bridges.discard(bid)
        return []

    def _on_bridgedestroy(self, p: Packet, at: dt.datetime) -> list[CallerIdEvent]:
        self._bridges.pop(p.get("BridgeUniqueid"), None)
        return []

    def _on_bridge(self, p: Packet, at: dt.datetime) -> list[CallerIdEvent]:     # Asterisk 11
        if p.get("Bridgestate").strip().lower() != "link":
            return []
        a = self._chan(p.get("Uniqueid1"), p.get("Channel1"), "", at)
        b = self._chan(p.get("Uniqueid2"), p.get("Channel2"), "", at)
        if a is None or b is None:
            return []
        return self._bridged({a.uid, b.uid}, at, p.raw)

    def _bridged(self, members: set[str], at: dt.datetime, raw: str,
                 entering: _Chan | None = None) -> list[CallerIdEvent]:
        """An extension's leg talking with a leg of an external call: that extension has the caller (after a
        transfer, the extension that last entered the bridge)."""
        chans = sorted((self._chans[u] for u in members if u in self._chans), key=lambda c: c.uid)
        out: list[CallerIdEvent] = []
        for call in {id(c.call): c.call for c in chans if c.call is not None}.values():
            if call.direction == "in":
                exts = [c.ext for c in chans if c.ext and (c.call is call or call.answered_by is not None
                                                             or c.ext in call.rang)]
                if exts:
                    if entering is not None and entering.ext in exts:
                        ext = entering.ext
                    else:
                        ext = call.answered_by if call.answered_by in exts else exts[0]
                    out += self._answer(call, ext, at, raw)
            elif call.direction == "out" and any(not c.ext and not c.local and c.uid != call.root for c in chans):
                call.answered_at = call.answered_at or at
        return out

    def _on_hangup(self, p: Packet, at: dt.datetime) -> list[CallerIdEvent]:
        uid = p.get("Uniqueid", "UniqueID")
        ch = self._chans.pop(uid, None)
        if ch is None:
            return []
        for bid in ch.bridges:
            members = self._bridges.get(bid)
            if members is not None:
                members.discard(uid)
        call = ch.call
        if call is None:
            return []
        call.chans.discard(uid)
        if parse_channel(p.get("Channel") or ch.name).zombie:
            return []                                 # Asterisk 11 masquerade: the leg lives on under a new name
        if call.direction == "in" and ch.ext and call.answered_by is None:
            call.ringing.discard(ch.ext)
        if call.direction == "out" and ch.uid != call.root and not call.answered_at and not call.dial_status:
            call.dial_status = p.get("Cause-txt")
        if ch.uid == call.root or not call.chans:
            return self._end_call(call, at, p.raw, cause=p.get("Cause-txt"))
        return []

    def _on_cdr(self, p: Packet, at: dt.datetime) -> list[CallerIdEvent]:
        uid = p.get("UniqueID", "Uniqueid")
        if not uid or uid in self._ended or uid in self._calls or uid in self._chans:
            return []
        self._remember_ended(uid)
        src_ext = self.is_extension(p.get("Channel"))
        dst_ext = self.is_extension(p.get("DestinationChannel"))
        disposition = p.get("Disposition").strip().upper()
        try:
            billable = int(p.get("BillableSeconds", default="0") or 0)
        except ValueError:
            billable = 0
        call = _Call(cid=uid, root=uid, direction=None, started=at)
        if src_ext and not dst_ext and p.get("DestinationChannel"):
            call.direction, call.ext = "out", src_ext
            call.dialled = dialled_from_dialstring(p.get("Destination"))
            if not call.dialled:
                return []
            out = self._start_out(call, at, p.raw)
            call.answered_at = at - dt.timedelta(seconds=billable) if disposition == "ANSWERED" else None
            call.dial_status = disposition
            return out + self._end_call(call, at, p.raw, duration=billable if disposition == "ANSWERED" else 0)
        if src_ext:
            return []                                 # internal
        call.direction = "in"
        call.number, call.status = classify_number(_unknown(p.get("Source")))
        call.did = ""
        out: list[CallerIdEvent] = []
        if dst_ext:
            out += self._ring(call, dst_ext, at, p.raw)
            if disposition == "ANSWERED":
                out += self._answer(call, dst_ext, at, p.raw)
        return out + self._end_call(call, at, p.raw, duration=billable if disposition == "ANSWERED" else None)

    # -- the call's life -------------------------------------------------------------------------------------
    def _alloc_line(self, call: _Call) -> None:
        if call.line is None:
            n = 1
            while n in self._lines_used:
                n += 1
            self._lines_used.add(n)
            call.line = n

    def _extra(self, call: _Call) -> dict:
        ext = call.answered_by or (call.rang[0] if call.rang else call.ext)
        d = {"pbx_call_id": call.cid, "direction": call.direction, "extension": ext,
             "extensions": list(call.rang) if call.direction == "in" else ([call.ext] if call.ext else []),
             "answered_by": call.answered_by}
        if call.did:
            d["did"] = call.did
        return d

    def _event(self, kind: str, call: _Call, raw: str, **kw) -> CallerIdEvent:
        extra = self._extra(call)
        extra.update(kw.pop("extra", {}))
        return CallerIdEvent(kind=kind, line=call.line, source=self.source, raw=raw, extra=extra, **kw)

    def _ring(self, call: _Call, ext: str, at: dt.datetime, raw: str) -> list[CallerIdEvent]:
        if call.answered_by is not None:
            if ext not in call.rang:
                call.rang.append(ext)                 # ringing for a transfer: recorded, not a new ring
            call.ringing.add(ext)
            return []
        new = ext not in call.ringing
        call.ringing.add(ext)
        if ext not in call.rang:
            call.rang.append(ext)
        if not call.emitted:
            self._alloc_line(call)
            call.emitted = True
            call.last_ring = self._now()
            call.rings = 1
            return [self._event(ev.INCOMING, call, raw, number=call.number, name=call.name, status=call.status)]
        if new:
            return self._ring_event(call, raw, self._now())
        return []

    def _ring_event(self, call: _Call, raw: str | None, now: dt.datetime) -> list[CallerIdEvent]:
        call.last_ring = now
        call.rings += 1
        return [self._event(ev.RING, call, raw or "", number=call.number, status=call.status, rings=call.rings)]

    def _answer(self, call: _Call, ext: str, at: dt.datetime, raw: str) -> list[CallerIdEvent]:
        if call.answered_by == ext:
            return []
        out: list[CallerIdEvent] = []
        if not call.emitted:
            out += self._ring(call, ext, at, raw)
        previous = call.answered_by
        call.answered_by = ext
        if ext not in call.rang:
            call.rang.append(ext)
        call.ringing.clear()
        if previous is None:
            call.answered_at = at
            return out + [self._event(ev.ANSWERED, call, raw, number=call.number, status=call.status)]
        logger.debug("ami: call %s transferred from %s to %s", call.cid, previous, ext)
        return out + [self._event(ev.ANSWERED, call, raw, number=call.number, status=call.status,
                                  extra={"transferred_from": previous, "transfer": True})]

    def _start_out(self, call: _Call, at: dt.datetime, raw: str) -> list[CallerIdEvent]:
        if call.emitted or not call.dialled:
            return []
        self._alloc_line(call)
        call.emitted = True
        return [self._event(ev.OUTGOING, call, raw, number=call.dialled)]

    def _remember_ended(self, cid: str) -> None:
        self._ended[cid] = None
        while len(self._ended) > ENDED_MEMORY:
            self._ended.popitem(last=False)

    def _end_call(self, call: _Call, at: dt.datetime, raw: str, cause: str = "",
                  duration: int | None = None) -> list[CallerIdEvent]:
        for uid in list(call.chans):
            ch = self._chans.pop(uid, None)
            if ch is not None and ch.call is not call:
                self._chans[uid] = ch                 # moved to another call meanwhile
        self._calls.pop(call.root, None)
        self._calls.pop(call.cid, None)
        self._remember_ended(call.cid)
        self._remember_ended(call.root)
        out: list[CallerIdEvent] = []
        extra = {"cause": cause} if cause else {}
        if call.direction == "in":
            if not call.emitted and (call.number or call.status != ev.OK):
                # Hung up in the IVR / queue before any phone rang: still a call nobody answered.
                self._alloc_line(call)
                call.emitted = True
                out.append(self._event(ev.INCOMING, call, raw, number=call.number, name=call.name,
                                       status=call.status))
                extra["reason"] = "no_extension_rang"
            if call.emitted:
                if call.answered_by is not None:
                    talk = duration if duration is not None else _secs(at - (call.answered_at or at))
                    out.append(self._event(ev.HANGUP, call, raw, number=call.number, status=call.status,
                                           duration=talk, extra={**extra, "direction": "in"}))
                else:
                    out.append(self._event(ev.MISSED, call, raw, number=call.number, status=call.status,
                                           rings=call.rings or None, extra=extra))
        elif call.direction == "out" and call.emitted:
            if duration is None:
                duration = _secs(at - call.answered_at) if call.answered_at else 0
            extra.update({"direction": "out", "answered": call.answered_at is not None,
                          "dial_status": call.dial_status})
            out.append(self._event(ev.HANGUP, call, raw, number=call.dialled, duration=duration, extra=extra))
        if call.line is not None:
            self._lines_used.discard(call.line)
        return out


def _unknown(value: str) -> str:
    """AMI sends unknown caller-ID fields as the literal '<unknown>'."""
    v = (value or "").strip()
    return "" if v.lower() in ("<unknown>", "unknown") else v


def _secs(delta: dt.timedelta) -> int:
    return max(0, int(round(delta.total_seconds())))
