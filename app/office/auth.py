"""Signing in: passwords, lock-out, «remember me on this PC», the admin's automatic sign-in, the first admin.

Passwords are hashed with scrypt (hashlib.scrypt), a random 16-byte salt per user, and the parameters stored
beside the hash (so they can be raised later without breaking old passwords); hashes are compared with
hmac.compare_digest. Five wrong passwords in a row lock the user out for ``office.lockout_minutes`` (15 by
default). Digits typed on a Persian keyboard count as the same digits (۱۲۳ = 123), so a password does not
depend on the keyboard layout.

«Remember me» and automatic sign-in keep a random token in this desk's config file and only its SHA-256 in the
database, so the database (or a backup of it) does not hold a usable token, and the admin can revoke it.
A deactivated colleague cannot sign in by any of these paths, and keeps their history.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import unicodedata
from dataclasses import dataclass

from app import options, settings
from app.core.clock import now
from app.core.errors import PermissionDenied, UserError, ValidationError
from app.core.text import clean, to_ascii_digits
from app.office import audit, roles, session
from app.office.session import desk_name
from models.core import User
from models.office import Credential, DeskToken
from models.writer import writer

logger = logging.getLogger(__name__)

MAX_FAILURES = 5
MIN_LENGTH = 6
REMEMBER_DAYS = 30
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 32}



class SignInError(UserError):
    """Wrong name or password, locked out, deactivated, or no password set yet."""


# --- hashing --------------------------------------------------------------------------------------------

def normalise_password(password: str) -> str:
    return to_ascii_digits(unicodedata.normalize("NFC", password or ""))


def hash_password(password: str, salt: bytes | None = None, params: dict | None = None) -> tuple[str, str, str]:
    """(hash hex, salt hex, params) for a password."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    p = dict(params or SCRYPT)
    digest = hashlib.scrypt(normalise_password(password).encode("utf-8"), salt=salt, n=p["n"], r=p["r"],
                            p=p["p"], dklen=p["dklen"], maxmem=128 * p["n"] * p["r"] * 2 + 1024 * 1024)
    return digest.hex(), salt.hex(), f"scrypt${p['n']}${p['r']}${p['p']}${p['dklen']}"


def _parse_params(text: str) -> dict:
    name, n, r, p, dklen = text.split("$")
    if name != "scrypt":
        raise ValueError(text)
    return {"n": int(n), "r": int(r), "p": int(p), "dklen": int(dklen)}


def verify_password(password: str, cred: Credential) -> bool:
    try:
        params = _parse_params(cred.params)
        salt = bytes.fromhex(cred.salt)
    except ValueError:
        return False
    digest, _salt, _params = hash_password(password, salt, params)
    return hmac.compare_digest(digest, cred.password_hash)


def check_strength(password: str) -> str | None:
    pw_ = normalise_password(password)
    if len(pw_) < MIN_LENGTH:
        from app.core.text import to_persian_digits

        return f"رمز عبور دست‌کم {to_persian_digits(MIN_LENGTH)} نویسه باشد."
    if pw_.strip() != pw_:
        return "رمز عبور با فاصله شروع یا تمام نشود."
    return None


# --- who may sign in ----------------------------------------------------------------------------------------

def has_password(user_id: int) -> bool:
    return Credential.select().where(Credential.user == user_id).exists()


def anyone_has_password() -> bool:
    return Credential.select().exists()


def first_run() -> bool:
    """No colleague has a password yet: the GUI asks for the admin's before anything else."""
    return not anyone_has_password()


def first_admin() -> tuple[str, str]:
    """The name and user name the first-run form offers: the office's first admin's, if there is one."""
    admin = User.select().where(User.role == "admin").order_by(User.id).first()
    return (admin.name, admin.username) if admin else ("", "admin")


def _principal(u: User, how: str) -> session.Principal:
    return session.Principal(u.id, u.name, u.role, how=how)


def _find_user(username: str) -> User | None:
    return User.get_or_none(User.username == clean(username).lower())


@dataclass(frozen=True)
class LockState:
    locked: bool
    until: dt.datetime | None
    failures: int


def lock_state(user_id: int) -> LockState:
    c = Credential.get_or_none(Credential.user == user_id)
    if c is None:
        return LockState(False, None, 0)
    locked = c.locked_until is not None and c.locked_until > now()
    return LockState(locked, c.locked_until if locked else None, c.failed_count)


