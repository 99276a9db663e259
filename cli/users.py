"""`crm users …` and `crm audit export`.

The command line is the office's admin tool: it runs as the system, with every permission, because whoever
can run it on a desk can read the database file anyway. Protect the database file (and the server's
password) instead; the program's roles restrict what people do in the windows.

    crm users add --admin NAME [--username U] [--password-stdin]   # the first admin (or another)
    crm users add NAME --username U --role sales                   # a colleague (password asked)
    crm users list
    crm users passwd USERNAME [--password-stdin]
    crm users unlock USERNAME
    crm users deactivate USERNAME
    crm audit export --out FILE.xlsx [--from 1405/01/01] [--to …] [--user USERNAME]
"""
from __future__ import annotations

import getpass
import sys

from app.core.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("users", help="کاربران و رمزها (خط فرمان با دسترسی کامل مدیر سیستم اجرا می‌شود)")
    us = p.add_subparsers(dest="users_command", metavar="ACTION")
    a = us.add_parser("add", help="افزودن کاربر (با --admin: مدیر سیستم)")
    a.add_argument("name", nargs="?", help="نام همکار")
    a.add_argument("--admin", metavar="NAME", help="نام مدیر سیستم تازه")
    a.add_argument("--username", help="نام کاربری (پیش‌فرض: admin برای مدیر سیستم)")
    a.add_argument("--role", default="sales", help="نقش: admin، manager، sales، reception")
    a.add_argument("--password-stdin", action="store_true", help="رمز را از ورودی استاندارد بخوان")
    a.add_argument("--extension", help="داخلی تلفن همکار در مرکز تلفن دفتر (مانند 102)")
    a.set_defaults(func=cmd_add)
    lst = us.add_parser("list", help="فهرست کاربران")
    lst.set_defaults(func=cmd_list)
    pw_ = us.add_parser("passwd", help="تعیین رمز تازه")
    pw_.add_argument("username")
    pw_.add_argument("--password-stdin", action="store_true")
    pw_.set_defaults(func=cmd_passwd)
    un = us.add_parser("unlock", help="باز کردن قفل ورود")
    un.add_argument("username")
    un.set_defaults(func=cmd_unlock)
    de = us.add_parser("deactivate", help="غیرفعال کردن کاربر (سوابق او می‌ماند)")
    de.add_argument("username")
    de.set_defaults(func=cmd_deactivate)
    ext = us.add_parser("extension", help="داخلی تلفن همکار (خالی: بدون داخلی)")
    ext.add_argument("username")
    ext.add_argument("extension", nargs="?", default="")
    ext.set_defaults(func=cmd_extension)

    p = sub.add_parser("audit", help="گزارش رویدادها")
    au = p.add_subparsers(dest="audit_command", metavar="ACTION")
    ex = au.add_parser("export", help="خروجی اکسل گزارش رویدادها")
    ex.add_argument("--out", required=True)
    ex.add_argument("--from", dest="date_from")
    ex.add_argument("--to", dest="date_to")
    ex.add_argument("--user", help="نام کاربری")
    ex.set_defaults(func=cmd_audit_export)


def _read_password(args, prompt: str = "رمز عبور: ") -> str:
    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass(prompt)
    again = getpass.getpass("تکرار رمز عبور: ")
    if first != again:
        raise UserError("دو رمز یکی نیستند؛ چیزی ثبت نشد.", en="The two passwords differ; nothing was saved.")
    return first


def _user(username: str):
    from app.core.text import clean
    from models.core import User

    u = User.get_or_none(User.username == clean(username).lower())
    if u is None:
        raise UserError(f"کاربری با نام کاربری «{username}» نیست.", en=f"No user named {username}.")
    return u


def _check(password: str) -> None:
    from app.core.errors import ValidationError
    from app.office.auth import check_strength

    if msg := check_strength(password):
        raise ValidationError({"password": msg})


def cmd_add(args) -> int:
    from app.office import auth
    from app.office.users import save_user
    from cli.common import open_db

    open_db(args)
    if args.admin:
        password = _read_password(args)
        _check(password)
        u = auth.create_admin(args.admin, args.username or "admin", password)
    else:
        if not args.name or not args.username:
            raise UserError("نام و نام کاربری همکار را بدهید: crm users add NAME --username U",
                            en="Give a name and a user name: crm users add NAME --username U")
        password = _read_password(args)
        _check(password)
        u = save_user(args.name, args.username, args.role, extension=args.extension)
        auth.set_password(u.id, password)
    print(f"{u.username}\t{u.name}\t{u.role}")
    return 0


def cmd_list(args) -> int:
    from app.office import auth, roles
    from app.office.users import list_users
    from cli.common import open_db

    open_db(args)
    for u in list_users(active_only=False):
        state = "فعال" if u.active else "غیرفعال"
        lock = auth.lock_state(u.id)
        extra = " قفل" if lock.locked else ""
        pwd = "رمز دارد" if auth.has_password(u.id) else "بی‌رمز"
        ext = f"\tداخلی {u.extension}" if u.extension else ""
        print(f"{u.username}\t{u.name}\t{roles.role_label(u.role)}\t{state}\t{pwd}{extra}{ext}")
    return 0


def cmd_passwd(args) -> int:
    from app.office import auth
    from cli.common import open_db

    open_db(args)
    u = _user(args.username)
    password = _read_password(args)
    _check(password)
    auth.set_password(u.id, password)
    print("رمز تازه ثبت شد.")
    return 0


def cmd_unlock(args) -> int:
    from app.office import auth
    from cli.common import open_db

    open_db(args)
    auth.unlock(_user(args.username).id)
    print("قفل ورود باز شد.")
    return 0


def cmd_deactivate(args) -> int:
    from app.office import auth
    from cli.common import open_db

    open_db(args)
    auth.deactivate(_user(args.username).id)
    print("کاربر غیرفعال شد.")
    return 0


def cmd_extension(args) -> int:
    from app.office.users import save_user
    from cli.common import open_db

    open_db(args)
    u = _user(args.username)
    u = save_user(u.name, u.username, u.role, user_id=u.id, active=u.active, extension=args.extension)
    print(f"داخلی {u.name}: {u.extension}" if u.extension else f"{u.name} داخلی ندارد.")
    return 0


def cmd_audit_export(args) -> int:
    from app.core.jalali import parse_date
    from app.office import audit_log
    from cli.common import open_db

    open_db(args)
    f = audit_log.AuditFilter(date_from=parse_date(args.date_from) if args.date_from else None,
                          date_to=parse_date(args.date_to) if args.date_to else None,
                          user_id=_user(args.user).id if args.user else None)
    res = audit_log.export_xlsx(args.out, f)
    print(res.path)
    return 0
