"""The outbox screen (صف ارسال) over a busy year: 200,000 messages (monthly group sends of 5,000 to 10,000
customers, automatic and single messages), with failed and uncertain ones among them.

"sms_outbox_open" is the page's default view (the last 30 days: ids, counts by state, the first page of rows);
"sms_outbox_all" the whole year; "sms_outbox_failed" the failed ones; "sms_outbox_search_number" and
"sms_outbox_search_text" a search by part of a mobile number and by words of the text. Each figure also gives
"cpu_ms": the median CPU time of this process for the same work (the machine is shared). --quick: 20,000."""
from __future__ import annotations

import datetime as dt
import random
import statistics
import time

from bench.common import CACHE, figure, rss_mb

NOW = dt.datetime(2026, 11, 24, 10, 0)


def _timed(fn, rounds: int) -> tuple[list[float], float]:
    wall, cpu = [], []
    for _ in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - t) * 1000)
    return wall, round(statistics.median(cpu), 3)


def _build(n: int):
    from models.base import db
    from models.connection import open_database
    from models.core import Customer, PhoneNumber
    from models.messaging import Campaign, Message

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"bench-sms-{n}.sqlite3"
    if path.exists():
        open_database(str(path))
        return path
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    open_database(str(tmp), create=True)
    rnd = random.Random(1405)
    firsts = ("علی", "مریم", "رضا", "زهرا", "حسین", "فاطمه", "محمد", "سارا")
    lasts = ("رضایی", "احمدی", "کریمی", "محمدی", "حسینی", "نوری", "صادقی", "جعفری")
    with db.atomic():
        Customer.insert_many([{"first_name": rnd.choice(firsts), "last_name": rnd.choice(lasts),
                               "sort_key": f"m{i}", "search_text": f"{rnd.choice(firsts)} {rnd.choice(lasts)}"}
                              for i in range(10_000)]).execute()
        cust = [c.id for c in Customer.select(Customer.id)]
        PhoneNumber.insert_many([{"customer": c, "raw": f"0912{c:07d}", "canonical": f"0912{c:07d}"}
                                 for c in cust]).execute()
    camps = []
    with db.atomic():
        for m in range(12):
            camps.append(Campaign.create(name=f"جشنواره ماه {m + 1}", body="جشنواره {نام}", total=5000).id)
    states = ["sent"] * 60 + ["delivered"] * 30 + ["failed"] * 5 + ["uncertain"] * 2 + ["undelivered"] * 3
    start = NOW - dt.timedelta(days=365)
    rows = []
    for i in range(n):
        c = rnd.choice(cust)
        at = start + dt.timedelta(seconds=rnd.randrange(365 * 86400))
        kind = rnd.random()
        rows.append({"channel": "sms", "local_id": i + 1, "customer": c, "recipient": f"0912{c:07d}",
                     "body": f"{rnd.choice(firsts)} گرامی، جشنواره پاییزه با {rnd.randrange(10, 50)}٪ تخفیف",
                     "parts": 1, "purpose": "advertising", "provider": "kavenegar", "state": rnd.choice(states),
                     "campaign": rnd.choice(camps) if kind < 0.8 else None,
                     "auto_key": f"birthday:{c}:{i}" if 0.8 <= kind < 0.9 else None,
                     "created_at": at, "sent_at": at})
    rows.sort(key=lambda r: r["created_at"])
    with db.atomic():
        for lo in range(0, len(rows), 2000):
            Message.insert_many(rows[lo:lo + 2000]).execute()
    from models import statistics

    statistics.refresh()      # the planner's statistics as the program gathers them
    from models.connection import close_database

    close_database()
    tmp.rename(path)
    open_database(str(path))
    return path


def run(quick: bool = False) -> list[dict]:
    from PySide6.QtWidgets import QApplication

    from app.core import clock
    from models.connection import close_database

    app = QApplication.instance() or QApplication([])
    n = 20_000 if quick else 200_000
    _build(n)
    clock.set_now(NOW)
    rounds = 5 if quick else 15
    from ui.context import AppContext
    from ui.sms.page import SmsPage

    page = SmsPage(AppContext())
    page.resize(1200, 700)
    page.show()
    app.processEvents()
    out = []

    def view(state="", period="month", text=""):
        def go():
            page.state.blockSignals(True)
            page.period.blockSignals(True)
            page.state.setCurrentIndex(page.state.findData(state))
            page.period.setCurrentIndex(page.period.findData(period))
            page.search.blockSignals(True)
            page.search.setText(text)
            page.search.blockSignals(False)
            page.state.blockSignals(False)
            page.period.blockSignals(False)
            page.reload()
            page.view.viewport().repaint()           # the first page of rows is read and painted
        return go

    for name, fn in (("sms_outbox_open", view()), ("sms_outbox_all", view(period="all")),
                     ("sms_outbox_failed", view(state="failed", period="all")),
                     ("sms_outbox_search_number", view(period="all", text="۰۹۱۲۰۰۰۱۲")),
                     ("sms_outbox_search_text", view(period="all", text="۳۰٪ تخفیف"))):
        fn()                                           # warm the cache once, as a page opened a second time
        wall, cpu = _timed(fn, rounds)
        out.append(figure(name, wall, cpu_ms=cpu, rows=getattr(page.model, "total", len(page.model.ids)), messages=n, rss_mb=rss_mb()))
    page.close()
    page.deleteLater()
    clock.set_now(None)
    close_database()
    return out
