"""SMS providers behind one interface (app/sms/providers/base.py)."""
from __future__ import annotations

from app.core.errors import UserError
from app.sms.providers.base import Delivery, Inbound, Outgoing, Provider, ProviderError, Result
from app.sms.providers.ghasedak import Ghasedak
from app.sms.providers.gsm import GsmModem
from app.sms.providers.ippanel import IPPanel
from app.sms.providers.kavenegar import Kavenegar
from app.sms.providers.melipayamak import Melipayamak
from app.sms.providers.smsir import SmsIr

PROVIDERS: dict[str, type[Provider]] = {p.name: p for p in (Kavenegar, SmsIr, Melipayamak, Ghasedak, IPPanel,
                                                            GsmModem)}
LABELS = {name: cls.label for name, cls in PROVIDERS.items()}


def make(name: str, key: str = "", sender: str = "", base_url: str = "", **extra) -> Provider:
    cls = PROVIDERS.get((name or "").strip().lower())
    if cls is None:
        raise UserError(f"سامانه پیامک «{name}» شناخته نیست؛ یکی از این‌ها را برگزینید: "
                        + "، ".join(PROVIDERS), en=f"Unknown SMS provider {name!r}; one of: " + ", ".join(PROVIDERS))
    return cls(key=key, sender=sender, base_url=base_url, extra=extra)


__all__ = ["PROVIDERS", "LABELS", "make", "Provider", "ProviderError", "Outgoing", "Result", "Delivery", "Inbound"]
