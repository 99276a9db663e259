"""Several calls at once (multi-line boxes): one popup per call, stacked up from the screen's corner.

The newest call is at the bottom, nearest the tray; older ones move up (and into a further column when the
screen is full). A finished popup that closes frees its
place and the rest slide down. When popups are turned off (desk setting callerid.popup_enabled) the stack
asks the tray for a notification instead.
"""
from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, QRect, QTimer, Signal
from PySide6.QtGui import QGuiApplication

from app.callerid import service as svc
from app.customers import summary as sm
from app.office import live as rules
from app.office.visibility import popup_view
from ui.calls.popup import CallPopup
from ui.context import AppContext

logger = logging.getLogger(__name__)

MARGIN = 12
GAP = 8
MAX_POPUPS = 8
REFILL_MS = 30               # a spare taken by a call is made again this long after (its popup painted first)
EXTENSIONS_TTL_S = 5.0       # the desk's extensions are read again after this long


class PopupStack(QObject):
    shown = Signal(str)          # call key: a popup was shown (the bench and the tests wait on it)
    changed = Signal()
    closed = Signal(str)         # call key: its popup closed
    taken = Signal(str, str)     # call key, header text: a colleague answered it; the popup closes shortly

    def __init__(self, ctx: AppContext, parent: QObject | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self._popups: dict[str, CallPopup] = {}
        self._order: list[str] = []
        self._spare: list[CallPopup] = []      # closed popups kept for the next call (no widgets built on a ring)
        self._ext_cache: tuple[float, int | None, frozenset[str]] | None = None
        # one spare kept ready while calls come (a multi-line box's burst): made in the gap after a popup shows,
        # not between the next ring and its popup
        self._refill = QTimer(self)
        self._refill.setSingleShot(True)
        self._refill.setInterval(REFILL_MS)
        self._refill.timeout.connect(self._make_spare)

    def prewarm(self, n: int = 1) -> None:
        """Build and polish popups ahead of the first ring."""
        while len(self._spare) < n:
            p = CallPopup(self.ctx)
            p.closed.connect(self._forget)
            p.ensurePolished()
            try:
                p.rehearse()
            except Exception:  # a rehearsal only saves the first call some time
                logger.exception("caller ID: the popup's rehearsal failed")
            self._spare.append(p)

    def _make_spare(self) -> None:
        if not self._spare and len(self._popups) < MAX_POPUPS:
            self.prewarm(1)

    def popups(self) -> list[CallPopup]:
        """Open popups, oldest first."""
        return [self._popups[k] for k in self._order if k in self._popups]

    def popup_for(self, key: str) -> CallPopup | None:
        return self._popups.get(key)

    def show_call(self, view: svc.CallView, summary: sm.CustomerSummary | None = None) -> CallPopup:
        view = popup_view(view)              # a colleague's customer is not shown to an "own only" role
        if summary is not None and summary.customer_id != view.customer_id:
            summary = None
        p = self._popups.get(view.key)
        if p is not None:
            if summary is not None:
                p.summary = summary
            p.update_call(view)
            if summary is not None:
                p.set_summary(summary)
            self._check_taken(p, view)
            self._layout()
            return p
        while len(self._order) >= MAX_POPUPS:
            oldest = self._popups.get(self._order[0])
            if oldest is None:
                self._order.pop(0)
                continue
            oldest.close()
        if self._spare:
            p = self._spare.pop()
            p.assign(view, summary)
            if not self._spare:
                self._refill.start()
        else:
            p = CallPopup(self.ctx, view, summary=summary)
            p.closed.connect(self._forget)
        self._popups[view.key] = p
        self._order.append(view.key)
        self._layout()
        p.show()
        self.shown.emit(view.key)
        self.changed.emit()
        return p

    def update_call(self, view: svc.CallView) -> CallPopup | None:
        p = self._popups.get(view.key)
        if p is not None:
            p.update_call(popup_view(view))
            self._check_taken(p, view)
            self._layout()
            self.changed.emit()
        return p

    def extensions(self) -> frozenset[str]:
        """This desk's extensions (the signed-in colleague's, the desk's own), read at most every few seconds."""
        now = time.monotonic()
        cached = self._ext_cache
        if cached is None or now - cached[0] > EXTENSIONS_TTL_S or cached[1] != self.ctx.user_id:
            cached = (now, self.ctx.user_id, rules.desk_extensions(self.ctx.user_id))
            self._ext_cache = cached
        return cached[2]

    def _check_taken(self, p: CallPopup, view: svc.CallView) -> None:
        """A ring group's call answered at another desk's extension: that desk keeps its popup, this one says
        who answered and closes a few seconds later."""
        if p.taken_by or not view.answered_by:
            return
        if rules.answered_elsewhere(view, self.extensions()):
            p.answered_elsewhere(rules.answerer_name(view.answered_by))
            self.taken.emit(view.key, p.state_label.text())

    def clear(self) -> None:
        for p in list(self._popups.values()):
            p.close()

    def _forget(self, key: str) -> None:
        p = self._popups.pop(key, None)
        if p is not None and len(self._spare) < MAX_POPUPS and p not in self._spare:
            self._spare.append(p)
        if key in self._order:
            self._order.remove(key)
        self._layout()
        self.changed.emit()
        if p is not None:
            self.closed.emit(key)

    def _area(self) -> QRect:
        screen = QGuiApplication.primaryScreen()
        return screen.availableGeometry() if screen is not None else QRect(0, 0, 1280, 800)

    def _layout(self) -> None:
        """Newest at the bottom of the corner, older ones above; a popup that does not fit under the top of
        the screen starts a new column to the left (eight lines ringing at once stay readable)."""
        area = self._area()
        x_right = area.right() - MARGIN
        y = area.bottom() - MARGIN
        for key in reversed(self._order):
            p = self._popups.get(key)
            if p is None:
                continue
            h = p.height()
            if y - h < area.top() + MARGIN and y < area.bottom() - MARGIN:
                x_right -= p.width() + GAP            # next column
                y = area.bottom() - MARGIN
            y -= h
            p.move(x_right - p.width() + 1, max(area.top() + MARGIN, y))
            y -= GAP
