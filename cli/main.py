"""The `crm` command line. Each area registers its verbs; errors reach stderr in Persian, never as a traceback."""
from __future__ import annotations

import argparse
import logging
import sys

from app.core.errors import UserError
from cli import callerid, core, excel, office, sales, service, sms, users

logger = logging.getLogger(__name__)

# Modules that add sub-commands: each has register(subparsers); each command sets func(args) -> int.
REGISTRARS = [core, callerid, sales, excel, office, sms, users, service]

_EN = {
    "خطای پیش‌بینی‌نشده؛ جزئیات در پرونده گزارش (crm.log) ثبت شد.": "Unexpected error; details are in crm.log.",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="crm", description="پیوند: مدیریت ارتباط با مشتری برای دفترهای کوچک")
    p.add_argument("--db", help="مسیر فایل SQLite یا نشانی postgresql://… (پیش‌فرض: پوشه داده کاربر)")
    p.add_argument("--lang", choices=("fa", "en"), default=None, help="زبان پیام‌ها")
    p.add_argument("-v", "--verbose", action="store_true", help="گزارش کامل در خروجی")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for registrar in REGISTRARS:
        registrar.register(sub)
    _global_options_after_verbs(sub)
    return p


def _global_options_after_verbs(sub) -> None:
    """`crm gui --db FILE` (what run.sh passes on) works like `crm --db FILE gui`: every verb accepts the global
    options too. SUPPRESS as the default keeps a value given before the verb when none is given after it."""
    import argparse

    for parser in {id(x): x for x in sub.choices.values()}.values():
        parser.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        parser.add_argument("--lang", choices=("fa", "en"), default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _global_options_after_verbs(action)


def _say(msg: str, lang: str | None) -> str:
    return _EN.get(msg, msg) if lang == "en" else msg


def run(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from app.core import logs

    try:
        logs.setup(verbose=args.verbose)
    except OSError:
        pass
    func = getattr(args, "func", None)
    if func is None:
        func = core.cmd_gui
    try:
        return int(func(args) or 0)
    except UserError as e:
        if args.lang == "en":
            print(e.en or f"Error: {e.message}", file=sys.stderr)
        else:
            print(e.message, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # the last line of defence: log, say it in Persian, no traceback
        logger.exception("command failed")
        from app.core.fs import cause_of

        cause = cause_of(e)             # a full or read-only disk is named, even behind a failed ROLLBACK
        if cause is not None:
            print(f"Not done: {cause[1]}. Nothing was left half-written; details are in crm.log." if args.lang == "en"
                  else f"کار انجام نشد: {cause[0]}. چیزی نیمه‌کاره ثبت نشد؛ جزئیات در پرونده گزارش (crm.log).",
                  file=sys.stderr)
        else:
            print(_say("خطای پیش‌بینی‌نشده؛ جزئیات در پرونده گزارش (crm.log) ثبت شد.", args.lang), file=sys.stderr)
        if args.verbose:
            raise
        return 1
