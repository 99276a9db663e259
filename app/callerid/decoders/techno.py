"""Techno multi-line boxes: messages ending in ``.`` (CR/LF between them tolerated).

Grammar (from the published integration code for these boxes, YasnaSDK's CallerIdTechno, whose native
layer hands over strings such as these):

    D<d>:L<n>:CallerID=<number>.       caller ID on line n of device d
    D<d>:L<n>:Ring=<n>.                ring count
    D<d>:L<n>:Answer.                  the call was answered
    D<d>:L<n>:HangUp.                  handset lifted (Tilda/Techno wording: "hang up" = pick up)
    D<d>:L<n>:HangDown,Time=<t>.       handset down, call duration
    D<d>:L<n>:MissCall,Ring=<n>.       rang out unanswered after n rings
    D<d>:L<n>:Dial=<digit>.            a digit dialled
    D<d>:DeviceConnect,Serial=<s>,CountLine=<n>.   D<d>:DeviceDisconnect.
    D<d>:L<n>:LineConnect.  /  D<d>:L<n>:LineDisconnect.

Parsed by field: the parts are split on ``:`` and ``,``, keys and values on ``=``; spaces, case and
leading zeros do not matter. ``Time`` is seconds (the vendor library reports the hang-up time as a 16-bit
count); ``mm:ss`` and ``h:mm:ss`` are accepted too, and ``TechnoDecoder(duration_format="mmss")`` reads a
four-digit ``Time`` as minutes and seconds for a firmware that turns out to send that. Each device number (D1, D2 …) keeps its own lines;
``line`` is the line number on its device and ``extra["device"]`` the device number.
"""
from __future__ import annotations

import logging
import re

from app.callerid import events as ev
from app.callerid.decoders.base import (
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

_HEAD = re.compile(r"^\s*D\s*0*([0-9]{1,2})\s*:\s*(?:L\s*0*([0-9]{1,2})\s*:\s*)?(.*)$",
                   re.IGNORECASE | re.DOTALL)


class TechnoDecoder(Decoder):
    source = "techno"

    def __init__(self, now=None, ring_timeout: float = 8.0, duration_format: str = "seconds"):
        super().__init__(now)
        self.duration_format = duration_format
        self._records = RecordSplitter(b".\r\n")
        self._ring_timeout = ring_timeout
        self._devices: dict[int, LineTracker] = {}

    def _tracker(self, device: int) -> LineTracker:
        t = self._devices.get(device)
        if t is None:
            t = self._devices[device] = LineTracker(self.source, self._now, ring_timeout=self._ring_timeout,
                                                    on_noise=self._discard)
        return t

    def _feed(self, data: bytes) -> list[CallerIdEvent]:
        out: list[CallerIdEvent] = []
        for rec in self._records.push(data):
            out += self._record(fold_digits(to_text(rec)).strip())
        return out

    def _end(self) -> list[CallerIdEvent]:
        tail = self._records.take_pending()
        return self._record(fold_digits(to_text(tail)).strip()) if tail.strip() else []

    def _tick(self) -> list[CallerIdEvent]:
        out: list[CallerIdEvent] = []
        for d, t in self._devices.items():
            out += [_with_device(e, d) for e in t.expire()]
        return out

    def _reset_after_error(self) -> None:
        self._records.clear()

    def _record(self, rec: str) -> list[CallerIdEvent]:
        if not rec:
            return []
        starts = [m.start() for m in re.finditer(r"D\s*[0-9]+\s*:", rec, re.IGNORECASE)]
        if starts and starts[0] > 0:
            logger.debug("techno: noise before record dropped: %r", rec[:starts[0]][:80])
            rec = rec[starts[0]:]
        m = _HEAD.match(rec)
        if not m:
            self._discard("unreadable record", rec)
            return []
        device = int(m.group(1))
        line = int(m.group(2)) if m.group(2) else None
        items = [p.strip() for p in re.split(r"[,:;]", m.group(3)) if p.strip()]
        if not items:
            self._discard("empty record", rec)
            return []
        verb = items[0].split("=", 1)[0].strip().upper().replace(" ", "")
        kv: dict[str, str] = {}
        for it in items:
            if "=" in it:
                k, v = it.split("=", 1)
                kv.setdefault(k.strip().upper().replace(" ", ""), v.strip())
        raw = rec + "."
        if verb in ("DEVICECONNECT", "DEVICEDISCONNECT") or (line is None and verb.startswith("DEVICE")):
            extra = {"device": device, **{k.lower(): v for k, v in kv.items()}}
            return [CallerIdEvent(kind=ev.DEVICE, name=items[0].split("=", 1)[0].strip(), line=line,
                                  source=self.source, raw=raw, extra=extra)]
        if line is None or line == 0:
            self._discard("record without a line", rec)
            return []
        t = self._tracker(device)
        if verb in ("LINECONNECT", "LINEDISCONNECT"):
            events = [CallerIdEvent(kind=ev.DEVICE, name=items[0].strip(), line=line, source=self.source,
                                    raw=raw)]
        elif verb == "CALLERID":
            events = t.caller_id(line, kv.get("CALLERID", ""), raw)
        elif verb == "RING":
            n = kv.get("RING", "")
            events = t.ring(line, to_int(n), raw)
        elif verb == "ANSWER":
            events = t.answered(line, raw)
        elif verb == "HANGUP":
            events = t.lift(line, raw)
        elif verb == "HANGDOWN":
            time_text = kv.get("TIME")
            if time_text is None:
                # "HangDown,Time=01:25" splits on ":" above; rebuild the value from the original text.
                tm = re.search(r"Time\s*=\s*([0-9:]+)", rec, re.IGNORECASE)
                time_text = tm.group(1) if tm else None
            else:
                tm = re.search(r"Time\s*=\s*([0-9:]+)", rec, re.IGNORECASE)
                if tm:
                    time_text = tm.group(1)
            events = t.hang_up(line, parse_duration(time_text, self.duration_format), None, raw)
        elif verb in ("MISSCALL", "MISSEDCALL", "MISS"):
            n = kv.get("RING", "")
            events = t.missed(line, raw, rings=to_int(n))
        elif verb == "DIAL":
            digits = re.sub(r"[^0-9*#+]", "", kv.get("DIAL", ""))
            events = t.digit(line, digits, raw) if digits else []
        else:
            self._discard("unknown record", rec)
            return []
        return [_with_device(e, device) for e in events]


def _with_device(e: CallerIdEvent, device: int) -> CallerIdEvent:
    if e.extra.get("device") == device:
        return e
    fields = {k: getattr(e, k) for k in e.__dataclass_fields__}
    fields["extra"] = {**e.extra, "device": device}
    return CallerIdEvent(**fields)
