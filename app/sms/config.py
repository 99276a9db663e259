"""SMS and email settings, declared once (app/settings.py). Office-wide: every desk sends through one panel."""
from __future__ import annotations

from app import settings
from app.settings import declare

declare("sms.provider", str, "kavenegar", "سامانه پیامک",
        choices=("kavenegar", "smsir", "melipayamak", "ghasedak", "ippanel", "gsm"))
declare("sms.key", str, "", "کلید دسترسی (API) سامانه پیامک")
declare("sms.sender", str, "", "شماره خط فرستنده")
declare("sms.line_kind", str, "advertising", "نوع خط", choices=("advertising", "service"))
declare("sms.base_url", str, "", "نشانی سرویس (خالی: نشانی رسمی سامانه)")
declare("sms.port", str, "", "درگاه سریال مودم GSM")
declare("sms.interval", float, 0.0, "فاصله میان درخواست‌ها به ثانیه (۰: پیش‌فرض سامانه)")
declare("sms.append_optout", bool, True, "افزودن «لغو۱۱» به پایان پیام‌های گروهی")
declare("email.host", str, "", "کارگزار SMTP")
declare("email.port", int, 587, "درگاه SMTP")
declare("email.security", str, "starttls", "امنیت اتصال", choices=("starttls", "ssl", "none"))
declare("email.user", str, "", "نام کاربری SMTP")
declare("email.password", str, "", "گذرواژه SMTP")
declare("email.sender", str, "", "نشانی فرستنده")

OPTOUT_SUFFIX = "لغو۱۱"


def provider_settings() -> dict:
    return {"name": settings.get("sms.provider"), "key": settings.get("sms.key"),
            "sender": settings.get("sms.sender"), "base_url": settings.get("sms.base_url"),
            "port": settings.get("sms.port")}


def key_is_set() -> bool:
    return bool(settings.get("sms.key"))


def service_line() -> bool:
    return settings.get("sms.line_kind") == "service"
