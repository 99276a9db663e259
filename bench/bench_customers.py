"""Foundation figures: search as you type, look-up by caller number, list open, cold start, memory."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from bench.common import (
    COMPILED,
    bench_db,
    dataset_size,
    db_label,
    figure,
    open_dataset,
    percentile,
    rss_mb,
    seeded_db,
    time_ms,
)

KEYSTROKES = ["علی", "رضایی", "محمد", "پارس", "نوری", "امیرحسین", "سارا"]


def _phone_forms(canonical: str, rng: random.Random) -> str:
    c = canonical
    return rng.choice([c, "+98" + c[1:], "0098" + c[1:], c[1:], "98" + c[1:],
                       f"{c[:4]} {c[4:7]} {c[7:]}", c.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))])


def run(quick: bool = False) -> list[dict]:
    n = 5_000 if quick else dataset_size(100_000)
    path = seeded_db(n)
    url = open_dataset(path)
    from app.customers import service as cs
    from models.core import PhoneNumber

    rng = random.Random(7)
    out = []

    # Search as you type: every prefix of a name, and of partial phone numbers; each keystroke = ids + first page.
    numbers = [p for (p,) in PhoneNumber.select(PhoneNumber.canonical).order_by(PhoneNumber.id).limit(5000).tuples()]
    typed: list[str] = []
    for word in KEYSTROKES:
        typed += [word[:i] for i in range(1, len(word) + 1)]
    for num in rng.sample(numbers, 8):
        frag = num[rng.randrange(0, 4):][:7]
        typed += [frag[:i] for i in range(3, len(frag) + 1)]
    from ui.customers.model import FIRST, PAGE

    cs.search_ids(cs.Filter(text="xyz"))  # warm the page cache
    samples = []
    for _ in range(2 if quick else 3):
        for text in typed:
            def keystroke(text=text):
                # What the list does per keystroke: run the search, read the first ids, then the first page of
                # rows (the list's own numbers: ui/customers/model.py).
                rs = cs.ResultSet(cs.Filter(text=text))
                ids = rs.next_ids(FIRST)
                cs.fetch_rows(ids[:PAGE])
            samples.append(time_ms(keystroke))
    out.append(figure("customer_search_keystroke", samples, floor_p95_ms=round(percentile(_search_floor(typed), 95), 3),
                      customers=n, **db_label()))

    # Caller-number look-up in any format.
    samples = []
    for _ in range(2000 if quick else 5000):
        reported = _phone_forms(rng.choice(numbers), rng)
        samples.append(time_ms(lambda reported=reported: cs.find_by_phone(reported)))
    floor = _lookup_floor([rng.choice(numbers) for _ in range(len(samples))])
    out.append(figure("phone_lookup_any_format", samples, floor_p99_ms=round(percentile(floor, 99), 4),
                      customers=n, **db_label()))

    # Opening the list: the page widget until its first rows are read (offscreen).
    from ui.application import setup_qt_app

    app = setup_qt_app()
    from ui.context import AppContext
    from ui.customers.page import CustomersPage

    samples = []
    pages_fetched = 0
    for _ in range(3 if quick else 5):
        t = time.perf_counter()
        page = CustomersPage(AppContext())
        page.resize(1200, 800)
        page.show()
        app.processEvents()
        samples.append((time.perf_counter() - t) * 1000)
        page.view.scrollToBottom()
        app.processEvents()
        pages_fetched = page.model.queries
        page.close()
        page.deleteLater()
        app.processEvents()
    app_rss, bare_rss = _list_rss(url)
    out.append(figure("customer_list_open", samples, rss_mb=app_rss, floor_rss_mb=bare_rss, runner_rss_mb=rss_mb(),
                      pages_fetched_after_scroll_to_end=pages_fetched, rows=n, **db_label()))

    # A search as the list runs it when typing pauses: what the GUI thread does until the first rows are painted
    # (the search, the first page of rows, the count when it is known at once; a count to read is read on a
    # worker, waited for between samples, not timed).
    page = CustomersPage(AppContext())
    page.resize(1200, 800)
    page.show()
    app.processEvents()
    samples = []
    for text in [t for t in typed if len(t) >= 2]:
        page.search.setText(text)
        t = time.perf_counter()
        page.apply_filter()
        app.processEvents()
        samples.append((time.perf_counter() - t) * 1000)
        deadline = time.perf_counter() + 30
        while page.count_label.text() == CustomersPage.COUNTING and time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.002)
    page.close()
    page.deleteLater()
    app.processEvents()
    out.append(figure("customer_page_search", samples, customers=n, **db_label()))

    # Cold start: a fresh process until the main window is shown (this desk signs the admin in automatically,
    # as a demo office does: the figure is the program's start, not a person typing a password).
    from app.office import auth
    from models.core import User

    admin = User.select().where(User.role == "admin").order_by(User.id).first()
    if admin is not None and auth.auto_sign_in_user() is None:
        auth.enable_auto_sign_in(admin.id)
    # The runner lets go of the file first: a desk that starts while another has the file open checks every page
    # before opening it (models.connection.seal), and the figure is the first desk's start of the day.
    from models.connection import close_database

    close_database()
    samples, filled = [], []
    for i in range(3 if quick else 4):
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CRM_BENCH_T0=repr(time.time()), **COMPILED)
        res = subprocess.run([sys.executable, "-c", _COLD, url], env=env, capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent.parent, timeout=120)
        got = dict(line.split()[:2] for line in res.stdout.splitlines() if line.startswith(("PAINTED", "FILLED")))
        if i > 0 and "PAINTED" in got and "FILLED" in got:   # the first start writes the compiled modules
            samples.append(float(got["PAINTED"]))
            filled.append(float(got["FILLED"]))
        if res.returncode != 0 or "FILLED" not in got:
            print(res.stderr[-2000:], file=sys.stderr)
    open_dataset(path)
    if samples:
        bare = round(percentile(_bare_start(3), 50), 1)
        out.append(figure("cold_start_to_main_window", samples, floor_p50_ms=bare, **db_label()))
        out.append(figure("cold_start_to_dashboard", filled, floor_p50_ms=bare, **db_label()))
    del app
    return out


def _search_floor(typed: list[str]) -> list[float]:
    """The same keystrokes as one hand-written statement each: the trigram index joined to the customers and
    ordered, the first 50 (texts of three characters or more; SQLite's FTS5, PostgreSQL's pg_trgm). SQLite's
    index yields its matches in the list's order but for those sharing a list code (models.listcode): the floor
    reads its first 50 in that order, as near the list's order as one statement gets (sorting every match by the
    list key instead, as before that index, costs far more than the search itself: 490 ms at a million)."""
    from models.base import db

    if bench_db():
        sql = ("SELECT id FROM customer WHERE merged_into_id IS NULL AND search_text LIKE %s "
               "ORDER BY sort_key, id LIMIT 50")
        arg = lambda t: f"%{t}%"  # noqa: E731
    else:
        from models.listcode import ID_SPAN  # the index's row number holds the customer's id in its low bits

        sql = (f'SELECT c.id FROM customer_fts f JOIN customer c ON c.id = (f.rowid & {ID_SPAN - 1}) '
               "WHERE customer_fts MATCH ? AND c.merged_into_id IS NULL ORDER BY f.rowid LIMIT 50")
        arg = lambda t: '"' + t + '"'  # noqa: E731
    out = []
    for _ in range(3):
        for t in typed:
            if len(t) >= 3:
                out.append(time_ms(lambda t=t: db.execute_sql(sql, (arg(t),)).fetchall()))
    return out


def _lookup_floor(numbers: list[str]) -> list[float]:
    """One indexed look-up of a canonical number, hand-written SQL, no normalising."""
    from models.base import db

    sql = "SELECT customer_id FROM phone_number WHERE canonical = %s" if bench_db() else \
        "SELECT customer_id FROM phone_number WHERE canonical = ?"
    return [time_ms(lambda c=c: db.execute_sql(sql, (c,)).fetchall()) for c in numbers]


# A start of the program as the user sees it, through its own entry point (`crm gui --db FILE`, what the desktop
# shortcut and run.sh start): PAINTED when the main window has reached the screen (its first paint), FILLED when
# the dashboard shows the day's work read from the database; then the program quits.
_COLD = """
import os, sys, time
t0 = float(os.environ["CRM_BENCH_T0"])
import ui.main_window as mw
from PySide6.QtWidgets import QApplication
first = mw.MainWindow._after_first_paint
def filled(page):
    page.repaint()
    print("FILLED", (time.time() - t0) * 1000, flush=True)
    QApplication.quit()
