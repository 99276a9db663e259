"""What every page and dialog shares: the signal bus and who is at this desk."""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal


class Bus(QObject):
    """Application-wide signals. Pages emit what changed; others refresh or navigate."""

    data_changed = Signal(str)             # "customers", "calls", "tasks", "invoices", "payments", "settings"
    customer_changed = Signal(int)         # a customer was created / edited / merged into (id)
    open_customer = Signal(int)            # show this customer's file
    open_task = Signal(int)                # show this task
    new_customer_with_phone = Signal(str)  # open the new-customer form with this number filled in
    log_call = Signal(int, int)            # (customer_id or 0, call_id or 0): open the call-logging dialog
    show_section = Signal(str)             # "dashboard", "customers", "calls", "tasks", "invoices", "reports", "settings"
    status_message = Signal(str)           # a short message for the status bar
    callerid_state = Signal(str, str)      # (state key, Persian text) for the status bar


@dataclass
class AppContext:
    bus: Bus = field(default_factory=Bus)
    user_id: int | None = None
    main_window: object | None = None
