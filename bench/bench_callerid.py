"""Caller-ID figures: from the last byte of a caller-ID record on a pty to the popup shown with every field
filled, through the real chain (simulator pty → listener thread → decoder → service → summary → popup).

- callerid_popup: a voice modem (formatted DATE/TIME/NMBR/NAME, caller ID before the first RING), one ring
  after another, each from a known customer in a different number format (+98…, 0098…, no leading zero…).
  The floor, measured in the same run: a bare pty read + one indexed SQLite look-up + showing an empty widget.
- callerid_popup_tcp: the same over TCP (the simulator on socket://127.0.0.1:N, opened through pyserial's URL
  support: how caller ID is tried on Windows, and how a serial-to-Ethernet converter is reached); same floor.
- callerid_8_lines: an 8-line Segal box, eight lines ringing within one second; each popup's latency from the
  last byte of its own record.
- callerid_8_lines_first_burst: the same box's first eight calls, on a controller just started (one spare popup
  made ahead; the others as the calls come).
- callerid_first_popup: the first call after caller ID starts, each in a fresh process (the program's Qt set-up,
  caller ID started as the main window starts it, a moment's idle, one ring): what the first caller of the day
  waits for, which the figures above leave out with their warm-up rings.

Full run: 100,000 customers and 1,000,000 logged calls (bulk-inserted into a cached copy of the seeded
database), ≥ 200 rings. Quick: 5,000 customers, 20,000 calls, 40 rings.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import (
    CACHE,
    COMPILED,
    as_the_program,
    bench_db,
    dataset_size,
    db_label,
    figure,
    open_dataset,
    rss_mb,
    seeded_db,
    wait_until,
)

RINGING_CUSTOMERS = 300


def _forms(c: str, rng: random.Random) -> str:
    return rng.choice([c, "+98" + c[1:], "0098" + c[1:], c[1:], "98" + c[1:]])


def _build(customers: int, calls: int, ringers: int) -> Path:
    """The seeded customers + `calls` bulk-inserted calls + sales/meetings for the customers that will ring."""
    path = CACHE / f"bench-callerid-{customers}-{calls}.sqlite3"
    if path.exists():
        return path
    base = seeded_db(customers)
    tmp = path.with_suffix(".building")
    for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        p.unlink(missing_ok=True)
    shutil.copyfile(base, tmp)
    from models.base import db
    from models.connection import close_database, open_database
    from models.core import PhoneNumber

    open_database(str(tmp))
    rng = random.Random(1405)
    phones: dict[int, str] = {}
    for cid, canon in PhoneNumber.select(PhoneNumber.customer, PhoneNumber.canonical).tuples():
        phones.setdefault(cid, canon)
    ids = sorted(phones)
    start = dt.datetime(2024, 11, 24, 8, 0)
    span = 2 * 365 * 24 * 3600
    sql = ('INSERT INTO "call" (customer_id, direction, state, result, number_raw, number, caller_name, '
           'number_status, line, line_label, source, started_at, answered_at, ended_at, duration, note, handled) '
           'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
    batch = 50_000
    for lo in range(0, calls, batch):
        rows = []
        for _ in range(min(batch, calls - lo)):
            known = rng.random() < 0.85
            cid = rng.choice(ids) if known else None
            number = phones[cid] if cid else f"09{rng.randrange(10**9):09d}"
            t = start + dt.timedelta(seconds=rng.randrange(span))
            r = rng.random()
            direction = "out" if r < 0.3 else "in"
            state = "missed" if (direction == "in" and r > 0.85) else "ended"
            dur = None if state == "missed" else rng.randrange(5, 900)
            rows.append((cid, direction, state, "no_answer" if state == "missed" else "answered", number, number,
                         "", "ok", rng.randrange(1, 5), "", "segal", t, t if dur else None,
                         t + dt.timedelta(seconds=dur or 30), dur, "", state != "missed" or rng.random() < 0.9))
        with db.atomic():
            db.cursor().executemany(sql, rows)
    # the customers who will ring get a proforma, an invoice, a visit and a call note: every field filled
    from app.calls import log as call_log
    from app.sales.documents import save_document
    from app.tasks import meetings

    ringing = rng.sample(ids, ringers)
    for cid in ringing:
        save_document("proforma", cid, [{"description": "کابل افشان ۲٫۵", "quantity": 10,
                                                "unit_price": 1_250_000}], date=dt.date(2026, 10, 1))
        save_document("invoice", cid, [{"description": "کلید مینیاتوری", "quantity": 4,
                                               "unit_price": 3_400_000}], date=dt.date(2026, 11, 2), issue=True,
                            settlement="credit")
        meetings.create_meeting({"customer_id": cid, "start_at": dt.datetime(2026, 11, 10, 11, 0),
                                 "status": "held", "subject": "بازدید از انبار"})
        call_log.log_manual_call(customer_id=cid, direction="out", duration=60, result="answered",
                            note="قرار شد پیش‌فاکتور تازه بفرستیم", started_at=dt.datetime(2026, 11, 20, 10, 0))
    db.execute_sql("CREATE TABLE IF NOT EXISTS bench_ringers (customer_id INTEGER PRIMARY KEY)")
    db.cursor().executemany("INSERT INTO bench_ringers VALUES (?)", [(c,) for c in ringing])
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    from models import statistics

    statistics.refresh()      # the planner's statistics as the program gathers them
    close_database()
    tmp.rename(path)
    return path


class _Rig:
    """Simulator + listener + controller on the GUI thread's event loop (offscreen)."""

    def __init__(self, app, device: str, lines: int, link: str | None, transport: str = "pty"):
        from app.callerid import service as svc
        from app.callerid.listener import CallerIdListener
        from app.callerid.simulator import Simulator, SimulatorOptions
        from app.callerid.sources import SerialSource
        from ui.calls.controller import CallerIdController
        from ui.context import AppContext

        self.app = app
        self.sim = Simulator(SimulatorOptions(device=device, lines=lines, cid_enabled=True,
                                              cid_position="before", ring_period=120.0, max_rings=2,
                                              link=link, transport=transport)).start()
        self.listener = CallerIdListener(SerialSource(self.sim.port, 57600, fmt=device, init=None), device)
        self.ctx = AppContext()
        self.ctrl = CallerIdController(self.ctx)
        self.ctrl.service = svc.CallerIdService(ring_timeout=30)
        self.ctrl._timer.setInterval(3_600_000)      # no periodic tick inside the measurement
        self.shown: dict[str, float] = {}
        self.cpu: dict[str, float] = {}            # the GUI thread's CPU time from the event to the pixels
        self.complete: dict[str, bool] = {}
        self._cpu_at_event = 0.0
        identify = self.ctrl.service.identify

        self.at_event: dict[str, float] = {}       # wall time when the GUI thread took the event up
        self._wall_at_event = 0.0

        def timed_identify(*a, identify=identify, **kw):     # the controller's first step for each event
            self._cpu_at_event = time.thread_time()
            self._wall_at_event = time.perf_counter()
            return identify(*a, **kw)
        self.ctrl.service.identify = timed_identify
        self.ctrl.stack.shown.connect(self._on_shown)
        states: list[str] = []
        self.ctx.bus.callerid_state.connect(lambda k, _t: states.append(k))
        self.ctrl.attach_listener(self.listener)
        self.ctrl.start()
        self.wait(lambda: "listening" in states, 10)
        if not self.sim.wait_for_client(10):
            raise RuntimeError("the listener did not connect to the simulator")

    def _on_shown(self, key: str) -> None:
        p = self.ctrl.stack.popup_for(key)
        if p is not None:
            # Pixels drawn, not just mapped: the offscreen platform exposes (and paints) a shown window only at
            # the next turn of the event loop, and repaint() of a window not yet exposed paints nothing; grab()
            # paints the whole popup now, as the first expose will.
            p.grab()
            t = time.perf_counter()
            self.cpu[key] = time.thread_time() - self._cpu_at_event
            self.at_event[key] = self._wall_at_event
            from app.customers import summary as sm

            self.complete[key] = p.summary is not None and len(p.field_values) == len(sm.summary_fields(p.summary))
        else:
            t = time.perf_counter()
        self.shown[key] = t

    def wait(self, cond, timeout: float) -> bool:
        # the GUI thread waits in its event loop, as the program's does between calls (see wait_until)
        return wait_until(cond, timeout)

    def reset(self) -> None:
        self.ctrl.service.close_all()
        self.ctrl.stack.clear()
        for _ in range(3):
            self.app.processEvents()

    def close(self) -> None:
        self.ctrl.stop()
        self.sim.close()


