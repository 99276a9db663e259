"""The dashboard page: every section filled from real rows, counts, a manager's per-colleague table,
refresh on its own when data changes, and each item opening its task, call, meeting or customer."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication

from app import fmt
from app.core import clock
from app.tasks import meetings
from app.tasks import service as ts
from models.calls import Call
from tests.tasks.helpers import customer, j, user
from ui.context import AppContext


@pytest.fixture
def day(db):
    reza, amir = user("رضا کریمی", "reza"), user("امیر حسینی", "amir", role="manager")
    ali = customer("علی", "رضایی", "09121234567", birthday=j(1369, 9, 3).date())
    sara = customer("سارا", "محمدی", "09125556677", anniversary=j(1390, 9, 3).date())
    clock.set_now(j(1405, 9, 3, 8, 0))
    over = ts.create_task({"title": "ارسال پیش‌فاکتور", "due_at": j(1405, 9, 1, 10), "customer_id": ali,
                           "priority": 3}, user=reza)
    today = ts.create_task({"title": "تماس با علی رضایی", "kind": "call", "due_at": j(1405, 9, 3),
                            "all_day": True, "customer_id": ali}, user=reza)
    meet = meetings.create_meeting({"customer_id": sara, "start_at": j(1405, 9, 3, 11, 30),
                                    "subject": "جلسه معرفی محصول"}, user=reza)
    missed = Call.create(customer=sara, direction="in", state="missed", number="09125556677",
                         started_at=j(1405, 9, 2, 18, 0), handled=False)
    Call.create(customer=None, direction="in", state="ended", number="02188776655",
                started_at=j(1405, 9, 2, 19, 0), handled=False)
    return {"reza": reza, "amir": amir, "ali": ali, "sara": sara, "over": over.id, "today": today.id,
            "meeting": meet.id, "missed": missed.id}


def _page(qtbot, user_id):
    from ui.dashboard.page import DashboardPage

    ctx = AppContext()
    ctx.user_id = user_id
    page = DashboardPage(ctx)
    qtbot.addWidget(page)
    page.resize(1200, 900)
    page.show()
    return page


def test_sections_counts_and_persian_text(qtbot, day):
    page = _page(qtbot, day["reza"])
    assert page.title.text() == "پیشخوان — سه‌شنبه ۳ آذر ۱۴۰۵ — رضا کریمی"
    assert page.texts("overdue") == ["۱۴۰۵/۰۹/۰۱ ۱۰:۰۰  ارسال پیش‌فاکتور — علی رضایی (فوری)"]
    assert page.texts("today") == ["در طول روز  تماس با علی رضایی"]
    assert page.texts("meetings") == ["۱۱:۳۰  جلسه معرفی محصول — سارا محمدی"]
    assert page.texts("dates") == ["تولد علی رضایی (۳۶ سال) — \u2066۰۹۱۲ ۱۲۳ ۴۵۶۷\u2069",
                                   "سالگرد ازدواج سارا محمدی (۱۵ سال) — \u2066۰۹۱۲ ۵۵۵ ۶۶۷۷\u2069"]
    assert page.texts("missed") == ["۱۴۰۵/۰۹/۰۲ ۱۸:۰۰  سارا محمدی — \u2066۰۹۱۲ ۵۵۵ ۶۶۷۷\u2069"]
    assert page.texts("unhandled") == ["۱۴۰۵/۰۹/۰۲ ۱۹:۰۰  ناشناس — \u2066۰۲۱ ۸۸۷۷ ۶۶۵۵\u2069"]
    assert page.cards["overdue"].count.text() == "۱" and page.calls_btn.text() == "تماس‌های امروز من (۱)"
    assert page.team.isHidden()
    boss = _page(qtbot, day["amir"])
    assert not boss.team.isHidden()
    assert [boss.team_table.item(0, c).text() for c in range(4)] == ["رضا کریمی", "۲", "۱", "۱"]


def test_refreshes_on_its_own_and_items_open(qtbot, day):
    page = _page(qtbot, day["reza"])
    bus = page.ctx.bus
    ts.set_done(day["today"], True)
    bus.data_changed.emit("tasks")
    qtbot.waitUntil(lambda: page.texts("today") == ["برای امروز کاری ثبت نشده است."], timeout=3000)
    # a task item opens the task dialog
    item = page.cards["overdue"].list.item(0)
    page.cards["overdue"].list.itemActivated.emit(item)
    dialogs = [w for w in QApplication.topLevelWidgets() if type(w).__name__ == "TaskDialog" and w.isVisible()]
    assert dialogs and dialogs[0].task_id == day["over"] and dialogs[0].title.text() == "ارسال پیش‌فاکتور"
    dialogs[0].close()
    # a missed call opens the call dialog on that call (through the bus)
    with qtbot.waitSignal(bus.log_call) as sig:
        page.cards["missed"].list.itemActivated.emit(page.cards["missed"].list.item(0))
    assert sig.args == [day["sara"], day["missed"]]
    with qtbot.waitSignal(bus.open_customer) as sig:
        page.cards["dates"].list.itemActivated.emit(page.cards["dates"].list.item(0))
    assert sig.args == [day["ali"]]
    # time passing alone moves today's work to overdue (the minute tick)
    ts.set_done(day["today"], False)
    clock.set_now(j(1405, 9, 4, 8, 0))
    page._changed()
    qtbot.waitUntil(lambda: len(page.texts("overdue")) == 2, timeout=3000)
    assert "۴ آذر" in page.title.text()


def test_hidden_page_refreshes_when_shown(qtbot, day):
    page = _page(qtbot, day["reza"])
    page.hide()
    ts.create_task({"title": "کار تازه امروز", "due_at": j(1405, 9, 3, 15)}, user=day["reza"])
    page.ctx.bus.data_changed.emit("tasks")
    assert not any("کار تازه امروز" in t for t in page.texts("today"))
    page.show()
    assert any("کار تازه امروز" in t for t in page.texts("today"))
    assert page.last_load_ms > 0
    page.cards["today"].list.setCurrentRow(0)
    assert page.cards["today"].list.currentItem().data(Qt.ItemDataRole.UserRole)[0] == "task"


def test_money_cards_and_forecast(qtbot, anydb):
    """The owner's money on the morning screen: figures from tests/sales/money_fixture.py (worked by hand)."""
    from tests.sales.money_fixture import build

    ids = build()
    page = _page(qtbot, ids["boss"])
    assert page.cards["money_overdue"].title.text() == "فاکتورهای سررسیدگذشته — ۲۹٬۰۰۰٬۰۰۰ ریال"
    assert page.cards["money_overdue"].count.text() == "۳"
    overdue = page.texts("money_overdue")
    assert overdue[0].endswith("شرکت نور — ۲۰٬۰۰۰٬۰۰۰ ریال — ۷۰ روز دیرکرد")
    assert overdue[2].endswith("علی رضایی — ۳٬۰۰۰٬۰۰۰ ریال — ۴ روز دیرکرد")
    assert page.cards["money_cheques"].title.text() == (
        "چک‌های سررسید این هفته — دریافتی ۵٬۰۰۰٬۰۰۰ ریال، پرداختی ۸٬۵۰۰٬۰۰۰ ریال")
    assert page.texts("money_cheques") == [
        "۱۴۰۵/۰۸/۲۹  چک پرداختی ۹۰۰۳ تجارت در وجه پخش البرز — ۱٬۵۰۰٬۰۰۰ ریال (سررسید گذشته)",
        "۱۴۰۵/۰۹/۰۵  چک پرداختی ۹۰۰۱ تجارت در وجه پخش البرز — ۷٬۰۰۰٬۰۰۰ ریال",
        "۱۴۰۵/۰۹/۰۶  چک دریافتی ۱۱۱۲۲۲ ملت از سارا محمدی — ۵٬۰۰۰٬۰۰۰ ریال"]
    assert page.cards["money_bounced"].title.text() == "چک‌های برگشتی — ۲۲٬۵۰۰٬۰۰۰ ریال"
    assert page.texts("money_collection") == [
        "شرکت نور — ۲۰٬۰۰۰٬۰۰۰ ریال — \u2066۰۲۱ ۸۸۷۷ ۶۶۵۵\u2069",
        "علی رضایی — ۹٬۰۰۰٬۰۰۰ ریال — \u2066۰۹۱۲ ۱۲۳ ۴۵۶۷\u2069"]
    t = page.forecast_table
    assert [t.model().index(r, 0).data() for r in range(t.model().rowCount())] == [
        "سررسید گذشته", "آذر ۱۴۰۵", "دی ۱۴۰۵", "بهمن ۱۴۰۵", "اسفند ۱۴۰۵", "جمع"]
    assert [t.model().index(1, c).data() for c in range(1, 5)] == ["۳٬۰۰۰٬۰۰۰", "۵٬۰۰۰٬۰۰۰", "۷٬۰۰۰٬۰۰۰", "۱٬۰۰۰٬۰۰۰"]
    assert t.model().index(5, 4).data() == "۳۲٬۵۰۰٬۰۰۰"        # 27.5 + 1 + 2 + 2 million
    # a rep sees only their customers' money, and none of the office's own cheques
    rep = _page(qtbot, ids["reza"])
    assert rep.cards["money_cheques"].title.text() == "چک‌های سررسید این هفته — دریافتی ۰ ریال"
    assert rep.texts("money_bounced") == [
        "۱۴۰۵/۰۷/۰۹  چک دریافتی ۵۵۵۶۶۶ صادرات از شرکت نور — ۲۰٬۰۰۰٬۰۰۰ ریال"]
    # an overdue invoice opens the payments dialog on that invoice
    page.cards["money_overdue"].list.itemActivated.emit(page.cards["money_overdue"].list.item(0))
    dialogs = [w for w in QApplication.topLevelWidgets() if type(w).__name__ == "PaymentsDialog" and w.isVisible()]
    assert dialogs and dialogs[0].customer_id == ids["nour"]
    dialogs[0].close()



