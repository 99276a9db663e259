"""Service settings: categories and their targets, status names, the team and its hand-over rule, office hours
and holidays — the rules in app/service (SQLite and PostgreSQL), then the settings tabs used as a person would,
with the due times the service then computes checked by hand, and screenshots."""
from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from app import options, settings
from app.core import clock
from app.core.errors import UserError, ValidationError
from app.service import hours, reassign
from app.service import requests as rq
from tests.service.test_ui import has_colour, shot_path
from tests.tasks.helpers import customer, j, user

# 1405/03/02 is a Saturday; 1405/03/06 a Wednesday, 03/07 Thursday, 03/08 Friday.


@pytest.fixture
def people(anydb):
    ids = {"reza": user("رضا کریمی", "reza"), "maryam": user("مریم احمدی", "maryam"),
           "sara": user("سارا نوری", "sara"), "ali": customer()}
    settings.set(options.SERVICE_REASSIGN_RULE, "off")
    return ids


# --- the rules --------------------------------------------------------------------------------------------------

def test_category_delete_move_and_status_names(people):
    cats = rq.list_categories(active_only=False)
    assert [c.name for c in cats] == ["تعمیر", "نصب و راه‌اندازی", "پرسش فنی", "شکایت"]
    rq.move_category(cats[3].id, -1)
    assert [c.name for c in rq.list_categories()][2:] == ["شکایت", "پرسش فنی"]
    rq.create_request({"customer_id": people["ali"], "subject": "x", "category_id": cats[0].id,
                       "assignee_id": people["reza"]})
    with pytest.raises(UserError, match="غیرفعال"):
        rq.delete_category(cats[0].id)
    rq.delete_category(cats[1].id)
    assert len(rq.list_categories(active_only=False)) == 3

    with pytest.raises(ValidationError, match="پنج"):
        rq.save_status_names(["تازه", "", "منتظر", "انجام شد", "بسته"])
    with pytest.raises(ValidationError, match="یکی است"):
        rq.save_status_names(["تازه", "بسته", "منتظر", "انجام شد", "بسته"])
    rq.save_status_names(["تازه", "در کار", "منتظر مشتری", "انجام شد", "بایگانی"])
    assert rq.status_labels() == {"new": "تازه", "in_progress": "در کار", "waiting": "منتظر مشتری",
                                  "done": "انجام شد", "closed": "بایگانی"}


def test_team_order_rule_and_turn(people):
    reza, maryam, sara = people["reza"], people["maryam"], people["sara"]
    assert [m.in_team for m in reassign.team_view()][:3] == [True, True, True]     # empty setting: everyone
    with pytest.raises(ValidationError, match="دست‌کم یک همکار"):
        reassign.save_team([], "round_robin")
    with pytest.raises(ValidationError):
        reassign.save_team([reza], "sometimes")
    reassign.save_team([sara, reza], "round_robin")
    assert settings.get(options.SERVICE_TEAM) == "sara, reza"
    view = reassign.team_view()
    assert [(m.user_id, m.in_team) for m in view][:3] == [(sara, True), (reza, True), (maryam, False)]
    assert reassign.next_in_turn() == sara
    clock.set_now(j(1405, 3, 2, 9, 0))
    got = [rq.create_request({"customer_id": people["ali"], "subject": f"x{i}"}).assignee_id for i in range(3)]
    assert got == [sara, reza, sara] and reassign.next_in_turn() == reza
    assert {m.user_id: m.open_requests for m in reassign.team_view()}[sara] == 2


def test_office_hours_saved_whole_or_not_at_all(people):
    before = {o.key: settings.get(o) for o in (options.SERVICE_HOURS_WEEKDAY, options.SERVICE_HOURS_THURSDAY,
                                               options.SERVICE_HOLIDAYS)}
    with pytest.raises(ValidationError) as e:
        hours.save_office_hours(True, "09:00-18:00", "", ["1405/03/14", "1405/07/31"])
    assert "1405/07/31" in e.value.errors["holidays"] and "۳۰ روز" in e.value.errors["holidays"]
    with pytest.raises(ValidationError, match="شنبه تا چهارشنبه"):
        hours.save_office_hours(True, "", "", [])
    with pytest.raises(ValidationError, match="پنجشنبه"):
        hours.save_office_hours(True, "09:00-18:00", "13:00-08:00", [])
    assert {o: settings.get(o) for o in before} == before

    hours.save_office_hours(True, "۰۹:۰۰-۱۸:۰۰", "", ["۱۴۰۵/۰۳/۱۴", dt.date(2026, 6, 6), "1405/03/14"])
    h = hours.office_hours()
    assert (h.weekday, h.thursday) == ((dt.time(9), dt.time(18)), None)
    assert h.holidays == (j(1405, 3, 14).date(), j(1405, 3, 16).date())
    assert settings.get(options.SERVICE_HOLIDAYS) == "1405/03/14، 1405/03/16"
    # Wednesday 17:00 with a 2-hour target: one hour on Wednesday; Thursday off now, Friday off,
    # Saturday 1405/03/09 working → due Saturday 10:00
    sched = hours.office_schedule()
    assert hours.add_business_minutes(j(1405, 3, 6, 17, 0), 120, sched) == j(1405, 3, 9, 10, 0)
    # and a new request's due time comes from it
    cat = rq.save_category("فوری", 60, 120)
    clock.set_now(j(1405, 3, 6, 17, 0))
    r = rq.create_request({"customer_id": people["ali"], "subject": "x", "category_id": cat.id,
                           "assignee_id": people["reza"]})
    assert (r.response_due_at, r.due_at) == (j(1405, 3, 6, 18, 0), j(1405, 3, 9, 10, 0))


