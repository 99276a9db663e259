"""`crm export …` and `crm import …`: Excel in and out from the command line.

    crm export customers --out customers.xlsx [--text علی] [--tag VIP] [--city تهران] …
    crm export calls --out calls.xlsx [--from 1405/01/01] [--to 1405/06/31]
    crm export report sales-month --out report.xlsx [--from …] [--to …]
    crm import customers FILE [--dry-run] [--duplicates skip|merge|add] [--sheet NAME] [--skip-invalid]

The dry run prints every problem with its spreadsheet row number. A real import that refuses (rows with
errors and no --skip-invalid) exits with 3 and saves nothing.
"""
from __future__ import annotations

import logging
import sys

from app.core.errors import UserError

logger = logging.getLogger(__name__)

EXIT_REFUSED = 3


def register(sub) -> None:
    p = sub.add_parser("export", help="خروجی اکسل (مشتریان، تماس‌ها، گزارش‌ها)")
    esub = p.add_subparsers(dest="what", metavar="WHAT")
    esub.required = True
    c = esub.add_parser("customers", help="فهرست مشتریان با فیلتر")
    c.add_argument("--out", required=True, help="مسیر فایل xlsx")
    c.add_argument("--text", default="", help="متن جستجو (نام، شرکت، شماره…)")
    c.add_argument("--tag", default="")
    c.add_argument("--city", default="")
    c.add_argument("--type", dest="customer_type", default="", help="نوع مشتری")
    c.add_argument("--status", default="")
    c.add_argument("--stage", default="", choices=("", "potential", "actual"))
    c.add_argument("--kind", default="", choices=("", "person", "organisation"))
    c.add_argument("--source", default="")
    c.add_argument("--sort", default="name", help="name, company, type, rank, status, created, id")
    c.set_defaults(func=cmd_export_customers)
    c = esub.add_parser("calls", help="فهرست تماس‌ها")
    c.add_argument("--out", required=True)
    c.add_argument("--from", dest="date_from", default="", help="از تاریخ (۱۴۰۵/۰۱/۰۱)")
    c.add_argument("--to", dest="date_to", default="", help="تا تاریخ")
    c.set_defaults(func=cmd_export_calls)
    c = esub.add_parser("report", help="یکی از گزارش‌ها")
    c.add_argument("name", help="نام گزارش (crm export report list)")
    c.add_argument("--out", default="")
    c.add_argument("--from", dest="date_from", default="")
    c.add_argument("--to", dest="date_to", default="")
    c.set_defaults(func=cmd_export_report)

    p = sub.add_parser("import", help="ورود مشتریان از اکسل یا CSV")
    isub = p.add_subparsers(dest="what", metavar="WHAT")
    isub.required = True
    c = isub.add_parser("customers", help="ورود مشتریان و شماره‌هایشان")
    c.add_argument("file", help="فایل xlsx، xls یا csv")
    c.add_argument("--dry-run", action="store_true", help="فقط بررسی: هیچ چیز ذخیره نمی‌شود")
    c.add_argument("--duplicates", choices=("skip", "merge", "add"), default="skip",
                   help="ردیف تکراری: skip وارد نشود، merge با پرونده موجود ادغام شود، add مشتری جدید")
    c.add_argument("--sheet", default=None, help="نام برگه (پیش‌فرض: نخستین برگه‌ای که داده دارد)")
    c.add_argument("--skip-invalid", action="store_true", help="ردیف‌های خطادار وارد نشوند و بقیه وارد شوند")
    c.set_defaults(func=cmd_import_customers)


def _date(text: str):
    if not text:
        return None
    from app.core.jalali import JalaliError, parse_date

    try:
        return parse_date(text)
    except JalaliError as e:
        raise UserError(f"تاریخ «{text}»: {e}") from e


def _progress_printer(label: str):
    state = {"last": -1}

    def progress(done: int, total: int) -> None:
        if not sys.stderr.isatty() or not total:
            return
        pct = done * 100 // total
        if pct != state["last"]:
            state["last"] = pct
            print(f"\r{label}: {pct}٪", end="", file=sys.stderr, flush=True)
            if done >= total:
                print(file=sys.stderr)

    return progress


def cmd_export_customers(args) -> int:
    from app.core.text import to_persian_digits
    from app.customers.service import Filter
    from app.excel.export import export_customers
    from cli.common import open_db

    open_db(args)
    f = Filter(text=args.text, tag=args.tag, city=args.city, customer_type=args.customer_type, status=args.status,
               stage=args.stage, kind=args.kind, source=args.source)
    res = export_customers(args.out, f, sort=args.sort, progress=_progress_printer("خروجی"))
    print(f"{to_persian_digits(res.rows)} مشتری در «{res.path}» نوشته شد.")
    return 0


def cmd_export_calls(args) -> int:
    from app.core.text import to_persian_digits
    from app.excel.export import export_calls
    from cli.common import open_db

    open_db(args)
    res = export_calls(args.out, _date(args.date_from), _date(args.date_to), progress=_progress_printer("خروجی"))
    print(f"{to_persian_digits(res.rows)} تماس در «{res.path}» نوشته شد.")
    return 0


def cmd_export_report(args) -> int:
    from app.reports import service as reports
    from cli.common import open_db

    if args.name == "list":
        for key, r in reports.REPORTS.items():
            print(f"{key}\t{r.title}")
        return 0
    if args.name not in reports.REPORTS:
        raise UserError(f"گزارشی به نام «{args.name}» نیست. فهرست: crm export report list")
    if not args.out:
        raise UserError("مسیر فایل خروجی را با --out بدهید.")
    open_db(args)
    result = reports.run(args.name, _date(args.date_from), _date(args.date_to))
    path = reports.export_xlsx(result, args.out)
    print(f"گزارش «{result.title}» در «{path}» نوشته شد.")
    return 0


def cmd_import_customers(args) -> int:
    from app.core.text import to_persian_digits
    from app.excel import importer as ei
    from cli.common import open_db

    open_db(args)
    table = ei.load_table(args.file, args.sheet)
    cols = [f"{h or '—'} ← {ei.FIELDS[m]}" for h, m in zip(table.headers, table.mapping, strict=False) if m]
    print(f"برگه «{table.sheet}»، سرستون در ردیف {to_persian_digits(table.header_row + 1)}. ستون‌ها: "
          + "، ".join(cols))
    report = ei.analyse(table, progress=_progress_printer("بررسی"))
    for p in report.problems():
        tag = {"error": "خطا", "duplicate": "تکراری", "warning": "هشدار"}[p.severity]
        print(f"[{tag}] {p.text()}")
    print(report.summary())
    if args.dry_run:
        print("اجرای آزمایشی: چیزی ذخیره نشد.")
        return 0 if not report.errors else 1
    try:
        res = ei.import_rows(report, duplicates=args.duplicates, skip_invalid=args.skip_invalid,
                             progress=_progress_printer("ورود"))
    except UserError as e:
        print(e.message, file=sys.stderr)
        return EXIT_REFUSED
    print(res.summary())
    return 0
