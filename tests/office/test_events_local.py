"""The office event bus on one desk (SQLite: events stay in this process), the commit hooks that feed
`changed`, its coalescing, and the desk's rules for other desks' events (LiveOffice, offscreen)."""
from __future__ import annotations

import queue
import threading
import time

import pytest

from app.office import events
from app.office import live as rules

_offs: list = []


@pytest.fixture
def bus(db):
    """The program's own bus (the services publish on it), started on a SQLite database."""
    b = events.bus
    assert b.start() == "local"
    yield b
    b.stop()
    while _offs:
        _offs.pop()()


def collect(b, channel):
    q: queue.Queue = queue.Queue()
    _offs.append(b.subscribe(channel, q.put))
    return q


def drain(q, seconds):
    out, end = [], time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            out.append(q.get(timeout=left))
        except queue.Empty:
            break
    return out


def test_events_stay_in_process_on_sqlite_and_run_on_their_own_thread(bus):
    got, threads = queue.Queue(), []
    _offs.append(bus.subscribe("call", lambda ev: (threads.append(threading.current_thread().name), got.put(ev))))
    bus.publish("call", {"line": 2, "number": "09122800039"})
    ev = got.get(timeout=2)
    assert ev.channel == "call" and ev.payload["line"] == 2 and ev.mine
    assert threads == ["office-events"]


def test_a_committed_write_reports_its_tables_and_a_rolled_back_one_nothing(bus):
    from app.customers import service as cs
    from models.base import db
    from models.core import Tag

    q = collect(bus, "changed")
    cs.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": ["09122800039"]})
    tables = {e.payload["table"] for e in drain(q, 0.3)}
    assert {"customer", "phone_number"} <= tables
    time.sleep(events.COALESCE_S)
    with pytest.raises(RuntimeError):
        with db.atomic():
            Tag.create(name="تنها")
            raise RuntimeError("undo")
    assert drain(q, events.COALESCE_S + 0.3) == []


def test_changed_is_coalesced_to_one_per_table_per_half_second(bus):
    from app.customers import service as cs

    q = collect(bus, "changed")
    t0 = time.time()
    for i in range(12):
        cs.create_customer({"first_name": "مشتری", "last_name": f"شماره {i}"})
    t1 = time.time()
    sent = [e.sent_at for e in drain(q, 1.5) if e.payload["table"] == "customer"]
    assert 1 <= len(sent) <= 2 + int((t1 - t0) / events.COALESCE_S)   # one at once, the rest folded per window
    assert sent[0] <= t1                                               # the first was not held back
    assert all(b - a >= events.COALESCE_S * 0.9 for a, b in zip(sent, sent[1:], strict=False))
    assert sent[-1] >= t1 - 0.05 or len(sent) == 1 and t1 - t0 < 0.01  # the last change is never swallowed


def test_task_assigned_waits_for_the_commit(bus, db):
    from app.tasks import service as tasks
    from models.base import db as database
    from models.core import User

    a = User.create(name="پذیرش", username="a")
    b = User.create(name="سارا", username="b")
    q = collect(bus, "task_assigned")
    with pytest.raises(RuntimeError):
        with database.atomic():
            tasks.create_task({"title": "رفت", "assignee_id": b.id}, user=a.id)
            raise RuntimeError("undo")
    assert drain(q, 0.4) == []
    t = tasks.create_task({"title": "ماند", "assignee_id": b.id}, user=a.id)
    [ev] = drain(q, 0.5)
    assert ev.payload["task_id"] == t.id and ev.payload["to_user"] == b.id and not ev.payload["referral"]


@pytest.mark.parametrize("text, line, shown", [
    ("all", 3, True), ("همه", None, True), ("none", 1, False), ("", 1, False),
    ("2", 2, True), ("2", 1, False), ("۱، ۳", 3, True), ("1,3", 2, False), ("1", None, True),
])
def test_watched_lines(text, line, shown):
    assert rules.watches(line, rules.parse_watch(text)) is shown


def test_live_office_rules(db, qapp, qtbot):
    from app import settings
    from app.callerid import service as svc
    from models.core import User
    from ui.context import AppContext
    from ui.office.live import LiveOffice

    me = User.create(name="سارا", username="sara")
    boss = User.create(name="مدیر", username="boss")
    ctx = AppContext(user_id=me.id)
    live = LiveOffice(ctx)
    refreshed = []
    ctx.bus.data_changed.connect(refreshed.append)
    settings.set(rules.WATCH_LINES, "2")
    import datetime as dt

    def view(line, key):
        return svc.CallView(call_id=0, key=key, line=line, line_label="", direction="in", state="ringing",
                            number_raw="09122800039", number="09122800039", number_display="0912 280 0039",
                            number_status="ok", caller_name="", customer_id=None, customer_name="",
                            other_matches=0, started_at=dt.datetime(2026, 1, 1, 10), answered_at=None,
                            ended_at=None, duration=None, rings=1, final=False, number_known=True, source="segal")

    other = "another-desk"
    live._on_event(events.Event("call", rules.call_payload(view(1, "k1")), desk=other))
    live._on_event(events.Event("call", rules.call_payload(view(2, "k2")), desk=events.DESK_ID))   # mine
    assert live.stack.popups() == []
    live._on_event(events.Event("call", rules.call_payload(view(2, "k3")), desk=other))
    [p] = live.stack.popups()
    assert p.view.key == "k3" and p.view.started_at == dt.datetime(2026, 1, 1, 10)
    # a notice only for me, and not for what I assigned myself
    live._on_event(events.Event("task_assigned", {"task_id": 5, "title": "x", "to_user": boss.id, "by_user": me.id},
                                desk=other))
    live._on_event(events.Event("task_assigned", {"task_id": 6, "title": "y", "to_user": me.id, "by_user": me.id},
                                desk=other))
    assert live.notices == []
    live._on_event(events.Event("task_assigned", {"task_id": 7, "title": "تماس با رضایی", "to_user": me.id,
                                                  "by_user": boss.id, "referral": True}, desk=other))
    [n] = live.notices
    assert n.title_label.text() == "کاری به شما ارجاع شد" and "مدیر" in n.body_label.text()
    opened = []
    ctx.bus.open_task.connect(opened.append)
    n.open_button.click()
    assert opened == [7]
    # three tables of one save: one refresh of the customer list; my own changes are not echoed
    refreshed.clear()
    for table in ("customer", "phone_number", "activity"):
        live._on_event(events.Event("changed", {"table": table}, desk=other))
    live._on_event(events.Event("changed", {"table": "call"}, desk=events.DESK_ID))
    qtbot.waitUntil(lambda: "customers" in refreshed, timeout=2000)
    qtbot.wait(300)
    assert refreshed.count("customers") == 1 and "calls" not in refreshed
    for p in live.stack.popups():
        p.close()
    live.stop()
