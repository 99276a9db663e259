"""The screens: a request (created, answered, closed and surveyed through the dialog), the service dashboard
(cards, charts, Excel through the background helper), a customer file with documents dropped on it; the popup's
entry point; screenshots saved (to $CRM_SCREENSHOTS when set) and checked for content."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage

from app import settings
from app.core import clock
from app.service import requests as rq
from models.calls import Call
from models.service import ServiceRequest
from tests.service.test_documents import make_pdf, make_png
from tests.tasks.helpers import customer, j, user

pytestmark = pytest.mark.usefixtures("persian_app")


def shot_path(tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get("CRM_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def has_colour(img: QImage, colour: str, box=(0, 0, None, None), step: int = 4) -> bool:
    x0, y0, x1, y1 = box
    x1, y1 = x1 or img.width(), y1 or img.height()
    return any(img.pixelColor(x, y).name() == colour for x in range(x0, x1, step) for y in range(y0, y1, step))


@pytest.fixture
def office(db):
    from ui.context import AppContext

    clock.set_now(j(1405, 3, 9, 16, 0))
    settings.set("service.reassign_rule", "off")
    reza, maryam = user("رضا کریمی", "reza"), user("مریم احمدی", "maryam")
    ali = customer("علی", "رضایی", "09121234567")
    sara = customer("سارا", "محمدی", "09351112233")
    cats = {c.name: c.id for c in rq.list_categories()}
    for i, (cust, who, cat, day, h, resp, done, score) in enumerate((
            (ali, reza, "تعمیر", 2, 9, 20, 180, 5), (sara, maryam, "شکایت", 3, 10, 45, 300, 2),
            (ali, reza, "پرسش فنی", 4, 11, 10, 60, 4), (sara, reza, "تعمیر", 6, 9, 90, 400, 4),
            (ali, maryam, "نصب و راه‌اندازی", 7, 9, 30, None, None), (sara, reza, "تعمیر", 9, 8, None, None, None))):
        clock.set_now(j(1405, 3, day, h, 0))
        r = rq.create_request({"customer_id": cust, "subject": f"درخواست نمونه {i + 1}", "category_id": cats[cat],
                               "assignee_id": who}, user=who)
        if resp:
            rq.reply(r.id, "با مشتری تماس گرفتم.", who, at=j(1405, 3, day, h, 0).replace(minute=0) +
                     __import__("datetime").timedelta(minutes=resp))
        if done:
            rq.set_status(r.id, "done", who, at=j(1405, 3, day, h, 0) + __import__("datetime").timedelta(minutes=done))
            rq.record_survey(r.id, score, "", who)
    clock.set_now(j(1405, 3, 9, 16, 0))
    yield {"ctx": AppContext(user_id=reza), "reza": reza, "maryam": maryam, "ali": ali, "sara": sara}
    clock.set_now(None)


def test_request_dialog_round_trip_and_screenshot(qtbot, office, tmp_path, typer):
    from ui.service.request_dialog import RequestDialog

    dlg = RequestDialog(office["ctx"], customer_id=office["ali"])
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.save()                                   # no subject: a Persian message, nothing written
    assert "موضوع" in dlg.error.text()
    n = ServiceRequest.select().count()
    typer(dlg.subject, "کولر آبی آب نمی‌کشد")
    dlg.category.setCurrentIndex(dlg.category.findData(next(c.id for c in rq.list_categories() if c.name == "تعمیر")))
    dlg.assignee.setCurrentIndex(dlg.assignee.findData(office["reza"]))
    dlg.description.setPlainText("پمپ کار می‌کند ولی پوشال خشک می‌ماند.")
    dlg.serial.setText("CL-3000-1405")
    assert dlg.save() and ServiceRequest.select().count() == n + 1
    clock.set_now(j(1405, 3, 9, 16, 20))
    dlg.reply_text.setPlainText("فردا ساعت ۱۰ تکنسین اعزام می‌شود.")
    assert dlg._thread_action("reply")
    dlg.reply_text.setPlainText("احتمالاً شناور خراب است؛ قطعه همراه ببرید.")
    assert dlg._thread_action("note")
    assert not dlg.survey_box.isEnabled()
    dlg.status.setCurrentIndex(dlg.status.findData("done"))
    clock.set_now(j(1405, 3, 10, 11, 0))
    assert dlg.change_status()
    assert dlg.survey_box.isEnabled()
    dlg.score.setValue(4)
    dlg.survey_comment.setText("راضی بود")
    assert dlg.record_survey()
    v = rq.request_view(dlg.request_id)
    assert v.status == "done" and v.satisfaction == 4 and v.serial == "CL-3000-1405"
    assert "پاسخ به مشتری" in dlg.thread.toPlainText() and "یادداشت داخلی" in dlg.thread.toPlainText()
    dlg.resize(1100, 700)
    shot = shot_path(tmp_path, "service-request.png")
    assert dlg.grab().save(str(shot))
    img = QImage(str(shot))
    assert img.width() == 1100 and has_colour(img, "#1d4ed8", step=2)        # the reply's label colour


def test_dashboard_figures_charts_excel_and_screenshot(qtbot, office, tmp_path):
    from ui.service.page import ServicePage

    page = ServicePage(office["ctx"])
    qtbot.addWidget(page)
    page.resize(1280, 860)
    page.show()
    page.tabs.setCurrentWidget(page.dashboard)
    d = page.dashboard
    assert d.preset.currentData() == "this_month"
    k = d.result
    assert (k.total.received, k.total.closed, k.total.open_end) == (6, 4, 2)
    assert d.cards["received"].text() == "۶" and d.cards["closed"].text() == "۴"
    assert d.cards["satisfaction"].text() == "۳٫۷۵ از ۵"                    # (5 + 2 + 4 + 4) / 4
    assert d.people_table.rowCount() == 2 and d.people_table.item(0, 0).text() == "رضا کریمی"
    assert d.category_table.item(0, 0).text() == "شکایت"           # complaints first
    trend = d.trend_view.chart().series()[0]
    assert sum(trend.barSets()[0].at(i) for i in range(trend.barSets()[0].count())) == 6
    d.complaints.setChecked(True)
    assert d.result.total.received == 1
    d.complaints.setChecked(False)
    out = tmp_path / "service.xlsx"
    d.export_excel(str(out))
    qtbot.waitUntil(lambda: d.last_export is not None, timeout=10_000)
    import openpyxl

    assert openpyxl.load_workbook(out)["خلاصه"]["B3"].value == 6
    shot = shot_path(tmp_path, "service-dashboard.png")
    assert page.grab().save(str(shot))
    img = QImage(str(shot))
    assert has_colour(img, "#2563eb", (0, 250, None, 600)) and has_colour(img, "#16a34a", (0, 250, None, 600))


def test_requests_list_model_and_filters(qtbot, qtmodeltester, office):
    from ui.service.page import ServicePage

    page = ServicePage(office["ctx"])
    qtbot.addWidget(page)
    qtmodeltester.check(page.requests.model)
    assert page.requests.model.rowCount() == 2                               # open ones
    page.requests.scope.setCurrentIndex(page.requests.scope.findData("all"))
    assert page.requests.model.rowCount() == 6
    page.requests.scope.setCurrentIndex(page.requests.scope.findData("complaints"))
    assert page.requests.model.rowCount() == 1
    page.requests.scope.setCurrentIndex(page.requests.scope.findData("mine"))
    assert {r.assignee_name for r in page.requests.model.rows} == {"رضا کریمی"}


def test_customer_file_documents_dropped_and_screenshot(qtbot, office, tmp_path):
    from app import contracts
    from ui.customers.file import open_customer_file

    contracts.create_contract({"customer_id": office["ali"], "title": "سرویس دوره‌ای کولر", "start_date": "1405/01/01",
                               "end_date": "1405/12/29", "value": 45_000_000})
    contracts.create_warranty({"customer_id": office["ali"], "item": "کولر آبی ۳۰۰۰", "serial": "CL-3000-77",
                               "start_date": "1405/02/10", "months": 18})
    win = open_customer_file(office["ctx"], office["ali"])
    qtbot.addWidget(win)
    win.resize(1280, 760)
    panel = win.after_sale["documents"]
    files = [make_pdf(tmp_path / "قرارداد سرویس.pdf", "Service contract"), make_png(tmp_path / "عکس دستگاه.png")]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in files])
    ev = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                    Qt.KeyboardModifier.NoModifier)
    panel.list.dropEvent(ev)
    assert panel.list.topLevelItemCount() == 2 and not panel.errors
    huge = tmp_path / "فیلم.mp4"
    with huge.open("wb") as f:
        f.truncate(200 * 1024 * 1024)
    assert panel.add_files([str(huge)]) == [] and "۲۰۰ مگابایت" in panel.errors[0]
    win.side_tabs.setCurrentWidget(panel)
    win.show()
    pdf_item = next(panel.list.topLevelItem(i) for i in range(2) if panel.list.topLevelItem(i).text(0).endswith(".pdf"))
    panel.list.setCurrentItem(pdf_item)
    assert not panel.preview.pixmap().isNull()                               # the PDF's first page
    shot = shot_path(tmp_path, "customer-file-documents.png")
    assert win.grab().save(str(shot))
    win.side_tabs.setCurrentWidget(win.after_sale["requests"])
    assert win.after_sale["requests"].list.topLevelItemCount() == 3
    win.side_tabs.setCurrentWidget(win.after_sale["contracts"])
    assert win.after_sale["contracts"].warranties.topLevelItemCount() == 1
    assert win.grab().save(str(shot_path(tmp_path, "customer-file-contracts.png")))
    panel.list.setCurrentItem(pdf_item)
    panel.delete_current(confirm=False)
    assert panel.list.topLevelItemCount() == 1
    win.close()


def test_customer_file_reads_an_after_sale_tab_when_it_is_chosen(qtbot, office):
    """The file opens on its history; a request, document or contract tab is read once it is chosen, and after a
    change the tab on screen is read again at once, the others again when chosen."""
    from app import contracts
    from ui.customers.file import open_customer_file

    win = open_customer_file(office["ctx"], office["ali"])
    qtbot.addWidget(win)
    requests, docs, terms = (win.after_sale[k] for k in ("requests", "documents", "contracts"))
    assert requests.list.topLevelItemCount() == 0 and terms.warranties.topLevelItemCount() == 0    # not read yet
    win.side_tabs.setCurrentWidget(requests)
    assert requests.list.topLevelItemCount() == 3
    assert "۳ درخواست" in requests.summary.text()
    rq.create_request({"customer_id": office["ali"], "subject": "درخواست تازه"}, user=office["reza"])
    contracts.create_warranty({"customer_id": office["ali"], "item": "کولر آبی ۳۰۰۰", "serial": "CL-3000-77",
                               "start_date": "1405/02/10", "months": 18})
    office["ctx"].bus.data_changed.emit("requests")
    qtbot.waitUntil(lambda: requests.list.topLevelItemCount() == 4)          # on screen: read again
    assert terms.warranties.topLevelItemCount() == 0
    win.side_tabs.setCurrentWidget(terms)
    assert terms.warranties.topLevelItemCount() == 1 and "CL-3000-77" in terms.warranties.topLevelItem(0).text(1)
    win.side_tabs.setCurrentWidget(docs)
    assert docs.list.topLevelItemCount() == 0 and docs.rows == []
    win.close()


def test_open_request_from_call(qtbot, office):
    from ui.service import open_request_from_call

    call = Call.create(customer=office["sara"], number="09351112233", started_at=j(1405, 3, 9, 15, 55), state="ended")
    dlg = open_request_from_call(office["ctx"], call.id)
    qtbot.addWidget(dlg)
    assert dlg.customer.customer_id() == office["sara"] and dlg.channel.currentData() == "phone"
    dlg.subject.setText("صدای پمپ")
    assert dlg.save()
    r = ServiceRequest.get_by_id(dlg.request_id)
    assert r.call_id == call.id and r.received_at == j(1405, 3, 9, 15, 55)


def test_a_call_row_opens_a_request(qtbot, office, tmp_path):
    """The call log's «درخواست خدمت» (its bar and its row menu): the caller's customer and the call filled in."""
    from ui.calls.page import CallsPage
    from ui.service.request_dialog import RequestDialog

    call = Call.create(customer=office["sara"], number="09351112233", number_raw="09351112233",
                       started_at=j(1405, 3, 9, 15, 55), state="ended", direction="in")
    page = CallsPage(office["ctx"])
    qtbot.addWidget(page)
    page.resize(1280, 600)
    page.show()
    log = page.log
    log.date_from.setDate(None)
    log.refresh()
    log.select_row(log.model.ids.index(call.id))
    assert log.service_btn.isEnabled() and log.service_btn.isVisible()
    [action] = [a for a in log.row_menu().actions() if a.text() == "درخواست خدمت"]
    assert action.isEnabled()
    dlg = log.new_service_request()
    qtbot.addWidget(dlg)
    assert isinstance(dlg, RequestDialog) and dlg.call_id == call.id
    assert dlg.customer.customer_id() == office["sara"] and dlg.channel.currentData() == "phone"
    img = page.grab().toImage()
    img.save(str(shot_path(tmp_path, "calls-log-with-service-button.png")))
    assert not img.isNull()
    dlg.close()


def test_main_window_has_the_service_section(qtbot, office):
    from ui.main_window import MainWindow

    w = MainWindow(office["ctx"], start_callerid=False)
    qtbot.addWidget(w)
    w.show_section("service")
    assert type(w.page("service")).__name__ == "ServicePage"


def test_reassign_timer_tick(qtbot, office):
    from ui.service import ReassignTimer

    settings.set("service.reassign_rule", "least_loaded")
    t = ReassignTimer(office["ctx"])
    clock.set_now(j(1405, 3, 20, 9, 0))
    with qtbot.waitSignal(office["ctx"].bus.data_changed, timeout=2000):
        moved = t.tick()
    assert moved and all(m.to_user != m.from_user for m in moved)
    t.timer.stop()
