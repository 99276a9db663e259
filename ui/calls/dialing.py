"""Click-to-call: through the office's telephone system (AMI Originate) when the caller-ID device is an
Asterisk/Issabel exchange, otherwise through the caller-ID modem the listener already holds (the port is never
opened twice).

`dial_reason(ctx)` says why dialling is not possible here (None when it is); `start_dial(ctx, number, done)`
dials off the GUI thread and calls done(ok, message) when the modem (or the exchange) has finished."""
from __future__ import annotations

from collections.abc import Callable

from app import settings
from app.callerid import settings_keys as sk
from ui.context import AppContext


def _listener(ctx: AppContext):
    win = ctx.main_window
    controller = getattr(win, "callerid", None) if win is not None else None
    return getattr(controller, "listener", None)


def uses_pbx(ctx: AppContext | None = None) -> bool:
    """The desk's caller-ID device is an AMI exchange: dialling goes through its Originate action."""
    return settings.get(sk.DEVICE) == "ami"


def dial_reason(ctx: AppContext) -> str | None:
    if uses_pbx(ctx):
        if not str(settings.get(sk.PBX_ADDRESS) or "").strip():
            return "نشانی مرکز تلفن در تنظیمات › شناسه تماس نوشته نشده است."
        from app.callerid.ami import dial_extension

        if not dial_extension(ctx.user_id):
            return ("داخلی تلفن این میز در تنظیمات › شناسه تماس (یا داخلی شما در «همکاران و نقش‌ها») نوشته نشده "
                    "است؛ بدون آن مرکز تلفن نمی‌داند کدام گوشی را زنگ بزند.")
        return None
    listener = _listener(ctx)
    if listener is None or not hasattr(listener, "dial"):
        return "شناسه تماس روشن نیست؛ مودم را در تنظیمات › شناسه تماس انتخاب کنید."
    return listener._can_dial()


def start_dial(ctx: AppContext, number: str, done: Callable[[bool, str], None] | None = None):
    """Start dialling; returns None when started, else the Persian reason it cannot be."""
    reason = dial_reason(ctx)
    if reason:
        return reason
    if uses_pbx(ctx):
        originate_call(ctx, number, done)
        return None
    listener = _listener(ctx)

    def finished(ok: bool, message: str) -> None:
        listener.dial_finished.disconnect(finished)
        ctx.bus.status_message.emit(message)
        if done is not None:
            done(ok, message)

    listener.dial_finished.connect(finished)
    listener.dial(number)
    return None


def originate_call(ctx: AppContext, number: str, done: Callable[[bool, str], None] | None = None):
    """Ask the exchange to ring this desk's extension and then dial ``number`` (app.callerid.ami.originate
    blocks until the exchange reports the outcome, so it runs through ui/ops.py). Returns the QueryOp."""
    from app.callerid import ami
    from ui.ops import QueryOp, error_text

    def report(ok: bool, message: str) -> None:
        ctx.bus.status_message.emit(message)
        if done is not None:
            done(ok, message)

    extension = ami.dial_extension(ctx.user_id)
    return (QueryOp(parent=ctx.main_window, op=lambda _ctl: ami.originate(number, extension or None),
                    name="originate",
                    success=lambda r: report(r.ok, r.message))
            .failure(lambda exc: report(False, error_text(exc)))
            .run())