def _floor(app, samples: int, numbers: list[str]) -> list[float]:
    """Bare pty read + one indexed SQLite look-up + showing an empty widget, on one thread."""
    import tty

    from PySide6.QtWidgets import QWidget

    from models.base import db

    sql = f"SELECT customer_id FROM phone_number WHERE canonical = {db.obj.param} LIMIT 1"

    master, slave = os.openpty()
    tty.setraw(slave)                 # as pyserial sets a port: no CR/LF translation, no echo
    out = []
    try:
        for i in range(samples):
            number = numbers[i % len(numbers)]
            data = f"\r\nDATE = 1124\r\nTIME = 1000\r\nNMBR = {number}\r\nNAME = X\r\n".encode()
            os.write(master, data)
            t0 = time.perf_counter()
            got = b""
            deadline = time.monotonic() + 2
            while not got.endswith(b"NAME = X\r\n") and time.monotonic() < deadline:
                select.select([slave], [], [], 0.5)
                got += os.read(slave, 4096)
            db.execute_sql(sql, (number,)).fetchone()
            w = QWidget()
            w.resize(380, 300)
            w.show()
            w.grab()                  # painted, as the popup is measured (see _Rig._on_shown)
            out.append((time.perf_counter() - t0) * 1000)
            w.close()
            w.deleteLater()
            app.processEvents()
    finally:
        os.close(master)
        os.close(slave)
    return out


