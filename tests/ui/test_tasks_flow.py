"""The sales rep's day through the widgets: log a call with a follow-up, see it on the dashboard the next
Jalali day, refer it to a colleague, find it in their inbox, mark it done. Real SQLite file, real widgets."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.core import clock
from app.tasks import service as ts
from models.calls import Call
from models.core import Activity
from models.tasks import Task
from tests.tasks.helpers import customer, j, user
from ui.context import AppContext


@pytest.fixture
def office(db):
    return {"reza": user("رضا کریمی", "reza"), "maryam": user("مریم احمدی", "maryam"),
            "amir": user("امیر حسینی", "amir", role="manager"),
            "ali": customer("علی", "رضایی", "09121234567")}


def _ctx(user_id: int) -> AppContext:
    ctx = AppContext()
    ctx.user_id = user_id
    return ctx


def type_text(widget, text: str) -> None:
    """Type like a Persian keyboard does: one key event per character carrying its text (QTest's keyClicks
    only knows Latin-1)."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent

    for ch in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, ch))


def _dashboard_titles(page, key: str) -> list[str]:
    return page.texts(key)


def test_call_follow_up_dashboard_referral_inbox_done(qtbot, office):
    from ui.calls.call_dialog import CallDialog
    from ui.dashboard.page import DashboardPage
    from ui.tasks.page import TasksPage

    reza = _ctx(office["reza"])
    clock.set_now(j(1405, 9, 3, 11, 0))

    # 1. Log an outbound call from the customer's file, keyboard only.
    dlg = CallDialog(reza, customer_id=office["ali"])
    qtbot.addWidget(dlg)
    with qtbot.waitActive(dlg):
        dlg.show()
        dlg.activateWindow()
    assert "علی رضایی" in dlg.header.text()
    assert dlg.focusWidget() is dlg.result or dlg.result.hasFocus() or QApplication.focusWidget() is dlg.result
    qtbot.keyClick(dlg.result, Qt.Key.Key_Down)                     # → «پاسخ داده شد»
    assert dlg.result.currentData() == "answered"
    type_text(dlg.duration, "۴")
    type_text(dlg.note, "قیمت کابل را خواست؛ فردا پیش‌فاکتور بفرستم.")
    type_text(dlg.follow.date.line, "۱۴۰۵/۰۹/۰۴")
    with qtbot.waitSignal(reza.bus.data_changed, timeout=2000):
        qtbot.keyClick(dlg.note, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not dlg.isVisible()
    call = Call.get_by_id(dlg.result_call_id)
    assert (call.direction, call.result, call.duration, call.handled) == ("out", "answered", 240, True)
    task = Task.get_by_id(dlg.result_task_id)
    assert (task.due_at, task.all_day, task.assignee_id) == (j(1405, 9, 4), True, office["reza"])

    # 2. The next Jalali day, the follow-up is on Reza's dashboard.
    clock.set_now(j(1405, 9, 4, 8, 0))
    dash = DashboardPage(reza)
    qtbot.addWidget(dash)
    dash.show()
    assert "۴ آذر ۱۴۰۵" in dash.title.text()
    assert any("پیگیری تماس با علی رضایی" in t for t in _dashboard_titles(dash, "today"))
    assert dash.calls_btn.text() == "تماس‌های امروز من (۱)"

    # 3. Refer it to Maryam from the inbox; the dashboard refreshes on its own.
    inbox = TasksPage(reza)
    qtbot.addWidget(inbox)
    with qtbot.waitActive(inbox):
        inbox.show()
        inbox.activateWindow()
    inbox.show_calls_today()
    assert [r.id for r in inbox.model.rows] == [task.id]
    assert inbox.selected_id() == task.id
    qtbot.keyClick(inbox.view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    refer = inbox.refer_dialog
    qtbot.waitUntil(refer.isVisible)
    refer.to_user.setCurrentIndex(refer.to_user.findData(office["maryam"]))
    type_text(refer.reason, "من فردا مرخصی هستم")
    qtbot.mouseClick(refer.ok_btn, Qt.MouseButton.LeftButton)
    assert not refer.isVisible() and Task.get_by_id(task.id).assignee_id == office["maryam"]
    qtbot.waitUntil(lambda: not any("علی رضایی" in t for t in _dashboard_titles(dash, "today")), timeout=3000)
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 0, timeout=3000)

    # 4. Maryam finds it in her inbox, with who, when and why.
    maryam = _ctx(office["maryam"])
    her = TasksPage(maryam)
    qtbot.addWidget(her)
    with qtbot.waitActive(her):
        her.show()
        her.activateWindow()
    (row,) = her.model.rows
    assert row.id == task.id and row.referred_by == "رضا کریمی" and row.referral_note == "من فردا مرخصی هستم"
    col = her.model.COLUMNS.index("ارجاع از")
    assert her.model.index(0, col).data() == "رضا کریمی (۱۴۰۵/۰۹/۰۴)"
    assert "من فردا مرخصی هستم" in her.model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)

    # 5. She marks it done (Ctrl+D): it leaves her open list; the timeline has the whole story.
    her.select_row(0)
    qtbot.keyClick(her.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert Task.get_by_id(task.id).status == "done" and Task.get_by_id(task.id).done_by_id == office["maryam"]
    assert her.model.rowCount() == 0
    kinds = [a.kind for a in Activity.select().where(Activity.customer == office["ali"]).order_by(Activity.id)]
    assert kinds == ["call_out", "followup", "task_referred", "task_done"]


def test_call_dialog_completes_a_caller_id_call(qtbot, office):
    from ui.calls.call_dialog import CallDialog

    ctx = _ctx(office["reza"])
    clock.set_now(j(1405, 9, 3, 9, 5))
    c = Call.create(customer=office["ali"], direction="in", state="ended", number="09121234567", source="modem",
                    started_at=j(1405, 9, 3, 9, 0), duration=95, handled=False)
    dlg = CallDialog(ctx, call_id=c.id)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.dir_in.isChecked() and "تماس ورودی" in dlg.header.text() and "علی رضایی" in dlg.header.text()
    assert dlg.duration.text() == "۱:۳۵"
    type_text(dlg.note, "سفارش ۲۰ حلقه کابل")
    assert dlg.save()
    assert Call.select().count() == 1
    c = Call.get_by_id(c.id)
    assert c.handled and c.note == "سفارش 20 حلقه کابل" and c.result == "answered"


def test_call_dialog_bad_input_shows_persian_and_saves_nothing(qtbot, office):
    from ui.calls.call_dialog import CallDialog

    ctx = _ctx(office["reza"])
    clock.set_now(j(1405, 9, 3, 11, 0))
    dlg = CallDialog(ctx, customer_id=office["ali"])
    qtbot.addWidget(dlg)
    dlg.show()
    type_text(dlg.duration, "سه دقیقه")
    type_text(dlg.follow.date.line, "۱۴۰۵/۱۲/۳۰")     # 1405 is not a leap year
    assert not dlg.save()
    assert dlg.isVisible() and Call.select().count() == 0 and Task.select().count() == 0
    assert "۲۹ روز" in dlg.follow.date.error_label.text()
    dlg.follow.date.line.clear()
    assert not dlg.save()
    assert "دقیقه" in dlg.errors.shown.get("duration", "")


def test_task_dialog_creates_monthly_task_with_reminder(qtbot, office):
    from ui.tasks.task_dialog import TaskDialog

    ctx = _ctx(office["reza"])
    clock.set_now(j(1405, 6, 20, 10, 0))
    dlg = TaskDialog(ctx, customer_id=office["ali"])
    qtbot.addWidget(dlg)
    dlg.show()
    type_text(dlg.title, "پیگیری اقساط")
    qtbot.keyClicks(dlg.due.date.line, "1405/06/31")
    type_text(dlg.due.time, "۱۰:۳۰")
    dlg.recurrence.setCurrentIndex(dlg.recurrence.findData("monthly"))
    dlg.remind.setCurrentIndex(dlg.remind.findData(60))
    assert dlg.save()
    t = Task.get_by_id(dlg.task_id)
    assert (t.due_at, t.recurrence, t.recur_day, t.customer_id, t.remind_before) == (
        j(1405, 6, 31, 10, 30), "monthly", 31, office["ali"], 60)
    ts.set_done(t.id, True)
    assert Task.get_by_id(Task.get_by_id(t.id).next_task).due_at == j(1405, 7, 30, 10, 30)
    # an empty title is refused with a Persian message under the field
    dlg2 = TaskDialog(ctx)
    qtbot.addWidget(dlg2)
    dlg2.show()
    assert not dlg2.save() and "عنوان" in dlg2.errors.shown["title"]


def test_manager_sees_everyone_and_model_passes_tester(qtbot, qtmodeltester, office):
    from ui.tasks.page import TasksPage

    clock.set_now(j(1405, 9, 3, 9, 0))
    ts.create_task({"title": "کار رضا", "due_at": j(1405, 9, 2, 10)}, user=office["reza"])
    ts.create_task({"title": "کار مریم", "due_at": j(1405, 9, 3, 12)}, user=office["maryam"])
    reza_page = TasksPage(_ctx(office["reza"]))
    qtbot.addWidget(reza_page)
    assert reza_page.scope.count() == 1 and [r.title for r in reza_page.model.rows] == ["کار رضا"]
    page = TasksPage(_ctx(office["amir"]))
    qtbot.addWidget(page)
    page.scope.setCurrentIndex(page.scope.findData("all"))
    assert sorted(r.title for r in page.model.rows) == ["کار رضا", "کار مریم"]
    assert page.model.index(0, page.model.COLUMNS.index("وضعیت")).data() == "عقب‌افتاده"
    page.show_user(office["maryam"])
    assert [r.title for r in page.model.rows] == ["کار مریم"]
    assert "۱ کار" in page.count_label.text()
    qtmodeltester.check(page.model)
    page.scope.setCurrentIndex(page.scope.findData("all"))
    page.view.horizontalHeader().setSortIndicator(page.model.COLUMNS.index("مسئول"), Qt.SortOrder.DescendingOrder)
    assert [r.assignee_name for r in page.model.rows] == ["مریم احمدی", "رضا کریمی"]
    qtmodeltester.check(page.model)


def test_reminder_popup_shows_missed_reminders_at_start(qtbot, office):
    from ui.tasks.reminder_popup import ReminderCenter

    clock.set_now(j(1405, 9, 3, 17, 0))
    t = ts.create_task({"title": "تماس با دفتر مرکزی", "due_at": j(1405, 9, 3, 20, 0), "remind_before": 15},
                       user=office["reza"])
    ts.create_task({"title": "ارسال نمونه", "due_at": j(1405, 9, 4, 9, 0), "remind_before": 0},
                   user=office["reza"])
    started = j(1405, 9, 4, 9, 30)            # the app was closed overnight
    clock.set_now(started)
    ctx = _ctx(office["reza"])
    center = ReminderCenter(ctx, started_at=started)
    with qtbot.waitSignal(center.shown) as sig:
        center.check()
    assert [r.title for r in sig.args[0]] == ["تماس با دفتر مرکزی", "ارسال نمونه"]
    popup = center.popup
    qtbot.addWidget(popup)
    assert popup.isVisible() and "وقتی برنامه بسته بود" in popup.header.text()
    assert popup.list.item(0).text().startswith("از دست رفته: کار: تماس با دفتر مرکزی")
    assert center.notifications and center.notifications[-1][0] == "۲ یادآوری"
    assert center.check() == []                               # not shown twice in one session
    popup.list.setCurrentRow(0)
    popup.done_current()                                      # done: the task is done too
    assert Task.get_by_id(t.id).status == "done"
    popup.snooze_choice.setCurrentIndex(popup.snooze_choice.findData(15))
    popup.snooze_current()
    assert not popup.isVisible()
    clock.set_now(j(1405, 9, 4, 9, 46))
    center.seen.clear()
    assert [r.title for r in center.check()] == ["ارسال نمونه"]


def test_inbox_exports_what_it_shows_to_excel(qtbot, office, tmp_path):
    import openpyxl

    from ui.tasks.page import TasksPage

    clock.set_now(j(1405, 9, 3, 9, 0))
    ts.create_task({"title": "تماس با علی رضایی", "kind": "call", "customer_id": office["ali"],
                    "due_at": j(1405, 9, 3), "all_day": True}, user=office["reza"])
    ts.create_task({"title": "کار دیگر", "due_at": j(1405, 9, 20, 10)}, user=office["reza"])
    page = TasksPage(_ctx(office["reza"]))
    qtbot.addWidget(page)
    page.show_calls_today()
    out = tmp_path / "calls.xlsx"
    page.export_excel(out)
    qtbot.waitUntil(lambda: bool(page.export_dialog.outcome is not None or page.export_dialog.error), timeout=10000)
    assert page.export_dialog.error is None, page.export_dialog.error
    ws = openpyxl.load_workbook(out).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "تماس با علی رضایی" in values and "علی رضایی" in values and "کار دیگر" not in values


def test_calls_today_is_one_click_from_the_dashboard(qtbot, office):
    from ui.main_window import MainWindow

    clock.set_now(j(1405, 9, 3, 9, 0))
    call = ts.create_task({"title": "تماس با علی رضایی", "kind": "call", "customer_id": office["ali"],
                           "due_at": j(1405, 9, 3), "all_day": True}, user=office["reza"])
    ts.create_task({"title": "جلسه داخلی", "due_at": j(1405, 9, 3, 11)}, user=office["reza"])
    w = MainWindow(_ctx(office["reza"]), start_callerid=False)
    qtbot.addWidget(w)
    w.show()
    dash = w.page("dashboard")
    assert w.stack.currentWidget() is dash
    qtbot.mouseClick(dash.calls_btn, Qt.MouseButton.LeftButton)
    tasks_page = w.page("tasks")
    assert w.stack.currentWidget() is tasks_page
    assert [r.id for r in tasks_page.model.rows] == [call.id] and tasks_page.selected_id() == call.id
    # Bus.open_task opens the task from anywhere
    w.ctx.bus.open_task.emit(call.id)
    assert any(type(x).__name__ == "TaskDialog" and x.isVisible() and x.task_id == call.id
               for x in QApplication.topLevelWidgets())


def test_customer_is_picked_by_typing_part_of_a_name_or_number(qtbot, office):
    from app.customers import service as cs
    from ui.calls.call_dialog import CallDialog

    cid = cs.create_customer({"first_name": "پرویز", "last_name": "یزدانی", "phones": [{"raw": "09125556677"}]}).id
    clock.set_now(j(1405, 9, 3, 11, 0))
    dlg = CallDialog(_ctx(office["reza"]))
    qtbot.addWidget(dlg)
    with qtbot.waitActive(dlg):
        dlg.show()
        dlg.activateWindow()
    assert QApplication.focusWidget() is dlg.customer.line
    type_text(dlg.customer.line, "یزدان")
    qtbot.waitUntil(lambda: dlg.customer._model.rowCount() == 1, timeout=3000)
    dlg.customer.completer.activated.emit(dlg.customer._model.stringList()[0])
    qtbot.waitUntil(lambda: dlg.customer.line.text() == "پرویز یزدانی", timeout=2000)
    assert dlg.customer.customer_id() == cid
    assert dlg.save()
    assert Call.get_by_id(dlg.result_call_id).number == "09125556677"


def test_meeting_dialog_plans_then_records_a_visit(qtbot, office):
    from app.tasks import meetings
    from models.tasks import Meeting, Reminder
    from ui.tasks.meeting_dialog import MeetingDialog

    clock.set_now(j(1405, 9, 3, 9, 0))
    ctx = _ctx(office["reza"])
    dlg = MeetingDialog(ctx, customer_id=office["ali"])
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.when.date.line.setText("1405/09/05")
    dlg.when.time.setText("10:30")
    dlg.kind.setCurrentIndex(dlg.kind.findData("onsite"))
    type_text(dlg.subject, "بازدید از کارگاه")
    assert dlg.save()
    m = Meeting.get_by_id(dlg.meeting_id)
    assert (m.start_at, m.kind, m.status, m.user_id) == (j(1405, 9, 5, 10, 30), "onsite", "planned", office["reza"])
    assert Reminder.get(Reminder.meeting == m.id).fire_at == j(1405, 9, 5, 9, 30)
    assert meetings.last_visit(office["ali"]) is None
    clock.set_now(j(1405, 9, 5, 12, 0))
    dlg2 = MeetingDialog(ctx, meeting_id=m.id)
    qtbot.addWidget(dlg2)
    dlg2.show()
    dlg2.status.setCurrentIndex(dlg2.status.findData("held"))
    type_text(dlg2.summary, "سفارش ۲۰۰ متر کابل ثبت شد")
    assert dlg2.save()
    assert meetings.last_visit(office["ali"]) == (j(1405, 9, 5, 10, 30), "سفارش 200 متر کابل ثبت شد")
    assert Reminder.select().where(Reminder.meeting == m.id, Reminder.state == "pending").count() == 0
    # a meeting without a subject or summary is refused in Persian
    dlg3 = MeetingDialog(ctx, customer_id=office["ali"])
    qtbot.addWidget(dlg3)
    dlg3.show()
    assert not dlg3.save() and "موضوع" in dlg3.errors.shown["subject"]


def test_a_long_inbox_shows_its_first_rows_then_the_rest(qtbot, qtmodeltester, office, monkeypatch, tmp_path):
    """A long list: the first rows at once, the rest from a worker thread appended below them (scroll and
    selection kept); a column sort, the Excel export and finding a task further down get the whole list."""
    import openpyxl

    from ui.tasks.page import TasksPage

    clock.set_now(j(1405, 9, 3, 9, 0))
    ids = [ts.create_task({"title": f"کار {i:02d}", "due_at": j(1405, 9, 4 + i, 10)}, user=office["reza"]).id
           for i in range(12)]
    monkeypatch.setattr(TasksPage, "FIRST", 5)
    page = TasksPage(_ctx(office["reza"]))
    qtbot.addWidget(page)
    assert [r.id for r in page.model.rows] == ids[:5] and page.is_partial()
    assert page.count_label.text() == "۵ کار نخست…"
    page.select_row(2)
    qtbot.waitUntil(lambda: not page.is_partial(), timeout=5000)
    assert [r.id for r in page.model.rows] == ids and page.selected_id() == ids[2]
    assert page.count_label.text() == "۱۲ کار"
    assert page.complete_ms >= page.last_load_ms > 0
    qtmodeltester.check(page.model)
    # a task further down, asked for while only the first rows are in
    page.refresh()
    assert page.is_partial() and page.select_task(ids[10]) and not page.is_partial()
    assert page.selected_id() == ids[10] and len(page.model.rows) == 12
    # a column sort needs every row
    page.refresh()
    assert page.is_partial()
    page.view.horizontalHeader().setSortIndicator(page.model.COLUMNS.index("عنوان"), Qt.SortOrder.DescendingOrder)
    assert [r.id for r in page.model.rows] == ids[::-1] and not page.is_partial()
    page.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    # the export writes the whole list
    page.refresh()
    assert page.is_partial()
    out = tmp_path / "inbox.xlsx"
    page.export_excel(out)
    qtbot.waitUntil(lambda: bool(page.export_dialog.outcome is not None or page.export_dialog.error), timeout=10000)
    assert page.export_dialog.error is None, page.export_dialog.error
    values = {c for row in openpyxl.load_workbook(out).active.iter_rows(values_only=True) for c in row if c}
    assert {f"کار {i:02d}" for i in range(12)} <= values
    # a change between the two reads (made just after the first): the whole list as read the second time
    real = ts.list_tasks

    def first_read_then_a_change(f=None, at=None):
        rows = real(f, at)
        if f is not None and f.limit:
            ts.create_task({"title": "کار فوری", "due_at": j(1405, 9, 2, 10)}, user=office["reza"])
        return rows

    monkeypatch.setattr(ts, "list_tasks", first_read_then_a_change)
    page.refresh()
    monkeypatch.setattr(ts, "list_tasks", real)
    assert "کار فوری" not in [r.title for r in page.model.rows]
    qtbot.waitUntil(lambda: not page.is_partial(), timeout=5000)
    assert [r.title for r in page.model.rows][0] == "کار فوری" and len(page.model.rows) == 13
    assert page.count_label.text() == "۱۳ کار، ۱ عقب‌افتاده"
