"""The «پیامک» section: the outbox (صف ارسال) with its filters, sending again and marking — with the guarantee
that a number never gets the same message twice by accident — and its entries in the main window and the
customer list. Against the local fake Kavenegar; screenshots saved (and copied to $CRM_SHOTS_DIR when set)."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from app import settings
from app.core import clock
from app.core.errors import UserError
from app.sms import outbox, service
from models.messaging import Message
from tests.sms.conftest import customer
from tests.sms.test_ui import shot

pytestmark = pytest.mark.usefixtures("persian_app")

ALI, MARYAM, REZA = "09121111111", "09122222222", "09123333333"


@pytest.fixture
def office(db, kavenegar):
    clock.set_now(dt.datetime(2026, 11, 24, 10, 0))
    settings.set("office.name", "بازرگانی پیوند")
    settings.set("sms.provider", "kavenegar")
    settings.set("sms.key", "test-key")
    settings.set("sms.sender", "10004346")
    settings.set("sms.base_url", kavenegar.url)
    settings.set("sms.interval", 0.01)
    people = [customer("علی", "رضایی", ALI, title="آقای"), customer("مریم", "احمدی", MARYAM, title="خانم"),
              customer("رضا", "کریمی", REZA, title="آقای")]
    yield people
    clock.set_now(None)


def _uncertain(number: str, text: str, provider: str = "kavenegar") -> Message:
    m = service.queue_one(number, text)
    Message.update(state="uncertain", provider=provider, error=service.UNCERTAIN_TEXT,
                   sending_at=clock.now()).where(Message.id == m.id).execute()
    return Message.get_by_id(m.id)


def _failed(kavenegar, number: str, text: str) -> Message:
    kavenegar.per_number_status[number] = 14          # blacklisted: the provider refuses this number alone
    with pytest.raises(UserError):
        service.send_now(number, text)
    kavenegar.per_number_status.pop(number)
    m = Message.select().where(Message.recipient == number, Message.body == text).order_by(Message.id.desc()).get()
    assert m.state == "failed"
    return m


@pytest.fixture
def page(qtbot, office):
    from ui.context import AppContext
    from ui.sms.page import SmsPage

    p = SmsPage(AppContext())
    qtbot.addWidget(p)
    p.resize(1200, 640)
    p.show()
    return p


def _select(page, message_ids):
    rows = [page.model.ids.index(i) for i in message_ids]
    page.select_rows(rows)


def _wait(qtbot, page):
    qtbot.waitUntil(lambda: page.op is not None and not page.op.running, timeout=15_000)


def test_model_passes_the_tester_and_filters_work(qtbot, qtmodeltester, office, kavenegar, tmp_path):
    from ui.context import AppContext
    from ui.sms.page import SmsPage

    sent = service.send_now(ALI, "سفارش شما آماده تحویل است.")
    failed = _failed(kavenegar, MARYAM, "یادآوری: جلسه فردا ساعت ۱۰")
    unsure = _uncertain(REZA, "جشنواره پاییزه با ۳۰٪ تخفیف")
    old = service.queue_one(ALI, "پیام قدیمی")
    Message.update(created_at=dt.datetime(2026, 1, 1), state="sent").where(Message.id == old.id).execute()
    p = SmsPage(AppContext())
    qtbot.addWidget(p)
    p.resize(1200, 560)
    p.show()
    qtmodeltester.check(p.model)
    assert p.model.ids == [unsure.id, failed.id, sent.id]                       # newest first; 30 days
    assert p.model.data(p.model.index(0, 4)) == "نامعلوم"
    assert p.model.data(p.model.index(1, 1)) == "مریم احمدی"
    assert p.model.data(p.model.index(1, 6)) == " ".join(failed.error.split()) != ""
    assert "ناموفق: ۱" in p.count_label.text() and "نامعلوم: ۱" in p.count_label.text()
    p.state.setCurrentIndex(p.state.findData("failed"))
    assert p.model.ids == [failed.id]
    p.state.setCurrentIndex(p.state.findData(""))
    p.period.setCurrentIndex(p.period.findData("all"))
    assert len(p.model.ids) == 4
    qtmodeltester.check(p.model)
    p.search.setText("۰۹۱۲ ۱۱۱")                         # Persian digits and spaces, as typed
    qtbot.waitUntil(lambda: set(p.model.ids) == {old.id, sent.id}, timeout=3000)
    p.search.setText("احمدی")
    qtbot.waitUntil(lambda: p.model.ids == [failed.id], timeout=3000)
    p.search.setText("جشنواره")
    qtbot.waitUntil(lambda: p.model.ids == [unsure.id], timeout=3000)
    p.search.clear()
    qtbot.waitUntil(lambda: len(p.model.ids) == 4, timeout=3000)
    _select(p, [unsure.id])
    assert p.resend_btn.isEnabled() and p.mark_sent_btn.isEnabled() and p.dismiss_btn.isEnabled()
    assert "جشنواره" in p.details.text() and "دو بار" in p.details.text()
    _select(p, [sent.id])
    assert not p.resend_btn.isEnabled() and not p.mark_sent_btn.isEnabled()
    with qtbot.waitSignal(p.ctx.bus.open_customer) as opened:
        p.open_customer(p.model.ids.index(failed.id))        # a double click opens the customer's file
    assert opened.args == [failed.customer_id] and failed.customer_id
    _select(p, [failed.id])
    qtbot.wait(50)                                   # the layout follows the new texts
    shot(p, tmp_path, "sms-outbox")


def test_a_long_outbox_is_read_a_page_at_a_time(qtbot, qtmodeltester, page):
    from ui.sms import outbox_model

    base = clock.now() - dt.timedelta(days=2)
    Message.insert_many([{"channel": "sms", "local_id": 10_000 + i, "recipient": f"0912{i:07d}",
                          "body": f"پیام {i}", "state": "failed" if i % 10 == 0 else "sent",
                          "created_at": base + dt.timedelta(seconds=i)} for i in range(750)]).execute()
    page.reload()
    m = page.model
    assert m.total == 750 and len(m.ids) == outbox_model.FIRST and m.canFetchMore()
    assert "۷۵۰ پیام" in page.count_label.text() and "ناموفق: ۷۵" in page.count_label.text()
    qtmodeltester.check(m)
    page.view.selectAll()                                           # Ctrl+A: every message, not only those read
    assert len(m.ids) == 750 and len(page.view.selectionModel().selectedRows()) == 750
    page.view.clearSelection()
    m.fetch_all()
    assert len(m.ids) == 750 and m.ids == sorted(m.ids, reverse=True) and not m.canFetchMore()
    assert m.data(m.index(749, 3)) == "پیام 0"                     # the text exactly as it was sent
    page.state.setCurrentIndex(page.state.findData("failed"))
    assert m.total == 75 and len(m.ids) == 75 and not m.canFetchMore()


def test_a_failed_message_is_sent_again_once(qtbot, page, kavenegar):
    failed = _failed(kavenegar, MARYAM, "یادآوری جلسه")
    page.reload()
    _select(page, [failed.id])
    page.resend()
    _wait(qtbot, page)
    assert kavenegar.by_number[MARYAM] == 1
    m = Message.get_by_id(failed.id)
    assert m.state == "sent" and m.error == "" and m.local_id == failed.local_id       # the same row
    assert "فرستاده: ۱" in page.status.text()
    _select(page, [failed.id])
    assert not page.resend_btn.isEnabled()
    r = outbox.requeue([failed.id])                  # the service refuses it too (a second desk, a stale screen)
    assert r.ids == [] and r.skipped == {"state": 1}
    assert kavenegar.by_number[MARYAM] == 1


def test_an_uncertain_message_asks_first(qtbot, page, kavenegar):
    unsure = _uncertain(REZA, "قرار فردا لغو شد")
    page.reload()
    asked = []
    page.ask_uncertain = lambda n: asked.append(n) or False
    _select(page, [unsure.id])
    assert page.resend() is None
    assert asked == [1] and not kavenegar.sent and Message.get_by_id(unsure.id).state == "uncertain"
    assert "چیزی دوباره فرستاده نشد" in page.status.text()
    page.ask_uncertain = lambda n: asked.append(n) or True
    page.resend()
    _wait(qtbot, page)
    assert asked == [1, 1] and kavenegar.by_number[REZA] == 1
    assert Message.get_by_id(unsure.id).state == "sent"


def test_an_uncertain_message_the_provider_has_is_recorded_not_sent(qtbot, page, kavenegar):
    unsure = _uncertain(REZA, "قرار فردا لغو شد")
    kavenegar.accept(REZA, "قرار فردا لغو شد", str(unsure.local_id))        # it had gone after all
    page.reload()
    page.ask_uncertain = lambda n: True
    _select(page, [unsure.id])
    page.resend()
    _wait(qtbot, page)
    assert kavenegar.by_number[REZA] == 1
    m = Message.get_by_id(unsure.id)
    assert m.state == "sent" and m.provider_id == str(kavenegar.sent[0]["id"])
    assert page.last_report.found == 1 and "پیش‌تر به سامانه رسیده بود: ۱" in page.status.text()


def test_the_same_text_to_the_same_number_goes_once(qtbot, page, kavenegar):
    service.send_now(ALI, "کارت تخفیف شما فعال شد")
    failed = _failed(kavenegar, ALI, "کارت تخفیف شما فعال شد")           # the same text, refused a moment later
    twin_a = _failed(kavenegar, MARYAM, "اطلاعیه")
    twin_b = _failed(kavenegar, MARYAM, "اطلاعیه")
    page.reload()
    _select(page, [failed.id, twin_a.id, twin_b.id])
    page.resend()
    _wait(qtbot, page)
    assert kavenegar.by_number[ALI] == 1 and kavenegar.by_number[MARYAM] == 1
    assert Message.get_by_id(failed.id).state == "failed"
    assert sorted(Message.get_by_id(i).state for i in (twin_a.id, twin_b.id)) == ["failed", "sent"]
    assert "همین متن به همین شماره" in page.status.text()


def test_an_opted_out_number_is_not_sent_again(qtbot, page, kavenegar):
    failed = _failed(kavenegar, REZA, "اطلاعیه")
    service.opt_out(REZA)
    report = outbox.resend([failed.id])
    assert report.requeued.skipped == {"optout": 1} and not kavenegar.sent


def test_two_desks_sending_the_same_row_again_send_it_once(office, kavenegar):
    """Two threads (two desks, or a double click) resend the same failed rows at the same moment."""
    rows = [_failed(kavenegar, n, "یادآوری سررسید") for n in (ALI, MARYAM, REZA)]
    kavenegar.delay = 0.05
    ids = [m.id for m in rows]
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def desk():
        try:
            barrier.wait()
            reports.append(outbox.resend(ids))
        except Exception as e:  # noqa: BLE001 - any failure of a desk is reported below
            errors.append(e)

    threads = [threading.Thread(target=desk) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert dict(kavenegar.by_number) == {ALI: 1, MARYAM: 1, REZA: 1}
    assert sum(r.summary.sent for r in reports) == 3
    assert all(Message.get_by_id(i).state == "sent" for i in ids)


def test_mark_sent_and_set_aside(qtbot, page, kavenegar):
    unsure = _uncertain(REZA, "قرار فردا لغو شد")
    failed = _failed(kavenegar, MARYAM, "اطلاعیه")
    page.reload()
    _select(page, [unsure.id])
    page.mark_sent_btn.click()
    assert Message.get_by_id(unsure.id).state == "sent" and "رسیده" in page.status.text()
    _select(page, [failed.id])
    page.dismiss_btn.click()
    m = Message.get_by_id(failed.id)
    assert m.state == "cancelled" and m.error == outbox.DISMISSED_TEXT
    assert outbox.resend([unsure.id, failed.id]).requeued.skipped == {"state": 2}
    assert not kavenegar.sent


def test_main_window_section_and_the_customer_list_open_the_group_send(qtbot, office, tmp_path):
    from ui.context import AppContext
    from ui.main_window import MainWindow
    from ui.sms.group_send import GroupSendDialog
    from ui.sms.page import SmsPage

    w = MainWindow(AppContext(), start_callerid=False)
    qtbot.addWidget(w)
    labels = [w.nav.item(i).text() for i in range(w.nav.count())]
    assert "پیامک" in labels
    w.show_section("sms")
    page = w.page("sms")
    assert isinstance(page, SmsPage) and w.stack.currentWidget() is page
    page.group_btn.click()
    dlg = page.dialogs[-1]
    assert isinstance(dlg, GroupSendDialog) and dlg.isVisible() and dlg.plan.total == 3
    dlg.close()
    w.show_section("customers")
    customers_page = w.page("customers")
    customers_page.search.setText("احمدی")
    customers_page.apply_filter()
    dlg = customers_page.group_sms()
    qtbot.addWidget(dlg)
    assert dlg.saved.currentIndex() == 0 and dlg.saved.currentData().text == "احمدی"
    assert [n for _c, n in dlg.plan.rows] == [MARYAM]
    dlg.close()


def test_outbox_queries_on_both_databases(anydb, kavenegar):
    """Filters, counts (by period and over all time), keyset pages, rows, sending again and marking, on SQLite
    and on PostgreSQL (CRM_TEST_POSTGRES_URL)."""
    clock.set_now(dt.datetime(2026, 11, 24, 10, 0))
    settings.set("sms.provider", "kavenegar")
    settings.set("sms.key", "test-key")
    settings.set("sms.base_url", kavenegar.url)
    settings.set("sms.interval", 0.01)
    c = customer("مریم", "احمدی", MARYAM, title="خانم")
    base = clock.now() - dt.timedelta(days=60)
    Message.insert_many([{"channel": "sms", "local_id": 50_000 + i, "recipient": f"0913{i:07d}",
                          "body": f"پیام {i}", "state": ("sent", "failed", "uncertain")[i % 3],
                          "created_at": base + dt.timedelta(days=i)} for i in range(60)]).execute()
    week = outbox.OutboxFilter(period="week")
    assert outbox.counts(week) == {"sent": 2, "failed": 2, "uncertain": 3}          # days 53..59
    assert outbox.counts(outbox.OutboxFilter()) == {"sent": 20, "failed": 20, "uncertain": 20}
    f = outbox.OutboxFilter(state="failed")
    pages = outbox.Pages(f)
    got = pages.next_ids(7) + pages.next_ids(7) + pages.next_ids(100)
    assert got == outbox.ids(f) and len(got) == 20 and pages.exhausted and outbox.total(f) == 20
    assert outbox.ids(outbox.OutboxFilter(text="0913000001")) == sorted(
        outbox.ids(outbox.OutboxFilter(text="۰۹۱۳۰۰۰۰۰۱")), reverse=True)
    sent = service.send_now(MARYAM, "سلام")
    assert outbox.ids(outbox.OutboxFilter(text="احمدی")) == [sent.id]
    row = outbox.rows([sent.id])[sent.id]
    assert row.name == "مریم احمدی" and row.customer_id == c.id and row.origin == "تکی"
    failed_ids = outbox.ids(f)
    report = outbox.resend(failed_ids[:2])
    assert report.summary.sent == 2 and sum(kavenegar.by_number.values()) == 3
    unsure = outbox.ids(outbox.OutboxFilter(state="uncertain"))
    assert outbox.requeue(unsure[:1]).skipped == {"confirm": 1}
    assert outbox.mark_sent(unsure[:2]) == 2 and outbox.dismiss(failed_ids[2:5]) == 3
    assert outbox.counts(outbox.OutboxFilter()) == {"sent": 25, "failed": 15, "uncertain": 18, "cancelled": 3}
    from models.office import AuditLog

    assert [a.action for a in AuditLog.select().where(AuditLog.entity == "message").order_by(AuditLog.id)] == [
        "resend", "mark_sent", "dismiss"]
    mail = Message.create(channel="email", local_id=99_999, recipient="maryam@example.ir", customer=c.id,
                          subject="فاکتور شما", body="صادر شد", state="failed", created_at=clock.now())
    assert outbox.ids(outbox.OutboxFilter(channel="email")) == [mail.id]
    assert outbox.ids(outbox.OutboxFilter(text="maryam@")) == [mail.id]
    assert outbox.ids(outbox.OutboxFilter(text="فاکتور شما")) == [mail.id]
    assert mail.id not in outbox.ids(outbox.OutboxFilter(channel="sms"))
    r = outbox.rows([mail.id])[mail.id]
    assert (r.recipient_text, r.origin, r.resendable) == ("maryam@example.ir", "ایمیل تکی", False)
    assert outbox.counts(outbox.OutboxFilter())["failed"] == 16
    clock.set_now(None)


def test_resend_mark_sent_and_set_aside_are_in_the_audit_log(qtbot, page, kavenegar):
    from models.office import AuditLog
    from tests.office.helpers import as_user, make_user

    failed = _failed(kavenegar, MARYAM, "یادآوری جلسه")
    unsure = _uncertain(REZA, "قرار فردا لغو شد")
    other = _failed(kavenegar, ALI, "اطلاعیه")
    uid = make_user("سارا محمدی", "sara", "manager")
    with as_user(uid):
        page.reload()
        _select(page, [failed.id])
        page.resend()
        _wait(qtbot, page)
        _select(page, [unsure.id])
        page.mark_sent_btn.click()
        _select(page, [other.id])
        page.dismiss_btn.click()
        outbox.dismiss([other.id])                  # nothing left to set aside: no entry
    log = list(AuditLog.select().where(AuditLog.entity == "message").order_by(AuditLog.id))
    assert [(e.action, e.entity_id, e.user_name) for e in log] == [
        ("resend", failed.id, "سارا محمدی"), ("mark_sent", unsure.id, "سارا محمدی"),
        ("dismiss", other.id, "سارا محمدی")]
    assert "ارسال دوباره" in log[0].summary and "۰۹۱۲" in log[0].summary
    assert "رسیده" in log[1].summary and "کنار گذاشته" in log[2].summary
