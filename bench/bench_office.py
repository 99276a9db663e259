"""The office on one server: `crm db copy` of a demo database to PostgreSQL, and a live event from one desk's
NOTIFY to the callback on another desk (a separate process). Needs a PostgreSQL server: CRM_TEST_POSTGRES_URL
(or CRM_BENCH_POSTGRES_URL); each run works in a fresh schema that is dropped afterwards."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from bench.common import figure, peak_rss_mb, seeded_db

ROOT = Path(__file__).resolve().parent.parent


def _server() -> str | None:
    return os.environ.get("CRM_BENCH_POSTGRES_URL") or os.environ.get("CRM_TEST_POSTGRES_URL")


def _admin(base: str, sql: str) -> None:
    from urllib.parse import urlparse

    import psycopg2

    p = urlparse(base)
    con = psycopg2.connect(host=p.hostname or "127.0.0.1", port=p.port or 5432, user=p.username or "postgres",
                           password=p.password, dbname=(p.path or "/test").lstrip("/") or "test")
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(sql)
    finally:
        con.close()


class _Schema:
    def __init__(self, base: str):
        self.base = base
        self.name = "bench_" + uuid.uuid4().hex[:10]
        sep = "&" if "?" in base else "?"
        self.url = f"{base}{sep}options=-csearch_path%3D{self.name}"

    def __enter__(self):
        _admin(self.base, f'CREATE SCHEMA "{self.name}"')
        return self

    def __exit__(self, *exc):
        from models.connection import close_database

        close_database()
        _admin(self.base, f'DROP SCHEMA "{self.name}" CASCADE')


def _copy(base: str, customers: int) -> dict:
    import shutil
    import tempfile

    from app.office.dbcopy import copy_to_postgres

    src = seeded_db(customers)
    work = Path(tempfile.mkdtemp(prefix="crm-bench-copy-"))
    try:
        path = work / src.name
        shutil.copy2(src, path)                     # the copy opens (and may migrate) its source: not the cache
        with _Schema(base) as s:
            t = time.perf_counter()
            report = copy_to_postgres(path, s.url)
            ms = (time.perf_counter() - t) * 1000
        return figure(f"db_copy_{customers // 1000}k_customers", [ms], rows=report.rows,
                      rows_per_s=round(report.rows / (ms / 1000)), rss_mb=peak_rss_mb())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _notify_latency(base: str, n: int) -> list[dict]:
    """Desk A (this process) publishes; desk B (another process, tests/office/desk.py --bare) prints the time its
    callback ran. The floor: a bare NOTIFY → poll() round trip between two raw psycopg2 connections here."""
    from app.office import events
    from models.connection import open_database

    with _Schema(base) as s:
        open_database(s.url)
        env = dict(os.environ, PYTHONPATH=str(ROOT), CRM_DATA_DIR=str(Path(os.environ.get("CRM_DATA_DIR", "/tmp"))
                                                                         / "bench-desk-b"))
        proc = subprocess.Popen([sys.executable, "-m", "tests.office.desk", s.url, "--bare"], cwd=ROOT, env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(json.loads(x)) for x in proc.stdout], daemon=True).start()
        try:
            assert "ready" in lines.get(timeout=60)
            events.start()
            samples = []
            for i in range(n):
                events.publish("bench", {"seq": i})
                while True:
                    m = lines.get(timeout=10)
                    if m.get("event") == "bench" and m["payload"]["seq"] == i:
                        samples.append((m["recv"] - m["sent"]) * 1000)
                        break
                time.sleep(0.005)
            floor = _floor(s.url, n)
        finally:
            events.stop()
            proc.stdin.close()
            proc.wait(timeout=10)
    from bench.common import percentile

    return [figure("office_event_notify_to_other_desk", samples, floor_p99_ms=round(percentile(floor, 99), 3))]


def _floor(url: str, n: int) -> list[float]:
    import select

    import psycopg2

    a, b = psycopg2.connect(url), psycopg2.connect(url)
    a.autocommit = b.autocommit = True
    try:
        b.cursor().execute("LISTEN bench_floor")
        out = []
        for i in range(n):
            t = time.perf_counter()
            a.cursor().execute("SELECT pg_notify('bench_floor', %s)", (str(i),))
            while True:
                select.select([b], [], [], 5)
                b.poll()
                if b.notifies:
                    b.notifies.clear()
                    break
            out.append((time.perf_counter() - t) * 1000)
        return out
    finally:
        a.close()
        b.close()


def run(quick: bool = False) -> list[dict]:
    base = _server()
    if not base:
        print("bench_office: set CRM_TEST_POSTGRES_URL (a PostgreSQL server) to run these figures", file=sys.stderr)
        return []
    out = _notify_latency(base, 100 if quick else 500)
    out.append(_copy(base, 5_000 if quick else 100_000))
    return out
