"""The popup on a sales rep's desk for a colleague's customer: the number and «مشتری همکار: …», no name, no
file, no account (a one-desk SQLite office: the device desk's own controller)."""
from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest

from tests.office.helpers import as_user, make_user

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture
def office(db, qapp):
    from app.customers import service as cs

    sara = make_user("سارا فروش", "sara", "sales")
    kamran = make_user("کامران احمدی", "kamran", "sales")
    theirs = cs.create_customer({"first_name": "مینا", "last_name": "کاظمی", "phones": ["09351112233"],
                                 "assigned_to": kamran}).id
    mine = cs.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": ["09122800039"],
                               "assigned_to": sara}).id
    return {"sara": sara, "kamran": kamran, "theirs": theirs, "mine": mine}


def _ring(ctrl, number: str, line: int) -> None:
    from app.callerid import events as ev

    ctrl.on_event(ev.CallerIdEvent(kind=ev.INCOMING, number=number, line=line, source="segal"))


def test_a_colleagues_customer_pops_as_the_number_and_the_colleague(office, qtbot, tmp_path):
    from app.callerid import service as svc
    from app.core import clock
    from models.calls import Call
    from ui.calls.controller import CallerIdController
    from ui.context import AppContext

    with as_user(office["sara"]):
        ctrl = CallerIdController(AppContext(user_id=office["sara"]))
        ctrl.service = svc.CallerIdService(ring_timeout=8)
        try:
            clock.set_now(dt.datetime(2026, 12, 5, 10, 0))
            _ring(ctrl, "09351112233", 1)
            _ring(ctrl, "09122800039", 2)
            theirs, mine = ctrl.popups()
            assert theirs.name_label.text() == "مشتری همکار: کامران احمدی"
            assert "کاظمی" not in theirs.name_label.text() and theirs.view.customer_id is None
            assert "۰۹۳۵" in theirs.number_label.text()
            assert set(theirs.action_buttons) == {"note", "refer"}          # no file, no "new customer"
            assert not theirs.fields_box.isVisibleTo(theirs)                 # no account, no history
            assert mine.view.customer_id == office["mine"] and "رضایی" in mine.name_label.text()
            assert "open" in mine.action_buttons
            qtbot.waitUntil(lambda: ctrl.pending == 0, timeout=5000)
            # the call is still logged against the colleague's customer: only the popup is limited
            assert Call.get(Call.number == "09351112233").customer_id == office["theirs"]
            out = tmp_path / "colleague_popup.png"
            assert theirs.grab().save(str(out))
            if os.environ.get("CRM_SCREENSHOTS"):
                shutil.copy(out, os.environ["CRM_SCREENSHOTS"])
        finally:
            ctrl.stop()
            clock.set_now(None)


def test_the_tray_notice_is_limited_the_same_way(office):
    from app.callerid import service as svc
    from app.office.visibility import popup_view
    from ui.calls.tray import call_notification

    v = svc.CallView(call_id=0, key="k", line=None, line_label="", direction="in", state="ringing",
                     number_raw="09351112233", number="09351112233", number_display="0935 111 2233",
                     number_status="ok", caller_name="", customer_id=office["theirs"], customer_name="مینا کاظمی",
                     other_matches=0, started_at=dt.datetime(2026, 12, 5, 10, 0), answered_at=None, ended_at=None,
                     duration=None, rings=1, final=False, number_known=True, source="segal")
    with as_user(office["sara"]):
        title, _text = call_notification(popup_view(v))
    assert title == "تماس از مشتری همکار: کامران احمدی"


def test_one_desk_shows_every_extensions_call(office):
    """On SQLite there is one desk: a call ringing a colleague's extension still pops here."""
    from app.callerid import events as ev
    from app.callerid import service as svc
    from app.core import clock
    from app.office import users
    from ui.calls.controller import CallerIdController
    from ui.context import AppContext

    users.save_user("کامران احمدی", "kamran", "sales", user_id=office["kamran"], extension="103")
    ctrl = CallerIdController(AppContext(user_id=office["kamran"]))
    ctrl.service = svc.CallerIdService(ring_timeout=8)
    try:
        clock.set_now(dt.datetime(2026, 12, 5, 10, 0))
        ctrl.on_event(ev.CallerIdEvent(kind=ev.INCOMING, number="02188776655", line=1, source="ami",
                                       extra={"extension": "102", "extensions": ["102"]}))
        [p] = ctrl.popups()
        assert p.view.extensions == ("102",) and "۱۰۲" in p.line_label.text()
    finally:
        ctrl.stop()
        clock.set_now(None)
