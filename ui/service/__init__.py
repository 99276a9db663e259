"""After the sale on screen: the «خدمات پس از فروش» section (ui.service.page), the request dialog, the service
dashboard and the customer file's tabs.

For other screens:
    open_request_from_call(ctx, call_id)   the caller-ID popup's «درخواست خدمت» button: a new request with the
                                           caller's customer, channel «تلفن» and the call's time filled in
    install(ctx, parent)                   the once-a-minute hand-over of unhandled/overdue requests
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer

from ui.context import AppContext

logger = logging.getLogger(__name__)


def open_request_from_call(ctx: AppContext, call_id: int, parent=None):
    """A new service request from a call (the popup calls this); returns the dialog."""
    from app.service.requests import call_origin
    from ui.service.request_dialog import open_request_dialog

    call = call_origin(call_id)
    dlg = open_request_dialog(ctx, customer_id=call.customer_id if call else None, call_id=call.call_id if call else None,
                              parent=parent)
    dlg.channel.setCurrentIndex(max(dlg.channel.findData("phone"), 0))
    return dlg


class ReassignTimer(QObject):
    """Every minute: hand unhandled or overdue requests to a free colleague (the rule in the settings)."""

    INTERVAL_MS = 60_000

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.timer = QTimer(self)
        self.timer.setInterval(self.INTERVAL_MS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self) -> list:
        from app.service import handover

        try:
            moved = handover.run_due()
        except Exception:
            logger.exception("service hand-over round failed")
            return []
        if moved:
            self.ctx.bus.data_changed.emit("service")
            self.ctx.bus.data_changed.emit("tasks")
            self.ctx.bus.status_message.emit(f"{len(moved)} درخواست خدمت به همکار آزاد ارجاع شد.")
        return moved


def install(ctx: AppContext, parent=None) -> ReassignTimer:
    return ReassignTimer(ctx, parent)