def test_the_part_below_the_first_screen_follows_its_first_paint(qtbot, anydb):
    """Read in the background (as the program starts): the first screen is painted before the colleagues' counts,
    the money cards and the forecast are made, and before the money cards' summary is read; all of it follows,
    the same as a page read at once."""
    from tests.sales.money_fixture import build
    from ui.dashboard.page import DashboardPage

    ids = build()
    whole = _page(qtbot, ids["boss"])
    keys = ["money_overdue", "money_cheques", "money_bounced", "money_collection"]
    expected = {k: (whole.cards[k].title.text(), whole.cards[k].count.text(), whole.texts(k)) for k in keys}
    model = whole.forecast_table.model()
    forecast = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]
    team = [[whole.team_table.item(r, c).text() for c in range(4)] for r in range(whole.team_table.rowCount())]
    assert forecast

    page = DashboardPage(AppContext(user_id=ids["boss"]), load_in_background=True)
    qtbot.addWidget(page)
    seen: dict[str, object] = {}
    page.loaded.connect(lambda: seen.setdefault("money_at_load", page.data.money))
    page.painted.connect(lambda: seen.setdefault("cards_at_paint", sorted(page.cards)))
    page.resize(1200, 900)
    with qtbot.waitSignal(page.completed, timeout=10_000):
        page.show()
    assert seen["money_at_load"] is None                         # the first read left the money out
    assert not set(keys) & set(seen["cards_at_paint"])            # and the first paint had no money cards
    assert {k: (page.cards[k].title.text(), page.cards[k].count.text(), page.texts(k)) for k in keys} == expected
    model = page.forecast_table.model()
    assert [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())] \
        == forecast
    assert not page.forecast.isHidden() and not page.team.isHidden()
    assert [[page.team_table.item(r, c).text() for c in range(4)] for r in range(page.team_table.rowCount())] == team
    # a later refresh reads everything at once, money included
    page.refresh_in_background()
    qtbot.waitUntil(lambda: not page.is_loading() and page.data.money is not None, timeout=10_000)
    assert {k: (page.cards[k].title.text(), page.cards[k].count.text(), page.texts(k)) for k in keys} == expected


