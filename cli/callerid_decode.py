"""`crm callerid decode FILE [--format …] [--all]` and `crm callerid lookup NUMBER`.

decode: reads a captured byte transcript, feeds it to the decoder in small chunks (as a serial port would
deliver it), ends the input (the last record is read even without its terminator), and prints one JSON object per line:
    {"number": "…digits as reported…", "name": … or null, "time": "ISO 8601" or null, "line": … or null,
     "status": "ok" | "private" | "unavailable"}
for every INCOMING event; with --all every event, each with an "event" key (incoming, ring, answered,
hangup, missed, offhook, digit, outgoing, device) and, where the device reported them, "rings",
"duration" (seconds), the PBX's "extension" / "answered_by" / "transferred_from" (formats ami and smdr) and
"source".

"line" stays an int or null, as consumers expect. A line label that is not a number (NCID's ``LINE*A*``,
``LINE*POTS*``) is carried in an extra key, ``"line_label"`` (with ``"line": null``); ``LINE*1234*`` is
``"line": 1234``. Records the decoder could not make sense of (line noise) are counted and the count is
printed to stderr at the end, in Persian.

lookup: prints as JSON the canonical forms tried for a number (with the office's area code) and the
customers that own it: the tool for "the popup says unknown, but this customer is in the list".
"""
from __future__ import annotations

import json
import logging
import sys

from app.callerid.decoders.base import fold_digits, is_digits
from app.core.text import to_persian_digits

logger = logging.getLogger(__name__)

CHUNK = 64          # bytes per feed: small, so records split across reads are exercised on every decode


def _print(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def event_json(e, all_events: bool) -> dict:
    d = e.to_json_dict()
    label = e.extra.get("line_label")
    if label and not is_digits(fold_digits(str(label)).strip()):
        d["line_label"] = str(label)
    if all_events:
        d = {"event": e.kind, **d}
        if e.kind != "incoming" and e.status is None:
            d["status"] = None
        if e.rings is not None:
            d["rings"] = e.rings
        if e.duration is not None:
            d["duration"] = e.duration
        if e.extra.get("device") is not None:
            d["device"] = e.extra["device"]
        for key in ("extension", "answered_by", "transferred_from"):     # telephone systems (ami, smdr)
            if e.extra.get(key):
                d[key] = e.extra[key]
        d["source"] = e.source
    return d


def decode_main(path: str, fmt: str = "auto", all_events: bool = False) -> int:
    from app.callerid.decoders import CHOICES, decoder_for

    try:
        decoder = decoder_for(fmt)
    except ValueError:
        print(f"قالب «{fmt}» شناخته نیست؛ یکی از این‌ها را بنویسید: {'، '.join(CHOICES)}", file=sys.stderr)
        return 2
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        print(f"پرونده «{path}» پیدا نشد.", file=sys.stderr)
        return 2
    except IsADirectoryError:
        print(f"«{path}» یک پوشه است، نه پرونده.", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"پرونده «{path}» خوانده نشد: {e.strerror or e}", file=sys.stderr)
        return 2
    events = []
    for i in range(0, len(data), CHUNK):
        events += decoder.feed(data[i:i + CHUNK])
    events += decoder.end()
    for e in events:
        if all_events or e.kind == "incoming":
            _print(event_json(e, all_events))
    logger.info("decoded %s as %s: %d events", path, getattr(decoder, "protocol", fmt), len(events))
    noise = getattr(decoder, "noise", 0)
    if noise:
        print(f"{to_persian_digits(noise)} رکورد نامفهوم نادیده گرفته شد.", file=sys.stderr)
    if data.strip() and getattr(decoder, "protocol", fmt) == "auto":
        print("قالب داده‌ها شناخته نشد؛ چیزی رمزگشایی نشد. اگر قالب دستگاه را می‌دانید، آن را با --format "
              "بدهید.", file=sys.stderr)
    return 0


def lookup_main(number: str, db: str | None = None) -> int:
    """Prints {"input", "area_code", "tried", "matches": [{"id", "name", "company", "phone"}]}.

    Opens the database (``db`` as for --db) when the caller has not opened it already.
    """
    from app import settings
    from app.core import phones
    from models.base import db as database

    if not (number or "").strip():
        print("شماره‌ای برای جستجو داده نشد.", file=sys.stderr)
        return 2
    if database.obj is None:
        from models.connection import open_database

        open_database(db)
    try:
        from app.customers.service import lookup_report
    except ImportError:             # the customer service not there yet: match the canonical forms directly
        lookup_report = None
    if lookup_report is not None:
        report = lookup_report(number)
    else:
        from models.core import Customer, PhoneNumber

        keys = phones.lookup_keys(number, settings.area_code())
        matches = []
        for ph in PhoneNumber.select(PhoneNumber, Customer).join(Customer).where(PhoneNumber.canonical.in_(keys)):
            c = ph.customer
            name = " ".join(p for p in (c.first_name, c.last_name) if p) or c.company
            matches.append({"id": c.id, "name": name, "company": c.company, "phone": ph.canonical})
        report = {"input": number, "area_code": settings.area_code(), "tried": keys, "matches": matches}
    _print(report)
    return 0

