"""Telephone-system caller ID: ami_event_to_identify — from the AMI event bytes leaving the (simulated) Asterisk
on a localhost socket to the call-life change and the customer look-up result, through the real chain:
AmiServer → TCP → AmiSource.read → AMI decoder → CallLifecycle → the caller-ID service's customer look-up.

Each sample: a call's Newchannel is sent, then (timed) the packet with DialBegin + Newstate Ringing of the
ringing extension; the clock stops when the look-up for the INCOMING event has returned the customer. The
numbers are known customers' numbers in mixed forms (+98…, 0098…, without the leading zero).

Full run: 100,000 customers, 400 calls. Quick: 5,000 customers, 60 calls.
"""
from __future__ import annotations

import datetime as dt
import queue
import random
import threading
import time

from bench.common import figure, open_seeded, rss_mb


def _forms(c: str, rng: random.Random) -> str:
    return rng.choice([c, "+98" + c[1:], "0098" + c[1:], c[1:]])


def run(quick: bool = False) -> list[dict]:
    from app.callerid import events as ev
    from app.callerid import lifecycle as lc
    from app.callerid import service as svc
    from app.callerid.ami import AmiSource
    from app.callerid.decoders.ami import AmiDecoder
    from app.callerid.pbx_simulator import AmiServer
    from models.connection import close_database
    from models.core import PhoneNumber

    customers, calls = (5_000, 60) if quick else (100_000, 400)
    open_seeded(customers)
    rng = random.Random(19)
    numbers = [n for (n,) in PhoneNumber.select(PhoneNumber.canonical).where(PhoneNumber.canonical.startswith("09"))
               .limit(5000).tuples()]
    results: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()
    missed_lookups = [0]

    with AmiServer(style="16") as server:
        source = AmiSource(server.host, server.port, "crm", "s3cret")
        source.open()

        def reader() -> None:
            decoder = AmiDecoder()
            life = lc.CallLifecycle()
            while not stop.is_set():
                data = source.read(0.05)
                if not data:
                    continue
                for e in decoder.feed(data):
                    changes = life.feed(e, dt.datetime.now())
                    if e.kind == ev.INCOMING:
                        found = svc._lookup(e.number or "", e.status or ev.OK)
                        if found[1] is None:
                            missed_lookups[0] += 1
                        results.put((time.perf_counter(), changes, found))

        t = threading.Thread(target=reader, name="bench-ami-reader", daemon=True)
        t.start()
        samples: list[float] = []
        try:
            for i in range(calls + 10):
                number = _forms(rng.choice(numbers), rng)
                steps = server.script.incoming(number, ["101", "102"], answer_by=None, ring=0, talk=0)
                server.broadcast(steps[0][1])                       # the trunk leg appears
                time.sleep(0.002)
                t_sent = server.broadcast(steps[1][1])              # the phones start ringing
                t_done, changes, _found = results.get(timeout=5)
                if not changes:
                    raise RuntimeError("the ringing call produced no call change")
                if i >= 10:                                        # warm-up: imports, SQL caches
                    samples.append((t_done - t_sent) * 1000)
                server.broadcast(b"".join(d for _delay, d in steps[2:]))   # the caller gives up
                time.sleep(0.003)
        finally:
            stop.set()
            t.join(2)
            source.close()
    close_database()
    return [figure("ami_event_to_identify", samples, customers=customers, unmatched=missed_lookups[0],
                   rss_mb=rss_mb())]


if __name__ == "__main__":
    import json
    import sys

    for f in run(quick="--quick" in sys.argv):
        print(json.dumps(f, ensure_ascii=False))