def test_a_page_shown_again_after_a_change_reads_the_money_after_its_first_screen(qtbot, anydb):
    """Chosen again in the side bar after money came in: the first screen is read and filled at once, and the money
    cards' summary follows from a worker, with the payment in it."""
    from app.sales.payments import record_payment
    from tests.sales.money_fixture import build

    ids = build()
    page = _page(qtbot, ids["boss"])
    assert page.cards["money_overdue"].title.text() == "فاکتورهای سررسیدگذشته — ۲۹٬۰۰۰٬۰۰۰ ریال"
    page.hide()
    record_payment(ids["ali"], "cash", 3_000_000, allocations={ids["A2"]: 3_000_000})
    page.ctx.bus.data_changed.emit("sales")
    with qtbot.waitSignal(page.completed, timeout=10_000):
        page.show()
        assert page.data.below is False and page.data.money is None    # shown before the money is read
        card = page.cards["money_overdue"]            # which says it is being read, not the last figures
        assert (card.title.text(), card.count.text(), page.texts("money_overdue")) == ("فاکتورهای سررسیدگذشته", "…", [])
    assert page.data.money is not None
    assert page.cards["money_overdue"].title.text() == "فاکتورهای سررسیدگذشته — ۲۶٬۰۰۰٬۰۰۰ ریال"
    assert page.cards["money_overdue"].count.text() == "۲"


