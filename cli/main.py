"""The `crm` command line. Each area registers its verbs; errors reach stderr in Persian, never as a traceback."""
from __future__ import annotations

import argparse
import logging
import sys

from app.core.errors import UserError
from cli import core

logger = logging.getLogger(__name__)

_EN = {
    "خطای پیش‌بینی‌نشده؛ جزئیات در پرونده گزارش (crm.log) ثبت شد.": "Unexpected error; details are in crm.log.",
}


def _add_global_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="مسیر فایل SQLite یا نشانی postgresql://… (پیش‌فرض: پوشه داده کاربر)")
    p.add_argument("--lang", choices=("fa", "en"), default=None, help="زبان پیام‌ها")
    p.add_argument("-v", "--verbose", action="store_true", help="گزارش کامل در خروجی")


def build_parser() -> argparse.ArgumentParser:
    # Modules that add sub-commands: each has register(subparsers); each command sets func(args) -> int.
    from cli import callerid, excel, office, sales, service, sms, users

    p = argparse.ArgumentParser(prog="crm", description="پیوند: مدیریت ارتباط با مشتری برای دفترهای کوچک")
    _add_global_options(p)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for registrar in (core, callerid, sales, excel, office, sms, users, service):
        registrar.register(sub)
    _global_options_after_verbs(sub)
    return p


class _NotTheGui(Exception):
    pass


class _GuiParser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise _NotTheGui(message)


def gui_args(argv: list[str]) -> argparse.Namespace | None:
    """The desktop's start (`crm`, `crm [--db …] gui [--demo-if-empty …]`) read without building every verb's
    parser, which imports every verb's module: a tenth of the program's start. Anything else (another verb,
    --help, a mistake) gives None, and the full parser reads it and says what is wrong."""
    if any(a in ("-h", "--help") for a in argv):
        return None
    p = _GuiParser(prog="crm", add_help=False, allow_abbrev=False)
    _add_global_options(p)
    p.add_argument("command", nargs="?", choices=("gui",))
    core.add_gui_options(p)
    try:
        args, rest = p.parse_known_args(argv)
    except _NotTheGui:
        return None
    gui_only = args.demo_if_empty or args.quit_after is not None or args.open_backup is not None
    if rest or (args.command is None and gui_only):      # `crm --demo-if-empty` is an error in the full parser
        return None
    args.func = core.cmd_gui
    return args


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
    argv = sys.argv[1:] if argv is None else list(argv)
    args = gui_args(argv) or build_parser().parse_args(argv)
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
