"""Click-to-call through the caller-ID modem the listener already holds (the port is never opened twice).

`dial_reason(ctx)` says why dialling is not possible here (None when it is); `start_dial(ctx, number, done)`
dials off the GUI thread and calls done(ok, message) when the modem has finished."""
from __future__ import annotations

from collections.abc import Callable

from ui.context import AppContext


def _listener(ctx: AppContext):
    win = ctx.main_window
    controller = getattr(win, "callerid", None) if win is not None else None
    return getattr(controller, "listener", None)


def dial_reason(ctx: AppContext) -> str | None:
    listener = _listener(ctx)
    if listener is None or not hasattr(listener, "dial"):
        return "شناسه تماس روشن نیست؛ مودم را در تنظیمات › شناسه تماس انتخاب کنید."
    return listener._can_dial()


def start_dial(ctx: AppContext, number: str, done: Callable[[bool, str], None] | None = None) -> str | None:
    """Start dialling; returns None when started, else the Persian reason it cannot be."""
    reason = dial_reason(ctx)
    if reason:
        return reason
    listener = _listener(ctx)

    def finished(ok: bool, message: str) -> None:
        listener.dial_finished.disconnect(finished)
        ctx.bus.status_message.emit(message)
        if done is not None:
            done(ok, message)

    listener.dial_finished.connect(finished)
    listener.dial(number)
    return None
