"""Logging calls by hand, completing a caller-ID call, follow-ups and referrals from a call, meetings."""
from __future__ import annotations

import datetime as dt

import pytest

from app.calls import log as call_log
from app.core import clock
from app.core.errors import ValidationError
from app.tasks import meetings
from app.tasks import service as ts
from models.calls import Call
from models.core import Activity
from models.tasks import Task
from tests.tasks.helpers import customer, j, timeline_kinds, user


def test_outbound_call_with_follow_up(anydb):
    u = user("رضا کریمی", "reza")
    c = customer()
    clock.set_now(j(1405, 9, 3, 11, 0))
    out = call_log.log_call({"customer_id": c, "direction": "out", "result": "answered", "duration": "۴:۳۰",
                             "note": "قیمت کابل را خواست؛ فردا پیش‌فاکتور بفرستم.",
                             "follow_up_at": j(1405, 9, 4).date(), "started_at": j(1405, 9, 3, 10, 50)}, user=u)
    call = Call.get_by_id(out.call.id)
    assert (call.direction, call.result, call.duration, call.handled, call.number, call.user_id) == (
        "out", "answered", 270, True, "09121234567", u)
    assert call.started_at == j(1405, 9, 3, 10, 50) and call.source == "manual"
    t = Task.get_by_id(out.task.id)
    assert (t.kind, t.all_day, t.due_at, t.assignee_id, t.call_id, t.customer_id) == (
        "call", True, j(1405, 9, 4), u, call.id, c)
    assert "علی رضایی" in t.title
    assert timeline_kinds(c) == ["call_out", "followup"]
    act = Activity.get(Activity.kind == "call_out")
    assert "پاسخ داده شد" in act.summary and "پیش‌فاکتور" in act.summary and act.ref_id == call.id


def test_completing_a_caller_id_call_updates_it_instead_of_creating_one(anydb):
    u, m = user("رضا کریمی", "reza"), user("مریم احمدی", "maryam")
    c = customer()
    clock.set_now(j(1405, 9, 3, 9, 5))
    # as caller ID left it: ringing → ended, nobody wrote anything yet
    cid_call = Call.create(customer=c, direction="in", state="ended", number="09121234567", source="modem",
                           started_at=j(1405, 9, 3, 9, 0), duration=95, handled=False)
    earlier = Call.create(customer=c, direction="in", state="missed", number="09121234567", source="modem",
                          started_at=j(1405, 9, 2, 17, 0), handled=False)
    out = call_log.log_call({"call_id": cid_call.id, "result": "answered", "note": "شکایت از تأخیر ارسال",
                             "follow_up_at": j(1405, 9, 3, 16, 0), "refer_to": m,
                             "refer_reason": "ارسال با واحد شماست"}, user=u)
    assert Call.select().count() == 2 and out.call.id == cid_call.id
    call = Call.get_by_id(cid_call.id)
    assert (call.handled, call.result, call.duration, call.note, call.direction) == (
        True, "answered", 95, "شکایت از تأخیر ارسال", "in")
    assert Call.get_by_id(earlier.id).handled                  # the missed call before it is answered too
    t = Task.get_by_id(out.task.id)
    assert t.assignee_id == m and t.referred_by_id == u and t.referral_note == "ارسال با واحد شماست"
    assert [r.id for r in ts.list_tasks(ts.InboxFilter(user_id=m))] == [t.id]
    assert timeline_kinds(c) == ["call_in", "followup", "task_referred"]
    # a second note on the same call is a note, not another call
    call_log.log_call({"call_id": cid_call.id, "note": "مشتری دوباره زنگ زد و تشکر کرد"}, user=u)
    assert timeline_kinds(c)[-1] == "call_note" and Call.select().count() == 2


def test_bad_input_saves_nothing(anydb):
    u = user("رضا کریمی", "reza")
    c = customer()
    clock.set_now(j(1405, 9, 3, 11, 0))
    bad = [({"customer_id": c, "duration": "سه"}, "duration"),
           ({"customer_id": c, "result": "maybe"}, "result"),
           ({"customer_id": c, "started_at": j(1405, 9, 4, 11)}, "started_at"),
           ({"customer_id": c, "follow_up_at": j(1405, 9, 2, 9)}, "follow_up_at"),
           ({"direction": "out"}, "customer_id"),
           ({"number": "12"}, "number")]
    for data, fieldname in bad:
        with pytest.raises(ValidationError) as e:
            call_log.log_call(data, user=u)
        assert fieldname in e.value.errors, (data, e.value.errors)
    assert Call.select().count() == 0 and Task.select().count() == 0 and Activity.select().count() == 0


def test_unknown_number_call_and_durations(anydb):
    clock.set_now(j(1405, 9, 3, 11, 0))
    out = call_log.log_call({"number": "۰۲۱-۸۸۷۷۶۶۵۵", "direction": "in", "result": "wrong_number"})
    assert out.call.customer_id is None and out.call.number == "02188776655" and out.task is None
    assert call_log.parse_duration("3") == 180 and call_log.parse_duration("") is None
    assert call_log.format_duration(150) == "۲:۳۰"