def test_a_page_chosen_again_and_again_reads_its_money_once_at_a_time(qtbot, db, monkeypatch):
    """Ten quick openings queue no more than one read of the money behind the one under way (each was queued on
    the worker before, and every other page's read waited behind them), and the page ends with the money as it is."""
    import threading

    from app.reports import dashboard as dash
    from app.sales.payments import record_payment
    from tests.sales.money_fixture import build

    ids = build()
    page = _page(qtbot, ids["boss"])
    reads, gate = [], threading.Event()
    real = dash.read_below

    def slow_read(d):
        reads.append(d)
        gate.wait(10)                      # the first read is held until the openings are over
        return real(d)

    monkeypatch.setattr(dash, "read_below", slow_read)
    for _ in range(10):
        page.hide()
        page._changed()
        page.show()
    qtbot.waitUntil(lambda: len(reads) == 1, timeout=5000)
    record_payment(ids["ali"], "cash", 3_000_000, allocations={ids["A2"]: 3_000_000})
    page.hide()
    page._changed()
    with qtbot.waitSignal(page.completed, timeout=10_000):
        page.show()
        gate.set()
    assert len(reads) == 2                 # the one held, then one for the page as it was last read
    assert page.cards["money_overdue"].title.text() == "فاکتورهای سررسیدگذشته — ۲۶٬۰۰۰٬۰۰۰ ریال"


