"""Signing in: scrypt hashes with per-user salts, lock-out after five failures (a frozen clock moves time),
«remember me» tokens kept hashed and revocable, the admin's automatic sign-in, deactivated users."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from app import settings
from app.core import clock
from app.core.errors import PermissionDenied, ValidationError
from app.core.paths import config_file
from app.office import auth, session
from models.office import AuditLog, Credential, DeskToken
from tests.office.helpers import as_user, make_user

T0 = dt.datetime(2026, 11, 24, 9, 0)


@pytest.fixture
def people(anydb):
    clock.set_now(T0)
    out = {"admin": make_user("مدیر دفتر", "boss", "admin", "boss-secret-1"),
           "rep": make_user("مریم فروش", "maryam", "sales", "گل۱۲۳۴۵")}
    yield out
    session.set_principal(None)
    clock.set_now(None)


def test_hash_is_scrypt_with_its_own_salt_and_parameters(people):
    a = Credential.get(Credential.user == people["admin"])
    b = Credential.get(Credential.user == people["rep"])
    assert a.params == "scrypt$16384$8$1$32" and len(a.salt) == 32 and a.salt != b.salt
    assert "boss-secret-1" not in a.password_hash
    # the same password twice gives two different hashes (the salt), both verifying
    h1 = auth.hash_password("x-y-z-123")
    h2 = auth.hash_password("x-y-z-123")
    assert h1[0] != h2[0]
    expected = hashlib.scrypt(b"boss-secret-1", salt=bytes.fromhex(a.salt), n=16384, r=8, p=1, dklen=32).hex()
    assert expected == a.password_hash


def test_sign_in_with_persian_digits_either_keyboard(people):
    p = auth.sign_in("MARYAM", "گل12345")              # typed on the English layout: same password
    assert p.user_id == people["rep"] and session.current_user_id() == people["rep"]
    assert Credential.get(Credential.user == people["rep"]).last_sign_in == T0


def test_wrong_password_is_refused_in_persian_and_unknown_user_says_the_same(people):
    with pytest.raises(auth.SignInError) as wrong:
        auth.sign_in("maryam", "nope-nope")
    with pytest.raises(auth.SignInError) as unknown:
        auth.sign_in("nobody", "nope-nope")
    assert wrong.value.message == unknown.value.message == auth.WRONG
    assert session.current() is session.SYSTEM            # nobody got signed in
    assert AuditLog.select().where(AuditLog.action == "sign_in_failed").count() == 2


def test_lock_out_after_five_failures_then_open_again_after_the_minutes(people):
    for i in range(4):
        with pytest.raises(auth.SignInError) as e:
            auth.sign_in("maryam", f"wrong-{i}")
        assert e.value.message == auth.WRONG
    with pytest.raises(auth.SignInError) as e:
        auth.sign_in("maryam", "wrong-5")
    assert "بسته است" in e.value.message and "۰۹:۱۵" in e.value.message
    # locked: even the right password is refused until the time passes
    clock.set_now(T0 + dt.timedelta(minutes=14, seconds=59))
    with pytest.raises(auth.SignInError) as e:
        auth.sign_in("maryam", "گل۱۲۳۴۵")
    assert "بسته است" in e.value.message
    assert auth.lock_state(people["rep"]).locked
    clock.set_now(T0 + dt.timedelta(minutes=15))
    assert auth.sign_in("maryam", "گل۱۲۳۴۵").user_id == people["rep"]
    assert Credential.get(Credential.user == people["rep"]).failed_count == 0
    assert not auth.lock_state(people["rep"]).locked


def test_a_success_resets_the_count_and_admin_can_unlock(people):
    for i in range(4):
        with pytest.raises(auth.SignInError):
            auth.sign_in("maryam", f"wrong-{i}")
    auth.sign_in("maryam", "گل۱۲۳۴۵")
    for i in range(4):                                   # four more: still not locked (the count restarted)
        with pytest.raises(auth.SignInError) as e:
            auth.sign_in("maryam", f"again-{i}")
        assert e.value.message == auth.WRONG
    with pytest.raises(auth.SignInError):
        auth.sign_in("maryam", "again-5")
    assert auth.lock_state(people["rep"]).locked
    with as_user(people["rep"]), pytest.raises(PermissionDenied):
        auth.unlock(people["rep"])
    with as_user(people["admin"]):
        auth.unlock(people["rep"])
    assert auth.sign_in("maryam", "گل۱۲۳۴۵").user_id == people["rep"]


def test_remember_me_keeps_only_a_hash_in_the_database_and_is_revocable(people):
    auth.sign_in("maryam", "گل۱۲۳۴۵", remember=True)
    token = json.loads(config_file().read_text(encoding="utf-8"))["office.remember_token"]
    assert len(token) >= 40
    row = DeskToken.get(DeskToken.user == people["rep"])
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash
    session.set_principal(None)
    settings.reset_cache()                               # as after a restart
    p = auth.sign_in_from_desk()
    assert p is not None and p.user_id == people["rep"] and p.how == "remember"
    assert auth.remembered_user() == "maryam"
    # the admin revokes it: the next start asks for the password again
    with as_user(people["admin"]):
        assert auth.revoke_tokens(people["rep"]) == 1
    session.set_principal(None)
    assert auth.sign_in_from_desk() is None
    # a remembered sign-in also ends by itself after REMEMBER_DAYS
    auth.sign_in("maryam", "گل۱۲۳۴۵", remember=True)
    session.set_principal(None)
    clock.set_now(T0 + dt.timedelta(days=auth.REMEMBER_DAYS, seconds=1))
    assert auth.sign_in_from_desk() is None


def test_sign_out_forgets_this_desk(people):
    auth.sign_in("maryam", "گل۱۲۳۴۵", remember=True)
    auth.sign_out()
    assert settings.get("office.remember_token") == ""
    assert DeskToken.get(DeskToken.user == people["rep"]).revoked_at == T0
    assert auth.sign_in_from_desk() is None


def test_automatic_sign_in_is_the_admins_choice_and_in_the_log(people):
    with as_user(people["rep"]), pytest.raises(PermissionDenied):
        auth.enable_auto_sign_in(people["rep"])
    with as_user(people["admin"]):
        auth.enable_auto_sign_in(people["rep"])
    entry = AuditLog.select().where(AuditLog.action == "auto_sign_in").get()
    assert entry.user_id == people["admin"] and "مریم فروش" in entry.summary and entry.entity_id == people["rep"]
    p = auth.sign_in_from_desk()
    assert p.user_id == people["rep"] and p.how == "auto"
    with as_user(people["admin"]):
        auth.disable_auto_sign_in()
    session.set_principal(None)
    assert auth.sign_in_from_desk() is None
    assert AuditLog.select().where(AuditLog.action == "auto_sign_in").count() == 2


def test_deactivated_user_cannot_sign_in_by_any_path_and_keeps_history(people):
    auth.sign_in("maryam", "گل۱۲۳۴۵", remember=True)
    session.set_principal(None)
    with as_user(people["admin"]):
        auth.deactivate(people["rep"])
    with pytest.raises(auth.SignInError) as e:
        auth.sign_in("maryam", "گل۱۲۳۴۵")
    assert "غیرفعال" in e.value.message
    assert auth.sign_in_from_desk() is None
    assert AuditLog.select().where(AuditLog.user_id == people["rep"], AuditLog.action == "sign_in").count() == 1
    with as_user(people["admin"]), pytest.raises(Exception) as e:
        auth.deactivate(people["admin"])                 # not yourself, and never the last admin
    assert "نمی‌توانید" in str(e.value.message)


def test_password_rules_and_changing_your_own(people):
    with as_user(people["admin"]), pytest.raises(ValidationError) as e:
        auth.set_password(people["rep"], "۱۲۳")
    assert "۶" in e.value.message
    with as_user(people["rep"]):
        with pytest.raises(ValidationError):
            auth.set_password(people["rep"], "new-password-1", old_password="wrong")
        auth.set_password(people["rep"], "new-password-1", old_password="گل۱۲۳۴۵")
        with pytest.raises(PermissionDenied):
            auth.set_password(people["admin"], "hijacked-1")
    assert auth.sign_in("maryam", "new-password-1").user_id == people["rep"]


def test_first_run_creates_the_admin_then_refuses_a_second_time(db):
    from app.office.users import ensure_default_user

    default = ensure_default_user()
    assert auth.first_run()
    session.set_interactive(True)                        # as the GUI does before its first dialog
    try:
        u = auth.create_admin("شیرین مدیر", "Shirin", "first-pass-1")
        assert u.id == default.id and u.username == "shirin" and u.role == "admin"
        assert not auth.first_run()
        with pytest.raises(PermissionDenied):
            auth.create_admin("مهاجم", "evil", "evil-pass-1")
        assert auth.sign_in("shirin", "first-pass-1").user_id == u.id
    finally:
        session.set_interactive(False)
        session.set_principal(None)


def test_cli_users_add_admin_reads_the_password_and_signs_in_later(tmp_path, capsys):
    from cli.main import run

    path = tmp_path / "office.sqlite3"
    assert run(["--db", str(path), "demo-data", "--customers", "0", "--calls", "0", "--tasks", "0",
                "--invoices", "0"]) == 0
    import io
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO("strong-pass-9\n")
    try:
        assert run(["--db", str(path), "users", "add", "--admin", "نازنین", "--username", "naz",
                    "--password-stdin"]) == 0
    finally:
        sys.stdin = old
    out = capsys.readouterr().out
    assert "naz" in out
    assert run(["--db", str(path), "users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "naz" in listing and "مدیر سیستم" in listing
    sys.stdin = io.StringIO("short\n")
    try:
        assert run(["--db", str(path), "users", "add", "--admin", "دوم", "--username", "two",
                    "--password-stdin"]) == 2
    finally:
        sys.stdin = old
    assert "۶" in capsys.readouterr().err
    from models.connection import close_database, open_database

    open_database(str(path))
    try:
        assert auth.sign_in("naz", "strong-pass-9").name == "نازنین"
    finally:
        session.set_principal(None)
        close_database()


def test_a_desks_sign_in_does_not_wait_behind_the_writers_queue(people):
    """The first screen comes up while the writer is busy (the planner's statistics, an import from the day
    before); the sign-in's log entry is written once the queue reaches it."""
    import threading

    from models.writer import writer

    with as_user(people["admin"]):
        auth.enable_auto_sign_in(people["rep"])
    session.set_principal(None)
    release = threading.Event()
    busy = writer.submit(lambda: release.wait(10))
    try:
        p = auth.sign_in_from_desk()
        assert p is not None and p.user_id == people["rep"] and p.how == "auto"
        assert not busy.done()                     # the sign-in came back while the writer was still busy
    finally:
        release.set()
    writer.drain(10)
    entry = AuditLog.select().where(AuditLog.action == "sign_in").get()
    assert entry.user_id == people["rep"] and "ورود خودکار" in entry.summary
    assert DeskToken.get(DeskToken.user == people["rep"]).last_used == T0