def _first_popup(path: Path, seed: int) -> float | None:
    """One fresh process (`python -m bench.bench_callerid --first-ring DB SEED`): its first popup's latency."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **COMPILED)
    res = subprocess.run([sys.executable, "-m", "bench.bench_callerid", "--first-ring", str(path), str(seed)],
                         env=env, capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parent.parent)
    got = [line.split()[1] for line in res.stdout.splitlines() if line.startswith("FIRST ")]
    if res.returncode != 0 or not got:
        print(res.stderr[-2000:], file=sys.stderr)
        return None
    return float(got[0])


def _first_ring(path: str, seed: int) -> None:
    """In the fresh process: Qt set up as the program does, caller ID started as the main window starts it (the
    controller's start prepares its popups and its look-up), half a second of idle as after the first screen,
    then one call from a known customer. Prints «FIRST <ms>» (a popup without every field counts as missing)."""
    from models.connection import open_database

    open_database(path)
    from models.base import db

    rng = random.Random(seed)
    cid = rng.choice([r[0] for r in db.execute_sql("SELECT customer_id FROM bench_ringers").fetchall()])
    number = db.execute_sql("SELECT canonical FROM phone_number WHERE customer_id = ? LIMIT 1", (cid,)).fetchone()[0]
    from ui.application import setup_qt_app

    app = setup_qt_app()
    as_the_program(app)
    link_dir = CACHE / "ptys"
    link_dir.mkdir(parents=True, exist_ok=True)
    rig = _Rig(app, "modem", 1, str(link_dir / f"first-{os.getpid()}"))
    try:
        rig.wait(lambda: False, 0.5)
        t_last = rig.sim.ring(None, _forms(number, rng), "CUSTOMER")
        if not rig.wait(lambda: bool(rig.shown), 5):
            raise RuntimeError("no popup within 5 s")
        key, shown = next(iter(rig.shown.items()))
        if rig.complete.get(key):
            print("FIRST", (shown - t_last) * 1000, flush=True)
        rig.sim.miss(None)
        rig.reset()
    finally:
        rig.close()


def _one_line(rig: _Rig, rings: int, rng: random.Random, ringing: list,
              numbers: dict) -> tuple[list[float], int, list[float]]:
    """One ring after another on a one-line modem: each popup's latency from the caller-ID record's last byte,
    and the GUI thread's CPU per call."""
    samples: list[float] = []
    cpu: list[float] = []
    rig.before_gui = []                           # last byte → the GUI thread takes the event up
    incomplete = 0
    try:
        for i in range(rings + 5):
            cid = rng.choice(ringing)
            before = set(rig.shown)
            t_last = rig.sim.ring(None, _forms(numbers[cid], rng), "CUSTOMER")
            if not rig.wait(lambda before=before: set(rig.shown) - before, 5):
                raise RuntimeError("no popup within 5 s")
            key = next(iter(set(rig.shown) - before))
            if i >= 5:                              # the first rings warm caches and imports
                samples.append((rig.shown[key] - t_last) * 1000)
                cpu.append(rig.cpu.get(key, 0.0) * 1000)
                if key in rig.at_event:
                    rig.before_gui.append((rig.at_event[key] - t_last) * 1000)
                incomplete += not rig.complete.get(key)
            rig.sim.miss(None)
            rig.reset()
    finally:
        rig.close()
    return samples, incomplete, cpu


def run(quick: bool = False) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.core.qtcompat import guard_pyside

    guard_pyside()
    customers, calls, rings, rounds = (5_000, 20_000, 40, 5) if quick else (dataset_size(100_000), 1_000_000, 240, 30)
    ringers = 40 if quick else RINGING_CUSTOMERS
    path = _build(customers, calls, ringers)
    from models.connection import close_database, open_database

    firsts: list[float] = []
    if bench_db():
        open_dataset(path)        # the server's copy of the dataset (the calls rung here are added to it)
    else:
        work = CACHE / "bench-callerid-run.sqlite3"
        for p in (work, Path(str(work) + "-wal"), Path(str(work) + "-shm")):
            p.unlink(missing_ok=True)
        shutil.copyfile(path, work)
        # the first call after caller ID starts, a fresh process each, before this runner opens the copy (a desk
        # opening a file another process holds checks every page first); SQLite only: the figure is the GUI's
        firsts = [_first_popup(work, i) for i in range(2 if quick else 4)]
        firsts = [f for f in firsts[1:] if f is not None]       # the first process writes the compiled modules
        open_database(str(work))
    from models.base import db
    from models.core import PhoneNumber

    ringing = [r[0] for r in db.execute_sql("SELECT customer_id FROM bench_ringers").fetchall()]
    numbers = {cid: canon for cid, canon in PhoneNumber.select(PhoneNumber.customer, PhoneNumber.canonical)
               .where(PhoneNumber.customer.in_(ringing)).tuples()}
    ringing = [c for c in ringing if c in numbers]

    from ui.application import setup_qt_app

    app = setup_qt_app()
    collector = as_the_program(app)
    rng = random.Random(int(os.environ.get("CRM_BENCH_SEED", "7")))
    out: list[dict] = []
    link_dir = CACHE / "ptys"
    link_dir.mkdir(parents=True, exist_ok=True)

    # --- one line, a voice modem ----------------------------------------------------------------------------
    rig = _Rig(app, "modem", 1, str(link_dir / "modem"))
    samples, incomplete, cpu = _one_line(rig, rings, rng, ringing, numbers)
    floor = _floor(app, len(samples), [numbers[c] for c in ringing])
    from bench.common import percentile

    # before_gui: from the last byte until the GUI thread takes the event up (the listener thread, the queued
    # signal, whatever the GUI thread was doing); cpu: the GUI thread's own work from there to the pixels
    out.append(figure("callerid_popup", samples, floor_p99_ms=round(percentile(floor, 99), 3),
                      floor_p50_ms=round(percentile(floor, 50), 3), incomplete=incomplete,
                      cpu_p50_ms=round(percentile(cpu, 50), 3), cpu_p99_ms=round(percentile(cpu, 99), 3),
                      before_gui_p50_ms=round(percentile(rig.before_gui, 50), 3),
                      before_gui_p99_ms=round(percentile(rig.before_gui, 99), 3),
                      customers=customers, calls=calls, rss_mb=rss_mb(), **db_label()))

    if firsts:
        out.append(figure("callerid_first_popup", firsts, floor_p50_ms=round(percentile(floor, 50), 3),
                          customers=customers, calls=calls))

    # --- the same modem over TCP (socket://127.0.0.1:N, how the simulator runs on Windows) -----------------------
    samples, incomplete, cpu = _one_line(_Rig(app, "modem", 1, None, transport="tcp"), rings, rng, ringing, numbers)
    out.append(figure("callerid_popup_tcp", samples, floor_p99_ms=round(percentile(floor, 99), 3),
                      floor_p50_ms=round(percentile(floor, 50), 3), incomplete=incomplete,
                      cpu_p50_ms=round(percentile(cpu, 50), 3), cpu_p99_ms=round(percentile(cpu, 99), 3),
                      customers=customers, calls=calls))

    # --- eight lines ringing within one second ----------------------------------------------------------------
    from PySide6.QtCore import QTimer

    rig = _Rig(app, "segal", 8, str(link_dir / "segal8"))
    samples = []
    cpu = []
    before_gui: list[float] = []
    first_round: list[float] = []
    incomplete = 0
    try:
        for rnd in range(rounds + 1):
            t_last: dict[int, float] = {}
            before = set(rig.shown)
            chosen = rng.sample(ringing, 8)
            for line in range(1, 9):
                def ring(line=line, cid=chosen[line - 1], t_last=t_last):
                    t_last[line] = rig.sim.ring(line, _forms(numbers[cid], rng))
                QTimer.singleShot(int((line - 1) * 120 + rng.random() * 20), ring)
            complete: dict[int, bool] = {}

            cpu_of: dict[int, float] = {}
            event_of: dict[int, float] = {}

            def by_line(before=before, t_last=t_last, complete=complete, cpu_of=cpu_of,
                        event_of=event_of) -> dict[int, float]:
                got: dict[int, float] = {}
                for key in set(rig.shown) - before:
                    line = int(key.split("#")[0])
                    if line in t_last and rig.shown[key] >= t_last[line]:
                        got[line] = min(got.get(line, rig.shown[key]), rig.shown[key])
                        complete[line] = rig.complete.get(key, False)
                        cpu_of[line] = rig.cpu.get(key, 0.0)
                        if key in rig.at_event:
                            event_of[line] = rig.at_event[key]
                return got

            if not rig.wait(lambda: len(by_line()) >= 8, 10):
                raise RuntimeError(f"eight popups did not all show within 10 s: {sorted(by_line())}")
            if rnd == 0:               # a new stack's first burst: popups beyond its spare are made as calls come
                first_round = [(t_shown - t_last[line]) * 1000 for line, t_shown in by_line().items()]
            if rnd >= 1:
                for line, t_shown in by_line().items():
                    samples.append((t_shown - t_last[line]) * 1000)
                    cpu.append(cpu_of.get(line, 0.0) * 1000)
                    if line in event_of:
                        before_gui.append((event_of[line] - t_last[line]) * 1000)
                    incomplete += not complete.get(line)
            for line in range(1, 9):
                try:
                    rig.sim.miss(line)
                except ValueError:
                    pass
            rig.reset()
    finally:
        rig.close()
    out.append(figure("callerid_8_lines", samples, floor_p99_ms=round(percentile(floor, 99), 3),
                      incomplete=incomplete, cpu_p50_ms=round(percentile(cpu, 50), 3),
                      cpu_p99_ms=round(percentile(cpu, 99), 3), before_gui_p50_ms=round(percentile(before_gui, 50), 3),
                      before_gui_p99_ms=round(percentile(before_gui, 99), 3), customers=customers, calls=calls,
                      rss_mb=rss_mb(), **db_label()))
    out.append(figure("callerid_8_lines_first_burst", first_round, floor_p99_ms=round(percentile(floor, 99), 3),
                      **db_label()))
    if bench_db():                # the database figures only: the call log page and the import are SQLite's
        collector.stop()
        close_database()
        return out

    # --- the call log with 1,000,000 calls: opening the page (last 30 days + the missed tab), the missed list ---
    from app.calls import log as call_log
    from ui.calls.page import CallsPage
    from ui.context import AppContext

    samples = []
    for _ in range(3 if quick else 5):
        t = time.perf_counter()
        page = CallsPage(AppContext())
        page.resize(1200, 700)
        page.show()
        page.log.view.viewport().repaint()
        samples.append((time.perf_counter() - t) * 1000)
        page.close()
        page.deleteLater()
    out.append(figure("calls_page_open", samples, calls=calls))
    samples = []
    for _ in range(10 if quick else 30):
        def missed() -> None:
            ids = call_log.missed_call_ids()
            call_log.fetch_call_rows(ids[:100])
        t = time.perf_counter()
        missed()
        samples.append((time.perf_counter() - t) * 1000)
    out.append(figure("missed_calls_list", samples, calls=calls))

    out.append(_during_import(app, rng, ringing, numbers, link_dir, quick))
    collector.stop()
    close_database()
    return out


def import_write_phase(rows: int, hold: float = 0.0) -> int:
    """An import's write phase as one writer job: `rows` customers in one transaction (made by SQLite itself, so
    the figure is about the database being busy, not about a second Python thread), held ≥ `hold` seconds."""
    from models.base import db

    t0 = time.monotonic()
    batch = 5_000
    sql = ('WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) '
           'INSERT INTO "customer" (kind, stage, first_name, last_name, company, title, job, customer_type, rank, '
           'status, activity_field, source, national_id, economic_code, registration_no, postal_code, email, '
           'website, description, sort_key, search_text, created_at, updated_at) '
           "SELECT 'person', 'actual', 'نام' || i, 'خانوادگی' || i, '', '', '', '', '', 'active', '', 'bench', "
           "'', '', '', '', '', '', '', 'k' || i, ' نام' || i || ' ', '2026-11-24 10:00:00', "
           "'2026-11-24 10:00:00' FROM n")
    for lo in range(0, rows, batch):
        db.execute_sql(sql, (lo, min(rows, lo + batch)))
        time.sleep(max(0.0, hold - (time.monotonic() - t0)) / max(1, (rows - lo) // batch))
    time.sleep(max(0.0, hold - (time.monotonic() - t0)))
    return rows


def _during_import(app, rng, ringing, numbers, link_dir, quick: bool) -> dict:
    """callerid_during_import: rings while a 50,000-row import holds the writer (one write transaction). The popup
    must not wait for the import (latency from the record's last byte to the popup shown), and every call's row
    must be written once the import lets go (rows_written_pct). The floor is the same rings on the same rig with
    no import, measured first in the same run."""
    import threading

    from models.calls import Call
    from models.writer import writer

    rows, hold, rings = (10_000, 3.0, 20) if quick else (50_000, 5.0, 100)
    rig = _Rig(app, "techno", 2, str(link_dir / "techno2"))
    samples: list[float] = []
    floor: list[float] = []
    keys: list[str] = []
    imports: list[threading.Thread] = []
    before = Call.select().count()
    try:
        for i in range(2 * rings + 6):
            during = i >= rings + 3          # the first half: the same rings with no import (the floor)
            if during and (not imports or not imports[-1].is_alive()):
                t = threading.Thread(target=writer.run, args=(import_write_phase, rows, hold), name="bench-import")
                t.start()
                imports.append(t)
                rig.wait(lambda: False, 0.2)           # the import has the writer
            line = 1 + i % 2
            cid = rng.choice(ringing)
            shown_before = set(rig.shown)
            t_last = rig.sim.ring(line, _forms(numbers[cid], rng))
            if not rig.wait(lambda sb=shown_before: set(rig.shown) - sb, 5):
                raise RuntimeError("no popup within 5 s during the import")
            key = next(iter(set(rig.shown) - shown_before))
            if 3 <= i < rings + 3:
                floor.append((rig.shown[key] - t_last) * 1000)
            elif i >= rings + 6:
                samples.append((rig.shown[key] - t_last) * 1000)
            keys.append(key)
            rig.sim.miss(line)
            rig.wait(lambda k=key: (v := rig.ctrl.service.view_of(k)) is not None and v.final, 5)
            rig.ctrl.stack.clear()
        for t in imports:
            while t.is_alive():
                rig.wait(lambda: False, 0.05)
        rig.wait(lambda: rig.ctrl.pending == 0, 60)
        written = Call.select().count() - before
    finally:
        rig.close()
    from bench.common import percentile

    pct = round(100.0 * written / len(keys), 1) if keys else 0.0
    return figure("callerid_during_import", samples, rows_written_pct=pct, calls=len(keys), import_rows=rows,
                  imports=len(imports), popup_max_ms=round(max(samples), 3) if samples else None,
                  floor_p99_ms=round(percentile(floor, 99), 3), floor_p50_ms=round(percentile(floor, 50), 3))


if __name__ == "__main__":
    import json

    if sys.argv[1:2] == ["--first-ring"]:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _first_ring(sys.argv[2], int(sys.argv[3]))
    else:
        for f in run(quick="--quick" in sys.argv):
            print(json.dumps(f, ensure_ascii=False))
