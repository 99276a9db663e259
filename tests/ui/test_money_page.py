"""The «مطالبات و چک‌ها» page: the collection list worked like a call list (call, log the result, next
follow-up), the cheques with «ثبت چک پرداختی», and the forecast; figures from tests/sales/money_fixture.py."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from PySide6.QtWidgets import QApplication

from app import fmt
from models.calls import Call
from models.sales import IssuedCheque
from models.tasks import Task
from tests.sales.money_fixture import build
from ui.context import AppContext
from ui.widgets.rows_table import select_row


@pytest.fixture
def office(db):
    return build()


def _page(qtbot, user_id):
    from ui.money.page import MoneyPage

    ctx = AppContext()
    ctx.user_id = user_id
    page = MoneyPage(ctx)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    return _settled(qtbot, page)


def _settled(qtbot, page):
    """The page once every read asked for is drawn (each tab reads on a reader thread)."""
    qtbot.waitUntil(lambda: not page.reading, timeout=5000)
    return page


def _cells(model, row):
    return [model.data(model.index(row, c)) for c in range(model.columnCount())]


def _visible(name):
    return [w for w in QApplication.topLevelWidgets() if type(w).__name__ == name and w.isVisible()]


def test_models_pass_the_tester(qtbot, qtmodeltester, office):
    page = _page(qtbot, office["boss"])
    qtmodeltester.check(page.collection.model)
    qtmodeltester.check(page.cheques.model)


def test_collection_call_log_and_follow_up(qtbot, office):
    page = _page(qtbot, office["boss"])
    tab = page.collection
    assert [_cells(tab.model, r)[:5] for r in range(tab.model.rowCount())] == [
        ["شرکت نور", "\u2066۰۲۱ ۸۸۷۷ ۶۶۵۵\u2069", "۲۰٬۰۰۰٬۰۰۰", "۷۰ روز", "۲۰٬۰۰۰٬۰۰۰"],
        ["علی رضایی", "\u2066۰۹۱۲ ۱۲۳ ۴۵۶۷\u2069", "۹٬۰۰۰٬۰۰۰", "۲۴ روز", ""]]
    assert tab.summary.text().startswith("۲ پیگیری") and "۲۹٬۰۰۰٬۰۰۰" in tab.summary.text()
    # one click on «تماس»: no modem here, so the reason is shown and the result form opens at once
    select_row(tab.view, 1)
    assert tab.selected().name == "علی رضایی"
    assert tab.call_btn.isEnabled()
    tab.call_btn.click()
    assert "شناسه تماس روشن نیست" in tab.dial_note.text()
    dlg = _visible("CollectionCallDialog")[0]
    assert dlg.dir_out.isChecked() and dlg.customer.customer_id() == office["ali"]
    assert dlg.header.text().startswith("پیگیری مطالبات — علی رضایی — ۹٬۰۰۰٬۰۰۰ ریال")
    dlg.result.setCurrentIndex(dlg.result.findData("answered"))
    dlg.note.setPlainText("قول داد پنج‌شنبه واریز کند")
    assert dlg.save()
    call = Call.select().where(Call.customer == office["ali"]).get()
    assert call.direction == "out" and call.result == "answered" and call.note == "قول داد پنج‌شنبه واریز کند"
    task = Task.get(Task.customer == office["ali"])
    assert task.kind == "call" and task.due_at == dt.datetime(2026, 11, 27)
    # with a follow-up three days on, ali is scheduled: the «today only» list shows nour alone
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=3000)
    assert _cells(tab.model, 0)[0] == "شرکت نور"
    tab.due_only.setChecked(False)
    _settled(qtbot, page)
    assert [_cells(tab.model, r)[0] for r in range(2)] == ["شرکت نور", "علی رضایی"]
    assert _cells(tab.model, 1)[5] == "۱۴۰۵/۰۹/۰۳" and _cells(tab.model, 1)[6] == "۱۴۰۵/۰۹/۰۶"
    # «پیگیری بعدی…» on nour: a bad date is refused in Persian and nothing is written
    select_row(tab.view, 0)
    fu = tab.follow_up()
    fu.when.date.setText("1405/13/01")
    assert not fu.save()
    assert Task.select().where(Task.customer == office["nour"]).count() == 0
    fu.when.set_value(dt.datetime(2026, 11, 30), True)
    assert fu.save()
    assert Task.get(Task.customer == office["nour"]).kind == "followup"


def test_issued_cheque_dialog_and_states(qtbot, office):
    page = _page(qtbot, office["boss"])
    tab = page.cheques
    assert tab.model.rowCount() == 0                 # read when its tab is chosen, not with the page
    page.tabs.setCurrentWidget(tab)
    _settled(qtbot, page)
    assert [_cells(tab.model, r)[1] for r in range(tab.model.rowCount())] == ["۹۰۰۳", "۹۰۰۱", "۱۱۱۲۲۲"]
    summary = tab.summary.text()
    assert summary.startswith("۳ چک") and "۵٬۰۰۰٬۰۰۰" in summary and "۸٬۵۰۰٬۰۰۰" in summary
    dlg = tab.new_cheque()
    dlg.number.setText("۴۴۵۵")
    dlg.bank.setText("ملت")
    dlg.amount.setText("۲۵۰۰۰۰۰")
    assert dlg.amount_hint.text() == "۲٬۵۰۰٬۰۰۰ ریال"
    assert not dlg.save()                       # no payee, no due date: Persian messages, nothing written
    assert dlg.errors.message("payee") and dlg.errors.message("due_date")
    assert IssuedCheque.select().where(IssuedCheque.number == "4455").count() == 0
    dlg.payee.setText("شرکت پخش البرز")
    dlg.due.setText("1405/09/07")
    assert dlg.save()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 4, timeout=3000)
    row = next(r for r in range(4) if _cells(tab.model, r)[1] == "۴۴۵۵")
    assert _cells(tab.model, row)[3:5] == ["۲٬۵۰۰٬۰۰۰", "۱۴۰۵/۰۹/۰۷"]
    # mark it cleared: it leaves the week's list
    select_row(tab.view, row)
    assert tab.set_state("cleared")
    _settled(qtbot, page)
    assert "۴۴۵۵" not in [_cells(tab.model, r)[1] for r in range(tab.model.rowCount())]
    assert IssuedCheque.get(IssuedCheque.number == "4455").state == "cleared"


def test_forecast_tab_and_rep_scope(qtbot, qtmodeltester, office):
    page = _page(qtbot, office["boss"])
    page.tabs.setCurrentWidget(page.forecast)
    t = page.forecast.table
    qtmodeltester.check(t.model())
    page.forecast.months.setCurrentIndex(0)          # three months
    _settled(qtbot, page)
    assert [t.model().index(r, 0).data() for r in range(t.model().rowCount())] == [
        "سررسید گذشته", "آذر ۱۴۰۵", "دی ۱۴۰۵", "بهمن ۱۴۰۵", "جمع"]
    assert t.model().index(0, 4).data() == "۲۷٬۵۰۰٬۰۰۰"
    rep = _page(qtbot, office["reza"])
    rep.tabs.setCurrentWidget(rep.forecast)
    _settled(qtbot, rep)
    assert rep.scope.isHidden() and rep.cheques.new_btn.isHidden()
    assert rep.forecast.table.model().index(0, 3).data() == "—"          # no office cheques for a rep


def test_long_lists_show_their_first_rows_and_figures_over_every_row(qtbot, office, monkeypatch):
    """An office with tens of thousands of debtors and cheques: each list reads its first rows only (the most
    urgent debtors, the list's own order of cheques), and its figures and count still cover the whole list."""
    from app.core.clock import today
    from app.money import cheques, collection
    from ui.money.page import ChequesTab, CollectionTab

    monkeypatch.setattr(CollectionTab, "LIMIT", 1)
    monkeypatch.setattr(ChequesTab, "LIMIT", 1)
    page = _page(qtbot, office["boss"])
    tab = page.collection
    full = collection.collection_list(today(), None, due_only=True)
    assert len(full) == 2 and tab.model.rows == full[:1]
    assert tab.summary.text() == ("۲ پیگیری امروز — جمع معوق ۲۹٬۰۰۰٬۰۰۰ ریال — ۱ مشتری نخست از ۲ مشتری نمایش "
                                  "داده می‌شود")
    tab = page.cheques
    lists = {"week": cheques.cheques_this_week(today()), "bounced": cheques.bounced_cheques(),
             "out": cheques.issued_cheques(), "in": cheques.received_cheques(),
             "pending": cheques.cheques_due(today() + dt.timedelta(days=3650))}
    for key, rows in lists.items():
        tab.view_choice.setCurrentIndex(tab.view_choice.findData(key))
        tab.refresh()
        _settled(qtbot, page)
        assert tab.model.rows == rows[:1], key
        cin = sum(c.amount for c in rows if c.direction == "in")
        cout = sum(c.amount for c in rows if c.direction == "out")
        text = tab.summary.text()
        assert text.startswith(f"{len(rows)} چک — ".translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))), key
        assert f"دریافتی {fmt.money(cin)}، پرداختی {fmt.money(cout)}" in text, key
        assert ("۱ چک نخست نمایش داده می‌شود" in text) == (len(rows) > 1), key


