"""The popup goes to the desk of the extension that rings, and an "own customers only" role does not see a
colleague's customer in it — on the real PostgreSQL server, each desk its own process (tests/office/desk.py).

This test process is desk A, the PC holding the AMI connection (nobody's extension). Desk B is Sara's
(sales rep, extension 102, signed in), desk C Kamran's (sales rep, extension 103, signed in), desk D a
reception PC with no extension of its own watching every line."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.office.pg import needs_pg
from tests.office.test_live_desks import Desk

pytestmark = needs_pg


@pytest.fixture
def office(pg_schema, tmp_path, qapp):
    from app.customers import service as cs
    from app.office import events
    from models.connection import open_database
    from models.core import User

    _schema, url = pg_schema
    open_database(url)
    sara = User.create(name="سارا فروش", username="sara", role="sales", extension="102")
    kamran = User.create(name="کامران احمدی", username="kamran", role="sales", extension="103")
    reception = User.create(name="پذیرش", username="reception", role="reception")
    mine = cs.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": ["09122800039"],
                               "assigned_to": sara.id})
    theirs = cs.create_customer({"first_name": "مینا", "last_name": "کاظمی", "phones": ["09351112233"],
                                 "assigned_to": kamran.id})
    desks = {}
    try:
        desks["B"] = Desk(url, tmp_path / "B", "--user", str(sara.id), "--sign-in")
        desks["C"] = Desk(url, tmp_path / "C", "--user", str(kamran.id), "--sign-in")
        desks["D"] = Desk(url, tmp_path / "D", "--user", str(reception.id), "--sign-in", "--watch", "all")
        events.start()
        yield {"sara": sara, "kamran": kamran, "mine": mine, "theirs": theirs, **desks}
    finally:
        events.stop()
        for d in desks.values():
            d.close()


def _controller():
    from app.callerid import service as svc
    from ui.calls.controller import CallerIdController
    from ui.context import AppContext

    ctrl = CallerIdController(AppContext())
    ctrl.service = svc.CallerIdService(ring_timeout=8)
    return ctrl


def _ring(ctrl, number: str, line: int, *extensions: str) -> None:
    from app.callerid import events as ev

    ctrl.on_event(ev.CallerIdEvent(kind=ev.INCOMING, number=number, line=line, source="ami",
                                   extra={"extension": extensions[0], "extensions": list(extensions),
                                          "pbx_call_id": f"call-{number}", "direction": "in"}))


def test_the_popup_goes_to_the_desk_of_the_ringing_extension(office, qapp):
    from app.core import clock

    B, C, D = office["B"], office["C"], office["D"]
    ctrl = _controller()
    try:
        clock.set_now(dt.datetime.now().replace(microsecond=0))
        _ring(ctrl, "09122800039", 1, "102")
        shown = B.next(lambda m: "popup" in m, timeout=10)
        assert shown["customer_id"] == office["mine"].id and "رضایی" in shown["name"]
        assert D.next(lambda m: "popup" in m, timeout=10)["number"] == "09122800039"   # reception sees all
        assert C.quiet(lambda m: "popup" in m, 1.5) == []                               # 103 did not ring
        # a ring group: 102 and 103 ring together, both desks pop
        _ring(ctrl, "02188776655", 2, "102", "103")
        assert B.next(lambda m: m.get("number") == "02188776655", timeout=10)
        assert C.next(lambda m: m.get("number") == "02188776655", timeout=10)
    finally:
        ctrl.stop()
        clock.set_now(None)


def test_an_own_customers_role_sees_the_number_and_the_colleague_not_the_customer(office, qapp):
    from app.core import clock

    B, C = office["B"], office["C"]
    ctrl = _controller()
    try:
        clock.set_now(dt.datetime.now().replace(microsecond=0))
        _ring(ctrl, "09351112233", 1, "102", "103")          # Kamran's customer rings Sara's phone too
        on_b = B.next(lambda m: "popup" in m, timeout=10)
        assert on_b["customer_id"] is None and on_b["number"] == "09351112233"
        assert on_b["name"] == "مشتری همکار: کامران احمدی" and "کاظمی" not in on_b["name"]
        on_c = C.next(lambda m: "popup" in m, timeout=10)     # Kamran's own customer: shown in full
        assert on_c["customer_id"] == office["theirs"].id and "کاظمی" in on_c["name"]
        [local] = ctrl.popups()                               # desk A (system) sees the customer
        assert local.view.customer_id == office["theirs"].id
    finally:
        ctrl.stop()
        clock.set_now(None)


def test_the_desk_holding_the_pbx_link_pops_only_its_own_extension_when_others_share_the_office(office, qapp):
    """Kamran's PC holds the AMI link (extension 103): a call ringing only Sara's 102 pops on her desk, not his."""
    from app.callerid import service as svc
    from app.core import clock
    from app.office import events
    from ui.calls.controller import CallerIdController
    from ui.context import AppContext

    assert events.bus.mode == "postgres"
    B = office["B"]
    ctrl = CallerIdController(AppContext(user_id=office["kamran"].id))
    ctrl.service = svc.CallerIdService(ring_timeout=8)
    try:
        clock.set_now(dt.datetime.now().replace(microsecond=0))
        _ring(ctrl, "09122800039", 1, "102")
        assert B.next(lambda m: "popup" in m, timeout=10)["number"] == "09122800039"
        assert ctrl.popups() == []                         # not on the PC that holds the link
        _ring(ctrl, "02188776655", 2, "103")
        [mine] = ctrl.popups()
        assert mine.view.number == "02188776655"
    finally:
        ctrl.stop()
        clock.set_now(None)


def _answer(ctrl, number: str, line: int, by: str, *extensions: str) -> None:
    from app.callerid import events as ev

    ctrl.on_event(ev.CallerIdEvent(kind=ev.ANSWERED, number=number, line=line, source="ami",
                                   extra={"extension": by, "extensions": list(extensions), "answered_by": by,
                                          "pbx_call_id": f"call-{number}", "direction": "in"}))


def test_a_ring_group_call_answered_by_one_colleague_leaves_the_others_desks(office, qapp):
    """102 and 103 ring together; Kamran (103) answers: Sara's popup says so and closes, Kamran's stays, and the
    reception PC without an extension (it follows its lines) keeps it too."""
    from app.core import clock

    B, C, D = office["B"], office["C"], office["D"]
    ctrl = _controller()
    try:
        clock.set_now(dt.datetime.now().replace(microsecond=0))
        _ring(ctrl, "02188776655", 2, "102", "103")
        key = B.next(lambda m: m.get("number") == "02188776655", timeout=10)["popup"]
        assert C.next(lambda m: m.get("popup") == key, timeout=10)
        assert D.next(lambda m: m.get("popup") == key, timeout=10)
        _answer(ctrl, "02188776655", 2, "103", "102", "103")
        taken = B.next(lambda m: m.get("taken") == key, timeout=10)
        assert taken["text"] == "پاسخ داده شد: کامران احمدی"
        closed = B.next(lambda m: m.get("closed") == key, timeout=10)
        assert 2.0 < closed["recv"] - taken["recv"] < 8.0          # readable for a moment, then gone
        assert C.quiet(lambda m: m.get("taken") == key or m.get("closed") == key, 2.0) == []
        assert D.quiet(lambda m: m.get("taken") == key or m.get("closed") == key, 0.5) == []
        # a later update of the same call (the row's id, the duration…) does not bring Sara's popup back
        _answer(ctrl, "02188776655", 2, "103", "102", "103")
        assert B.quiet(lambda m: m.get("popup") == key, 1.5) == []
    finally:
        ctrl.stop()
        clock.set_now(None)
