"""Shared helpers for the benchmarks: timing, percentiles, a seeded database, memory."""
from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

CACHE = Path(os.environ.get("CRM_BENCH_DIR", Path(tempfile.gettempdir()) / "crm-bench"))
# A fresh process of the program starts from compiled modules, as an installed one does: those processes keep
# theirs in the bench's cache (a shell with PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module from
# source at every start).
COMPILED = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(CACHE / "pycache")}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def figure(name: str, samples_ms: list[float], **extra) -> dict:
    out = {"bench": name, "n": len(samples_ms), "p50_ms": round(statistics.median(samples_ms), 3),
           "p95_ms": round(percentile(samples_ms, 95), 3), "p99_ms": round(percentile(samples_ms, 99), 3)}
    out.update(extra)
    return out


def time_ms(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def rss_mb() -> float:
    """Current resident memory (Linux /proc), else the peak."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 1e6, 1)
    except OSError:
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def seeded_db(customers: int, seed: int = 1405, extra: dict | None = None) -> Path:
    """A database file with `customers` demo customers, built once and reused (copied) by later runs."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tag = "-".join(f"{k}{v}" for k, v in sorted((extra or {}).items()))
    path = CACHE / f"bench-{customers}{('-' + tag) if tag else ''}.sqlite3"
    if not path.exists():
        from app.demo.customers import seed as demo_seed
        from models.connection import close_database, open_database

        tmp = path.with_suffix(".building")
        for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
            p.unlink(missing_ok=True)
        open_database(str(tmp), create=True)
        kw = {"calls": 0, "tasks": 0, "invoices": 0}
        kw.update(extra or {})
        demo_seed(customers=customers, seed=seed, **kw)
        from models import statistics
        from models.base import db

        statistics.refresh()      # the planner's statistics as the program gathers them
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        close_database()
        tmp.rename(path)
    return path


def open_seeded(customers: int, **extra) -> Path:
    path = seeded_db(customers, extra=extra or None)
    open_dataset(path)
    return path


def dataset_size(default: int) -> int:
    """The number of customers of a full run: `python -m bench --customers 1000000` (CRM_BENCH_CUSTOMERS)."""
    return int(os.environ.get("CRM_BENCH_CUSTOMERS") or default)


def bench_db() -> str | None:
    """`python -m bench --db postgresql://…` (CRM_BENCH_DB): the database figures run on that server."""
    url = os.environ.get("CRM_BENCH_DB") or ""
    return url if url.startswith(("postgresql://", "postgres://")) else None


def db_label() -> dict:
    """The figure's extra field naming the database when it is not SQLite."""
    return {"db": "postgresql"} if bench_db() else {}


def open_dataset(path: Path) -> str:
    """Open a cached SQLite dataset, or with --db postgresql://… its copy on that server (a database of its own
    per dataset, «<name>_<dataset>», copied once with `crm db copy`'s code and reused by later runs)."""
    from models.connection import open_database

    url = bench_db()
    if url is None:
        open_database(str(path))
        return str(path)
    target = _postgres_copy(path, url)
    open_database(target)
    return target


def _postgres_copy(path: Path, url: str) -> str:
    from urllib.parse import urlparse, urlunparse

    import psycopg2

    u = urlparse(url)
    name = (u.path.lstrip("/") or "postgres") + "_" + "".join(c if c.isalnum() else "_" for c in path.stem).lower()
    target = urlunparse(u._replace(path="/" + name))
    admin = psycopg2.connect(url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    con = psycopg2.connect(target)
    with con.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_copied') IS NOT NULL")
        copied = cur.fetchone()[0]
    con.close()
    if not copied:
        from app.office.dbcopy import copy_to_postgres
        from models.connection import close_database

        close_database()
        copy_to_postgres(path, target, force=True)
        con = psycopg2.connect(target)
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("CREATE TABLE bench_copied (at timestamp DEFAULT now())")
            cur.execute("ANALYZE")
        con.close()
    _copy_ringers(path, target)
    return target


def _copy_ringers(path: Path, target: str) -> None:
    """The callerid dataset's list of customers who ring (a bench table `crm db copy` does not know)."""
    import sqlite3

    import psycopg2

    src = sqlite3.connect(str(path))
    try:
        rows = src.execute("SELECT customer_id FROM bench_ringers").fetchall()
    except sqlite3.OperationalError:
        return                              # not the callerid dataset
    finally:
        src.close()
    con = psycopg2.connect(target)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_ringers') IS NOT NULL")
        if not cur.fetchone()[0]:
            cur.execute("CREATE TABLE bench_ringers (customer_id integer PRIMARY KEY)")
            cur.executemany("INSERT INTO bench_ringers VALUES (%s)", rows)
    con.close()


def as_the_program(app) -> object:
    """What the running program does once its window is up (ui/application.py run_gui): the cycle collector on
    the GUI thread's timer, start-up's objects frozen. A bench that builds pages in its own process calls it
    after setup_qt_app()."""
    from ui.collector import Collector

    collector = Collector(app)
    collector.start()
    return collector


def settle(timeout_s: float = 60.0, quiet_s: float = 0.3) -> None:
    """Before a timed opening: let the work that the pages opened just before left behind end, and collect their
    garbage, as the program's collector does within a second of a close.

    The bench opens and closes the same page ten or thirty times in a row. A page that shows before its reads end
    (the reports page's chart, the invoice list's sums: 0.2 to 1 s each at a million customers) left them running
    or queued behind the next opening, and the dashboard counts its opportunities on a worker a moment after each
    paint: the next opening's own read waited for them, and its work on the GUI thread shared the two cores with
    them. In the program a page is made once and the user opens the next one seconds later. So the event loop
    runs until the reader threads and the workers have been idle for `quiet_s` (timers due meanwhile fire and
    start their jobs, which are waited for too).

    Without the collection, a round now and then paid for collecting the previous rounds' pages: 26 to 80 ms, in
    the p95 of whichever figure it fell in (their objects hang on reference cycles)."""
    import gc

    from PySide6.QtCore import QCoreApplication

    from models.reader import readers

    app = QCoreApplication.instance()
    deadline = time.monotonic() + timeout_s
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        if readers.busy() or _workers_busy():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            break
        if app is not None:
            wait_until(lambda: False, 0.005)      # the event loop: timers fire, finished jobs hand back
        else:
            time.sleep(0.002)
    gc.collect()


def _workers_busy() -> int:
    """Jobs running on the program's workers (ui.ops), when it has started them."""
    import sys

    ops = sys.modules.get("ui.ops")
    manager = getattr(ops, "_manager", None) if ops is not None else None
    return manager.active_threads() if manager is not None else 0


def wait_until(cond: Callable[..., bool], timeout_s: float, *args) -> bool:
    """Run the event loop until ``cond(*args)`` is true (checked every 2 ms) or ``timeout_s`` has passed; True when
    it came true. The loop sleeps between events as the program's does: a loop of processEvents(…, ms) never
    sleeps (Qt ignores WaitForMoreEvents there) and would keep the interpreter from the threads the bench waits
    for (a page's read on a reader thread, the caller-ID listener), slowing them several times over."""
    from PySide6.QtCore import QEventLoop, QTimer

    if cond(*args):
        return True
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(2)
    poll.timeout.connect(lambda: cond(*args) and loop.quit())
    poll.start()
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    deadline.start(int(timeout_s * 1000))
    loop.exec()
    poll.stop()
    deadline.stop()
    return bool(cond(*args))


def opened_ms(app, make: Callable[[], object], until: Callable[[object], bool] | None = None) -> float:
    """Milliseconds from building a window or page with `make()` to its first paint done (1280×800, offscreen), or
    with `until`, to `until(window)` being true (what it reads on a worker drawn, at most two minutes); it is closed
    and deleted afterwards."""
    from PySide6.QtCore import QEventLoop, QTimer

    settle()
    t = time.perf_counter()
    w = make()
    w.resize(1280, 800)
    w.show()
    app.processEvents()
    if until is None:
        loop = QEventLoop()             # until the first paint is done
        QTimer.singleShot(0, loop.quit)
        loop.exec()
    else:
        wait_until(until, 120, w)
        app.processEvents()
    ms = (time.perf_counter() - t) * 1000
    w.close()
    w.deleteLater()
    app.processEvents()
    return ms