def test_meetings_and_last_visit(anydb):
    u = user("رضا کریمی", "reza")
    c = customer()
    clock.set_now(j(1405, 9, 3, 12, 0))
    assert meetings.last_visit(c) is None
    meetings.create_meeting({"customer_id": c, "start_at": j(1405, 8, 20, 10), "kind": "onsite",
                             "subject": "بازدید از کارگاه", "summary": "سفارش ۲۰۰ متر کابل"}, user=u)
    meetings.create_meeting({"customer_id": c, "start_at": j(1405, 9, 1, 16), "subject": "جلسه قیمت",
                             "summary": "تخفیف ۵ درصد توافق شد"}, user=u)
    planned = meetings.create_meeting({"customer_id": c, "start_at": j(1405, 9, 10, 10),
                                       "subject": "امضای قرارداد"}, user=u)
    assert planned.status == "planned"
    assert meetings.last_visit(c) == (j(1405, 9, 1, 16), "تخفیف 5 درصد توافق شد")   # digits stored ASCII
    clock.set_now(j(1405, 9, 10, 12, 0))
    meetings.update_meeting(planned.id, {"status": "held", "summary": "قرارداد امضا شد"}, user=u)
    assert meetings.last_visit(c) == (j(1405, 9, 10, 10), "قرارداد امضا شد")
    assert [m.subject for m in meetings.meetings_on(j(1405, 9, 10).date())] == ["امضای قرارداد"]
    assert timeline_kinds(c).count("meeting") == 3
    with pytest.raises(ValidationError):
        meetings.create_meeting({"customer_id": c, "start_at": j(1405, 9, 20, 10), "subject": "آینده",
                                 "status": "held"}, user=u)


def test_dashboard_next_jalali_day(anydb):
    from app.reports import dashboard

    u, m = user("رضا کریمی", "reza"), user("امیر حسینی", "amir", role="manager")
    c = customer()
    other = customer("سارا", "محمدی", "09125556677", birthday=j(1370, 9, 4).date())
    clock.set_now(j(1405, 9, 3, 17, 0))
    call_log.log_call({"customer_id": c, "direction": "out", "result": "no_answer",
                       "follow_up_at": j(1405, 9, 4).date()}, user=u)
    ts.create_task({"title": "ارسال کاتالوگ", "due_at": j(1405, 9, 3, 12, 0)}, user=u)   # already late
    Call.create(customer=other, direction="in", state="missed", number="09125556677",
                started_at=j(1405, 9, 3, 16, 30), handled=False)
    Call.create(customer=None, direction="in", state="ended", number="02122334455",
                started_at=j(1405, 9, 3, 16, 40), handled=False)
    meetings.create_meeting({"customer_id": other, "start_at": j(1405, 9, 4, 11), "subject": "دمو محصول"}, user=u)
    clock.set_now(j(1405, 9, 4, 8, 0))
    d = dashboard.load(u)
    assert not d.manager and d.per_user == []
    assert [(r.kind, r.customer_name) for r in d.today] == [("call", "علی رضایی")] and d.calls_today == 1
    assert [r.title for r in d.overdue] == ["ارسال کاتالوگ"]
    assert [x.subject for x in d.meetings] == ["دمو محصول"]
    assert [(x.customer_id, x.kind) for x in d.dates] == [(other, "birthday")]
    assert [x.name for x in d.missed_calls] == ["سارا محمدی"]
    assert [x.number for x in d.unhandled_calls] == ["02122334455"]
    dm = dashboard.load(m)
    assert dm.manager and {r["name"]: r["open"] for r in dm.per_user} == {"رضا کریمی": 2}
    assert dm.today == []                     # a manager's own lists; colleagues' are in the counts
    assert dashboard.load(None).today[0].customer_name == "علی رضایی"   # nobody signed in: all
    assert dt.timedelta(0) <= clock.now() - d.at < dt.timedelta(seconds=1)


def test_one_rule_for_handled_whoever_logs_the_call(anydb):
    """The calls page's «تماس دوباره», the dialog and the dashboard's «رسیدگی شد» share one service: the same
    rule settles earlier calls, and the handled button records who handled it."""
    u = user("رضا کریمی", "reza")
    c = customer()
    clock.set_now(j(1405, 9, 3, 11, 0))
    missed = Call.create(customer=c, direction="in", state="missed", number="09121234567", source="segal",
                         started_at=j(1405, 9, 3, 9, 0), handled=False)
    other_number = Call.create(customer=c, direction="in", state="missed", number="02188776655",
                               source="segal", started_at=j(1405, 9, 3, 9, 30), handled=False)
    # not reached: settles nothing
    call_log.log_manual_call(customer_id=c, direction="out", result="no_answer", user=u)
    assert not Call.get_by_id(missed.id).handled and not Call.get_by_id(other_number.id).handled
    # reached the customer: every earlier waiting call of theirs is settled, by this user
    call_log.log_manual_call(number="0912 123 4567", direction="out", result="answered", user=u)
    assert Call.get_by_id(missed.id).handled and Call.get_by_id(other_number.id).handled
    assert Call.get_by_id(missed.id).user_id == u
    # «رسیدگی شد» records who handled it (the dashboard used to pass the user where `handled` goes)
    third = Call.create(customer=None, direction="in", state="missed", number="02122334455",
                        started_at=j(1405, 9, 3, 10, 0), handled=False)
    call_log.mark_handled(third.id, user=u)
    row = call_log.get_call_row(third.id)
    assert row.handled and row.handled_by == "رضا کریمی"
    call_log.mark_handled(third.id, handled=False)
    assert not call_log.get_call_row(third.id).handled
    with pytest.raises(Exception) as e:
        call_log.mark_handled(999999, user=u)
    assert "پیدا نشد" in getattr(e.value, "message", str(e.value))
