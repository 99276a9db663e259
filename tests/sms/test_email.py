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
