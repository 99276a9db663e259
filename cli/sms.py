"""`crm sms …`: send one message, run the automatic messages (cron), deliver the queue, poll reports."""
from __future__ import annotations

import logging
import sys

logger = logging.getLogger(__name__)


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
