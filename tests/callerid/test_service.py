"""The caller-ID service on a real database: events in, Call rows and timeline entries out."""
from __future__ import annotations

import datetime as dt

import pytest

from app import call_log, clock, customers, settings
from app.callerid import events as ev
from app.callerid import service as svc
from app.callerid import settings_keys as sk
from app.errors import ValidationError
from models.calls import Call
from models.core import Activity

T0 = dt.datetime(2026, 11, 24, 10, 0, 0)


def acts(customer_id, kind):
    """Timeline entries of one kind, newest first (read directly: the assertion is on what was stored)."""
    return list(Activity.select().where(Activity.customer == customer_id, Activity.kind == kind)
                .order_by(Activity.at.desc(), Activity.id.desc()))


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def E(kind, **kw):  # noqa: N802
    return ev.CallerIdEvent(kind=kind, **kw)


@pytest.fixture
def office(anydb):
    settings.set("office.area_code", "021")
    clock.set_now(T0)
    rezaei = customers.create_customer({"first_name": "علی", "last_name": "رضایی", "company": "رضایی و پسران",
                                        "phones": ["021-22514321", "09122800039"]})
    karimi = customers.create_customer({"first_name": "مریم", "last_name": "کریمی", "phones": ["09121112233"]})
    return rezaei, karimi


@pytest.mark.parametrize("reported", [
    "9122800039", "+989122800039", "00989122800039", "09122800039", "989122800039",
    "2122514321", "22514321", "+982122514321", "00982122514321", "02122514321",
])
def test_every_iranian_form_matches_the_same_customer(office, reported):
    rezaei, _ = office
    s = svc.CallerIdService()
    [v] = s.handle(E(ev.INCOMING, number=reported, source="modem"), at(0))
    assert v.customer_id == rezaei.id and v.customer_name == "علی رضایی"
    row = Call.get_by_id(v.call_id)
    assert row.customer_id == rezaei.id and row.number_raw == reported
    assert row.number in ("09122800039", "02122514321")


def test_known_caller_answered_on_a_box(office):
    rezaei, _ = office
    settings.set(sk.LINE_LABELS, "خط فروش|خط پشتیبانی")
    s = svc.CallerIdService(ring_timeout=8)
    [v] = s.handle(E(ev.INCOMING, number="+98 912 280 0039", line=2, source="segal"), at(0))
    assert (v.state, v.line_label, v.number_display) == ("ringing", "خط پشتیبانی", "0912 280 0039")
    s.handle(E(ev.RING, line=2, source="segal"), at(1))
    [v] = s.handle(E(ev.ANSWERED, line=2, source="segal"), at(4))
    assert v.state == "answered"
    assert Call.get_by_id(v.call_id).answered_at == at(4)
    [v] = s.handle(E(ev.HANGUP, line=2, duration=95, source="segal"), at(100))
    assert v.final and v.duration == 95
    c = Call.get_by_id(v.call_id)
    assert (c.state, c.duration, c.result, c.direction, c.line, c.source) == ("ended", 95, "answered", "in", 2, "segal")
    [e] = acts(rezaei.id, "call_in")
    assert e.ref_id == c.id and "خط پشتیبانی" in e.summary and "۱ دقیقه و ۳۵ ثانیه" in e.summary
    assert e.at == T0


def test_unknown_and_withheld_calls_are_logged(office):
    s = svc.CallerIdService(ring_timeout=8)
    [u] = s.handle(E(ev.INCOMING, number="09350000000", source="modem"), at(0))
    assert u.customer_id is None and u.number == "09350000000"
    s.tick_and_record(at(20))
    [p] = s.handle(E(ev.INCOMING, number="P", status=ev.PRIVATE, source="modem"), at(30))
    assert p.number == "" and p.number_status == ev.PRIVATE and p.customer_id is None
    s.tick_and_record(at(60))
    rows = call_log.fetch_call_rows(call_log.list_call_ids())
    assert {r.who for r in rows.values()} == {"ناشناس", "شماره پنهان"}
    assert all(r.state == "ended" and r.duration is None for r in rows.values())   # modem: outcome unknown
    acts = list(Activity.select().where(Activity.ref_table == "call"))
    assert len(acts) == 2 and all(a.customer_id is None for a in acts)


def test_missed_then_called_back(office):
    _, karimi = office
    s = svc.CallerIdService(ring_timeout=8)
    [v] = s.handle(E(ev.INCOMING, number="9121112233", line=1, source="techno"), at(0))
    [m] = s.handle(E(ev.MISSED, line=1, rings=6, source="techno"), at(6))
    assert m.state == "missed"
    assert call_log.missed_call_ids() == [v.call_id]
    assert [e.kind for e in acts(karimi.id, "call_missed")] == ["call_missed"]
    # the receptionist calls back from line 3
    s.handle(E(ev.OFFHOOK, line=3, source="techno"), at(120))
    for i, d in enumerate("09121112233"):
        s.handle(E(ev.DIGIT, number=d, line=3, source="techno"), at(121 + i * 0.2))
    [o] = s.handle(E(ev.HANGUP, line=3, source="techno"), at(200))
    assert (o.direction, o.customer_id, o.duration) == ("out", karimi.id, 80)
    assert call_log.missed_call_ids() == []
    assert [e.kind for e in acts(karimi.id, "call_out")] == ["call_out"]


def test_number_after_first_ring_is_matched(office):
    rezaei, _ = office
    s = svc.CallerIdService()
    [v1] = s.handle(E(ev.RING, source="modem"), at(0))
    assert v1.customer_id is None and not v1.number_known
    [v2] = s.handle(E(ev.INCOMING, number="22514321", source="modem"), at(1))
    assert v2.call_id == v1.call_id and v2.customer_id == rezaei.id
    assert Call.select().count() == 1 and Call.get_by_id(v1.call_id).customer_id == rezaei.id


