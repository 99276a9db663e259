"""Caller-ID decoders: bytes from a device → CallerIdEvent, one module per protocol.

Every decoder has ``feed(data) -> list[CallerIdEvent]``, ``flush()`` (idle), ``end()`` (end of input) and
``tick()`` (time passing: ring-outs become MISSED); see base.py.
``decoder_for(fmt)`` builds one: fmt is auto | modem | raw | ncid | segal | yasna | techno | ami | smdr (``danjeh``,
``caspian`` and ``alm`` are accepted as the names of the boxes that speak the Segal and Yasna protocols).
Adding a protocol: one module with a Decoder subclass, an entry in FORMATS, a recogniser in detect.py, and
one test file with captured bytes.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from app.callerid.decoders.ami import AmiDecoder
from app.callerid.decoders.base import IDLE_FLUSH_SECONDS, Decoder, NowFn
from app.callerid.decoders.detect import AutoDecoder
from app.callerid.decoders.modem import ModemDecoder
from app.callerid.decoders.ncid import NcidDecoder
from app.callerid.decoders.raw import RawDecoder
from app.callerid.decoders.segal import SegalDecoder
from app.callerid.decoders.smdr import SmdrDecoder
from app.callerid.decoders.techno import TechnoDecoder
from app.callerid.decoders.yasna import YasnaDecoder

logger = logging.getLogger(__name__)

FORMATS: dict[str, Callable[..., Decoder]] = {
    "modem": ModemDecoder,
    "raw": RawDecoder,
    "ncid": NcidDecoder,
    "segal": SegalDecoder,
    "yasna": YasnaDecoder,
    "techno": TechnoDecoder,
    "ami": AmiDecoder,        # Asterisk / Issabel Manager Interface (a TCP source; its banner is recognised)
    "smdr": SmdrDecoder,      # Panasonic PBX call records (reported when a call ends; header and records recognised)
}
ALIASES = {"danjeh": "segal", "ojsegal": "segal", "caspian": "yasna", "alm": "yasna", "sdmf": "raw",
           "mdmf": "raw", "hex": "raw", "asterisk": "ami", "issabel": "ami", "freepbx": "ami",
           "panasonic": "smdr"}
CHOICES = ("auto", *FORMATS)


def decoder_for(fmt: str = "auto", now: NowFn | None = None, **options) -> Decoder:
    """A fresh decoder for the given format; ``now`` supplies the current time (tests pass a fixed one).

    Options go to the protocol's class (e.g. ``duration_format="seconds"`` for Segal, ``ring_timeout``).
    An unknown format raises ValueError (the CLI and settings validate before calling).
    """
    key = (fmt or "auto").strip().lower()
    key = ALIASES.get(key, key)
    if key == "auto":
        return AutoDecoder(now=now, factory=lambda name: FORMATS[name](now=now, **_accepted(name, options)))
    if key not in FORMATS:
        raise ValueError(f"unknown caller-ID format: {fmt!r} (one of {', '.join(CHOICES)})")
    return FORMATS[key](now=now, **_accepted(key, options))


def _accepted(name: str, options: dict) -> dict:
    import inspect

    params = inspect.signature(FORMATS[name].__init__).parameters
    return {k: v for k, v in options.items() if k in params}


__all__ = ["CHOICES", "FORMATS", "IDLE_FLUSH_SECONDS", "Decoder", "decoder_for"]
