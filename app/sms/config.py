"""SMS and email settings, declared once (app/options.py). Office-wide: every desk sends through one panel."""
from __future__ import annotations

from app import options, settings

OPTOUT_SUFFIX = "لغو۱۱"


def provider_settings() -> dict:
    return {"name": settings.get(options.SMS_PROVIDER), "key": settings.get(options.SMS_KEY),
            "sender": settings.get(options.SMS_SENDER), "base_url": settings.get(options.SMS_BASE_URL),
            "port": settings.get(options.SMS_PORT)}


def key_is_set() -> bool:
    return bool(settings.get(options.SMS_KEY))


def service_line() -> bool:
    return settings.get(options.SMS_LINE_KIND) == "service"