def painted(self):
    print("PAINTED", (time.time() - t0) * 1000, flush=True)
    first(self)
    page = self.pages["dashboard"]
    if page.is_loading():
        page.loaded.connect(lambda: filled(page))
    else:
        filled(page)
mw.MainWindow._after_first_paint = painted
import main
sys.exit(main.main(["gui", "--db", sys.argv[1]]))
"""
_RSS = ("import os,sys;os.environ['QT_QPA_PLATFORM']='offscreen';"
        "from ui.application import setup_qt_app;app=setup_qt_app();"
        "from models.connection import open_database;open_database(sys.argv[1]);"
        "from ui.context import AppContext;from ui.customers.page import CustomersPage;"
        "p=CustomersPage(AppContext());p.resize(1200,800);p.show();app.processEvents();"
        "p.view.scrollToBottom();app.processEvents();"
        "print('RSS',int(open('/proc/self/statm').read().split()[1])*os.sysconf('SC_PAGE_SIZE')/1e6)")
_BARE = ("import os,time;t0=float(os.environ['CRM_BENCH_T0']);os.environ['QT_QPA_PLATFORM']='offscreen';"
         "from PySide6.QtWidgets import QApplication,QMainWindow;app=QApplication([]);w=QMainWindow();"
         "w.resize(1280,800);w.show();app.processEvents();"
         "print('SHOWN',(time.time()-t0)*1000);"
         "print('RSS',int(open('/proc/self/statm').read().split()[1])*os.sysconf('SC_PAGE_SIZE')/1e6)")


def _run_py(code: str, *args: str) -> dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CRM_BENCH_T0=repr(time.time()), **COMPILED)
    res = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, timeout=300)
    got = {}
    for line in res.stdout.splitlines():
        k, _, v = line.partition(" ")
        if k in ("RSS", "SHOWN"):
            got[k] = float(v)
    return got


def _list_rss(url: str) -> tuple[float | None, float | None]:
    """The program's own memory with the customer list open and scrolled to the end (a process of its own, not
    this runner's), and a bare PySide6 window's, as its floor."""
    app = _run_py(_RSS, url).get("RSS")
    bare = _run_py(_BARE).get("RSS")
    return (round(app, 1) if app else None), (round(bare, 1) if bare else None)


def _bare_start(n: int) -> list[float]:
    """A fresh Python process showing a bare PySide6 main window: the floor of the cold start."""
    _run_py(_BARE)
    return [v for v in (_run_py(_BARE).get("SHOWN") for _ in range(n)) if v is not None] or [float("nan")]


if __name__ == "__main__":
    for f in run(quick="--quick" in sys.argv):
        print(json.dumps(f, ensure_ascii=False))
