"""Colleagues. Who sits at a desk is whoever signed in there (app/office/auth.py); adding and editing
colleagues is the admin's (permission «users.manage»)."""
from __future__ import annotations

from app.core.errors import ValidationError
from app.core.text import clean
from app.office import audit, roles
from models.core import User

ROLE_LABELS = {"admin": "مدیر سیستم", "manager": "مدیر", "sales": "کارشناس فروش", "reception": "پذیرش"}


def ensure_default_user() -> User:
    """A new database gets one user, so work can be assigned from the first minute."""
    u = User.select().order_by(User.id).first()
    if u is None:
        u = User.create(name="مدیر دفتر", username="admin", role="admin")
    return u


def list_users(active_only: bool = True) -> list[User]:
    q = User.select().order_by(User.name)
    if active_only:
        q = q.where(User.active == True)  # noqa: E712
    return list(q)


@roles.guard("users.manage")
@audit.tracked(lambda a: "update" if a.get("user_id") else "create", "user", key="user_id")
def save_user(name: str, username: str, role: str, user_id: int | None = None, active: bool = True) -> User:
    name, username = clean(name), clean(username).lower()
    errors = {}
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
        u.save()
        return u
    return User.create(name=name, username=username, role=role, active=active)


# --- what the audit log keeps of a record (before/after) ---

@audit.snapshotter("user")
def _user(uid: int) -> dict | None:
    from models.core import User

    u = User.get_or_none(User.id == uid)
    if u is None:
        return None
    return {"name": u.name, "username": u.username, "role": u.role, "active": u.active, "_label": u.name}
