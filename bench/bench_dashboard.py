"""The sales rep's morning: the dashboard opening (target < 300 ms) and an inbox of 5,000 open tasks opening
(target < 200 ms), on the demo data: 100,000 customers (--customers N: N) with 250,000 tasks, 250,000 calls and
a quarter as many invoices as customers (with their payments and cheques, as `crm demo-data` makes them) in full
mode.

Both are timed as the user sees them: the page widget built, filled from the database and shown (offscreen),
events processed. The dashboard is built as the program builds it, its rows read on a worker thread meanwhile.
"dashboard_load" and "inbox_5000_query" are the service parts alone; "dashboard_money" is the money cards' summary
(read after the first screen is painted: its cost is part of dashboard_complete), for a manager and a rep in turn.
"dashboard_reopen" is the dashboard chosen again in the side bar after a change: the page exists (the program builds
it once) and is read, filled and painted again. "money_page_open", "reports_page_open" and
"invoice_list_open_large" are an owner's pages on the same data (a manager's whole office), until their first
paint; "reports_page_complete" is the reports page until its report (this year's top customers, read on a worker
thread) is drawn, "money_page_complete" the money page until its first tab (the collection list) is, and
"invoice_list_complete_large" the invoice list until its newest 2,000 rows (read and formatted on a reader
thread) are."""
from __future__ import annotations

import random
import time

from bench.common import (
    as_the_program,
    dataset_size,
    db_label,
    figure,
    open_seeded,
    opened_ms,
    rss_mb,
    settle,
    time_ms,
    wait_until,
)

INBOX_USERNAME = "bench_inbox"
INBOX_SIZE = 5000


def _inbox_user() -> int:
    """A colleague with exactly 5,000 open tasks (moved from others' open tasks; idempotent)."""
    from models.base import db
    from models.core import User
    from models.tasks import Task

    u = User.get_or_none(User.username == INBOX_USERNAME)
    if u is None:
        u = User.create(name="همکار آزمون کارتابل", username=INBOX_USERNAME, role="sales")
    have = Task.select().where(Task.assignee == u.id, Task.status == "open").count()
    if have < INBOX_SIZE:
        ids = [t.id for t in Task.select(Task.id).where(Task.status == "open", Task.assignee != u.id)
               .order_by(Task.id).limit(INBOX_SIZE - have)]
        with db.atomic():
            for lo in range(0, len(ids), 500):
                Task.update(assignee=u.id).where(Task.id.in_(ids[lo:lo + 500])).execute()
    return u.id


def run(quick: bool = False) -> list[dict]:
    customers = 5_000 if quick else dataset_size(100_000)
    n = 25_000 if quick else 250_000
    invoices = customers // 4
    path = open_seeded(customers, tasks=n, calls=n, invoices=invoices)
    from app.reports import dashboard
    from app.tasks import service as tasks
    from models.core import User

    inbox_user = _inbox_user()
    sales = User.get(User.username == "reza").id
    manager = User.get(User.username == "amir").id
    out = []
    rounds = 10 if quick else 30

    samples = []
    for i in range(rounds):
        samples.append(time_ms(lambda i=i: dashboard.load((sales, manager)[i % 2])))
    out.append(figure("dashboard_load", samples, customers=customers, **db_label()))

    from app.money.summary import money_summary
    from models.sales import SalesDocument

    samples = []
    for i in range(rounds):
        samples.append(time_ms(lambda i=i: money_summary(None, (sales, manager)[i % 2], bool(i % 2))))
    open_invoices = SalesDocument.select().where(SalesDocument.doc_type == "invoice", SalesDocument.state == "issued",
                                                 SalesDocument.total > SalesDocument.paid).count()
    out.append(figure("dashboard_money", samples, invoices=SalesDocument.select().count(), open_invoices=open_invoices,
                      **db_label()))

    samples = []
    for _ in range(rounds):
        samples.append(time_ms(lambda: tasks.list_tasks(tasks.InboxFilter(user_id=inbox_user))))
    out.append(figure("inbox_5000_query", samples, **db_label()))

    from ui.application import setup_qt_app

    app = setup_qt_app()
    collector = as_the_program(app)
    from PySide6.QtCore import QEventLoop, QTimer

    from ui.context import AppContext
    from ui.dashboard.page import DashboardPage
    from ui.tasks.page import TasksPage

    def wait_for(signal) -> None:
        # the event loop waits as the program's does (a loop spinning processEvents here would hold the
        # interpreter the worker's read needs, thousands of times over)
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(10_000, loop.quit)
        loop.exec()

    def open_page(cls, user_id: int) -> float:
        # as the program builds it: the day's rows are read on a worker thread while the cards are made; the
        # figure runs until they are filled in and painted (the first screenful of each card: the rows below it,
        # the cards below the first screen and the money cards' summary come right after that paint,
        # dashboard_complete)
        t = time.perf_counter()
        ctx = AppContext()
        ctx.user_id = user_id
        page = cls(ctx, load_in_background=True)
        painted: list[float] = []
        completed: list[float] = []
        page.painted.connect(lambda: painted.append(time.perf_counter()))
        page.completed.connect(lambda: completed.append(time.perf_counter()))
        page.resize(1280, 800)
        page.show()
        if page.is_loading():
            wait_for(page.loaded)
        if not painted:
            wait_for(page.painted)
        if not completed:
            wait_for(page.completed)
        opened = (painted[0] - t) * 1000
        app.processEvents()
        assert page.isVisible() and page.data is not None
        page.close()
        page.deleteLater()
        return opened

    rng = random.Random(4)
    samples, complete = [], []
    for _ in range(rounds):
        who = rng.choice((sales, manager))
        settle()
        t = time.perf_counter()
        samples.append(open_page(DashboardPage, who))
        complete.append((time.perf_counter() - t) * 1000)
        app.processEvents()
    own = _page_rss(path, "dashboard", sales)
    out.append(figure("dashboard_open", samples, rss_mb=own, runner_rss_mb=rss_mb(), customers=customers,
                      **db_label()))
    out.append(figure("dashboard_complete", complete, **db_label()))

    # The dashboard chosen again in the side bar after work elsewhere changed it: the program builds the page
    # once (at start-up, after the window's first paint) and then reads and fills it again when it is shown.
    pages = {}
    for who in (sales, manager):
        ctx = AppContext()
        ctx.user_id = who
        pages[who] = DashboardPage(ctx)
        pages[who].resize(1280, 800)
    samples = []
    for _ in range(rounds):
        page = pages[rng.choice((sales, manager))]
        page.hide()
        app.processEvents()
        page._changed()                       # a change heard while hidden: read again when shown
        settle()
        t = time.perf_counter()
        page.show()
        app.processEvents()
        samples.append((time.perf_counter() - t) * 1000)
    for page in pages.values():
        page.close()
        page.deleteLater()
    app.processEvents()
    out.append(figure("dashboard_reopen", samples, **db_label()))

    # The inbox shows its first rows at once and appends the rest from a worker thread: inbox_5000_open is until
    # the first rows are painted, inbox_5000_complete until all 5,000 are in the list.
    samples, complete = [], []
    for _ in range(rounds):
        ctx = AppContext()
        ctx.user_id = inbox_user
        settle()
        t = time.perf_counter()
        page = TasksPage(ctx)
        page.resize(1280, 800)
        page.show()
        app.processEvents()
        samples.append((time.perf_counter() - t) * 1000)
        wait_until(lambda page=page: not page.is_partial(), 60)      # the event loop sleeps meanwhile
        complete.append((time.perf_counter() - t) * 1000)
        assert page.model.rowCount() == INBOX_SIZE
        page.close()
        page.deleteLater()
        app.processEvents()
    own = _page_rss(path, "inbox", inbox_user)
    out.append(figure("inbox_5000_open", samples, rss_mb=own, runner_rss_mb=rss_mb(), **db_label()))
    out.append(figure("inbox_5000_complete", complete, **db_label()))
    out += _owner_pages(app, manager, 5 if quick else 10)
    collector.stop()
    return out