def test_a_managers_colleague_counts_follow_the_first_paint(qtbot, day):
    """The first read of a page read in the background leaves out each colleague's open tasks (only the part below
    the first screen shows them): the totals above are the same, and the table below follows, the same as a page
    read at once."""
    from ui.dashboard.page import DashboardPage

    whole = _page(qtbot, day["amir"])
    team = [[whole.team_table.item(r, c).text() for c in range(4)] for r in range(whole.team_table.rowCount())]
    assert team == [["رضا کریمی", "۲", "۱", "۱"]]
    page = DashboardPage(AppContext(user_id=day["amir"]), load_in_background=True)
    qtbot.addWidget(page)
    seen: dict[str, object] = {}
    page.loaded.connect(lambda: seen.setdefault("open", [r["open"] for r in page.data.per_user]))
    page.resize(1200, 900)
    with qtbot.waitSignal(page.completed, timeout=10_000):
        page.show()
    assert seen["open"] == [None]
    for key in ("overdue", "today"):
        assert page.cards[key].count.text() == whole.cards[key].count.text() and page.texts(key) == whole.texts(key)
    assert not page.team.isHidden()
    assert [[page.team_table.item(r, c).text() for c in range(4)] for r in range(page.team_table.rowCount())] == team

def _start_window(day, user_id):
    from ui.main_window import MainWindow

    ctx = AppContext()
    ctx.user_id = user_id
    return MainWindow(ctx, start_callerid=True, first_page_after_paint=True)


def test_window_paints_before_the_dashboard_is_built_and_read(qtbot, day, monkeypatch):
    """The program's start: the window is on screen first, then the dashboard is built while its rows are read on
    a worker thread, then (after that read) the background services start, once."""
    from ui.main_window import MainWindow

    started = []
    monkeypatch.setattr(MainWindow, "_start_background", lambda self: started.append(self.pages.get("dashboard")))
    win = _start_window(day, day["reza"])
    qtbot.addWidget(win)
    assert "dashboard" not in win.pages and win.stack.currentWidget() is win._stand_in
    assert win.nav.currentRow() == 0
    with qtbot.waitSignal(win.first_page_ready, timeout=5000):
        win.show()
    page = win.pages["dashboard"]
    assert win.stack.currentWidget() is page and win._stand_in is None
    qtbot.waitUntil(lambda: not page.is_loading() and bool(started), timeout=5000)
    assert page.texts("overdue") == ["۱۴۰۵/۰۹/۰۱ ۱۰:۰۰  ارسال پیش‌فاکتور — علی رضایی (فوری)"]
    assert page.title.text() == "پیشخوان — سه‌شنبه ۳ آذر ۱۴۰۵ — رضا کریمی"
    assert page.cards["overdue"].count.text() == "۱"
    assert started == [page]
    qtbot.wait(1100)                           # the fallback timer does not start them a second time
    assert started == [page]


def test_a_section_chosen_before_the_first_paint_stays(qtbot, day, monkeypatch):
    from ui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "_start_background", lambda self: None)
    win = _start_window(day, day["reza"])
    qtbot.addWidget(win)
    win.show_section("tasks")
    with qtbot.waitSignal(win.first_page_ready, timeout=5000):
        win.show()
    assert win.stack.currentWidget() is win.pages["tasks"] and "dashboard" not in win.pages
    win.show_section("dashboard")                # built when chosen, read on a worker thread
    qtbot.waitUntil(lambda: win.pages["dashboard"].texts("today") == ["در طول روز  تماس با علی رضایی"],
                    timeout=5000)


def test_a_read_started_before_a_later_one_is_not_shown(qtbot, day):
    """A background read that an immediate refresh overtook is dropped: the page never goes back in time."""
    page = _page(qtbot, day["reza"])
    page.refresh_in_background()
    ts.create_task({"title": "کار تازه امروز", "due_at": j(1405, 9, 3, 15)}, user=day["reza"])
    page.refresh()
    assert any("کار تازه امروز" in t for t in page.texts("today"))
    qtbot.waitUntil(lambda: not page.is_loading(), timeout=5000)
    assert any("کار تازه امروز" in t for t in page.texts("today"))


def test_changes_during_a_read_are_read_again(qtbot, day):
    page = _page(qtbot, day["reza"])
    page.refresh_in_background()
    ts.create_task({"title": "کار تازه امروز", "due_at": j(1405, 9, 3, 15)}, user=day["reza"])
    page.refresh_in_background()               # asked again while the first read runs
    qtbot.waitUntil(lambda: any("کار تازه امروز" in t for t in page.texts("today")), timeout=5000)
    qtbot.waitUntil(lambda: not page.is_loading(), timeout=5000)


