"""Limits, labels and the small helpers every sales module shares (the write transaction, dates, row names).
"""
from __future__ import annotations

import logging
from decimal import Decimal

from app.core.text import to_persian_digits
from models.base import db, is_sqlite

logger = logging.getLogger(__name__)


# --- limits and labels -------------------------------------------------------------------------------------
MAX_UNIT_PRICE = 10 ** 14          # 100,000 billion Rials: anything above is a typo
MAX_QUANTITY = Decimal(10 ** 9)
MAX_AMOUNT = 10 ** 16              # any line or document total
MAX_LINES = 500

TYPE_LABELS = {"proforma": "پیش‌فاکتور", "invoice": "فاکتور فروش"}
STATE_LABELS = {"draft": "پیش‌نویس", "open": "باز", "issued": "صادر شده", "converted": "تبدیل به فاکتور",
                "cancelled": "باطل شده", "corrected": "اصلاح شده"}
SETTLEMENT_LABELS = {"cash": "نقدی", "credit": "نسیه", "mixed": "نقدی و نسیه"}
PAYMENT_KIND_LABELS = {"cash": "نقد", "card": "کارت‌خوان", "transfer": "واریز / انتقال", "cheque": "چک"}
CHEQUE_STATE_LABELS = {"pending": "در جریان وصول", "cleared": "وصول شده", "bounced": "برگشتی"}

# --- small helpers -----------------------------------------------------------------------------------------

def write_tx():
    """A write transaction that takes the write lock at once on SQLite (no upgrade deadlocks under concurrent
    desks); on PostgreSQL row locks do the work. Nested inside another transaction it becomes a savepoint."""
    if is_sqlite():
        return db.atomic("IMMEDIATE")
    return db.atomic()


def row_label(i: int) -> str:
    return f"ردیف {to_persian_digits(i + 1)}"

