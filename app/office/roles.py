"""Roles that restrict: what each role may do, checked in the services, not only by hiding buttons.

    from app.office import roles

    @roles.guard("export")                 # at the top of a guarded service function
    def export_customers(...): ...

    roles.require("invoice.cancel")        # or one call where a decorator does not fit
    q = roles.scope_customers(q)           # "own only" roles see their own and unassigned customers

The built-in roles are admin (مدیر سیستم), manager (مدیر), sales rep (کارشناس فروش) and reception (پذیرش);
the admin edits their names and permissions and may add roles. The admin role always keeps every permission,
so the office can never lock itself out. The system (command line, scripts) may do everything.
"""
from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from app.core.errors import PermissionDenied, ValidationError
from app.office import session
from models.base import db

T = TypeVar("T")

# key → (Persian label used in the roles table, Persian phrase used in the refusal "… اجازه X را ندارد")
PERMISSIONS: dict[str, tuple[str, str]] = {
    "customers.all": ("دیدن همه مشتریان", "دیدن مشتریان همکاران دیگر"),
    "money.view": ("دیدن مبالغ (مانده حساب، فاکتور، دریافت)", "دیدن مبالغ و فاکتورها"),
    "invoice.issue": ("صدور فاکتور", "صدور فاکتور"),
    "invoice.cancel": ("ابطال و اصلاح فاکتور", "ابطال یا اصلاح فاکتور"),
    "export": ("خروجی اکسل", "گرفتن خروجی اکسل"),
    "customers.delete": ("حذف و ادغام مشتریان", "حذف یا ادغام مشتری"),
    "settings.change": ("تغییر تنظیمات دفتر", "تغییر تنظیمات دفتر"),
    "audit.view": ("دیدن گزارش رویدادها", "دیدن گزارش رویدادها"),
    "handover": ("واگذاری کار همکاران", "واگذاری مشتریان و کارهای همکار"),
    "users.manage": ("مدیریت کاربران و نقش‌ها", "مدیریت کاربران و نقش‌ها"),
    "messages.group": ("ارسال گروهی پیامک و ایمیل", "ارسال گروهی پیامک یا ایمیل"),
}
ADMIN = "admin"
ROLE_ORDER = ("admin", "manager", "sales", "reception")


@dataclass(frozen=True)
class RoleInfo:
    key: str
    name: str
    permissions: frozenset[str]
    builtin: bool


_lock = threading.Lock()
_cache: tuple[object, dict[str, RoleInfo]] | None = None


def invalidate() -> None:
    global _cache
    with _lock:
        _cache = None


def _table() -> dict[str, RoleInfo]:
    global _cache
    with _lock:
        if _cache is not None and _cache[0] is db.obj:
            return _cache[1]
    from models.office import Role

    out = {}
    for r in Role.select():
        try:
            perms = frozenset(p for p in json.loads(r.permissions or "[]") if p in PERMISSIONS)
        except ValueError:
            perms = frozenset()
        if r.key == ADMIN:
            perms = frozenset(PERMISSIONS)
        out[r.key] = RoleInfo(r.key, r.name, perms, r.builtin)
    with _lock:
        _cache = (db.obj, out)
    return out


def list_roles() -> list[RoleInfo]:
    t = _table()
    order = {k: i for i, k in enumerate(ROLE_ORDER)}
    return sorted(t.values(), key=lambda r: (order.get(r.key, 99), r.name))


def role_label(key: str) -> str:
    r = _table().get(key)
    return r.name if r else key


def permissions_of(role_key: str) -> frozenset[str]:
    if role_key == ADMIN:
        return frozenset(PERMISSIONS)
    r = _table().get(role_key)
    return r.permissions if r else frozenset()


# --- checks -------------------------------------------------------------------------------------------------

def can(permission: str, principal: session.Principal | None = None) -> bool:
    p = principal if principal is not None else session.current()
    if p is None:
        return False
    if p.system:
        return True
    return permission in permissions_of(p.role)


