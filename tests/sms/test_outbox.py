"""The outbox: written before sent, nothing sent twice after a crash, opt-outs and duplicates left out,
messages on the timeline, replies and delivery reports stored."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import settings
from app.core import clock
from app.core.errors import UserError
from app.customers import timeline
from app.sms import service
from app.sms.providers import make
from models.core import Customer, PhoneNumber
from models.messaging import InboundMessage, Message, OptOut
from tests.procs import reap
from tests.sms.conftest import customer

ROOT = Path(__file__).resolve().parents[2]


def use(fake, name="kavenegar", key="test-key", base=""):
    settings.set("sms.provider", name)
    settings.set("sms.key", key)
    settings.set("sms.sender", "10004346")
    settings.set("sms.base_url", fake.url + base)
    settings.set("sms.interval", 0.01)


def test_send_now_writes_the_row_the_timeline_and_returns_the_provider_id(db, kavenegar):
    use(kavenegar)
    c = customer()
    msg = service.send_now("0912 123 4567", "سلام آقای رضایی")
    assert msg.state == "sent" and msg.provider_id == str(kavenegar.sent[0]["id"])
    assert msg.customer_id == c.id and msg.local_id and msg.parts == 1
    assert kavenegar.sent[0]["local_id"] == str(msg.local_id)
    e = timeline.entries(c.id, kinds=["sms_out"])
    assert len(e) == 1 and e[0].label == "پیامک" and "سلام آقای رضایی" in e[0].summary


def test_refusal_keeps_the_row_with_its_persian_reason(db, kavenegar):
    use(kavenegar)
    kavenegar.error = 418
    with pytest.raises(UserError) as e:
        service.send_now("09121234567", "سلام")
    assert "اعتبار" in e.value.message
    m = Message.get()
    assert m.state == "queued"          # refused as a whole: nothing went; a later run sends it
    kavenegar.error = None
    s = service.deliver(make("kavenegar", key="test-key", base_url=kavenegar.url))
    assert s.sent == 1 and Message.get().state == "sent"


def test_not_a_mobile_and_opted_out_numbers_are_refused(db, kavenegar):
    use(kavenegar)
    with pytest.raises(UserError, match="شماره همراه"):
        service.queue_one("02122334455", "سلام")
    service.opt_out("09121234567")
    with pytest.raises(UserError, match="لغو"):
        service.queue_one("+98 912 123 4567", "سلام")
    assert Message.select().count() == 0 and not kavenegar.sent


def test_group_plan_excludes_opted_out_duplicates_and_no_mobile(db):
    a = customer("الف", "یک", "09121111111")
    b = customer("ب", "دو", "09122222222")
    c = customer("پ", "سه", "09121111111")       # the same mobile as a
    d = customer("ت", "چهار", "02188888888")
    service.opt_out("09122222222")
    p = service.plan([a.id, b.id, c.id, d.id, a.id])
    assert p.rows == [(a.id, "09121111111")]
    assert (p.opted_out, p.duplicates, p.no_mobile) == (1, 1, 1)


def test_group_send_merges_fields_and_appends_optout_on_a_service_line(db, kavenegar):
    use(kavenegar)
    settings.set("sms.line_kind", "service")
    ids = [customer("علی", "رضایی", "09121111111", title="آقای").id,
           customer("مریم", "احمدی", "09122222222", title="خانم").id]
    camp, p = service.queue_group(ids, "{نام} عزیز، سفارش شما آماده است.")
    s = service.deliver(campaign_id=camp)
    assert s.sent == 2
    texts = sorted(x["text"] for x in kavenegar.sent)
    assert texts == ["آقای علی رضایی عزیز، سفارش شما آماده است.\nلغو۱۱",
                     "خانم مریم احمدی عزیز، سفارش شما آماده است.\nلغو۱۱"]


def test_interrupted_before_the_provider_got_it_is_sent_once(db, kavenegar):
    """A run died after marking rows "sending" but before its request: Kavenegar never heard of them."""
    use(kavenegar)
    customer()
    m = service.queue_one("09121234567", "سلام")
    Message.update(state="sending", sending_at=dt.datetime(2020, 1, 1), provider="kavenegar").execute()
    s = service.deliver(stale_after=0)
    assert s.requeued == 1 and s.sent == 1
    assert kavenegar.by_number["09121234567"] == 1 and Message.get_by_id(m.id).state == "sent"


def test_interrupted_after_the_provider_got_it_is_not_sent_again(db, kavenegar):
    use(kavenegar)
    m = service.queue_one("09121234567", "سلام")
    kavenegar.accept("09121234567", "سلام", str(m.local_id))     # it went out; the run died before recording it
    Message.update(state="sending", sending_at=dt.datetime(2020, 1, 1), provider="kavenegar").execute()
    s = service.deliver(stale_after=0)
    assert s.sent == 1 and s.requeued == 0
    assert kavenegar.by_number["09121234567"] == 1
    assert Message.get_by_id(m.id).provider_id == str(kavenegar.sent[0]["id"])


def test_a_provider_that_cannot_be_asked_marks_them_uncertain(db, smsir):
    use(smsir, "smsir", base="/v1")
    m = service.queue_one("09121234567", "سلام")
    Message.update(state="sending", sending_at=dt.datetime(2020, 1, 1), provider="smsir").execute()
    s = service.deliver(stale_after=0)
    assert s.uncertain == 1 and s.sent == 0 and not smsir.sent
    assert Message.get_by_id(m.id).state == "uncertain" and "دو بار" in Message.get_by_id(m.id).error


def test_a_fresh_sending_row_of_another_live_run_is_left_alone(db, kavenegar):
    use(kavenegar)
    service.queue_one("09121234567", "سلام")
    Message.update(state="sending", sending_at=clock.now(), provider="kavenegar").execute()
    s = service.deliver()
    assert s.sent == 0 and Message.get().state == "sending" and not kavenegar.sent


def test_replies_store_and_optout(db, kavenegar):
    use(kavenegar)
    c = customer()
    kavenegar.inbox = [{"messageid": 5001, "message": "لغو۱۱", "sender": "+989121234567", "receptor": "10004346",
                        "date": 0},
                       {"messageid": 5002, "message": "ممنون", "sender": "09350000000", "receptor": "10004346",
                        "date": 0}]
    assert service.read_replies() == 2
    assert OptOut.get().recipient == "09121234567" and OptOut.get().source == "reply"
    assert InboundMessage.select().count() == 2
    assert [e.kind for e in timeline.entries(c.id)][:2] == ["sms_optout", "sms_in"]
    kavenegar.inbox = [{"messageid": 5001, "message": "لغو۱۱", "sender": "+989121234567"}]
    assert service.read_replies() == 0                     # the same reply is not stored twice


@pytest.mark.parametrize("text,yes", [("لغو11", True), ("لغو ۱۱", True), ("11", True), ("STOP", True),
                                      ("لغو", True), ("سلام ۱۱", False), ("۱۱۰", False)])
def test_optout_replies(text, yes):
    assert service.is_optout_reply(text) is yes


def test_delivery_status_is_polled_and_stored(db, kavenegar):
    use(kavenegar)
    m = service.send_now("09121234567", "سلام")
    kavenegar.delivery[m.provider_id] = 10
    assert service.poll_status() == 1
    assert Message.get_by_id(m.id).state == "delivered"


# --- 5,000 messages, kill -9, resume --------------------------------------------------------------------------------

def _customers(n: int) -> list[int]:
    now = dt.datetime(2026, 1, 1)
    rows = [{"first_name": f"مشتری{i}", "last_name": "آزمون", "kind": "person", "stage": "actual",
             "created_at": now, "updated_at": now} for i in range(n)]
    for lo in range(0, n, 500):
        Customer.insert_many(rows[lo:lo + 500]).execute()
    ids = [c.id for c in Customer.select(Customer.id).order_by(Customer.id)]
    phones = [{"customer": cid, "label": "mobile", "raw": f"0912{i:07d}", "canonical": f"0912{i:07d}",
               "tail": f"2{i:07d}", "is_primary": True} for i, cid in enumerate(ids)]
    for lo in range(0, n, 500):
        PhoneNumber.insert_many(phones[lo:lo + 500]).execute()
    return ids


@pytest.mark.timeout(240)
def test_group_send_of_5000_killed_and_resumed_sends_each_exactly_once(db, tmp_path):
    from tests.sms.fakes import FakeKavenegar

    fake = FakeKavenegar(delay=0.15).start()
    try:
        use(fake)
        ids = _customers(5000)
        camp, p = service.queue_group(ids, "{نام} عزیز، جشنواره پاییزه از فردا.")
        assert p.total == 5000 and Message.select().count() == 5000
        from models.connection import close_database

        path = str(tmp_path / "test.sqlite3")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
        child = subprocess.Popen([sys.executable, str(ROOT / "tests/sms/deliver_child.py"), path], env=env,
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        end = time.monotonic() + 120
        while sum(fake.by_number.values()) < 2100 and time.monotonic() < end and child.poll() is None:
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)      # while the provider holds a batch the child has not recorded
        child.wait()
        fake.idle()
        at_kill = sum(fake.by_number.values())
        err = child.stderr.read()[-2000:]
        reap(child)
        assert 2000 <= at_kill < 5000, (at_kill, err)
        states = service.counts(camp)
        assert states.get("sending", 0) > 0, states      # the crash left rows whose fate only the provider knows
        fake.delay = 0
        s = service.deliver(stale_after=0)
        fake.idle()
        assert sum(fake.by_number.values()) == 5000
        assert len(fake.by_number) == 5000 and set(fake.by_number.values()) == {1}
        assert service.counts(camp) == {"sent": 5000}
        assert s.remaining == 0 and s.uncertain == 0
        print(f"killed after {at_kill} accepted; {states.get('sending')} rows were 'sending'; "
              f"resume: {s.sent} recorded/sent, {s.requeued} queued again")
        close_database  # noqa: B018 - the fixture closes it
    finally:
        fake.stop()