def test_a_tab_is_read_when_chosen_and_again_after_a_change(qtbot, office):
    """The page opens on one tab and reads that one; each other tab reads when it is chosen, once, until the
    figures change again."""
    from app.core.clock import today
    from app.money import cheques
    from app.sales.payments import record_payment

    page = _page(qtbot, office["boss"])
    reads = []
    for tab in (page.collection, page.cheques, page.forecast):
        real = tab.refresh
        tab.refresh = lambda real=real, tab=tab: (reads.append(tab), real())[1]
    page.tabs.setCurrentWidget(page.forecast)
    page.tabs.setCurrentWidget(page.cheques)
    page.tabs.setCurrentWidget(page.forecast)
    assert reads == [page.forecast, page.cheques]
    _settled(qtbot, page)
    assert page.cheques.model.rowCount() == 3
    record_payment(office["ali"], "cheque", 1_500_000, cheque_number="5566", cheque_bank="ملت",
                   cheque_due=today())
    page.ctx.bus.data_changed.emit("payments")
    qtbot.waitUntil(lambda: len(reads) == 3, timeout=3000)       # the tab on screen, after the pause
    assert reads[2] is page.forecast
    page.tabs.setCurrentWidget(page.cheques)
    _settled(qtbot, page)
    assert reads[3:] == [page.cheques] and page.cheques.model.rowCount() == 4
    assert "5566" in [c.number for c in cheques.cheques_this_week(today())]


