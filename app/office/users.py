"""Colleagues. Who sits at a desk is whoever signed in there (app/office/auth.py); adding and editing
colleagues is the admin's (permission «users.manage»)."""
from __future__ import annotations

from app.core.errors import ValidationError
from app.core.text import clean
from app.office import audit, roles
from models import sqlcache
from models.core import User

ROLE_LABELS = {"admin": "مدیر سیستم", "manager": "مدیر", "sales": "کارشناس فروش", "reception": "پذیرش"}


def ensure_default_user() -> User:
    """A new database gets one user, so work can be assigned from the first minute."""
    u = User.select().order_by(User.id).first()
    if u is None:
        u = User.create(name="مدیر دفتر", username="admin", role="admin")
    return u


def names_by_id() -> dict[int, str]:
    """Every colleague's name by id, those no longer active too (old rows still name them). Read whenever a
    list names its owners (the dashboard, the board, reports): the statement is kept (models.sqlcache)."""
    return dict(sqlcache.run("users.names", lambda: User.select(User.id, User.name)).fetchall())


def list_users(active_only: bool = True) -> list[User]:
    q = User.select().order_by(User.name)
    if active_only:
        q = q.where(User.active == True)  # noqa: E712
    return list(q)


@roles.guard("users.manage")
@audit.tracked(lambda a: "update" if a.get("user_id") else "create", "user", key="user_id")
def save_user(name: str, username: str, role: str, user_id: int | None = None, active: bool = True,
              extension: str | None = None) -> User:
    """Create or edit a colleague. ``extension`` is their phone on the office's telephone system ("" for none,
    None to leave it as it is)."""
    name, username = clean(name), clean(username).lower()
    errors = {}
    if extension is not None:
        extension, problem = check_extension(extension, user_id)
        if problem:
            errors["extension"] = problem
    if not name:
        errors["name"] = "نام همکار را بنویسید."
    if not username:
        errors["username"] = "نام کاربری را بنویسید."
    if role not in {r.key for r in roles.list_roles()} and role not in User.ROLES:
        errors["role"] = "نقش درست نیست."
    clash = User.get_or_none(User.username == username)
    if clash and clash.id != user_id:
        errors["username"] = "این نام کاربری قبلاً ثبت شده است."
    if errors:
        raise ValidationError(errors)
    if user_id:
        u = User.get_by_id(user_id)
        u.name, u.username, u.role, u.active = name, username, role, active
        if extension is not None:
            u.extension = extension
        u.save()
        return u
    return User.create(name=name, username=username, role=role, active=active, extension=extension or "")


def check_extension(text: str, user_id: int | None = None) -> tuple[str, str]:
    """(the extension as ASCII digits, "" or a Persian reason it cannot be this colleague's)."""
    from app.core.text import to_ascii_digits, to_persian_digits

    ext = to_ascii_digits(clean(text or "")).replace(" ", "")
    if not ext:
        return "", ""
    if not ext.isdigit() or len(ext) > 8:
        return ext, "داخلی را فقط با رقم بنویسید (مانند ۱۰۲)."
    q = User.select(User.name).where(User.extension == ext, User.active == True)  # noqa: E712
    if user_id:
        q = q.where(User.id != user_id)
    other = q.first()
    if other is not None:
        return ext, f"داخلی {to_persian_digits(ext)} به «{other.name}» داده شده است."
    return ext, ""


def user_by_extension(ext: str | None) -> User | None:
    """The active colleague at this extension, if one has it."""
    ext = (ext or "").strip()
    if not ext:
        return None
    return User.select().where(User.extension == ext, User.active == True).order_by(User.id).first()  # noqa: E712


# --- what the audit log keeps of a record (before/after) ---

@audit.snapshotter("user")
def _user(uid: int) -> dict | None:
    from models.core import User

    u = User.get_or_none(User.id == uid)
    if u is None:
        return None
    return {"name": u.name, "username": u.username, "role": u.role, "active": u.active, "extension": u.extension,
            "_label": u.name}
