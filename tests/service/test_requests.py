"""Requests: from a call, the status workflow the office names, replies and notes, validation, survey;
automatic hand-over of unhandled and overdue requests with a fake clock."""
from __future__ import annotations

import pytest

from app import settings
from app.core import clock
from app.core.errors import UserError, ValidationError
from app.service import handover
from app.service import requests as rq
from models.calls import Call
from models.service import RequestEntry, ServiceRequest
from models.tasks import Task
from tests.tasks.helpers import customer, j, timeline_kinds, user


@pytest.fixture
def office(anydb):
    ids = {"reza": user("رضا کریمی", "reza"), "maryam": user("مریم احمدی", "maryam"),
           "sara": user("سارا نوری", "sara"), "ali": customer()}
    settings.set("service.team", "reza, maryam، sara")
    return ids


def test_request_from_call_takes_customer_and_time(office):
    clock.set_now(j(1405, 3, 2, 9, 5))
    call = Call.create(customer=office["ali"], number="09121234567", started_at=j(1405, 3, 2, 9, 0), state="ended")
    r = rq.create_request({"call_id": call.id, "subject": "پمپ صدا می‌دهد", "assignee_id": office["reza"]},
                          user=office["reza"])
    v = rq.request_view(r.id)
    assert (v.customer_id, v.channel, v.call_id, v.received_at) == (office["ali"], "phone", call.id, j(1405, 3, 2, 9, 0))
    assert v.number == "S1405-00001" and v.status_label == "جدید"
    assert "service" in timeline_kinds(office["ali"])
    r2 = rq.create_request({"customer_id": office["ali"], "subject": "دوم", "assignee_id": office["reza"]})
    assert rq.request_view(r2.id).number == "S1405-00002"


def test_call_origin_and_first_day(office):
    """What the popup's button and the dashboard's «همه» period read, without touching the tables themselves."""
    assert rq.first_received_day() is None and rq.call_origin(None) is None and rq.call_origin(999) is None
    call = Call.create(customer=office["ali"], number="09121234567", started_at=j(1405, 3, 2, 9, 0), state="ended")
    assert rq.call_origin(call.id) == rq.CallOrigin(call.id, office["ali"], j(1405, 3, 2, 9, 0))
    clock.set_now(j(1405, 3, 4, 11, 0))
    rq.create_request({"customer_id": office["ali"], "subject": "دیرتر", "assignee_id": office["reza"]})
    rq.create_request({"call_id": call.id, "subject": "از تماس", "assignee_id": office["reza"]})
    assert rq.first_received_day() == j(1405, 3, 2).date()


def test_validation_is_persian_and_writes_nothing(office):
    with pytest.raises(ValidationError) as e:
        rq.create_request({"subject": "", "customer_id": None, "priority": 9, "channel": "fax"})
    assert set(e.value.errors) == {"subject", "customer_id", "priority", "channel"}
    assert ServiceRequest.select().count() == 0
    with pytest.raises(ValidationError):
        rq.reply(999, "")


def test_workflow_names_replies_notes_and_survey(office):
    settings.set("service.status_names", "تازه، در جریان، منتظر مشتری، حل شد، بایگانی")
    clock.set_now(j(1405, 3, 2, 9, 0))
    r = rq.create_request({"customer_id": office["ali"], "subject": "نشتی آب", "assignee_id": office["reza"]})
    rq.add_note(r.id, "احتمالاً واشر است.", office["reza"], at=j(1405, 3, 2, 9, 10))
    assert ServiceRequest.get_by_id(r.id).first_response_at is None      # an internal note is not a response
    rq.reply(r.id, "فردا ساعت ۱۰ می‌آییم.", office["reza"], at=j(1405, 3, 2, 9, 20))
    v = rq.request_view(r.id)
    assert v.status == "in_progress" and v.status_label == "در جریان"
    assert v.first_response_at == j(1405, 3, 2, 9, 20)
    with pytest.raises(UserError):
        rq.record_survey(r.id, 4)                                          # not done yet
    rq.set_status(r.id, "waiting", office["reza"], at=j(1405, 3, 2, 10, 0))
    rq.set_status(r.id, "closed", office["reza"], at=j(1405, 3, 3, 11, 0))
    with pytest.raises(ValidationError):
        rq.record_survey(r.id, 6)
    clock.set_now(j(1405, 3, 3, 12, 0))
    rq.record_survey(r.id, 4, "خوب بود ولی دیر آمدند", office["reza"])
    v = rq.request_view(r.id)
    assert v.status_label == "بایگانی" and v.satisfaction == 4 and v.closed_at == j(1405, 3, 3, 11, 0)
    assert [e.kind for e in v.entries] == ["status", "note", "reply", "status", "status", "status", "survey"]
    with pytest.raises(UserError):
        rq.assign(r.id, office["maryam"])                                  # a closed request is not handed over


