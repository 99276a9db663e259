"""`crm invoice pdf NUMBER --out FILE.pdf [--toman] [--paper A4|A5]` (light: heavy imports happen on use)."""
from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("invoice", help="فاکتور و پیش‌فاکتور")
    isub = p.add_subparsers(dest="invoice_command", metavar="VERB")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    pdf = isub.add_parser("pdf", help="ساخت PDF فاکتور یا پیش‌فاکتور (شماره پیش‌فاکتور با P آغاز می‌شود: P14050001)")
    pdf.add_argument("number", help="شماره سند، مانند 14050012 یا P14050003")
    pdf.add_argument("--out", required=True, help="مسیر پرونده PDF")
    pdf.add_argument("--toman", action="store_true", help="مبالغ به تومان")
    pdf.add_argument("--paper", choices=("A4", "A5"), default=None, help="اندازه کاغذ (پیش‌فرض: تنظیمات دفتر)")
    pdf.set_defaults(func=cmd_invoice_pdf)


def cmd_invoice_pdf(args) -> int:
    from app.sales.invoice_pdf import invoice_pdf_main
    from cli.common import open_db

    open_db(args)
    return invoice_pdf_main(args.number, args.out, toman=args.toman, paper=args.paper)