def test_new_hours_move_open_requests_due_times_and_closed_ones_only_when_asked(people, monkeypatch):
    """Wednesday 1405/03/06 16:00, a 60/120-minute category under 08–17 and Thursday 08–13: due Wednesday 17:00
    and Thursday 09:00. Then Thursday becomes a day off and Saturday 03/09 a holiday."""
    from models.service import ServiceRequest as SR

    cat = rq.save_category("فوری", 60, 120)
    clock.set_now(j(1405, 3, 6, 16, 0))
    new = {"customer_id": people["ali"], "subject": "x", "category_id": cat.id, "assignee_id": people["reza"]}
    waiting, answered, solved = (rq.create_request(new).id for _ in range(3))
    rq.reply(answered, "در حال بررسی است.", people["reza"], at=j(1405, 3, 7, 8, 30))
    rq.set_status(solved, "done", people["reza"], at=j(1405, 3, 7, 9, 30))
    before = SR.get_by_id(solved)
    assert (before.due_at, before.service_minutes, before.response_minutes, before.sla_met) == (
        j(1405, 3, 7, 9, 0), 150, 150, False)                    # 60 on Wednesday + 90 on Thursday: late
    assert SR.get_by_id(answered).response_minutes == 90

    hours.save_office_hours(True, "08:00-17:00", "", ["1405/03/09"])
    monkeypatch.setattr(rq, "RECOMPUTE_CHUNK", 2)            # written a few at a time: here two transactions
    assert rq.recompute_minutes() == rq.Recomputed(open=2, closed=0)
    w, a, s = (SR.get_by_id(i) for i in (waiting, answered, solved))
    assert (w.response_due_at, w.due_at) == (j(1405, 3, 6, 17, 0), j(1405, 3, 10, 9, 0))   # Sunday 09:00
    assert a.due_at == j(1405, 3, 10, 9, 0) and a.response_minutes == 60                  # Thursday is off now
    assert (w.sla_met, a.sla_met, w.service_minutes) == (None, None, None)                 # still open
    assert (s.due_at, s.service_minutes, s.response_minutes, s.sla_met) == (
        j(1405, 3, 7, 9, 0), 150, 150, False)                    # solved: the recorded figures stay

    assert rq.recompute_minutes(closed_too=True) == rq.Recomputed(open=2, closed=1)
    s = SR.get_by_id(solved)
    assert (s.due_at, s.service_minutes, s.response_minutes, s.sla_met) == (
        j(1405, 3, 10, 9, 0), 60, 60, True)                      # done on a day off, before Sunday's due time
    assert rq.request_view(solved).sla_met is True

    rq.set_status(solved, "in_progress", people["reza"], at=j(1405, 3, 10, 8, 0))      # reopened: open again
    settings.set(options.SERVICE_BUSINESS_HOURS, False)
    assert rq.recompute_minutes() == rq.Recomputed(open=3, closed=0)
    assert SR.get_by_id(solved).due_at == j(1405, 3, 6, 18, 0) and SR.get_by_id(solved).sla_met is None


def test_fixed_holidays():
    days = dict(hours.fixed_holidays(1405))
    assert days[j(1405, 1, 1).date()] == "نوروز" and days[j(1405, 11, 22).date()] == "پیروزی انقلاب اسلامی"
    assert len(days) == 10 and j(1405, 12, 29).date() in days


# --- the screens ------------------------------------------------------------------------------------------------

