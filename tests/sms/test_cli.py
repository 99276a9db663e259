"""`crm sms send NUMBER TEXT [--provider] [--key] [--sender] [--base-url]` as a real process: the provider's
message id on stdout and exit 0, or the Persian meaning of its code on stderr and exit ≠ 0."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def crm(*args, db):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", db, *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def dbfile(db, tmp_path):
    from models.connection import close_database

    close_database()
    return str(tmp_path / "test.sqlite3")


def test_send_prints_the_message_id(dbfile, kavenegar):
    r = crm("sms", "send", "09121234567", "سلام از پیوند", "--provider", "kavenegar", "--key", "test-key",
            "--sender", "10004346", "--base-url", kavenegar.url, db=dbfile)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(kavenegar.sent[0]["id"])
    assert kavenegar.sent[0]["text"] == "سلام از پیوند" and kavenegar.sent[0]["sender"] == "10004346"


@pytest.mark.parametrize("code,words", [(418, "اعتبار"), (412, "خط فرستنده"), (403, "کلید دسترسی")])
def test_provider_error_is_persian_on_stderr(dbfile, kavenegar, code, words):
    kavenegar.error = code
    r = crm("sms", "send", "09121234567", "سلام", "--provider", "kavenegar", "--key", "test-key",
            "--base-url", kavenegar.url, db=dbfile)
    assert r.returncode != 0 and r.stdout == ""
    assert words in r.stderr and f"کد {code}" in r.stderr and "Traceback" not in r.stderr


def test_bad_key_on_another_provider(dbfile, smsir):
    r = crm("sms", "send", "09121234567", "سلام", "--provider", "smsir", "--key", "nope",
            "--base-url", smsir.url + "/v1", db=dbfile)
    assert r.returncode != 0 and "کلید دسترسی" in r.stderr


def test_bad_number_and_unknown_provider(dbfile, kavenegar):
    r = crm("sms", "send", "12345", "سلام", "--provider", "kavenegar", "--key", "k", "--base-url", kavenegar.url,
            db=dbfile)
    assert r.returncode != 0 and "شماره همراه" in r.stderr and not kavenegar.sent
    r = crm("sms", "send", "09121234567", "سلام", "--provider", "pigeon", "--key", "k", db=dbfile)
    assert r.returncode != 0 and "شناخته نیست" in r.stderr


def test_outbox_resend_and_mark_verbs(dbfile, kavenegar):
    """The outbox screen's verbs: list (JSON lines), send again (a failed one once; an uncertain one only with
    --uncertain), mark."""
    import json

    from app.sms import outbox
    from cli import sms as cli_sms

    assert set(cli_sms.OUTBOX_STATES) == {k for k in outbox.STATE_FILTERS if k}
    assert set(cli_sms.OUTBOX_PERIODS) == set(outbox.PERIODS)
    flags = ("--provider", "kavenegar", "--key", "test-key", "--base-url", kavenegar.url)
    assert crm("sms", "send", "09121234567", "سلام", *flags, db=dbfile).returncode == 0
    kavenegar.per_number_status["09122222222"] = 14
    r = crm("sms", "send", "09122222222", "یادآوری", *flags, db=dbfile)
    assert r.returncode != 0
    kavenegar.per_number_status.clear()
    from app import settings
    from models.connection import close_database, open_database

    open_database(dbfile)                       # the office's settings, as the SMS settings panel saves them
    settings.set("sms.provider", "kavenegar")
    settings.set("sms.key", "test-key")
    settings.set("sms.base_url", kavenegar.url)
    close_database()
    r = crm("sms", "outbox", "--state", "failed", db=dbfile)
    assert r.returncode == 0, r.stderr
    [failed] = [json.loads(line) for line in r.stdout.splitlines()]
    assert failed["number"] == "09122222222" and failed["state"] == "failed" and failed["error"]
    r = crm("sms", "outbox", db=dbfile)
    assert [json.loads(line)["state"] for line in r.stdout.splitlines()] == ["failed", "sent"]
    r = crm("sms", "mark", str(failed["id"]), "--sent", db=dbfile)      # only uncertain ones can be marked sent
    assert r.returncode != 0 and r.stdout.strip() == "0"
    r = crm("sms", "resend", str(failed["id"]), db=dbfile)
    assert r.returncode == 0, r.stderr
    assert "فرستاده: ۱" in r.stdout and kavenegar.by_number["09122222222"] == 1
    r = crm("sms", "resend", str(failed["id"]), db=dbfile)                # sent already: never twice
    assert r.returncode == 0 and "دوباره فرستاده نشد" in r.stdout and kavenegar.by_number["09122222222"] == 1
    r = crm("sms", "mark", str(failed["id"]), "--dismiss", db=dbfile)     # a sent one cannot be set aside
    assert r.returncode != 0 and r.stdout.strip() == "0"
