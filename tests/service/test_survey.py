"""Satisfaction by SMS: the automatic survey goes once to each request done since the rule was switched on (a
customer with a mobile, no score yet), through a real HTTP provider (the Kavenegar fake); the replies that hold
one score become the request's survey and count in the KPIs; a score the office recorded is never overwritten."""
from __future__ import annotations

import pytest

from app import options, settings
from app.core import clock
from app.service import kpi, survey
from app.service import requests as rq
from app.sms import automatic
from app.sms import service as sms
from app.sms.providers import make
from models.messaging import Message
from models.service import RequestEntry, ServiceRequest
from tests.sms.conftest import customer, kavenegar  # noqa: F401  (the fake provider fixture)
from tests.tasks.helpers import j, user

# 1405/03/02 is a Saturday (a sending day); the send window is 09:00–20:00.


@pytest.fixture
def office(db, kavenegar):  # noqa: F811
    settings.set(options.SERVICE_REASSIGN_RULE, "off")
    settings.set("office.name", "تعمیرگاه پیوند")
    provider = make("kavenegar", key="test-key", sender="10004346", base_url=kavenegar.url)
    reza = user("رضا کریمی", "reza")
    ali = customer("علی", "رضایی", "09121234567").id
    sara = customer("سارا", "محمدی", "09351112233").id
    shop = customer("دفتر", "مرکزی", "").id                # no mobile: nobody to ask
    return {"fake": kavenegar, "provider": provider, "reza": reza, "ali": ali, "sara": sara, "shop": shop}


def _done(o, cust, at_open, at_done, score=None):
    clock.set_now(at_open)
    r = rq.create_request({"customer_id": cust, "subject": "تعمیر پمپ", "assignee_id": o["reza"]}, user=o["reza"])
    rq.set_status(r.id, "done", o["reza"], at=at_done)
    if score:
        rq.record_survey(r.id, score, "تلفنی", o["reza"], at=at_done)
    return r


def test_asked_once_and_replies_become_scores(office):
    o = office
    old = _done(o, o["ali"], j(1405, 3, 2, 8, 0), j(1405, 3, 2, 8, 30))        # done before the rule: not asked
    clock.set_now(j(1405, 3, 2, 9, 0))
    automatic.enable("survey")
    a = _done(o, o["ali"], j(1405, 3, 2, 9, 10), j(1405, 3, 2, 10, 0))
    b = _done(o, o["sara"], j(1405, 3, 2, 9, 20), j(1405, 3, 2, 10, 30))
    _done(o, o["shop"], j(1405, 3, 2, 9, 30), j(1405, 3, 2, 10, 40))
    phoned = _done(o, o["sara"], j(1405, 3, 2, 9, 40), j(1405, 3, 2, 10, 50), score=2)
    clock.set_now(j(1405, 3, 2, 11, 0))
    open_one = rq.create_request({"customer_id": o["ali"], "subject": "باز", "assignee_id": o["reza"]})

    report = automatic.run(provider=o["provider"])
    assert report.queued.get("survey") == 2 and report.sent == 2, report.describe()
    sent = {m["number"]: m["text"] for m in o["fake"].sent}
    assert set(sent) == {"09121234567", "09351112233"}
    assert a.number in sent["09121234567"] and "۱ (ناراضی) تا ۵" in sent["09121234567"]
    assert sent["09121234567"].endswith("تعمیرگاه پیوند")
    assert {m.auto_key for m in Message.select()} == {survey.key_of(a.id), survey.key_of(b.id)}
    clock.set_now(j(1405, 3, 2, 11, 30))
    assert automatic.run(provider=o["provider"]).queued.get("survey") == 0                 # once

    clock.set_now(j(1405, 3, 2, 12, 0))
    o["fake"].inbox = [
        {"messageid": 7001, "message": "۵ ممنون از پیگیری", "sender": "+989121234567", "receptor": "10004346"},
        {"messageid": 7002, "message": "۳ یا ۴", "sender": "09351112233", "receptor": "10004346"},
        {"messageid": 7003, "message": "4", "sender": "09190000000", "receptor": "10004346"},
    ]
    assert sms.read_replies(o["provider"]) == 3
    ra, rb = ServiceRequest.get_by_id(a.id), ServiceRequest.get_by_id(b.id)
    assert (ra.satisfaction, ra.satisfaction_comment) == (5, "پیامک: 5 ممنون از پیگیری")   # stored text keeps ASCII digits
    assert ra.satisfaction_at == j(1405, 3, 2, 12, 0) and rb.satisfaction is None        # «۳ یا ۴»: for a person
    entry = RequestEntry.get(RequestEntry.request == a.id, RequestEntry.kind == "survey")
    assert entry.user_id is None and '"score": 5' in entry.data

    clock.set_now(j(1405, 3, 3, 9, 0))
    o["fake"].inbox = [{"messageid": 7004, "message": "4", "sender": "09351112233", "receptor": "10004346"},
                       {"messageid": 7005, "message": "1", "sender": "09121234567", "receptor": "10004346"}]
    assert sms.read_replies(o["provider"]) == 2
    assert ServiceRequest.get_by_id(b.id).satisfaction == 4
    assert ServiceRequest.get_by_id(a.id).satisfaction == 5                               # the first score stays
    assert ServiceRequest.get_by_id(phoned.id).satisfaction == 2                          # the office's stays
    assert ServiceRequest.get_by_id(old.id).satisfaction is None
    assert ServiceRequest.get_by_id(open_one.id).satisfaction is None

    k = kpi.compute(j(1405, 3, 1).date(), j(1405, 3, 31).date())
    assert k.total.sat_n == 3 and k.total.satisfaction == round((5 + 4 + 2) / 3, 2)


