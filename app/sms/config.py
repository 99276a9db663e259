"""SMS and email settings, declared once (app/options.py). Office-wide: every desk sends through one panel.

`save()` writes the SMS settings panel's values in one transaction through the writer: the provider and its
key (the key is written only when a new one is given: it is never read back into the screen), the sender
line, the send window, the Friday rule and which automatic messages are on (a rule switched on counts from
that moment: invoices and calls from before are not messaged)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from app import options, settings
from app.core.clock import now
from app.core.errors import UserError
from app.options import Option
from models.writer import writes

OPTOUT_SUFFIX = "لغو۱۱"


def provider_settings() -> dict:
    return {"name": settings.get(options.SMS_PROVIDER), "key": settings.get(options.SMS_KEY),
            "sender": settings.get(options.SMS_SENDER), "base_url": settings.get(options.SMS_BASE_URL),
            "port": settings.get(options.SMS_PORT)}


def key_is_set() -> bool:
    return bool(settings.get(options.SMS_KEY))


def service_line() -> bool:
    return settings.get(options.SMS_LINE_KIND) == "service"


def auto_enabled() -> list[str]:
    """The automatic messages switched on (keys of options.SMS_AUTO_KINDS)."""
    return [k for k in options.SMS_AUTO_KINDS if settings.get(options.SMS_AUTO_ENABLED[k])]


def can_send() -> bool:
    """A provider is set up: an HTTP panel with its key, or a GSM modem with its port."""
    if settings.get(options.SMS_PROVIDER) == "gsm":
        return bool(settings.get(options.SMS_PORT) or settings.get(options.SMS_BASE_URL))
    return key_is_set()


def parse_time(text: str, what: str) -> dt.time:
    """«۹:۰۰» or «09:00» → 09:00; anything else is a Persian error naming `what`."""
    from app.core.text import to_ascii_digits

    try:
        h, m = to_ascii_digits(str(text)).strip().split(":")
        return dt.time(int(h), int(m))
    except ValueError:
        raise UserError(f"{what} را به شکل ساعت:دقیقه بنویسید (مانند ۰۹:۰۰).", field=what,
                        en=f"Write the {what} as HH:MM.") from None


@writes
def save(values: dict[Option, Any], auto: dict[str, bool] | None = None,
         texts: dict[str, str] | None = None) -> None:
    """Save the SMS settings (see the module's docstring); a bad value changes nothing."""
    start = parse_time(values.get(options.SMS_AUTO_WINDOW_START, settings.get(options.SMS_AUTO_WINDOW_START)),
                       "آغاز بازه ارسال")
    end = parse_time(values.get(options.SMS_AUTO_WINDOW_END, settings.get(options.SMS_AUTO_WINDOW_END)),
                     "پایان بازه ارسال")
    if end <= start:
        raise UserError("پایان بازه ارسال باید پس از آغاز آن باشد (مانند ۰۹:۰۰ تا ۲۰:۰۰).",
                        en="The send window must end after it starts.")
    for kind, text in (texts or {}).items():
        if not (text or "").strip():
            raise UserError(f"متن «{options.SMS_AUTO_LABELS[kind]}» خالی است.", en="An automatic text is empty.")
    if auto and any(auto.values()):
        def new(opt: Option) -> Any:
            return values.get(opt, settings.get(opt))

        ready = (bool(new(options.SMS_PORT) or new(options.SMS_BASE_URL)) if new(options.SMS_PROVIDER) == "gsm"
                 else bool(new(options.SMS_KEY)))
        if not ready:
            raise UserError("برای پیام‌های خودکار، سامانه پیامک باید آماده باشد: کلید دسترسی (یا درگاه مودم GSM) "
                            "را وارد کنید.", en="Automatic messages need the SMS provider's key (or the modem's port).")
    # every check is above: the settings' cache is updated as each value is written, so nothing may fail below
    for opt, value in values.items():
        settings.set(opt, value)
    for kind, text in (texts or {}).items():
        settings.set(options.SMS_AUTO_TEXT[kind], text.strip())
    for kind, on in (auto or {}).items():
        if on and not settings.get(options.SMS_AUTO_ENABLED[kind]):
            settings.set(options.SMS_AUTO_SINCE[kind], now().isoformat())
        settings.set(options.SMS_AUTO_ENABLED[kind], on)
