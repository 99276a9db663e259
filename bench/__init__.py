"""Benchmarks, run on demand: `python -m bench [NAME…] [--quick] [--json]`.

Each bench/bench_*.py module has run(quick: bool) -> list[dict], one dict per figure:
{"bench": name, "n": samples, "p50_ms", "p95_ms", "p99_ms"} and, where it applies, "floor_p99_ms" and "rss_mb".
"""