def _locked_message(until: dt.datetime) -> str:
    from app.core.text import to_persian_digits

    return (f"به‌خاطر {to_persian_digits(MAX_FAILURES)} بار رمز نادرست، ورود این کاربر تا ساعت "
            f"{to_persian_digits(until.strftime('%H:%M'))} بسته است. صبر کنید یا از مدیر سیستم بخواهید آن را باز کند.")


WRONG = "نام کاربری یا رمز عبور درست نیست."


def sign_in(username: str, password: str, remember: bool = False) -> session.Principal:
    """Check the password and make this person the one at this desk. Failures are counted (and written)
    even though they raise; the fifth in a row locks the user out."""
    u = _find_user(username)
    if u is None:
        audit.record("sign_in_failed", "user", None, f"ورود ناموفق با نام کاربری ناشناخته «{clean(username)[:60]}»",
                     as_user=(None, ""))
        raise SignInError(WRONG, field="username", en="Wrong user name or password.")
    if not u.active:
        audit.record("sign_in_failed", "user", u.id, f"ورود ناموفق «{u.name}»: کاربر غیرفعال است", as_user=(u.id, u.name))
        raise SignInError("این کاربر غیرفعال شده است و نمی‌تواند وارد شود.", field="username",
                          en="This user has been deactivated.")
    cred = Credential.get_or_none(Credential.user == u.id)
    if cred is None:
        raise SignInError("برای این کاربر هنوز رمزی تعیین نشده است؛ از مدیر سیستم بخواهید رمز بگذارد.",
                          field="password", en="No password has been set for this user yet.")
    at = now()
    if cred.locked_until is not None and cred.locked_until > at:
        raise SignInError(_locked_message(cred.locked_until), field="password", en="Locked out; try later.")
    if not verify_password(password, cred):
        def fail() -> tuple[int, dt.datetime | None]:
            c = Credential.get(Credential.user == u.id)
            c.failed_count = (c.failed_count or 0) + 1
            if c.failed_count >= MAX_FAILURES:
                c.locked_until = at + dt.timedelta(minutes=settings.get(options.OFFICE_LOCKOUT_MINUTES))
                c.failed_count = 0
            c.save()
            locked = c.locked_until if (c.locked_until and c.locked_until > at) else None
            audit.record("sign_in_failed", "user", u.id,
                         f"رمز نادرست برای «{u.name}»" + ("؛ ورود بسته شد" if locked else ""), as_user=(u.id, u.name))
            return c.failed_count, locked

        _count, locked = writer.run(fail)
        if locked is not None:
            raise SignInError(_locked_message(locked), field="password", en="Too many wrong passwords; locked out.")
        raise SignInError(WRONG, field="password", en="Wrong user name or password.")

    token = secrets.token_urlsafe(32) if remember else None

    def ok() -> None:
        c = Credential.get(Credential.user == u.id)
        c.failed_count, c.locked_until, c.last_sign_in = 0, None, at
        c.save()
        if token:
            DeskToken.create(user=u.id, token_hash=_token_hash(token), kind="remember", desk=desk_name(),
                             created_at=at, expires_at=at + dt.timedelta(days=REMEMBER_DAYS))
        audit.record("sign_in", "user", u.id, f"«{u.name}» وارد شد" + (" (مرا به خاطر بسپار)" if token else ""),
                     as_user=(u.id, u.name))

    writer.run(ok)
    if token:
        settings.set(options.OFFICE_REMEMBER_TOKEN, token)
    p = _principal(u, "password")
    session.set_principal(p)
    return p


def sign_out(forget: bool = True) -> None:
    """End the session at this desk; by default also forget «remember me» here (its token is revoked)."""
    p = session.current()
    if forget:
        token = settings.get(options.OFFICE_REMEMBER_TOKEN)
        if token:
            writer.run(_revoke_hash, _token_hash(token))
            settings.set(options.OFFICE_REMEMBER_TOKEN, "")
    if p is not None and not p.system:
        audit.record("sign_out", "user", p.user_id, f"«{p.name}» خارج شد", as_user=(p.user_id, p.name))
    session.set_principal(None)


# --- tokens -----------------------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _revoke_hash(h: str) -> None:
    DeskToken.update(revoked_at=now()).where(DeskToken.token_hash == h, DeskToken.revoked_at.is_null()).execute()


