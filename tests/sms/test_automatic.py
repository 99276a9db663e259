"""Automatic messages with a fake clock walking a whole Jalali month (every half hour, day and night): each
birthday, anniversary and cheque gets exactly one message, inside the send window and never on a Friday;
invoices and missed calls get theirs once; nothing goes before a rule is switched on."""
from __future__ import annotations

import datetime as dt

from app import settings
from app.core import clock, jalali
from app.sms import automatic
from app.sms.providers import make
from models.calls import Call
from models.messaging import Message
from models.sales import Payment
from tests.sms.conftest import customer

MONTH = (1405, 7)            # Mehr 1405


def walk(fake, start: dt.date, end: dt.date, step_minutes: int = 30) -> list:
    provider = make("kavenegar", key="test-key", base_url=fake.url)
    reports = []
    t = dt.datetime.combine(start, dt.time(0, 0))
    while t.date() <= end:
        clock.set_now(t)
        reports.append((t, automatic.run(provider=provider)))
        t += dt.timedelta(minutes=step_minutes)
    return reports


def test_a_jalali_month_of_birthdays_and_cheques(db, kavenegar):
    first, last = jalali.month_range(*MONTH)
    clock.set_now(dt.datetime.combine(first - dt.timedelta(days=1), dt.time(8)))
    settings.set("office.name", "بازرگانی پیوند")
    births, cheques = {}, {}
    for day in range(1, 31):
        d = jalali.from_jalali(1370 + day % 20, MONTH[1], day)
        c = customer(f"نفر{day}", "آزمون", f"0912{day:07d}", title="آقای", birthday=d)
        births[c.id] = jalali.from_jalali(MONTH[0], MONTH[1], day)
    wed = customer("زوج", "آزمون", "09350000001", anniversary=jalali.from_jalali(1390, 7, 12))
    for day in (3, 10, 17, 24, 30):
        c = customer(f"چک{day}", "آزمون", f"0913{day:07d}")
        p = Payment.create(customer=c.id, kind="cheque", amount=50_000_000, date=first, cheque_number=f"77{day}",
                           cheque_due=jalali.from_jalali(*MONTH, day), cheque_state="pending")
        cheques[p.id] = (c.id, p.cheque_due)
    customer("بی‌تولد", "آزمون", "09140000000")
    for kind in ("birthday", "anniversary", "cheque"):
        automatic.enable(kind)
    settings.set("sms.auto.cheque.days", 3)

    walk(kavenegar, first, last)

    msgs = list(Message.select())
    assert all(m.state == "sent" for m in msgs)
    start, end = automatic.window()
    for m in msgs:
        assert start <= m.sent_at.time() < end, m.sent_at
        assert m.sent_at.weekday() != 4, m.sent_at
    birthday = [m for m in msgs if m.auto_key.startswith("birthday:")]
    assert sorted(m.customer_id for m in birthday) == sorted(births)          # each exactly once
    for m in birthday:
        due = births[m.customer_id]
        # on the day itself, or on Thursday for a Friday birthday
        assert m.sent_at.date() == due or (due.weekday() == 4 and m.sent_at.date() == due - dt.timedelta(days=1))
        assert m.body.startswith("آقای نفر") and m.body.endswith("بازرگانی پیوند")
    assert any(d.weekday() == 4 for d in births.values())                   # the month has Friday birthdays
    [ann] = [m for m in msgs if m.auto_key.startswith("anniversary:")]
    assert ann.customer_id == wed.id and ann.sent_at.date() in (jalali.from_jalali(1405, 7, 12),
                                                                 jalali.from_jalali(1405, 7, 11))
    chq = [m for m in msgs if m.auto_key.startswith("cheque:")]
    assert sorted(int(m.auto_key.split(":")[1]) for m in chq) == sorted(cheques)
    for m in chq:
        cid, due = cheques[int(m.auto_key.split(":")[1])]
        assert m.customer_id == cid and due - dt.timedelta(days=3) <= m.sent_at.date() <= due
        assert jalali.format_date(due) in m.body and "۵۰٬۰۰۰٬۰۰۰ ریال" in m.body
    assert sum(kavenegar.by_number.values()) == len(msgs) == len(births) + 1 + len(cheques)


def test_invoice_and_missed_call_once_and_only_after_switching_on(db, kavenegar):
    from app.sales.documents import create_invoice
    t0 = dt.datetime(2026, 10, 3, 10, 0)          # a Saturday
    clock.set_now(t0)
    c = customer("مریم", "احمدی", "09121111111", title="خانم")
    old = create_invoice(c.id, [{"description": "کالا", "quantity": 1, "unit_price": 1_000_000}])
    Call.create(direction="in", state="missed", number="09122222222", number_raw="09122222222",
                started_at=t0 - dt.timedelta(minutes=5))
    clock.set_now(t0 + dt.timedelta(minutes=1))
    automatic.enable("invoice")
    automatic.enable("missed_call")
    clock.set_now(t0 + dt.timedelta(minutes=2))
    new = create_invoice(c.id, [{"description": "کالا", "quantity": 2, "unit_price": 1_000_000}])
    Call.create(direction="in", state="missed", number="09123333333", number_raw="09123333333",
                started_at=t0 + dt.timedelta(minutes=3))
    Call.create(direction="in", state="missed", number="09123333333", number_raw="+989123333333",
                started_at=t0 + dt.timedelta(minutes=4))
    walk(kavenegar, t0.date(), t0.date() + dt.timedelta(days=1), step_minutes=20)
    keys = sorted(m.auto_key for m in Message.select())
    assert keys == [f"invoice:{new.id}", "missed_call:09123333333:2026-10-03"]
    inv = Message.get(Message.auto_key == f"invoice:{new.id}")
    assert "خانم مریم احمدی" in inv.body and new.number[-2:] not in ("",) and old.id != new.id


def test_outside_the_window_nothing_is_sent(db, kavenegar):
    clock.set_now(dt.datetime(2026, 10, 3, 8, 0))
    customer("الف", "ب", "09121111111", birthday=dt.date(1990, 10, 3))
    automatic.enable("birthday")
    r = automatic.run(provider=make("kavenegar", key="test-key", base_url=kavenegar.url))
    assert not r.ran and "بیرون از بازه" in r.reason and not kavenegar.sent
    clock.set_now(dt.datetime(2026, 10, 2, 12, 0))      # a Friday
    assert not automatic.run(provider=make("kavenegar", key="test-key", base_url=kavenegar.url)).ran
    settings.set("sms.auto.fridays", True)
    r = automatic.run(provider=make("kavenegar", key="test-key", base_url=kavenegar.url))
    assert r.ran
