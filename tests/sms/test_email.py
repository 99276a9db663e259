"""Email through a real SMTP conversation with a small local server (plain, and SSL with a throw-away
certificate when openssl is available): merge fields, Persian text, the outbox row and the timeline."""
from __future__ import annotations

import email
import shutil
import ssl
import subprocess
import threading
from email import policy

import pytest

from app import settings
from app.customers import timeline
from app.sms.email import EmailError, send_email
from models.messaging import Message
from tests.procs import reap
from tests.sms.conftest import customer
from tests.sms.fakes import SMTPServer as Server


@pytest.fixture(autouse=True)
def sender(db):
    settings.set("email.sender", "office@example.ir")
    settings.set("office.name", "بازرگانی پیوند")


@pytest.fixture
def smtp():
    s = Server(password="s3cret")
    threading.Thread(target=s.serve_forever, daemon=True).start()
    yield s
    s.shutdown()
    s.server_close()


def test_email_with_merge_fields_reaches_the_server(db, smtp):
    c = customer("مریم", "احمدی", "09121111111", title="خانم", email="maryam@example.ir")
    m = send_email("maryam@example.ir", "فاکتور {نام}", "{نام} گرامی،\nفاکتور شما صادر شد.", customer_id=c.id,
                   host="127.0.0.1", port=smtp.server_address[1], security="none", user="office",
                   password="s3cret")
    assert m.state == "sent" and m.channel == "email"
    parsed = email.message_from_bytes(smtp.received[0], policy=policy.default)
    assert parsed["Subject"] == "فاکتور خانم مریم احمدی"
    assert "خانم مریم احمدی گرامی" in parsed.get_body(("plain",)).get_content()
    assert 'dir="rtl"' in parsed.get_body(("html",)).get_content()
    assert timeline.entries(c.id, kinds=["email_out"])[0].label == "ایمیل"


def test_bad_password_and_bad_address_are_persian_and_recorded(db, smtp):
    with pytest.raises(EmailError, match="گذرواژه"):
        send_email("a@example.ir", "s", "b", host="127.0.0.1", port=smtp.server_address[1], security="none",
                   user="office", password="wrong")
    assert Message.get().state == "failed" and "گذرواژه" in Message.get().error
    with pytest.raises(EmailError, match="نشانی ایمیل"):
        send_email("not-an-address", "s", "b")
    with pytest.raises(EmailError, match="وصل نشد"):
        send_email("a@example.ir", "s", "b", host="127.0.0.1", port=9, security="none")


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl makes the throw-away certificate")
def test_ssl(db, tmp_path, monkeypatch):
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(crt), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    s = Server(ctx=ctx)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(crt))
        send_email("a@example.ir", "سلام", "متن", host="127.0.0.1", port=s.server_address[1], security="ssl",
                   user="")
        assert len(s.received) == 1
    finally:
        s.shutdown()
        s.server_close()


# --- the audit log, and a send killed in the middle -------------------------------------------------------------

def _audit_rows():
    from models.office import AuditLog

    return [(a.action, a.entity, a.entity_id, a.summary) for a in AuditLog.select().order_by(AuditLog.id)]


def _mail_settings(port: int) -> None:
    for key, value in (("email.host", "127.0.0.1"), ("email.port", port), ("email.security", "none"),
                       ("email.user", "office"), ("email.password", "s3cret")):
        settings.set(key, value)


def test_single_and_group_sends_are_in_the_audit_log_once_each(db, smtp):
    from app.sms import email as em

    _mail_settings(smtp.server_address[1])
    m = send_email("maryam@example.ir", "فاکتور", "متن", host="127.0.0.1", port=smtp.server_address[1],
                   security="none", user="office", password="s3cret")
    with pytest.raises(EmailError):
        send_email("refused@example.ir", "فاکتور", "متن", host="127.0.0.1", port=smtp.server_address[1],
                   security="none", user="office", password="s3cret")
    failed = Message.select().order_by(Message.id.desc()).get()
    assert _audit_rows() == [
        ("email", "message", m.id, "ایمیل «فاکتور» به maryam@example.ir"),
        ("email", "message", failed.id, f"ایمیل «فاکتور» به refused@example.ir — فرستاده نشد: {failed.error}")]

    ids = [customer(f"مشتری{i}", "آزمون", f"0912000000{i}", email=f"c{i}@example.ir").id for i in range(6)]
    ids.append(customer("تکراری", "آزمون", "09120000099", email="c0@example.ir").id)
    camp, p = em.queue_group(ids, "جشنواره {نام}", "{نام} عزیز، جشنواره پاییزه از فردا.")
    summary = em.deliver_group(camp)
    assert (summary.sent, p.total, len(smtp.received)) == (6, 6, 7)
    group = [r for r in _audit_rows()[2:] if r[0].startswith("email")]
    assert group == [("email_group", "campaign", camp,
                      "ایمیل گروهی «جشنواره {نام}» به ۶ نشانی (کنار ماند: تکراری ۱)")]   # one entry, not six