def _valid_token(token: str, kind: str) -> User | None:
    if not token:
        return None
    t = DeskToken.get_or_none(DeskToken.token_hash == _token_hash(token), DeskToken.kind == kind)
    if t is None or t.revoked_at is not None:
        return None
    if t.expires_at is not None and t.expires_at <= now():
        return None
    u = User.get_or_none(User.id == t.user_id)
    if u is None or not u.active:
        return None
    return u


def sign_in_from_desk() -> session.Principal | None:
    """At start-up: the admin's automatic sign-in for this PC, else a remembered sign-in, else None (ask)."""
    for key, kind in ((options.OFFICE_AUTO_SIGN_IN_TOKEN, "auto"), (options.OFFICE_REMEMBER_TOKEN, "remember")):
        token = settings.get(key)
        u = _valid_token(token, kind)
        if u is None:
            continue

        def used(u=u, token=token, kind=kind, at=now()) -> None:
            DeskToken.update(last_used=at).where(DeskToken.token_hash == _token_hash(token)).execute()
            word = "ورود خودکار این میز" if kind == "auto" else "مرا به خاطر بسپار"
            audit.record("sign_in", "user", u.id, f"«{u.name}» وارد شد ({word})", as_user=(u.id, u.name), at=at)

        # Queued, not waited for: the first screen must not wait behind the writer's queue (at the first start
        # after an import, the planner's statistics are gathered there first: seconds at a million customers).
        writer.submit(used).add_done_callback(_log_unrecorded)
        p = _principal(u, kind)
        session.set_principal(p)
        return p
    return None


def _log_unrecorded(fut) -> None:
    if fut.exception() is not None:
        logger.error("the desk's sign-in could not be recorded", exc_info=fut.exception())


def remembered_user() -> str:
    """The user name remembered on this desk (to fill the sign-in form), or ''."""
    u = _valid_token(settings.get(options.OFFICE_REMEMBER_TOKEN), "remember")
    return u.username if u else ""


def auto_sign_in_user() -> User | None:
    """Who this PC signs in automatically (the admin's choice), or None."""
    return _valid_token(settings.get(options.OFFICE_AUTO_SIGN_IN_TOKEN), "auto")


def enable_auto_sign_in(user_id: int) -> None:
    """A one-desk office: the admin lets this PC open signed in as `user_id`, with no password. In the log."""
    roles.require("users.manage")
    u = User.get_or_none(User.id == user_id)
    if u is None or not u.active:
        raise ValidationError({"user": "این کاربر پیدا نشد یا غیرفعال است."})
    token = secrets.token_urlsafe(32)
    old = settings.get(options.OFFICE_AUTO_SIGN_IN_TOKEN)

    def job() -> None:
        if old:
            _revoke_hash(_token_hash(old))
        DeskToken.create(user=u.id, token_hash=_token_hash(token), kind="auto", desk=desk_name(), created_at=now())
        audit.record("auto_sign_in", "user", u.id,
                     f"ورود خودکار این رایانه ({desk_name()}) به نام «{u.name}» روشن شد",
                     {"auto_sign_in": [None, u.name]})

    writer.run(job)
    settings.set(options.OFFICE_AUTO_SIGN_IN_TOKEN, token)


def disable_auto_sign_in() -> None:
    roles.require("users.manage")
    token = settings.get(options.OFFICE_AUTO_SIGN_IN_TOKEN)
    u = _valid_token(token, "auto")

    def job() -> None:
        if token:
            _revoke_hash(_token_hash(token))
        audit.record("auto_sign_in", "user", u.id if u else None,
                     f"ورود خودکار این رایانه ({desk_name()}) خاموش شد",
                     {"auto_sign_in": [u.name if u else None, None]})

    writer.run(job)
    settings.set(options.OFFICE_AUTO_SIGN_IN_TOKEN, "")


def revoke_tokens(user_id: int) -> int:
    """Forget every remembered sign-in (and automatic sign-in) of a colleague on every PC."""
    p = session.current()
    if p is None or (p.user_id != user_id and not roles.can("users.manage")):
        roles.require("users.manage")

    def job() -> int:
        n = (DeskToken.update(revoked_at=now())
             .where(DeskToken.user == user_id, DeskToken.revoked_at.is_null()).execute())
        if n:
            audit.record("revoke", "user", user_id, f"ورودهای به‌خاطرسپرده «{_name(user_id)}» لغو شد ({n})")
        return n

    return writer.run(job)