def test_a_tab_reads_off_the_gui_thread_and_draws_only_the_latest_choice(qtbot, office, monkeypatch):
    """At a million customers a tab's read takes a fifth of a second: it runs on a reader thread, views chosen
    meanwhile are read after it and only the last one is drawn, and a read that fails says so in Persian and
    keeps the rows already shown."""
    from app.money import cheques
    from ui.money.page import ChequesTab
    from ui.ops import error_text

    page = _page(qtbot, office["boss"])
    tab = page.cheques
    gate, threads = threading.Event(), []
    real_week = cheques.week_summary

    def held_week(*a, **kw):
        threads.append(threading.current_thread())
        gate.wait(5)
        return real_week(*a, **kw)

    monkeypatch.setattr(cheques, "week_summary", held_week)
    page.tabs.setCurrentWidget(tab)                         # «سررسید این هفته», held on the reader thread
    qtbot.waitUntil(lambda: bool(threads), timeout=3000)
    assert threads[0] is not threading.main_thread() and page.reading and tab.model.rowCount() == 0
    drawn = []
    page.drawn.connect(lambda: drawn.append([_cells(tab.model, r)[1] for r in range(tab.model.rowCount())]))
    tab.view_choice.setCurrentIndex(tab.view_choice.findData("bounced"))
    tab.view_choice.setCurrentIndex(tab.view_choice.findData("out"))
    gate.set()
    _settled(qtbot, page)
    issued = [fmt.digits(c.number) for c in cheques.issued_summary(None, ChequesTab.LIMIT).rows]
    assert drawn == [issued] and issued and "۹۰۰۵" in issued         # the week's and the bounced never drawn

    def broken(*_a, **_kw):
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(cheques, "bounced_summary", broken)
    tab.view_choice.setCurrentIndex(tab.view_choice.findData("bounced"))
    _settled(qtbot, page)
    assert tab.summary.text() == error_text(RuntimeError())
    assert [_cells(tab.model, r)[1] for r in range(tab.model.rowCount())] == issued
    assert len(drawn) == 1


def test_a_card_finds_its_customer_in_the_whole_collection_list_once_read(qtbot, office):
    """The dashboard's collection card opens the page on its customer: one without a follow-up today is found
    with «فقط پیگیری‌های امروز» unticked, once that list is read."""
    from app.money.collection import COLLECTION_TITLE
    from app.tasks import service as ts

    ts.create_task({"title": f"{COLLECTION_TITLE} علی رضایی", "kind": "call", "customer_id": office["ali"],
                    "due_at": dt.datetime(2026, 11, 27, 10, 0)}, user=office["boss"])
    page = _page(qtbot, office["boss"])
    assert [r.name for r in page.collection.model.rows] == ["شرکت نور"]
    page.tabs.setCurrentWidget(page.forecast)
    _settled(qtbot, page)
    page.show_collection(office["ali"])
    assert page.tabs.currentWidget() is page.collection
    _settled(qtbot, page)
    assert not page.collection.due_only.isChecked()
    assert page.collection.selected().customer_id == office["ali"]
    page.show_collection(office["nour"])                # in the list on screen: chosen at once
    assert page.collection.selected().customer_id == office["nour"] and not page.reading