def require(permission: str) -> None:
    """Refuse, in Persian, when the person at this desk may not do this."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)
    p = session.current()
    if p is None:
        raise PermissionDenied("اول وارد برنامه شوید.", en="Sign in first.")
    if can(permission, p):
        return
    phrase = PERMISSIONS[permission][1]
    raise PermissionDenied(f"نقش «{role_label(p.role)}» اجازه {phrase} را ندارد. اگر لازم است، از مدیر سیستم "
                           "بخواهید دسترسی نقش شما را تغییر دهد.",
                           en=f"Your role may not do this ({permission}). Ask the administrator.")


def guard(permission: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator: ``require(permission)`` before the function runs."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)

    def deco(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> T:
            require(permission)
            return fn(*args, **kwargs)

        guarded.permission = permission  # type: ignore[attr-defined]
        return guarded

    return deco


# --- customers a role sees ----------------------------------------------------------------------------------

def sees_all_customers() -> bool:
    return can("customers.all")


def customer_scope() -> tuple[str, int | None]:
    """What the person at this desk may see of the customers, as a statement's shape and its one value:
    ("all", None) everything; ("none", None) nothing (nobody signed in); ("own", their id) their own and
    unassigned ones. A statement kept for reuse (models.sqlcache) is kept per shape and given the id."""
    if sees_all_customers():
        return "all", None
    uid = session.current_user_id()
    return ("none", None) if uid is None else ("own", uid)


def scope_customers(q, scope: tuple[str, int | None] | None = None):
    """Limit a customer query to what the person may see: everything, or their own and unassigned ones.
    `scope`: customer_scope()'s answer, given when the caller builds a statement for reuse."""
    kind, uid = scope if scope is not None else customer_scope()
    if kind == "all":
        return q
    from models.core import Customer

    if kind == "none":
        return q.where(Customer.id < 0)
    return q.where((Customer.assigned_to == uid) | Customer.assigned_to.is_null())


def check_customer(customer_id: int | None) -> None:
    """Refuse to open a customer another colleague owns, for a role that sees only its own."""
    if customer_id is None or sees_all_customers():
        return
    from models.core import Customer

    row = Customer.select(Customer.assigned_to).where(Customer.id == customer_id).tuples().first()
    if row is None or row[0] is None or row[0] == session.current_user_id():
        return
    raise PermissionDenied("این مشتری به همکار دیگری سپرده شده است و نقش شما فقط مشتریان خودتان و "
                           "مشتریان بی‌مسئول را می‌بیند.",
                           en="This customer belongs to a colleague; your role sees only your own customers.")


# --- editing roles ------------------------------------------------------------------------------------------

def save_role(key: str, name: str, permissions: list[str] | set[str] | frozenset[str]) -> RoleInfo:
    """Create or edit a role (the admin's). The admin role keeps every permission whatever is asked."""
    from app.core.text import clean
    from app.office import audit
    from models.office import Role
    from models.writer import writer

    require("users.manage")
    key, name = clean(key).lower(), clean(name)
    errors = {}
    if not key or not key.replace("_", "").isascii() or not key.replace("_", "").isalnum():
        errors["key"] = "شناسه نقش را با حروف لاتین بنویسید (مانند accountant)."
    if not name:
        errors["name"] = "نام نقش را بنویسید."
    unknown = [p for p in permissions if p not in PERMISSIONS]
    if unknown:
        errors["permissions"] = "دسترسی ناشناخته: " + "، ".join(unknown)
    if errors:
        raise ValidationError(errors)
    perms = sorted(PERMISSIONS) if key == ADMIN else sorted(set(permissions))

    def job() -> None:
        row = Role.get_or_none(Role.key == key)
        before = None
        if row is None:
            Role.create(key=key, name=name, permissions=json.dumps(perms))
        else:
            before = {"name": row.name, "permissions": json.loads(row.permissions or "[]")}
            Role.update(name=name, permissions=json.dumps(perms)).where(Role.id == row.id).execute()
        after = {"name": name, "permissions": perms}
        changes = audit.diff(before, after)
        if before is None or changes:
            audit.record("create" if before is None else "update", "role", None,
                         f"نقش «{name}» {'ساخته' if before is None else 'ویرایش'} شد", changes)

    writer.run(job)
    invalidate()
    return _table()[key]
