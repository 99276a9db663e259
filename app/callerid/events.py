"""The one event type every caller-ID source and decoder produces."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# kinds
INCOMING = "incoming"      # a caller's number (or its absence: private / unavailable) was reported
RING = "ring"              # a ring on a line (rings = count when the device reports it)
ANSWERED = "answered"      # the handset was lifted while the line was ringing (box) / CIDINFO ring 0 (NCID)
HANGUP = "hangup"          # the call ended; duration in seconds when the device reports it
MISSED = "missed"          # the line stopped ringing unanswered
OFFHOOK = "offhook"        # handset lifted with no call ringing: an outgoing call begins
DIGIT = "digit"            # one digit dialled (number holds the digit)
OUTGOING = "outgoing"      # the number dialled on an outgoing call, when the device reports it whole
DEVICE = "device"          # device/line connect/disconnect, model info (name holds the text)

OK = "ok"
PRIVATE = "private"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class CallerIdEvent:
    kind: str
    number: str | None = None            # digits as reported (not normalised)
    name: str | None = None
    time: dt.datetime | None = None      # the time the device reported, if any
    line: int | None = None              # line number on multi-line devices
    status: str | None = None            # ok / private / unavailable for INCOMING
    duration: int | None = None          # seconds, for HANGUP / OUTGOING
    rings: int | None = None
    source: str = ""                     # modem, sdmf, mdmf, ncid, segal, yasna, techno
    raw: str = ""                        # the record as received, for logs
    extra: dict = field(default_factory=dict, compare=False)

    def to_json_dict(self) -> dict:
        """The stable JSON shape printed by `crm callerid decode`."""
        return {
            "number": self.number if self.number is not None else "",
            "name": self.name,
            "time": self.time.isoformat() if self.time else None,
            "line": self.line,
            "status": self.status or OK,
        }
