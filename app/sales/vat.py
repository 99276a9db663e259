"""VAT rates: a dated list (option ``sales.vat_rates``: ``1402/01/01=9,1403/01/01=10``); a document takes the rate in
force on its date, and keeps it once issued (a proforma keeps the rate it was written with).
"""
from __future__ import annotations

import datetime as dt
import logging
from decimal import ROUND_HALF_UP, Decimal

from app import options, settings
from app.core.errors import ValidationError
from app.core.jalali import JalaliError, format_date, parse_date
from app.core.text import to_ascii_digits
from app.sales.totals import parse_quantity

logger = logging.getLogger(__name__)


# --- VAT rates ---------------------------------------------------------------------------------------------

def parse_vat_rates(text: str) -> list[tuple[dt.date, int]]:
    """'1402/01/01=9,1403/01/01=10' → [(date, 900), (date, 1000)], sorted. Raises ValidationError."""
    out: list[tuple[dt.date, int]] = []
    for part in to_ascii_digits(text or "").replace("،", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValidationError({"sales.vat_rates": f"«{part}» باید به شکل ۱۴۰۳/۰۱/۰۱=۱۰ باشد."})
        d, r = (p.strip() for p in part.split("=", 1))
        try:
            day = parse_date(d)
        except JalaliError as e:
            raise ValidationError({"sales.vat_rates": f"«{d}»: {e}"}) from e
        q = parse_quantity(r.rstrip("%٪"))
        if q is None or q < 0 or q > 100:
            raise ValidationError({"sales.vat_rates": f"نرخ «{r}» باید درصدی بین ۰ تا ۱۰۰ باشد."})
        out.append((day, int((q * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))))
    out.sort()
    return out


def vat_rates() -> list[tuple[dt.date, int]]:
    try:
        return parse_vat_rates(settings.get(options.SALES_VAT_RATES))
    except ValidationError:
        logger.warning("sales.vat_rates is not readable; using the default list")
        return parse_vat_rates(options.SALES_VAT_RATES.default)


def set_vat_rates(text: str) -> None:
    rates = parse_vat_rates(text)
    if not rates:
        raise ValidationError({"sales.vat_rates": "دست‌کم یک نرخ با تاریخ شروع لازم است (مثلاً ۱۴۰۳/۰۱/۰۱=۱۰)."})
    if len({d for d, _ in rates}) != len(rates):
        raise ValidationError({"sales.vat_rates": "برای یک تاریخ دو نرخ نوشته شده است."})
    settings.set(options.SALES_VAT_RATES, ",".join(f"{format_date(d, persian=False)}={r / 100:g}" for d, r in rates))


def vat_rate_on(day: dt.date) -> int:
    """The VAT rate (basis points) in force on a day; 0 before the first dated rate."""
    rate = 0
    for start, r in vat_rates():
        if start <= day:
            rate = r
    return rate
