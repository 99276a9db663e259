"""Small helpers the sales screens share: colours, the warning box, Persian digits, money text, today.
"""
from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox

from app.core.errors import UserError
from app.core.text import format_number, parse_int, to_persian_digits

logger = logging.getLogger(__name__)


RED = QColor("#b91c1c")
GREY = QColor("#9ca3af")
GREEN = QColor("#15803d")


def warn_user(parent, e: UserError, title: str = "انجام نشد") -> None:
    QMessageBox.warning(parent, title, e.message)


def persian_digits(text: str) -> str:
    return to_persian_digits(text or "")


def money_text(value) -> str:
    v = parse_int(value) if not isinstance(value, int) else value
    return format_number(v or 0)


def jalali_today() -> dt.date:
    from app.core.clock import today

    return today()
