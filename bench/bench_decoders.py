"""Caller-ID decoder figures (pure decoding, no database, no Qt):

- decode_auto_random_mb_per_s: `crm callerid decode --format auto` on random bytes (no protocol to be found),
  fed in the CLI's 64-byte chunks; mb_per_s is the throughput (MB = 2^20 bytes). Auto-detection used to rescan
  everything it held on every feed; it now looks at each byte once.
- decode_segal_noise: fake calls (INCOMING events) the Oj Segal decoder reports from 10 MB of random bytes and
  from 4 KB of noise made of the Segal alphabet (L C R H F N D T digits : @ + space CR LF), fixed seeds, with
  the count of records it discarded as noise.

Full run: 4 MB of random bytes × 3 runs. Quick: 1 MB × 1 run, and 2 MB instead of 10 MB for the noise count.
"""
from __future__ import annotations

import datetime as dt
import random
import time

from bench.common import figure

CHUNK = 64
MB = 1 << 20
SEGAL_ALPHABET = b"LCRHFNDT0123456789:@ +\r\n"
NOW = dt.datetime(2026, 11, 24, 10, 0)


def _decode(fmt: str, data: bytes):
    from app.callerid.decoders import decoder_for

    d = decoder_for(fmt, now=NOW)
    out = []
    for i in range(0, len(data), CHUNK):
        out += d.feed(data[i:i + CHUNK])
    out += d.end()
    return out, d


def segal_alphabet_noise(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.choice(SEGAL_ALPHABET) for _ in range(size))


def run(quick: bool = False) -> list[dict]:
    out: list[dict] = []
    size = (1 if quick else 4) * MB
    data = random.Random(1405).randbytes(size)
    samples = []
    for _ in range(1 if quick else 3):
        t = time.perf_counter()
        _decode("auto", data)
        samples.append((time.perf_counter() - t) * 1000)
    best = min(samples) / 1000
    out.append(figure("decode_auto_random_mb_per_s", samples, mb=size // MB,
                      mb_per_s=round(size / MB / best, 2)))

    random_mb = 2 if quick else 10
    t = time.perf_counter()
    events, d = _decode("segal", random.Random(17).randbytes(random_mb * MB))
    ms = (time.perf_counter() - t) * 1000
    fake_random = sum(e.kind == "incoming" for e in events)
    noise_random = getattr(d, "noise", None)
    fake_alpha = []
    for seed in range(10):
        events, _d = _decode("segal", segal_alphabet_noise(4096, seed))
        fake_alpha.append(sum(e.kind == "incoming" and bool(e.number) for e in events))
    out.append(figure("decode_segal_noise", [ms], random_mb=random_mb, fake_calls_random=fake_random,
                      noise_records_random=noise_random,
                      fake_numbers_per_4kb_alphabet=round(sum(fake_alpha) / len(fake_alpha), 2)))
    return out