def test_a_long_card_is_painted_with_its_first_rows_and_filled_right_after(qtbot, day):
    """A read that arrives through the event loop makes the first screenful of each card before the page is
    painted; the rest of the rows and the «… و N مورد دیگر» row follow the paint, all of them, in order."""
    from app.reports import dashboard as dash
    from ui.dashboard.page import DashboardPage

    for i in range(dash.SECTION_LIMIT + 5):
        ts.create_task({"title": f"پیگیری شماره {i:02d}", "due_at": j(1405, 9, 2, 9, 0), "customer_id": day["ali"]},
                       user=day["reza"])
    page = _page(qtbot, day["reza"])
    expected = page.texts("overdue")
    assert len(expected) == dash.SECTION_LIMIT + 1 and expected[-1] == "… و ۶ مورد دیگر"
    page.hide()
    QApplication.processEvents()
    lst = page.cards["overdue"].list
    seen_at_load: list[int] = []
    painted: list[int] = []
    page.loaded.connect(lambda: seen_at_load.append(lst.count()))
    at_painted: list[int] = []
    page.painted.connect(lambda: at_painted.append(lst.count()))

    class Watch(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and seen_at_load:
                painted.append(lst.count())
            return False

    watch = Watch()
    lst.viewport().installEventFilter(watch)
    page.show()
    page.refresh_in_background()
    qtbot.waitUntil(lambda: bool(seen_at_load), timeout=5000)
    assert seen_at_load == [DashboardPage.FIRST_ROWS]
    qtbot.waitUntil(lambda: lst.count() == len(expected), timeout=5000)
    assert painted[0] == DashboardPage.FIRST_ROWS           # painted with the first rows, then the rest came
    assert at_painted == [DashboardPage.FIRST_ROWS]         # said once, after that paint, before the rest
    assert [lst.item(i).text() for i in range(lst.count())] == expected
    assert page.texts("overdue") == expected


def test_a_cards_count_turns_red_when_it_alerts_and_back_when_it_does_not(qtbot, db):
    from PySide6.QtGui import QColor

    from ui.dashboard.page import CARD_STYLE, Card

    card = Card("عقب‌افتاده", "چیزی نیست.")
    card.setStyleSheet(CARD_STYLE)
    qtbot.addWidget(card)
    card.resize(300, 200)
    card.show()

    def red() -> bool:
        QApplication.processEvents()
        img = card.count.grab().toImage()
        return img.pixelColor(1, img.height() // 2) == QColor("#dc2626")

    for n, alert, want in ((3, True, True), (4, True, True), (0, True, False), (5, False, False), (2, True, True),
                           (2, False, False)):
        card.set_count(n, alert=alert)
        assert card.count.text() == {0: "۰", 2: "۲", 3: "۳", 4: "۴", 5: "۵"}[n]
        assert red() is want, (n, alert)


def test_a_day_of_many_birthdays_shows_the_first_and_lists_all_on_request(qtbot, day):
    """An office with thousands of customers has more occasions on a day than a card holds: the card shows the
    first SECTION_LIMIT (the rep's own customers first), counts them all, and its last row opens a list of every
    one, narrowed by what is typed, each opening its customer's file."""
    from app.reports.dashboard import SECTION_LIMIT
    from ui.dashboard.dates_dialog import DatesDialog

    extra = SECTION_LIMIT + 3
    ids = [customer(f"مشتری{i:02d}", "تولدی", f"0913{i:07d}", birthday=j(1370, 9, 3).date(),
                    assigned_to=day["reza"] if i % 10 == 7 else None) for i in range(extra)]
    page = _page(qtbot, day["reza"])
    rows = page.texts("dates")
    total = extra + 2                                  # and the fixture's birthday and anniversary
    assert len(rows) == SECTION_LIMIT + 1 and rows[-1] == f"… و {fmt.count(total - SECTION_LIMIT, 'مورد دیگر')}"
    assert page.cards["dates"].count.text() == fmt.num(total)
    assert [t for t in rows[:5]] == [f"تولد مشتری{i:02d} تولدی (۳۵ سال) — {fmt.phone(f'0913{i:07d}')}"
                                     for i in (7, 17, 27, 37, 47)]
    lst = page.cards["dates"].list
    lst.itemActivated.emit(lst.item(lst.count() - 1))
    dlg = next(w for w in QApplication.topLevelWidgets() if isinstance(w, DatesDialog) and w.isVisible())
    assert dlg.list.count() == total and dlg.head.text().endswith(fmt.count(total, "مورد"))
    assert [dlg.list.item(i).text() for i in range(SECTION_LIMIT)] == rows[:SECTION_LIMIT]
    dlg.filter.setText("۰۹۱۳ ۰۰۰۰۰۵۱")                   # a number as typed, Persian digits
    shown = [dlg.list.item(i) for i in range(dlg.list.count()) if not dlg.list.item(i).isHidden()]
    assert [i.text() for i in shown] == [f"تولد مشتری51 تولدی (۳۵ سال) — {fmt.phone('09130000051')}"]
    assert dlg.list.currentItem() is shown[0]
    with qtbot.waitSignal(page.ctx.bus.open_customer) as sig:
        dlg.open_button.click()
    assert sig.args == [ids[51]] and not dlg.isVisible()


@pytest.mark.parametrize("which", ["dashboard", "audit", "inbox"])
def test_a_page_closed_while_the_bus_lives_is_freed(qtbot, day, which):
    """Signing out closes the window while the program (and a bus another window may share) goes on: a page
    connected to the bus through a lambda would be kept, with all it shows, for as long as the program runs.
    Once closed and deleted, each page is freed (its wrapper gone after a collection)."""
    import gc
    import weakref

    from PySide6.QtCore import QCoreApplication, QEvent

    from ui.dashboard.page import DashboardPage
    from ui.office.audit_page import AuditPage
    from ui.tasks.page import TasksPage

    ctx = AppContext()
    ctx.user_id = day["reza"]
    page = {"dashboard": DashboardPage, "audit": AuditPage, "inbox": TasksPage}[which](ctx)
    page.resize(1000, 700)
    page.show()
    qtbot.wait(300)                                    # a refresh or count timer may fire meanwhile
    ref = weakref.ref(page)
    page.close()
    page.deleteLater()
    del page
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    assert ref() is None
    ctx.bus.data_changed.emit("tasks")                 # the bus goes on: nothing left listening breaks
    ctx.bus.customer_changed.emit(day["ali"])


def test_a_window_signed_out_of_is_freed_with_every_page(qtbot, day):
    """«خروج از حساب» closes the window and opens a new one for the next person, all day at a shared desk: the old
    window, with every page it had opened and its background services, must be freed, not kept by a connection
    (a lambda on the bus, a hidden filter widget with no parent) for as long as the program runs."""
    import gc
    import weakref

    from PySide6.QtCore import QCoreApplication, QEvent

    from ui.main_window import SECTIONS

    win = _start_window(day, day["reza"])
    with qtbot.waitSignal(win.first_page_ready, timeout=5000):
        win.show()
    qtbot.waitUntil(lambda w=win: getattr(w, "callerid", None) is not None, timeout=5000)
    for key, *_rest in SECTIONS:
        win.show_section(key)
    qtbot.wait(300)
    assert len(win.pages) == len(SECTIONS)
    refs = [weakref.ref(win)] + [weakref.ref(p) for p in win.pages.values()]
    win.close()
    win.deleteLater()
    del win
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qtbot.wait(50)
    gc.collect()
    assert [r() for r in refs if r() is not None] == []