@pytest.fixture
def panel(qtbot, db, persian_app):
    from ui.context import AppContext
    from ui.service.settings_panel import ServiceSettingsPanel

    clock.set_now(j(1405, 3, 2, 10, 0))
    ids = {"reza": user("رضا کریمی", "reza"), "maryam": user("مریم احمدی", "maryam"),
           "sara": user("سارا نوری", "sara"), "ali": customer()}
    settings.set(options.SERVICE_REASSIGN_RULE, "least_loaded")
    p = ServiceSettingsPanel(AppContext(user_id=ids["reza"]))
    qtbot.addWidget(p)
    p.resize(980, 760)
    p.show()
    ids["panel"] = p
    yield ids
    clock.set_now(None)


def test_categories_tab(panel, qtbot, typer, tmp_path):
    tab = panel["panel"].categories
    tab.new_category()
    typer(tab.name, "سرویس دوره‌ای")
    tab.response.hours.setValue(3)
    tab.resolve.setValue(27 * 60 + 30)
    tab.complaint.setChecked(False)
    assert tab.save_category()
    c = next(c for c in rq.list_categories() if c.name == "سرویس دوره‌ای")
    assert (c.response_minutes, c.resolve_minutes, c.active) == (180, 27 * 60 + 30, True)
    assert tab.table.rowCount() == 5 and tab.table.item(4, 2).text() == "۲۷ ساعت و ۳۰ دقیقه"

    tab.new_category()                                   # a second one with the same name is refused
    typer(tab.name, "سرویس دوره‌ای")
    assert not tab.save_category() and "نام" in tab.message.text()
    assert len(rq.list_categories()) == 5

    tab.table.setCurrentCell(0, 0)                               # «تعمیر»: used by a request, so not deleted
    rq.create_request({"customer_id": panel["ali"], "subject": "x", "category_id": tab.current_id,
                       "assignee_id": panel["reza"]})
    assert not tab.delete_current() and "غیرفعال" in tab.message.text()
    tab.active.setChecked(False)
    assert tab.save_category()
    assert "تعمیر" not in [c.name for c in rq.list_categories()]              # out of the new-request list
    tab.table.setCurrentCell(4, 0)
    tab.move(-1)
    assert [c.name for c in rq.list_categories(active_only=False)][3] == "سرویس دوره‌ای"
    assert tab.delete_current() and tab.table.rowCount() == 4

    tab.status_edits[4].setText("بایگانی")
    tab.default_resolve.setValue(600)
    assert tab.save_general()
    assert rq.status_labels()["closed"] == "بایگانی" and settings.get(options.SERVICE_DEFAULT_RESOLVE_MINUTES) == 600
    tab.status_edits[1].clear()
    assert not tab.save_general() and "پنج" in tab.message.text()
    assert rq.status_labels()["in_progress"] == "در دست بررسی"

    tab.table.setCurrentCell(0, 0)
    img = panel["panel"].grab().toImage()
    img.save(str(shot_path(tmp_path, "service-settings-categories.png")))
    assert has_colour(img, "#ffffff") and not img.isNull()


def test_team_tab(panel, qtbot, tmp_path):
    tab = panel["panel"].team
    assert tab.list.count() == 3 and len(tab.members()) == 3
    rows = {tab.list.item(i).data(Qt.ItemDataRole.UserRole): i for i in range(tab.list.count())}
    tab.list.item(rows[panel["maryam"]]).setCheckState(Qt.CheckState.Unchecked)
    tab.list.setCurrentRow(rows[panel["sara"]])
    tab.move(-1)
    tab.move(-1)
    tab.rule.setCurrentIndex(tab.rule.findData("round_robin"))
    assert tab.save()
    assert settings.get(options.SERVICE_TEAM) == "sara, reza"
    assert settings.get(options.SERVICE_REASSIGN_RULE) == "round_robin"
    assert "سارا نوری" in tab.turn.text()
    for i in range(tab.list.count()):
        tab.list.item(i).setCheckState(Qt.CheckState.Unchecked)
    assert not tab.save() and "دست‌کم" in tab.message.text()
    assert settings.get(options.SERVICE_TEAM) == "sara, reza"
    tab.load()
    panel["panel"].tabs.setCurrentWidget(tab)
    img = panel["panel"].grab().toImage()
    img.save(str(shot_path(tmp_path, "service-settings-team.png")))
    assert not img.isNull()