def _owner_pages(app, manager: int, rounds: int) -> list[dict]:
    """The pages an owner opens on the same data, as a manager (the whole office's money): each built, filled and
    shown until its first paint. Each read or summed whole tables on the GUI thread once (at a million customers
    the reports page took 6 s, the money page 1.6 s)."""
    from ui.context import AppContext
    from ui.money.page import MoneyPage
    from ui.reports.page import ReportsPage
    from ui.sales.documents_tab import DocumentsTab

    def page_of(cls):
        def make():
            ctx = AppContext()
            ctx.user_id = manager
            return cls(ctx)
        return make

    out = []
    for name, cls in (("money_page_open", MoneyPage), ("reports_page_open", ReportsPage),
                      ("invoice_list_open_large", DocumentsTab)):
        samples = [opened_ms(app, page_of(cls)) for _ in range(rounds + 1)]
        out.append(figure(name, samples[1:], **db_label()))     # the first builds the module's statements
    # what each reads on a reader thread once it shows: from building the page to its report's chart drawn, to
    # the money page's first tab filled, and to the invoice list's rows drawn
    for name, cls in (("reports_page_complete", ReportsPage), ("money_page_complete", MoneyPage),
                      ("invoice_list_complete_large", DocumentsTab)):
        samples = [opened_ms(app, page_of(cls), until=lambda page: not page.reading) for _ in range(rounds + 1)]
        out.append(figure(name, samples[1:], **db_label()))
    return out


# The program's own memory with one page open (a process of its own, as bench_customers measures the list):
# rss_mb of dashboard_open and inbox_5000_open. The runner's (runner_rss_mb) holds the seeding and every page it
# opened; the quick and full datasets side by side show whether a page's memory grows with the database.
_PAGE_RSS = ("import os,sys;os.environ['QT_QPA_PLATFORM']='offscreen';"
             "from ui.application import setup_qt_app;app=setup_qt_app();"
             "from bench.common import open_dataset;from pathlib import Path;open_dataset(Path(sys.argv[1]));"
             "from ui.context import AppContext;ctx=AppContext();ctx.user_id=int(sys.argv[3]);"
             "from ui.dashboard.page import DashboardPage;from ui.tasks.page import TasksPage;"
             "p=(DashboardPage if sys.argv[2]=='dashboard' else TasksPage)(ctx);p.resize(1280,800);p.show();"
             "app.processEvents();"
             "print('RSS',int(open('/proc/self/statm').read().split()[1])*os.sysconf('SC_PAGE_SIZE')/1e6)")


def _page_rss(path, which: str, user_id: int) -> float | None:
    from bench.bench_customers import _run_py

    got = _run_py(_PAGE_RSS, str(path), which, str(user_id)).get("RSS")
    return round(got, 1) if got else None
