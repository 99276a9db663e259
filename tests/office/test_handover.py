"""Hand-over moves exactly the rows asked for: all of a colleague's customers and open tasks, or a filtered
part; several receivers share them; tasks follow their customer; each receiver gets a notice in the inbox;
opportunities move only where that table exists."""
from __future__ import annotations

import datetime as dt

import pytest

from app.core import clock
from app.core.errors import PermissionDenied, ValidationError
from app.customers import service as customers
from app.office import auth, handover
from app.tasks import service as tasks
from models.base import db as dbproxy
from models.core import Customer
from models.office import AuditLog
from models.tasks import Task
from tests.office.helpers import as_user, make_user

DAY = dt.datetime(2026, 11, 24, 10, 0)


@pytest.fixture
def office(anydb):
    clock.set_now(DAY)
    o = {"boss": make_user("شیرین مدیر", "shirin", "manager"),
         "ali": make_user("علی رفتنی", "ali", "sales", "ali-pass-1"),
         "sara": make_user("سارا", "sara", "sales"), "nima": make_user("نیما", "nima", "sales")}
    o["tehran"] = [customers.create_customer({"first_name": "تهرانی", "last_name": str(i), "assigned_to": o["ali"],
                                              "addresses": [{"city": "تهران"}]}).id for i in range(4)]
    o["shiraz"] = [customers.create_customer({"first_name": "شیرازی", "last_name": str(i), "assigned_to": o["ali"],
                                              "addresses": [{"city": "شیراز"}]}).id for i in range(3)]
    o["saras"] = customers.create_customer({"first_name": "مال", "last_name": "سارا", "assigned_to": o["sara"]}).id
    due = DAY + dt.timedelta(days=1)
    o["task_tehran"] = tasks.create_task({"title": "پیگیری تهرانی", "kind": "followup", "customer_id": o["tehran"][0],
                                          "assignee_id": o["ali"], "due_at": due}).id
    o["task_shiraz"] = tasks.create_task({"title": "تماس شیرازی", "kind": "call", "customer_id": o["shiraz"][0],
                                          "assignee_id": o["ali"], "due_at": due}).id
    o["task_free"] = tasks.create_task({"title": "گزارش ماهانه", "kind": "task", "assignee_id": o["ali"],
                                        "due_at": due}).id
    done = tasks.create_task({"title": "کار تمام‌شده", "kind": "task", "assignee_id": o["ali"], "due_at": due})
    tasks.set_done(done.id)
    o["task_done"] = done.id
    yield o
    clock.set_now(None)


def _owner(cid):
    return Customer.get_by_id(cid).assigned_to_id


def _assignee(tid):
    return Task.get_by_id(tid).assignee_id


def _notices(uid):
    return list(Task.select().where(Task.assignee == uid, Task.title.startswith("واگذاری")))


def test_filtered_hand_over_moves_exactly_the_picked_rows(office):
    with as_user(office["boss"]):
        plan = handover.plan(office["ali"], [office["sara"]],
                             handover.Scope(customer_filter=customers.Filter(city="شیراز")))
        assert plan.counts() == {"customers": 3, "tasks": 1, "opportunities": 0}
        handover.hand_over(office["ali"], [office["sara"]],
                           handover.Scope(customer_filter=customers.Filter(city="شیراز")), note="رفتن به شعبه")
    assert [_owner(c) for c in office["shiraz"]] == [office["sara"]] * 3
    assert [_owner(c) for c in office["tehran"]] == [office["ali"]] * 4          # untouched
    assert _owner(office["saras"]) == office["sara"]
    assert _assignee(office["task_shiraz"]) == office["sara"]
    assert _assignee(office["task_tehran"]) == office["ali"]
    assert _assignee(office["task_free"]) == office["ali"]
    t = Task.get_by_id(office["task_shiraz"])
    assert t.referred_by_id == office["ali"] and t.referral_note == "رفتن به شعبه"
    (notice,) = _notices(office["sara"])
    assert "۳ مشتری" in notice.title and "۱ کار" in notice.title and notice.status == "open"
    assert "رفتن به شعبه" in notice.description
    inbox = tasks.list_tasks(tasks.InboxFilter(user_id=office["sara"], status="open"))
    assert notice.id in [r.id for r in inbox]
    log = AuditLog.select().where(AuditLog.action == "handover").get()
    assert log.user_id == office["boss"] and "سارا" in log.summary