def test_hours_tab(panel, qtbot, typer, tmp_path):
    tab = panel["panel"].hours
    panel["panel"].tabs.setCurrentWidget(tab)
    assert tab.week_start.text() == "۰۸:۰۰" and tab.thu_on.isChecked()
    # the example on screen is the service's own computation: next Wednesday (1405/03/06) 16:00 + 2 hours
    # = 1 hour on Wednesday + 1 on Thursday (08:00–09:00)
    assert "۱۴۰۵/۰۳/۰۷ ۰۹:۰۰" in tab.example.text()

    tab.week_end.setText("۲۵:۰۰")
    assert not tab.save() and "ساعت" in tab.message.text() and "ساعت" in tab.example.text()
    assert settings.get(options.SERVICE_HOURS_WEEKDAY) == "08:00-17:00"
    tab.week_end.setText("۱۷:۰۰")

    tab.thu_on.setChecked(False)
    assert "۱۴۰۵/۰۳/۰۹ ۰۹:۰۰" in tab.example.text()        # Thursday and Friday off: Saturday 09:00
    typer(tab.date.line, "۱۴۰۵/۰۳/۰۹")
    assert tab.add_holiday()
    typer(tab.date.line, "۱۴۰۵/۰۲/۳۲")
    assert not tab.add_holiday() and tab.date.error_label.text()
    assert tab.add_fixed() == 20 and tab.add_fixed() == 0
    assert "۱۴۰۵/۰۳/۱۰ ۰۹:۰۰" in tab.example.text()        # Saturday a holiday too: Sunday 09:00
    tab.week_end.setText("۱۸:۰۰")
    assert "۱۴۰۵/۰۳/۰۶ ۱۸:۰۰" in tab.example.text()        # two hours left on Wednesday itself
    assert tab.save()
    h = hours.office_hours()
    assert h.weekday == (dt.time(8), dt.time(18)) and h.thursday is None and len(h.holidays) == 21
    clock.set_now(j(1405, 3, 6, 16, 0))
    r = rq.create_request({"customer_id": panel["ali"], "subject": "x", "assignee_id": panel["reza"]})
    assert r.response_due_at == j(1405, 3, 6, 17, 0)      # default 60 minutes, the day's hours now end at 18:00
    assert r.due_at == j(1405, 3, 10, 14, 0)              # 480: 2 on Wednesday, 6 on Sunday from 08:00

    tab.holidays.setCurrentRow(0)
    tab.holidays.item(0).setSelected(True)
    tab.remove_holiday()
    assert len(tab.days()) == 20
    img = panel["panel"].grab().toImage()
    img.save(str(shot_path(tmp_path, "service-settings-hours.png")))
    assert not img.isNull()


def test_saving_the_hours_moves_open_requests_off_the_gui_thread(panel, qtbot, tmp_path):
    from models.service import ServiceRequest as SR

    tab = panel["panel"].hours
    panel["panel"].tabs.setCurrentWidget(tab)
    clock.set_now(j(1405, 3, 6, 16, 0))
    new = {"customer_id": panel["ali"], "subject": "x", "assignee_id": panel["reza"]}
    open_id, solved_id = rq.create_request(new).id, rq.create_request(new).id
    assert SR.get_by_id(open_id).response_due_at == j(1405, 3, 6, 17, 0)
    rq.set_status(solved_id, "done", panel["reza"], at=j(1405, 3, 7, 9, 0))
    solved = SR.get_by_id(solved_id)

    tab.thu_on.setChecked(False)
    tab.week_end.setText("۱۸:۰۰")
    assert tab.save()
    qtbot.waitUntil(lambda: not tab.recomputing, timeout=10_000)
    assert tab.save_btn.isEnabled()
    assert SR.get_by_id(open_id).response_due_at == j(1405, 3, 6, 17, 0)
    assert SR.get_by_id(open_id).due_at == j(1405, 3, 9, 14, 0)       # 480: 2 on Wednesday, 6 on Saturday
    again = SR.get_by_id(solved_id)
    assert (again.due_at, again.service_minutes, again.sla_met) == (solved.due_at, solved.service_minutes,
                                                                    solved.sla_met)
    assert "موعد ۱ درخواست باز" in tab.message.text() and "همان‌طور" in tab.message.text()

    tab.closed_too.setChecked(True)
    assert tab.save()
    qtbot.waitUntil(lambda: not tab.recomputing, timeout=10_000)
    assert SR.get_by_id(solved_id).service_minutes == 120                 # Wednesday 16–18, Thursday off
    assert "۱ درخواست بسته‌شده" in tab.message.text() and not tab.closed_too.isChecked()
    img = panel["panel"].grab().toImage()
    img.save(str(shot_path(tmp_path, "service-settings-hours-recomputed.png")))
    assert not img.isNull()


def test_the_settings_page_has_the_panel(qtbot, db, persian_app):
    from ui.context import AppContext
    from ui.settings.page import SettingsPage

    page = SettingsPage(AppContext())
    qtbot.addWidget(page)
    titles = [page.tabs.tabText(i) for i in range(page.tabs.count())]
    assert "خدمات پس از فروش" in titles
