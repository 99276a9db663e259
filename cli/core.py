"""Core verbs: the GUI, demo data, backup and restore."""
from __future__ import annotations

import logging
from pathlib import Path

from app.core.errors import UserError

logger = logging.getLogger(__name__)


def add_gui_options(p) -> None:
    """The `gui` verb's own options (also read by cli.main's quick start, which builds no other verb)."""
    p.add_argument("--demo-if-empty", action="store_true", help="اگر پایگاه داده تازه است، داده نمونه بساز")
    p.add_argument("--quit-after", type=float, default=None, help=argparse_hidden())
    p.add_argument("--open-backup", metavar="FILE", default=None,
                   help="پیشنهاد بازگردانی از این پرونده پشتیبان پیش از باز شدن برنامه (دوبار کلیک روی پشتیبان در ویندوز)")


def register(sub) -> None:
    p = sub.add_parser("gui", help="باز کردن برنامه (پیش‌فرض)")
    add_gui_options(p)
    p.set_defaults(func=cmd_gui)

    p = sub.add_parser("demo-data", help="ساختن داده نمونه فارسی")
    p.add_argument("--customers", type=int, default=200)
    p.add_argument("--calls", type=int, default=None, help="تعداد تماس‌ها (پیش‌فرض: دو برابر مشتریان)")
    p.add_argument("--tasks", type=int, default=None)
    p.add_argument("--invoices", type=int, default=None)
    p.add_argument("--opportunities", type=int, default=None, help="تعداد فرصت‌های فروش (پیش‌فرض: یک‌پنجم مشتریان)")
    p.add_argument("--seed", type=int, default=1405)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("backup", help="پشتیبان‌گیری از پایگاه داده")
    p.add_argument("--out", help="مسیر فایل پشتیبان، یا پوشه‌ای که پشتیبان با نام تاریخ‌دار در آن نوشته شود "
                                 "(پیش‌فرض: پوشه پشتیبان‌ها)")
    p.add_argument("--force", action="store_true", help="رونویسی فایلی که از پیش هست (هرگز خود پایگاه داده)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("install-desktop", help="افزودن پیوند به منوی برنامه‌های لینوکس (با نام فارسی و نماد) برای "
                                                "همین کاربر")
    p.add_argument("--remove", action="store_true", help="برداشتن میان‌بر منو، نماد و اطلاعات AppStream")
    p.set_defaults(func=cmd_install_desktop)

    p = sub.add_parser("restore", help="بازگردانی پایگاه داده از فایل پشتیبان (برنامه روی میزهای دیگر باید بسته باشد)")
    p.add_argument("file")
    p.set_defaults(func=cmd_restore)


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


def _sqlite_path(args) -> Path:
    from models.connection import resolve_url, sqlite_path_of

    path = sqlite_path_of(resolve_url(args.db))
    if path is None:
        raise UserError("بازگردانی از این راه فقط برای پایگاه داده SQLite است؛ پشتیبان سرور PostgreSQL را "
                        "روی سرور با pg_restore --clean بازگردانید (راهنما در README).",
                        en="Restore here is for SQLite databases; restore a PostgreSQL backup on the server with "
                           "pg_restore --clean (see the README).")
    return path


def cmd_backup(args) -> int:
    from app.backup import backup, pg_backup
    from models.connection import resolve_url

    url = resolve_url(args.db)
    if url.startswith(("postgresql://", "postgres://")):      # the office's server: pg_dump
        print(pg_backup(url, out=Path(args.out) if args.out else None, force=args.force))
        return 0
    path = _sqlite_path(args)
    out = backup(path, out=Path(args.out) if args.out else None, force=args.force)
    print(out)
    return 0


def cmd_install_desktop(args) -> int:
    from app import desktop

    if args.remove:
        removed = desktop.uninstall()
        print(f"میان‌بر منو برداشته شد ({len(removed)} پرونده)." if args.lang != "en"
              else f"The menu entry was removed ({len(removed)} files).")
        return 0
    done = desktop.install()
    if args.lang == "en":
        print(f"Peyvand is in the application menu: {done.files[0]}\nIt starts: {done.command}")
    else:
        print(f"پیوند به منوی برنامه‌ها افزوده شد: {done.files[0]}\nفرمان اجرا: {done.command}")
    return 0


def cmd_restore(args) -> int:
    from app.backup import restore

    path = _sqlite_path(args)
    safety = restore(Path(args.file), path)
    print(f"بازگردانی انجام شد. نسخه قبلی: {safety}" if safety else "بازگردانی انجام شد.")
    return 0


def cmd_demo(args) -> int:
    from app.demo.customers import seed
    from cli.common import open_db

    open_db(args, create=True)               # the one verb that may make a new database
    counts = seed(customers=args.customers, calls=args.calls, tasks=args.tasks, invoices=args.invoices,
                  seed=args.seed, progress=lambda msg: print(msg, flush=True),
                  opportunities=args.opportunities)
    for k, v in counts.items():
        print(f"{k}: {v}")
    return 0


def cmd_gui(args) -> int:
    # cli/ sits beside ui/: the GUI is imported only when it is asked for (the other verbs start without Qt).
    from ui.application import run_gui

    return run_gui(args)