def test_add_number_later_links_earlier_calls(office):
    _, karimi = office
    s = svc.CallerIdService(ring_timeout=5)
    [v] = s.handle(E(ev.INCOMING, number="+98 935 123 4567", source="modem"), at(0))
    s.tick_and_record(at(10))
    customers.add_phone(karimi.id, "09351234567")
    assert call_log.link_calls_to_customer(karimi.id) == 1
    assert Call.get_by_id(v.call_id).customer_id == karimi.id
    assert [e.ref_id for e in acts(karimi.id, "call_in")] == [v.call_id]


def test_filters_and_handled(office):
    rezaei, karimi = office
    s = svc.CallerIdService(ring_timeout=5)
    s.handle(E(ev.INCOMING, number="09122800039", line=1, source="segal"), at(0))
    s.handle(E(ev.ANSWERED, line=1, source="segal"), at(2))
    s.handle(E(ev.HANGUP, line=1, source="segal"), at(32))
    s.handle(E(ev.INCOMING, number="09121112233", line=2, source="segal"), dt.datetime(2026, 11, 25, 9, 0))
    s.tick_and_record(dt.datetime(2026, 11, 25, 9, 1))
    day1 = call_log.CallFilter(date_from=T0.date(), date_to=T0.date())
    assert call_log.count_calls(day1) == 1
    assert call_log.count_calls(call_log.CallFilter(state="missed")) == 1
    assert call_log.count_calls(call_log.CallFilter(line=2)) == 1
    assert call_log.count_calls(call_log.CallFilter(customer_id=rezaei.id)) == 1
    assert call_log.count_calls(call_log.CallFilter(number="+989121112233")) == 1
    assert call_log.count_calls(call_log.CallFilter(direction="out")) == 0
    [mid] = call_log.missed_call_ids()
    assert call_log.callback_number(mid) == "09121112233"
    call_log.mark_handled(mid)
    assert call_log.missed_call_ids() == []
    assert call_log.count_calls(call_log.CallFilter(unhandled=True)) == 1
    ids = call_log.list_call_ids()
    assert ids == sorted(ids, key=lambda i: call_log.get_call_row(i).started_at, reverse=True)


def test_manual_call_and_note(office):
    rezaei, _ = office
    cid = call_log.log_manual_call(customer_id=rezaei.id, direction="out", duration=120, result="answered",
                              note="پیگیری پیش‌فاکتور")
    row = call_log.get_call_row(cid)
    assert (row.customer_id, row.number, row.duration, row.source, row.handled) == (
        rezaei.id, "02122514321", 120, "manual", True)
    cid2 = call_log.log_manual_call(number="+98 912 280 0039", direction="in", result="answered")
    assert call_log.get_call_row(cid2).customer_id == rezaei.id
    call_log.set_call_note(cid2, "سفارش جدید دارد")
    assert call_log.get_call_row(cid2).note == "سفارش جدید دارد"
    assert acts(rezaei.id, "call_note")
    last = call_log.last_call(rezaei.id)
    assert last.id == cid2
    assert call_log.last_call(rezaei.id, exclude_id=cid2).id == cid


def test_manual_call_bad_input_saves_nothing(office):
    before = Call.select().count()
    with pytest.raises(ValidationError) as e:
        call_log.log_manual_call(number="12", direction="out")
    assert "number" in e.value.errors
    with pytest.raises(ValidationError):
        call_log.log_manual_call(direction="sideways", number="09121112233")
    with pytest.raises(ValidationError):
        call_log.log_manual_call()
    with pytest.raises(ValidationError):
        call_log.set_call_note(call_log.log_manual_call(number="09121112233"), "   ")
    assert Call.select().count() == before + 1


def test_recover_open_calls(office):
    s = svc.CallerIdService()
    [a] = s.handle(E(ev.INCOMING, number="09122800039", line=1, source="segal"), at(0))
    [b] = s.handle(E(ev.INCOMING, number="09121112233", source="modem"), at(0))
    # the app dies here; next start:
    assert svc.recover_open_calls(at(3600)) == 2
    assert Call.get_by_id(a.call_id).state == "missed"
    assert Call.get_by_id(b.call_id).state == "ended"
    assert svc.recover_open_calls(at(3601)) == 0


def test_a_bad_event_never_raises(office):
    s = svc.CallerIdService()
    assert s.handle(E("garbage", number="x" * 500)) == []
    [v] = s.handle(E(ev.INCOMING, number="x" * 500, source="modem"), at(0))
    assert Call.get_by_id(v.call_id).number_raw == "x" * 40


def test_format_duration():
    assert call_log.format_duration(75) == "۱:۱۵"
    assert call_log.format_duration(3725, persian=False) == "1:02:05"
    assert call_log.format_duration(None) == ""
    assert call_log.duration_words(60) == "۱ دقیقه"


def test_device_lost_is_recorded_as_such(office):
    rezaei, _ = office
    s = svc.CallerIdService(ring_timeout=8)
    [v] = s.handle(E(ev.INCOMING, number="09122800039", line=1, source="segal"), at(0))
    [lost] = s.handle(E(ev.DEVICE, source="segal", extra={"device": "lost"}), at(3))
    assert lost.call_id == v.call_id and lost.result == "device_lost" and lost.final
    row = call_log.get_call_row(v.call_id)
    assert (row.state, row.result, row.duration) == ("ended", "device_lost", None)
    assert row.state_label == "قطع ارتباط با دستگاه"
    assert call_log.missed_call_ids() == []                         # not a missed call (see lifecycle.py)
    [a] = acts(rezaei.id, "call_in")
    assert "قطع ارتباط با دستگاه" in a.summary