@pytest.mark.timeout(120)
def test_an_email_left_sending_by_a_crash_becomes_uncertain_and_is_not_sent_again(db, smtp):
    import datetime as dt
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from app.core import clock
    from app.sms import email as em
    from app.sms import outbox

    root = Path(__file__).resolve().parents[2]
    _mail_settings(smtp.server_address[1])
    ids = [customer(f"مشتری{i}", "آزمون", f"0912000000{i}", email=f"c{i}@example.ir").id for i in range(4)]
    camp, _p = em.queue_group(ids, "جشنواره", "جشنواره پاییزه از فردا.")
    smtp.hold = threading.Event()               # the first message arrives; its «250» never does
    env = {**os.environ, "PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen"}
    child = subprocess.Popen([sys.executable, str(root / "tests/sms/email_child.py"), db, str(camp)], env=env,
                             cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 60
        while not smtp.received and time.monotonic() < end and child.poll() is None:
            time.sleep(0.01)
        assert len(smtp.received) == 1, child.stderr.read()[-2000:] if child.poll() is not None else "no mail"
        os.kill(child.pid, signal.SIGKILL)      # the server has it, the outbox does not know
        child.wait()
    finally:
        smtp.hold.set()
        if child.poll() is None:
            child.kill()
        reap(child)
    smtp.hold = None
    states = lambda: sorted(m.state for m in Message.select().where(Message.campaign == camp))  # noqa: E731
    assert states() == ["queued", "queued", "queued", "sending"]
    assert em.settle_interrupted() == 0         # a minute-old «sending» may still be another desk's
    try:
        clock.set_now(clock.now() + dt.timedelta(minutes=5))
        assert outbox.counts(outbox.OutboxFilter(channel="email")).get("sending") == 1
        assert em.settle_interrupted() == 1 and em.settle_interrupted() == 0
        stuck = Message.get((Message.campaign == camp) & (Message.state == "uncertain"))
        assert "معلوم نیست" in stuck.error
        summary = em.deliver_group(camp)        # the rest go; the uncertain one is not sent a second time
        assert (summary.sent, summary.failed) == (3, 0)
        assert states() == ["sent", "sent", "sent", "uncertain"]
        got = sorted(email.message_from_bytes(b, policy=policy.default)["To"] for b in smtp.received)
        assert got == [f"c{i}@example.ir" for i in range(4)]                  # each address exactly once
        assert outbox.requeue([stuck.id], confirm_uncertain=True).ids == []    # the outbox never re-sends mail
        assert outbox.mark_sent([stuck.id]) == 1                               # the person asked: it arrived
        assert Message.get_by_id(stuck.id).state == "sent" and len(smtp.received) == 4
    finally:
        clock.set_now(None)


def test_a_single_send_is_sending_while_the_server_holds_it(db, smtp):
    smtp.hold = threading.Event()
    port = smtp.server_address[1]
    t = threading.Thread(target=lambda: send_email("a@example.ir", "سلام", "متن", host="127.0.0.1", port=port,
                                                   security="none", user="office", password="s3cret"))
    t.start()
    try:
        import time

        end = time.monotonic() + 10
        while not smtp.received and time.monotonic() < end:
            time.sleep(0.01)
        m = Message.get()
        assert m.state == "sending" and m.sending_at is not None     # a crash now leaves it to be settled
    finally:
        smtp.hold.set()
        t.join(10)
    assert Message.get().state == "sent"