def test_round_robin_shares_new_requests(office):
    settings.set("service.reassign_rule", "round_robin")
    clock.set_now(j(1405, 3, 2, 9, 0))
    got = [rq.create_request({"customer_id": office["ali"], "subject": f"د{i}"}).assignee_id for i in range(4)]
    assert got == [office["reza"], office["maryam"], office["sara"], office["reza"]]


def test_least_loaded_hands_unhandled_then_overdue_once(office):
    settings.set("service.reassign_rule", "least_loaded")
    cat = rq.save_category("پرسش سریع", 30, 120)
    clock.set_now(j(1405, 3, 2, 9, 0))                     # Saturday
    r = rq.create_request({"customer_id": office["ali"], "subject": "راه‌اندازی دستگاه", "category_id": cat.id,
                           "assignee_id": office["reza"]})
    for _ in range(2):                                      # maryam is busier than sara
        m = rq.create_request({"customer_id": office["ali"], "subject": "کار مریم", "assignee_id": office["maryam"]})
        rq.reply(m.id, "پیگیری می‌کنم.", office["maryam"])
    assert handover.run_due(j(1405, 3, 2, 9, 29)) == []     # still within its 30 minutes
    moved = handover.run_due(j(1405, 3, 2, 9, 31))
    assert [(m.request_id, m.from_user, m.to_user, m.reason) for m in moved] == [
        (r.id, office["reza"], office["sara"], "unhandled")]
    notice = Task.select().where(Task.assignee == office["sara"]).get()
    assert "S1405-00001" in notice.title and notice.status == "open"
    assert handover.run_due(j(1405, 3, 2, 10, 0)) == []     # once per reason: no bouncing every minute
    # overdue at 11:00 (120 business minutes): to the least loaded other than sara → reza (0 open) over maryam (2)
    moved = handover.run_due(j(1405, 3, 2, 11, 1))
    assert [(m.to_user, m.reason) for m in moved] == [(office["reza"], "overdue")]
    assert r.id not in [m.request_id for m in handover.run_due(j(1405, 3, 3, 11, 1))]
    assigns = RequestEntry.select().where(RequestEntry.request == r.id, RequestEntry.kind == "assign").count()
    assert assigns == 2


def test_rule_off_hands_nothing_over(office):
    settings.set("service.reassign_rule", "off")
    clock.set_now(j(1405, 3, 2, 9, 0))
    rq.create_request({"customer_id": office["ali"], "subject": "بدون ارجاع", "assignee_id": office["reza"]})
    assert handover.run_due(j(1405, 3, 20, 9, 0)) == []


def test_hand_over_over_friday(office):
    """Received Thursday 12:50 with 30 minutes to answer: unhandled only from Saturday 08:20, not Friday."""
    settings.set("service.reassign_rule", "round_robin")
    cat = rq.save_category("پرسش سریع", 30, 120)
    clock.set_now(j(1405, 3, 7, 12, 50))
    r = rq.create_request({"customer_id": office["ali"], "subject": "عصر پنجشنبه", "category_id": cat.id,
                           "assignee_id": office["reza"]})
    assert ServiceRequest.get_by_id(r.id).response_due_at == j(1405, 3, 9, 8, 20)
    assert handover.run_due(j(1405, 3, 8, 12, 0)) == []
    assert len(handover.run_due(j(1405, 3, 9, 8, 21))) == 1


def test_list_filters(office):
    clock.set_now(j(1405, 3, 2, 9, 0))
    a = rq.create_request({"customer_id": office["ali"], "subject": "کولر", "serial": "AC-55", "assignee_id": office["reza"]})
    b = rq.create_request({"customer_id": office["ali"], "subject": "پکیج", "assignee_id": office["maryam"]})
    rq.set_status(b.id, "done", office["maryam"])
    assert rq.list_requests(rq.RequestFilter(status="open"))[1] == 1
    assert [x.id for x in rq.list_requests(rq.RequestFilter(text="AC-55"))[0]] == [a.id]
    assert [x.id for x in rq.list_requests(rq.RequestFilter(assignee_id=office["maryam"]))[0]] == [b.id]
    clock.set_now(j(1405, 3, 30, 9, 0))
    rows, n = rq.list_requests(rq.RequestFilter(overdue=True))
    assert n == 1 and rows[0].overdue