def test_a_late_reply_is_not_taken(office):
    o = office
    clock.set_now(j(1405, 3, 2, 9, 0))
    automatic.enable("survey")
    a = _done(o, o["ali"], j(1405, 3, 2, 9, 10), j(1405, 3, 2, 10, 0))
    clock.set_now(j(1405, 3, 2, 11, 0))
    automatic.run(provider=o["provider"])
    clock.set_now(j(1405, 3, 6, 12, 0))                      # four days later
    o["fake"].inbox = [{"messageid": 7101, "message": "5", "sender": "09121234567", "receptor": "10004346"}]
    assert sms.read_replies(o["provider"]) == 1
    assert ServiceRequest.get_by_id(a.id).satisfaction is None


def test_nothing_is_asked_while_the_rule_is_off(office):
    o = office
    _done(o, o["ali"], j(1405, 3, 2, 9, 10), j(1405, 3, 2, 10, 0))
    clock.set_now(j(1405, 3, 2, 11, 0))
    automatic.enable("birthday")                             # another rule on, so the runner runs
    automatic.run(provider=o["provider"])
    assert not o["fake"].sent and Message.select().count() == 0


@pytest.mark.parametrize("text, score", [("5", 5), ("۵", 5), (" ۴ ممنون", 4), ("عالی بود ۱", 1), ("٣", 3),
                                         ("۵۰", None), ("۳ یا ۴", None), ("6", None), ("0", None), ("سلام", None),
                                         ("", None)])
def test_score_of(text, score):
    assert survey.score_of(text) == score


def test_survey_tab(qtbot, office, persian_app, tmp_path):
    from tests.service.test_ui import shot_path
    from ui.context import AppContext
    from ui.service.settings_panel import ServiceSettingsPanel

    p = ServiceSettingsPanel(AppContext(user_id=office["reza"]))
    qtbot.addWidget(p)
    p.resize(980, 520)
    p.show()
    tab = p.survey
    p.tabs.setCurrentWidget(tab)
    assert not tab.enabled.isChecked() and "{شماره_درخواست}" in tab.text.toPlainText()
    assert "تنظیم نشده" in tab.warning.text()
    tab.enabled.setChecked(True)
    tab.text.setPlainText("درخواست {شماره_درخواست} انجام شد؛ از ۱ تا ۵ چه نمره‌ای می‌دهید؟ {شماره_فاکس}")
    assert not tab.save() and "{شماره_فاکس}" in tab.message.text()
    assert not settings.get(options.SMS_AUTO_ENABLED["survey"])
    tab.text.setPlainText("درخواست {شماره_درخواست} انجام شد؛ از ۱ تا ۵ چه نمره‌ای می‌دهید؟")
    assert tab.save()
    assert settings.get(options.SMS_AUTO_ENABLED["survey"])
    assert settings.get(options.SMS_AUTO_TEXT["survey"]) == "درخواست {شماره_درخواست} انجام شد؛ از ۱ تا ۵ چه نمره‌ای می‌دهید؟"
    img = p.grab().toImage()
    img.save(str(shot_path(tmp_path, "service-settings-survey.png")))
    assert not img.isNull()