def test_all_to_two_receivers_tasks_follow_their_customer(office):
    with as_user(office["boss"]):
        plan = handover.hand_over(office["ali"], [office["sara"], office["nima"]], deactivate=False)
    assert plan.counts() == {"customers": 7, "tasks": 3, "opportunities": 0}
    owners = [_owner(c) for c in office["tehran"] + office["shiraz"]]
    assert owners.count(office["sara"]) == 4 and owners.count(office["nima"]) == 3
    assert _assignee(office["task_tehran"]) == _owner(office["tehran"][0])
    assert _assignee(office["task_shiraz"]) == _owner(office["shiraz"][0])
    assert _assignee(office["task_free"]) in (office["sara"], office["nima"])
    assert _assignee(office["task_done"]) == office["ali"]                      # closed work keeps its history
    assert Customer.select().where(Customer.assigned_to == office["ali"]).count() == 0
    assert len(_notices(office["sara"])) == 1 and len(_notices(office["nima"])) == 1


def test_hand_over_and_deactivate_someone_who_left(office):
    with as_user(make_user("مدیر سیستم", "root", "admin")):
        handover.hand_over(office["ali"], [office["nima"]], deactivate=True)
    with pytest.raises(auth.SignInError):
        auth.sign_in("ali", "ali-pass-1")
    # history stays: the customers' creator, the done task, the log
    assert _assignee(office["task_done"]) == office["ali"]
    assert AuditLog.select().where(AuditLog.action == "deactivate", AuditLog.entity_id == office["ali"]).exists()
    with pytest.raises(ValidationError):
        handover.plan(office["sara"], [office["ali"]])                           # an inactive receiver


def test_refusals(office):
    with as_user(office["sara"]), pytest.raises(PermissionDenied):
        handover.hand_over(office["ali"], [office["sara"]])
    with as_user(office["boss"]):
        with pytest.raises(ValidationError):
            handover.hand_over(office["ali"], [office["ali"]])
        with pytest.raises(PermissionDenied):                                     # deactivating is the admin's
            handover.hand_over(office["ali"], [office["sara"]], deactivate=True)
    assert [_owner(c) for c in office["tehran"]] == [office["ali"]] * 4


def test_opportunities_move_when_the_table_exists(office):
    from models.pipeline import Opportunity, PipelineStage

    stage = PipelineStage.select().order_by(PipelineStage.position).first()
    other = office["saras"]                 # a customer outside the filter (not in Tehran)
    for oid, title, cid, owner, status in (
            (1, "فرصت تهرانی", office["tehran"][1], office["ali"], "open"),
            (2, "فرصت بسته", office["tehran"][1], office["ali"], "won"),
            (3, "فرصت بیرون از فیلتر", other, office["ali"], "open"),
            (4, "فرصت سارا", office["saras"], office["sara"], "open")):
        Opportunity.create(id=oid, title=title, customer=cid, owner=owner, status=status, stage=stage)
    with as_user(office["boss"]):
        plan = handover.hand_over(office["ali"], [office["nima"]],
                                  handover.Scope(customer_filter=customers.Filter(city="تهران")))
    assert plan.counts()["opportunities"] == 1
    owners = dict(dbproxy.execute_sql("SELECT id, owner_id FROM opportunity").fetchall())
    assert owners == {1: office["nima"], 2: office["ali"], 3: office["ali"], 4: office["sara"]}
