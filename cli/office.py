"""`crm db copy --to postgresql://…`: the office moves from one desk's SQLite file to a shared server."""
from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("db", help="کارهای پایگاه داده (کپی به سرور PostgreSQL)")
    dbsub = p.add_subparsers(dest="db_command", metavar="COMMAND")
    c = dbsub.add_parser("copy", help="کپی پایگاه داده SQLite این میز (--db) به سرور PostgreSQL")
    c.add_argument("--to", required=True, metavar="URL",
                   help="نشانی سرور، مانند postgresql://crm:گذرواژه@192.168.1.10/crm")
    c.add_argument("--force", action="store_true",
                   help="اگر مقصد داده دارد، همه آن پاک و با داده این میز جایگزین شود")
    c.add_argument("--batch", type=int, default=5000, help="ردیف در هر دسته")
    c.set_defaults(func=cmd_copy)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def cmd_copy(args) -> int:
    from app.office.dbcopy import copy_to_postgres
    from models.connection import resolve_url

    source = resolve_url(args.db)
    report = copy_to_postgres(source, args.to, force=args.force, batch=max(1, args.batch),
                              progress=lambda m: print(m, file=sys.stderr, flush=True))
    en = getattr(args, "lang", None) == "en"
    width = max((len(t.name) for t in report.tables), default=5)
    for t in report.tables:
        print(f"{t.name.ljust(width)}  {t.rows:>9}  md5 {t.checksum}  ok")
    if en:
        print(f"Copied {report.rows} rows in {len(report.tables)} tables to {report.target} in "
              f"{report.seconds:.1f} s; counts and checksums match on both sides.")
    else:
        print(f"{report.rows} ردیف در {len(report.tables)} جدول در {report.seconds:.1f} ثانیه به {report.target} "
              "کپی شد؛ تعداد و چکیده هر جدول در دو طرف یکی است.")
    return 0
