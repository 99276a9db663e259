"""`crm sms …`: send one message, run the automatic messages (cron), deliver the queue, poll reports; the outbox
screen's verbs: list the outbox, send messages again (never twice to one number), mark them."""
from __future__ import annotations

import logging
import sys

logger = logging.getLogger(__name__)

# the keys of app.sms.outbox.STATE_FILTERS and PERIODS (not imported here: parsing stays light; a test compares)
OUTBOX_STATES = ("sent", "delivered", "failed", "uncertain", "pending", "cancelled")
OUTBOX_PERIODS = ("today", "week", "month", "all")


def register(sub) -> None:
    p = sub.add_parser("sms", help="پیامک: ارسال، پیام‌های خودکار، گزارش رسیدن")
    ssub = p.add_subparsers(dest="sms_command", metavar="VERB")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    s = ssub.add_parser("send", help="فرستادن یک پیامک؛ شناسه پیام در سامانه چاپ می‌شود")
    s.add_argument("number", help="شماره همراه گیرنده (۰۹…)")
    s.add_argument("text", help="متن پیام")
    s.add_argument("--provider", help="kavenegar | smsir | melipayamak | ghasedak | ippanel | gsm")
    s.add_argument("--key", help="کلید دسترسی (برای ملی پیامک: username:password)")
    s.add_argument("--sender", help="شماره خط فرستنده")
    s.add_argument("--base-url", dest="base_url", help="نشانی سرویس (برای آزمون؛ در مودم GSM: درگاه سریال)")
    s.set_defaults(func=cmd_send)

    a = ssub.add_parser("run-automatic", help="فرستادن پیام‌های خودکار امروز (برای cron یا زمان‌بند ویندوز)")
    a.set_defaults(func=cmd_run_automatic)

    d = ssub.add_parser("deliver", help="فرستادن پیام‌های در صف (و ادامه ارسالی که نیمه‌کاره ماند)")
    d.set_defaults(func=cmd_deliver)

    st = ssub.add_parser("status", help="پرسیدن وضعیت رسیدن پیام‌ها و خواندن پاسخ‌ها")
    st.set_defaults(func=cmd_status)

    o = ssub.add_parser("outbox", help="صف ارسال: پیام‌ها با وضعیتشان، هر پیام یک سطر JSON")
    o.add_argument("--state", choices=OUTBOX_STATES, help="فقط پیام‌های این وضعیت")
    o.add_argument("--period", choices=OUTBOX_PERIODS, default="all", help="بازه زمانی (پیش‌فرض: همه)")
    o.add_argument("--search", default="", help="شماره همراه، نام مشتری یا متن پیام")
    o.set_defaults(func=cmd_outbox)

    r = ssub.add_parser("resend", help="ارسال دوباره پیام‌های ناموفق، در صف یا نامعلوم (هرگز دو بار به یک شماره)")
    r.add_argument("ids", nargs="+", type=int, help="شناسه پیام‌ها در صف ارسال")
    r.add_argument("--uncertain", action="store_true",
                   help="پیام‌های نامعلوم هم دوباره فرستاده شوند (شاید پیش‌تر رسیده باشند)")
    r.set_defaults(func=cmd_resend)

    m = ssub.add_parser("mark", help="علامت‌گذاری پیام‌ها: رسیده (نامعلوم‌ها) یا کنار گذاشته (فرستاده نشود)")
    m.add_argument("ids", nargs="+", type=int, help="شناسه پیام‌ها در صف ارسال")
    how = m.add_mutually_exclusive_group(required=True)
    how.add_argument("--sent", action="store_true", help="پیام نامعلومی که در گزارش پنل رسیده است")
    how.add_argument("--dismiss", action="store_true", help="این پیام‌ها فرستاده نشوند")
    m.set_defaults(func=cmd_mark)


def cmd_send(args) -> int:
    from app.sms import service
    from cli.common import open_db

    open_db(args)
    provider = service.provider_from_settings(name=args.provider, key=args.key, sender=args.sender,
                                              base_url=args.base_url)
    msg = service.send_now(args.number, args.text, provider=provider)
    print(msg.provider_id)
    return 0


def cmd_run_automatic(args) -> int:
    from app.sms import automatic
    from cli.common import open_db

    open_db(args)
    report = automatic.run()
    print(report.describe())
    return 0


def cmd_deliver(args) -> int:
    from app.sms import service
    from cli.common import open_db

    open_db(args)
    s = service.deliver()
    print(f"sent={s.sent} failed={s.failed} uncertain={s.uncertain} requeued={s.requeued} remaining={s.remaining}")
    for e in s.errors:
        print(e, file=sys.stderr)
    return 0 if not s.errors else 1


def cmd_status(args) -> int:
    from app.sms import service
    from cli.common import open_db

    open_db(args)
    n = service.poll_status()
    r = service.read_replies()
    print(f"statuses={n} replies={r}")
    return 0


def cmd_outbox(args) -> int:
    import json

    from app.sms import outbox
    from cli.common import open_db

    open_db(args)
    f = outbox.OutboxFilter(state=args.state or "", period=args.period, text=args.search)
    pages = outbox.Pages(f)
    while True:
        chunk = pages.next_ids(500)
        if not chunk:
            break
        rows = outbox.rows(chunk)
        for i in chunk:
            r = rows[i]
            print(json.dumps({"id": r.id, "at": (r.sent_at or r.created_at).isoformat(timespec="seconds"),
                              "number": r.recipient, "customer": r.name, "state": r.state, "origin": r.origin,
                              "text": r.body, "error": r.error}, ensure_ascii=False))
    return 0


def cmd_resend(args) -> int:
    from app.sms import outbox
    from cli.common import open_db

    open_db(args)
    report = outbox.resend(args.ids, confirm_uncertain=args.uncertain)
    print(report.describe())
    for e in report.summary.errors:
        print(e, file=sys.stderr)
    return 1 if report.summary.failed or report.summary.errors else 0


def cmd_mark(args) -> int:
    from app.sms import outbox
    from cli.common import open_db

    open_db(args)
    n = outbox.mark_sent(args.ids) if args.sent else outbox.dismiss(args.ids)
    print(n)
    return 0 if n == len(set(args.ids)) else 1
