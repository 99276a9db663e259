"""Live events between desks on the real PostgreSQL server, each desk its own process.

This test process is desk A (the receptionist's PC with the caller-ID device); desks B and C are separate
processes (tests/office/desk.py: the real LiveOffice, Qt offscreen) that print what they show as JSON lines.
B watches line 2 (sales), C watches line 1."""
from __future__ import annotations

import datetime as dt
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.office.pg import needs_pg
from tests.procs import reap

ROOT = Path(__file__).resolve().parents[2]
pytestmark = needs_pg


class Desk:
    def __init__(self, url: str, data_dir: Path, *args: str):
        env = dict(os.environ, CRM_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.office.desk", url, *args], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, encoding="utf-8")
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self.next(lambda m: "ready" in m, timeout=60)

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                self.lines.put({"noise": line})

    def next(self, match, timeout: float = 10.0) -> dict:
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"nothing matching arrived in {timeout} s; stderr: {self._stderr()}")
            try:
                m = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if match(m):
                return m

    def quiet(self, match, seconds: float) -> list[dict]:
        """What matching arrived within `seconds` (expected: nothing)."""
        got, end = [], time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                m = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if match(m):
                got.append(m)
        return got

    def _stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read()[-3000:]

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        finally:
            reap(self.proc, 10)


@pytest.fixture
def office(pg_schema, tmp_path, qapp):
    from app import settings
    from app.customers import service as cs
    from app.office import events
    from models.connection import open_database
    from models.core import User

    _schema, url = pg_schema
    open_database(url)
    a = User.create(name="پذیرش", username="reception")
    b = User.create(name="سارا فروش", username="sara")
    c = User.create(name="کامران پشتیبانی", username="kamran")
    settings.set("office.name", "بازرگانی قدیم")
    customer = cs.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": ["09122800039"]})
    desks = {}
    try:
        desks["B"] = Desk(url, tmp_path / "B", "--user", str(b.id), "--watch", "2")
        desks["C"] = Desk(url, tmp_path / "C", "--user", str(c.id), "--watch", "۱")
        assert desks["B"].ready["office.name"] == "بازرگانی قدیم"
        events.start()
        yield {"url": url, "users": (a, b, c), "customer": customer, **desks}
    finally:
        events.stop()
        for d in desks.values():
            d.close()


def _controller(qapp):
    from app.callerid import service as svc
    from ui.calls.controller import CallerIdController
    from ui.context import AppContext

    ctrl = CallerIdController(AppContext())
    ctrl.service = svc.CallerIdService(ring_timeout=8)
    return ctrl


def test_a_call_reaches_the_desk_watching_its_line_only(office, qapp):
    from app.callerid import events as ev
    from app.core import clock

    B, C = office["B"], office["C"]
    ctrl = _controller(qapp)
    try:
        clock.set_now(dt.datetime.now().replace(microsecond=0))
        ctrl.on_event(ev.CallerIdEvent(kind=ev.INCOMING, number="09122800039", line=2, source="segal"))
        [local] = ctrl.popups()                            # desk A's own popup
        shown = B.next(lambda m: "popup" in m, timeout=10)
        assert shown["popup"] == local.view.key and shown["line"] == 2
        assert shown["customer_id"] == office["customer"].id and "رضایی" in shown["name"]
        assert C.quiet(lambda m: "popup" in m, 1.5) == []
        ctrl.on_event(ev.CallerIdEvent(kind=ev.INCOMING, number="02188776655", line=1, source="segal"))
        shown = C.next(lambda m: "popup" in m, timeout=10)
        assert shown["line"] == 1 and shown["number"] == "02188776655" and shown["customer_id"] is None
        assert B.quiet(lambda m: "popup" in m, 1.5) == []
    finally:
        ctrl.stop()
        clock.set_now(None)


def test_a_referral_reaches_the_colleagues_notice_within_a_second(office):
    from app.tasks import service as tasks

    B, C = office["B"], office["C"]
    a, b, _c = office["users"]
    t = tasks.create_task({"title": "پیش‌فاکتور برای رضایی", "customer_id": office["customer"].id}, user=a.id)
    sent = time.time()
    tasks.refer(t.id, b.id, reason="مشتری شما است", by_user=a.id)
    got = B.next(lambda m: "notice" in m, timeout=10)
    assert got["notice"] == t.id
    assert "ارجاع" in got["title"] and "پیش‌فاکتور برای رضایی" in got["body"] and "پذیرش" in got["body"]
    assert "مشتری شما است" in got["body"]
    assert got["recv"] - sent < 1.0
    assert C.quiet(lambda m: "notice" in m, 1.0) == []


def test_a_customer_created_on_one_desk_refreshes_the_others(office):
    from app.customers import service as cs

    B, C = office["B"], office["C"]
    for d in (B, C):
        d.quiet(lambda m: True, 0.6)                     # let the fixture's own changes pass
    cs.create_customer({"first_name": "مریم", "last_name": "تازه‌وارد", "phones": ["09351234567"]})
    for d in (B, C):
        assert d.next(lambda m: m.get("refresh") == "customers", timeout=10)


def test_an_office_setting_changed_on_one_desk_is_read_anew_on_another(office):
    from app import settings

    settings.set("office.name", "بازرگانی نو")
    got = office["B"].next(lambda m: m.get("refresh") == "settings", timeout=10)
    assert got["office.name"] == "بازرگانی نو"
