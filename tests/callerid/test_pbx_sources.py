"""The telephone-system sources over real sockets and ptys: the AMI simulator (Asterisk 16 and 11 styles) through
AmiSource + Pump, MD5 and plain login, refused logins in Persian, reconnect, keep-alive, click-to-call by
Originate, the connection test, and Panasonic SMDR on a pty and over TCP with its login."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from app import settings
from app.callerid import configured, sources
from app.callerid import events as ev
from app.callerid import settings_keys as sk
from app.callerid.ami import AmiSource, check_connection, originate, pbx_source_from_settings
from app.callerid.pbx_simulator import AmiServer, SmdrPty, SmdrTcpServer
from app.callerid.smdr import SmdrTcpSource
from app.callerid.sources import Pump, SerialSource, SourceUnavailable
from app.core.errors import UserError


class Run:
    """A Pump on its own thread, collecting events and states."""

    def __init__(self, source, fmt=None, **kw):
        self.events, self.states = [], []
        self.pump = Pump(source, fmt, on_event=self.events.append,
                         on_state=lambda s, t: self.states.append((s, t)), backoff=(0.1, 0.2), **kw)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.pump.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def wait(self, cond, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return True
            time.sleep(0.01)
        return False

    def kinds(self):
        return [e.kind for e in self.events if e.kind != ev.DEVICE]

    def close(self):
        self.stop.set()
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.fixture(params=["16", "11"])
def ami(request):
    s = AmiServer(style=request.param, originate_delay=0.05)
    yield s
    s.close()


def test_ring_group_and_transfer_over_a_socket(ami):
    run = Run(AmiSource(ami.host, ami.port, "crm", "s3cret", "md5"))
    try:
        assert ami.wait_for_clients(1)
        assert run.wait(lambda: run.states and run.states[-1][0] == sources.LISTENING)
        assert "Asterisk Call Manager" in run.states[-1][1]
        ami.incoming("09121234567", ["101", "102"], answer_by="102", transfer_to="103", ring=0.05, talk=0.05,
                     wait=True)
        ami.outgoing("101", "09351112233", talk=0.05, wait=True)
        assert run.wait(lambda: run.kinds().count(ev.HANGUP) == 2)
        got = [(e.kind, e.number, e.line, e.extra.get("answered_by")) for e in run.events if e.kind != ev.DEVICE]
        assert got == [
            (ev.INCOMING, "09121234567", 1, None), (ev.RING, "09121234567", 1, None),
            (ev.ANSWERED, "09121234567", 1, "102"), (ev.ANSWERED, "09121234567", 1, "103"),
            (ev.HANGUP, "09121234567", 1, "103"),
            (ev.OUTGOING, "09351112233", 1, None), (ev.HANGUP, "09351112233", 1, None)]
        # logged in with the MD5 challenge: the secret never crossed the wire
        login = next(a for a in ami.actions if a.get("Action") == "Login")
        assert login.get("AuthType") == "MD5" and "Secret" not in login
        assert [a["Action"] for a in ami.actions][:2] == ["Challenge", "Login"]
    finally:
        run.close()


def test_plain_login_and_refused_login_in_persian(ami):
    src = AmiSource(ami.host, ami.port, "crm", "s3cret", "plain")
    src.open()
    assert src.is_open and any(a.get("Secret") == "****" for a in ami.actions)
    src.close()
    bad = AmiSource(ami.host, ami.port, "crm", "wrong", "md5")
    with pytest.raises(SourceUnavailable) as e:
        bad.open()
    assert e.value.state == sources.ERROR and "رمز AMI درست نیست" in e.value.message
    assert not bad.is_open
    run = Run(AmiSource(ami.host, ami.port, "nobody", "x"))
    try:
        assert run.wait(lambda: any(s == sources.ERROR for s, _t in run.states))
        assert "ورود به مرکز تلفن پذیرفته نشد" in run.states[-1][1]
    finally:
        run.close()


def test_reconnects_after_the_pbx_drops_the_connection():
    with AmiServer(style="16") as ami:
        run = Run(AmiSource(ami.host, ami.port, "crm", "s3cret"))
        try:
            assert ami.wait_for_clients(1)
            ami.drop_clients()
            assert run.wait(lambda: any(s == sources.RECONNECTING for s, _t in run.states))
            assert run.wait(lambda: ami.logins == 2)
            assert ami.wait_for_clients(1)
            ami.incoming("02122514321", ["101"], ring=0.05, wait=True)
            assert run.wait(lambda: ev.MISSED in run.kinds())
            assert run.states[-1][0] == sources.LISTENING
        finally:
            run.close()


def test_nothing_listening_is_no_device_with_back_off():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(SourceUnavailable) as e:
        AmiSource("127.0.0.1", port, "crm", "x").open()
    assert e.value.state == sources.NO_DEVICE and "اتصال را نپذیرفت" in e.value.message


def test_keepalive_ping_on_a_quiet_connection():
    with AmiServer() as ami:
        run = Run(AmiSource(ami.host, ami.port, "crm", "s3cret", keepalive=0.2))
        try:
            assert run.wait(lambda: any(a.get("Action") == "Ping" for a in ami.actions), 5)
            time.sleep(0.5)
            assert run.states[-1][0] == sources.LISTENING
        finally:
            run.close()


@pytest.mark.parametrize("state, ok, text", [
    ("answer", True, "داخلی ۱۰۱ پاسخ داد"), ("busy", False, "داخلی ۱۰۱ مشغول است"),
    ("noanswer", False, "داخلی ۱۰۱ پاسخ نداد"), ("offline", False, "داخلی ۱۰۱ در دسترس نیست"),
])
def test_click_to_call_results(ami, state, ok, text):
    ami.extension_states["101"] = state
    r = originate("+98 912 123 4567", "101", host=ami.host, port=ami.port, user="crm", secret="s3cret", auth="md5",
                  tech="SIP", context="from-internal")
    assert (r.ok, text in r.message) == (ok, True), r.message
    action = next(a for a in ami.actions if a.get("Action") == "Originate")
    assert (action["Channel"], action["Context"], action["Exten"], action["Priority"], action["Async"]) == \
        ("SIP/101", "from-internal", "09121234567", "1", "true")


def test_click_to_call_from_the_settings_and_its_errors(ami, tmp_path):
    settings.set(sk.PBX_ADDRESS, ami.address)
    settings.set(sk.PBX_USER, "crm")
    settings.set(sk.PBX_SECRET, "s3cret")
    settings.set(sk.PBX_EXTENSION, "102")
    with AmiSource(ami.host, ami.port, "crm", "s3cret") as watcher:
        r = originate("02122514321")
        assert r.ok, r.message
        action = next(a for a in ami.actions if a.get("Action") == "Originate")
        assert action["Channel"] == "PJSIP/102" and action["Context"] == "from-internal"
        # the answered Originate becomes an outgoing call the listener sees
        from app.callerid.decoders.ami import AmiDecoder

        d, got = AmiDecoder(), []
        end = time.monotonic() + 5
        while time.monotonic() < end and ev.HANGUP not in [e.kind for e in got]:
            got += d.feed(watcher.read(0.1))
        assert [(e.kind, e.number, e.extra["extension"]) for e in got if e.kind != ev.DEVICE] == [
            (ev.OUTGOING, "02122514321", "102"), (ev.HANGUP, "02122514321", "102")]
    with pytest.raises(UserError, match="شماره تلفن درستی"):
        originate("abc")
    settings.set(sk.PBX_EXTENSION, "")
    with pytest.raises(UserError, match="داخلی تلفن این میز"):
        originate("09121234567")
    with pytest.raises(UserError, match="ورود به مرکز تلفن پذیرفته نشد"):
        originate("09121234567", "101", secret="bad")


def test_connection_test_texts(ami):
    ok, text = check_connection("ami", ami.address, "crm", "s3cret", "md5")
    assert ok and "ورود پذیرفته شد" in text and ("16.30.0" in text or "11.25.3" in text)
    ok, text = check_connection("ami", ami.address, "crm", "nope", "md5")
    assert not ok and "پذیرفته نشد" in text
    ok, text = check_connection("ami", "", "crm", "s3cret")
    assert not ok and "نشانی مرکز تلفن نوشته نشده" in text
    ok, text = check_connection("ami", "bad address:99999", "crm", "x")
    assert not ok and "درست نیست" in text


def test_sources_from_the_settings():
    settings.set(sk.DEVICE, "ami")
    settings.set(sk.PBX_ADDRESS, "192.168.1.10")
    settings.set(sk.PBX_USER, "crm")
    settings.set(sk.PBX_SECRET, "pw")
    src = configured.source_from_settings()
    assert isinstance(src, AmiSource) and (src.host, src.port, src.user, src.auth) == ("192.168.1.10", 5038, "crm", "md5")
    settings.set(sk.DEVICE, "smdr")
    settings.set(sk.PBX_USER, "")
    settings.set(sk.PBX_SECRET, "")
    src = configured.source_from_settings()
    assert isinstance(src, SmdrTcpSource) and (src.port, src.user, src.password) == (2300, "SMDR", "PCCSMDR")
    settings.set(sk.SMDR_LINK, "serial")
    settings.set(sk.PORT, "/dev/ttyUSB0")
    src = configured.source_from_settings()
    assert isinstance(src, SerialSource) and src.default_format == "smdr" and src.init is None
    settings.set(sk.SMDR_LINK, "tcp")
    settings.set(sk.PBX_ADDRESS, "")
    with pytest.raises(SourceUnavailable, match="نشانی مرکز تلفن نوشته نشده"):
        pbx_source_from_settings("smdr")


# --- SMDR ---------------------------------------------------------------------------------------------------
def test_smdr_on_a_pty():
    with SmdrPty(page_length=2) as pty:
        run = Run(SerialSource(pty.port, 9600, fmt="smdr"), "smdr")
        try:
            assert run.wait(lambda: run.states and run.states[-1][0] == sources.LISTENING)
            pty.record("101", 2, "09121234567", incoming=True, ring=6, duration=95)
            pty.record("105", 1, "02188776655", duration=30)
            pty.record("103", 3, "02122514321", incoming=True, answered=False, ring=20)   # after a page break
            assert run.wait(lambda: ev.MISSED in run.kinds())
            assert [(e.kind, e.number, e.line, e.duration) for e in run.events] == [
                (ev.INCOMING, "09121234567", 2, None), (ev.ANSWERED, "09121234567", 2, None),
                (ev.HANGUP, "09121234567", 2, 95), (ev.OUTGOING, "02188776655", 1, 30),
                (ev.HANGUP, "02188776655", 1, 30), (ev.INCOMING, "02122514321", 3, None),
                (ev.MISSED, "02122514321", 3, None)]
            assert all(e.extra["after_the_fact"] for e in run.events)
        finally:
            run.close()


def test_smdr_over_tcp_with_login():
    with SmdrTcpServer() as pbx:
        ok, text = check_connection("smdr", pbx.address, "SMDR", "PCCSMDR")
        assert ok and "رمز پذیرفته شد" in text
        ok, text = check_connection("smdr", pbx.address, "SMDR", "wrong")
        assert not ok and "رمز SMDR را نپذیرفت" in text
        pbx.drop_clients()
        run = Run(SmdrTcpSource(pbx.host, pbx.port))
        try:
            assert pbx.wait_for_clients(1)
            assert run.wait(lambda: run.states and run.states[-1][0] == sources.LISTENING)
            pbx.record("102", 4, "09351112233", incoming=True, ring=3, duration=12)
            assert run.wait(lambda: ev.HANGUP in run.kinds())
            assert [(e.kind, e.number, e.duration) for e in run.events] == [
                (ev.INCOMING, "09351112233", None), (ev.ANSWERED, "09351112233", None),
                (ev.HANGUP, "09351112233", 12)]
            pbx.drop_clients()                                   # the PBX restarts: log in again
            assert run.wait(lambda: pbx.wait_for_clients(1, timeout=0.05), 10)
            pbx.record("105", 1, "02188776655", duration=5)
            assert run.wait(lambda: run.kinds().count(ev.HANGUP) == 2)
        finally:
            run.close()


def test_smdr_wrong_password_stops_with_a_persian_error():
    with SmdrTcpServer(password="1234") as pbx:
        with pytest.raises(SourceUnavailable) as e:
            SmdrTcpSource(pbx.host, pbx.port, "SMDR", "PCCSMDR").open()
        assert e.value.state == sources.ERROR and "SMDR" in e.value.message