def _name(user_id: int | None) -> str:
    u = User.get_or_none(User.id == user_id) if user_id else None
    return u.name if u else ""


# --- passwords and people -------------------------------------------------------------------------------

def set_password(user_id: int, password: str, old_password: str | None = None) -> None:
    """The admin sets anyone's password; a colleague changes their own (with the old one). Changing a
    password forgets that colleague's remembered sign-ins and clears a lock-out."""
    p = session.current()
    own = p is not None and p.user_id == user_id and not p.system
    if not own:
        roles.require("users.manage")
    u = User.get_or_none(User.id == user_id)
    if u is None:
        raise ValidationError({"user": "این کاربر پیدا نشد."})
    if msg := check_strength(password):
        raise ValidationError({"password": msg})
    cred = Credential.get_or_none(Credential.user == user_id)
    if own and cred is not None and not roles.can("users.manage"):
        if old_password is None or not verify_password(old_password, cred):
            raise ValidationError({"old_password": "رمز فعلی درست نیست."})
    digest, salt, params = hash_password(password)

    def job() -> None:
        Credential.insert(user=user_id, password_hash=digest, salt=salt, params=params, failed_count=0,
                          locked_until=None, changed_at=now()).on_conflict(
            conflict_target=[Credential.user],
            update={Credential.password_hash: digest, Credential.salt: salt, Credential.params: params,
                    Credential.failed_count: 0, Credential.locked_until: None, Credential.changed_at: now()},
        ).execute()
        DeskToken.update(revoked_at=now()).where(DeskToken.user == user_id, DeskToken.kind == "remember",
                                                 DeskToken.revoked_at.is_null()).execute()
        audit.record("password", "user", user_id, f"رمز عبور «{u.name}» {'تعیین' if cred is None else 'عوض'} شد")

    writer.run(job)


def unlock(user_id: int) -> None:
    roles.require("users.manage")

    def job() -> None:
        Credential.update(failed_count=0, locked_until=None).where(Credential.user == user_id).execute()
        audit.record("unlock", "user", user_id, f"قفل ورود «{_name(user_id)}» باز شد")

    writer.run(job)


def create_admin(name: str, username: str, password: str) -> User:
    """The first run: the admin gets a password (the default admin row is reused when it has none yet).
    Refused once anyone has a password: later admins are added by an admin."""
    from app.office.users import save_user

    if anyone_has_password() and not roles.can("users.manage"):
        raise PermissionDenied("مدیر سیستم قبلاً تعیین شده است.", en="The administrator already exists.")
    if msg := check_strength(password):
        raise ValidationError({"password": msg})

    def job() -> User:
        first = (User.select().where(User.role == roles.ADMIN)
                 .where(User.id.not_in(Credential.select(Credential.user))).order_by(User.id).first())
        existing = _find_user(username)
        target = existing.id if existing is not None else (first.id if first is not None and not
                                                             anyone_has_password() else None)
        with session.acting_as(session.SYSTEM):
            u = save_user(name, username, roles.ADMIN, user_id=target)
            set_password(u.id, password)
        return u

    return writer.run(job)


def deactivate(user_id: int) -> None:
    """A colleague who left: cannot sign in any more (tokens revoked), keeps every record and log entry."""
    roles.require("users.manage")
    p = session.current()
    if p is not None and p.user_id == user_id:
        raise UserError("نمی‌توانید کاربر خودتان را غیرفعال کنید.", en="You cannot deactivate yourself.")
    u = User.get_or_none(User.id == user_id)
    if u is None:
        raise ValidationError({"user": "این کاربر پیدا نشد."})
    if u.role == roles.ADMIN and (User.select().where(User.role == roles.ADMIN, User.active == True,  # noqa: E712
                                                       User.id != user_id).count() == 0):
        raise UserError("آخرین مدیر سیستم را نمی‌توان غیرفعال کرد.", en="The last administrator cannot be deactivated.")

    def job() -> None:
        User.update(active=False).where(User.id == user_id).execute()
        DeskToken.update(revoked_at=now()).where(DeskToken.user == user_id, DeskToken.revoked_at.is_null()).execute()
        audit.record("deactivate", "user", user_id, f"«{u.name}» غیرفعال شد", {"active": [True, False]})

    writer.run(job)
