"""The dashboard (پیشخوان), the first screen each morning: overdue and today's tasks and follow-ups, today's
meetings, birthdays and anniversaries, calls nobody has handled yet, missed calls, and for a manager the
counts per colleague. It refreshes itself when data changes (Bus.data_changed) and every minute; each item
opens its task, call, meeting or customer (Enter or double-click; right-click for the customer file)."""
from __future__ import annotations

import logging
import time

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.calls import log as call_log
from app.core import jalali
from app.core.errors import UserError
from app.reports import dashboard as dash
from app.tasks import meetings
from app.tasks import service as ts
from ui.context import AppContext
from ui.widgets.timers import shown_debounce

logger = logging.getLogger(__name__)

ROLE = Qt.ItemDataRole.UserRole
RED = QColor("#b91c1c")
MUTED = QColor("#6b7280")

CARD_STYLE = """
QFrame[card="true"] { background: white; border: 1px solid #e2e6ec; border-radius: 8px; }
QLabel[role="card-title"] { font-weight: bold; font-size: 11pt; color: #1f2937; }
QLabel[role="card-count"] { color: white; background: #3b82f6; border-radius: 9px; padding: 1px 8px; }
QLabel[role="card-count"][alert="true"] { background: #dc2626; }
QListWidget { border: none; background: white; }
QListWidget::item { padding: 4px 2px; border-bottom: 1px solid #f1f3f6; }
QListWidget::item:selected { background: #dbeafe; color: #111827; }
"""

SECTIONS = (
    ("overdue", "کارها و پیگیری‌های عقب‌افتاده", "هیچ کار عقب‌افتاده‌ای ندارید."),
    ("today", "کارها و پیگیری‌های امروز", "برای امروز کاری ثبت نشده است."),
    ("meetings", "جلسه‌های امروز", "امروز جلسه‌ای ندارید."),
    ("dates", "تولد و سالگرد ازدواج امروز", "امروز تولد یا سالگردی نیست."),
    ("missed", "تماس‌های بی‌پاسخ", "تماس بی‌پاسخی نمانده است."),
    ("unhandled", "تماس‌های رسیدگی‌نشده", "همه تماس‌ها رسیدگی شده‌اند."),
    ("opportunities", "فرصت‌های فروش: گام امروز و راکدها", "فرصت فروشی منتظر اقدام نیست."),
)


class Card(QFrame):
    """A titled list. Rows are kept as they are added and made into list items by show_rows(): the first
    screenful before the page is painted, the rest (a card holds up to 200) right after."""

    def __init__(self, title: str, empty_text: str, parent=None):
        super().__init__(parent)
        self.setProperty("card", True)
        self.empty_text = empty_text
        self._rows: list[tuple[str, tuple, QColor | None, str]] = []
        self._shown = 0                         # rows made into items so far
        self._end: tuple[int, tuple] | None = None   # finish()'s total and payload, once all rows are shown
        self._closing: QListWidgetItem | None = None  # the «… و N مورد دیگر» row, once made
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        head = QHBoxLayout()
        self.title = QLabel(title, self)
        self.title.setProperty("role", "card-title")
        self.count = QLabel("۰", self)
        self.count.setProperty("role", "card-count")
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.count)
        lay.addLayout(head)
        self.list = QListWidget(self)
        self.list.setUniformItemSizes(True)      # one line each: the list measures one item, not all
        self.list.setMinimumHeight(150)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        lay.addWidget(self.list, 1)

    def set_count(self, n: int, alert: bool = False) -> None:
        self.count.setText(fmt.num(n))
        alert = bool(alert and n)
        if bool(self.count.property("alert")) != alert:   # the style sheet is applied again only on a change
            self.count.setProperty("alert", alert)
            self.count.style().unpolish(self.count)
            self.count.style().polish(self.count)

    def clear(self) -> None:
        self.list.clear()
        self._rows = []
        self._shown = 0
        self._end = None
        self._closing = None

    def add(self, text: str, payload: tuple, color: QColor | None = None, tooltip: str = "") -> None:
        self._rows.append((text, payload, color, tooltip))

    def finish(self, total: int, more: tuple = ("more",)) -> None:
        """No more rows: `total` is how many there are in all (a «… و N مورد دیگر» row opens the rest)."""
        self._end = (total, more)

    def set_total(self, total: int, more: tuple = ("more",)) -> None:
        """How many there are in all, learnt after the rows (a count read afterwards): the count says it, and the
        closing row is made (or made again) for the rows beyond those listed."""
        self.count.setText(fmt.num(total))
        if self._end is not None:               # rows still to be made: the closing row comes with them
            self._end = (total, more)
            return
        if self._closing is not None:
            self.list.takeItem(self.list.row(self._closing))
            self._closing = None
        if total > len(self._rows) and self._rows:
            self._closing = self._more_item(total - len(self._rows), more)

    def show_rows(self, limit: int | None = None) -> None:
        """Make the kept rows into list items, up to `limit` of them (all when None), then the closing row."""
        rows = self._rows
        stop = len(rows) if limit is None else min(len(rows), limit)
        add_item = self.list.addItem
        for text, payload, color, tooltip in rows[self._shown:stop]:
            item = QListWidgetItem(text)
            item.setData(ROLE, payload)
            if color is not None:
                item.setForeground(QBrush(color))
            if tooltip:
                item.setToolTip(tooltip)
            add_item(item)
        self._shown = max(self._shown, stop)
        if self._shown < len(rows) or self._end is None:
            return
        total, more = self._end
        self._end = None
        if not rows:
            item = QListWidgetItem(self.empty_text)
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            item.setForeground(QBrush(MUTED))
            self.list.addItem(item)
        elif total > len(rows):
            self._closing = self._more_item(total - len(rows), more)

    def _more_item(self, n: int, more: tuple) -> QListWidgetItem:
        item = QListWidgetItem(f"… و {fmt.count(n, 'مورد دیگر')}")
        item.setData(ROLE, more)
        item.setForeground(QBrush(MUTED))
        self.list.addItem(item)
        return item


class DashboardPage(QWidget):
    REFRESH_MS = 60_000
    HOLD_PAINT_MS = 300                     # a slow first read shows the empty cards after this long
    FIRST_ROWS = 12                         # rows per card made before a background read is painted
    COUNT_AFTER_MS = 250                    # a cut opportunities list is counted this long after its read is shown
    loaded = Signal()                       # each time a read has been shown
    painted = Signal()                      # a background read's first screenful has been painted
    completed = Signal()                    # every row of a read is in, below the first screen too

    def __init__(self, ctx: AppContext, parent=None, *, load_in_background: bool = False):
        """`load_in_background`: the first picture is read off the GUI thread (the main window at start-up shows
        itself while the dashboard's queries run); otherwise it is read here, before the page is returned."""
        super().__init__(parent)
        self.ctx = ctx
        self.data: dash.Dashboard | None = None
        self.last_load_ms = 0.0
        self._rest_pending = False           # the rows past FIRST_ROWS wait for the page's next paint
        self._dirty = True
        self._loading = False
        self._generation = 0                 # a read shown after a later one started is dropped
        self._count_when_shown: dash.Dashboard | None = None     # the opportunities' count, put off while hidden
        self._below_reading = False          # a read below the first screen is under way (_read_below_of)
        self._below_again = False            # and another was asked for meanwhile
        self._opportunities: tuple[list, list] | None = None
        if load_in_background:
            # the read starts first and runs while the cards are built; its result arrives through the event
            # loop, after this constructor has returned. What only the part below the first screen shows (the
            # money cards' summary, each colleague's open tasks) is read after the first paint (_read_below)
            self.refresh_in_background(below=False)
        self.setStyleSheet(CARD_STYLE)
        outer = QVBoxLayout(self)
        head = QHBoxLayout()
        self.title = QLabel("پیشخوان", self)
        self.title.setProperty("role", "title")
        head.addWidget(self.title)
        head.addStretch(1)
        self.calls_btn = QPushButton("تماس‌های امروز من", self)
        self.calls_btn.setToolTip("فهرست تماس‌ها و پیگیری‌هایی که امروز باید انجام دهید (F3)")
        self.calls_btn.clicked.connect(self.show_calls_today)
        self.new_call_btn = QPushButton("ثبت تماس", self)
        self.new_call_btn.setToolTip("Ctrl+L")
        self.new_call_btn.clicked.connect(lambda: self.ctx.bus.log_call.emit(0, 0))
        self.new_task_btn = QPushButton("کار تازه", self)
        self.new_task_btn.setToolTip("Ctrl+N")
        self.new_task_btn.clicked.connect(self.new_task)
        self.new_meeting_btn = QPushButton("جلسه تازه", self)
        self.new_meeting_btn.clicked.connect(self.new_meeting)
        for b in (self.calls_btn, self.new_call_btn, self.new_task_btn, self.new_meeting_btn):
            head.addWidget(b)
        outer.addLayout(head)

        # every widget is made in its place (parent given), the scroll area first: a tree reparented into a
        # styled page is polished again widget by widget
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll, 1)
        body = QWidget()
        scroll.setWidget(body)
        self.grid = QGridLayout(body)
        self.grid.setSpacing(10)
        self.cards: dict[str, Card] = {}
        for i, (key, title, empty) in enumerate(SECTIONS):
            card = Card(title, empty, body)
            card.list.itemActivated.connect(self._activate)
            card.list.customContextMenuRequested.connect(lambda pos, c=card: self._menu(c, pos))
            card.list.viewport().installEventFilter(self)
            self.cards[key] = card
            self.grid.addWidget(card, i // 2, i % 2)
        self._body = body
        self._below_built = False             # the part below the first screen (_build_below)
        if not load_in_background:
            self._build_below()

        self._debounce = shown_debounce(self, 250, self.refresh_in_background, self._mark_dirty)
        self._tick = QTimer(self)
        self._tick.setInterval(self.REFRESH_MS)
        self._tick.timeout.connect(self._changed)
        self._tick.start()
        ctx.bus.data_changed.connect(self._changed)
        # methods, not lambdas: the bus outlives the page (a window signed out of), and a lambda connected to it
        # would keep the page and everything it shows for as long as the program runs
        ctx.bus.customer_changed.connect(self._customer_changed)
        QShortcut(QKeySequence("F3"), self, activated=self.show_calls_today)
        QShortcut(QKeySequence("Ctrl+N"), self, activated=self.new_task)
        QShortcut(QKeySequence("Ctrl+L"), self, activated=lambda: self.ctx.bus.log_call.emit(0, 0))
        if load_in_background:
            self.title.setText("پیشخوان — در حال بارگذاری…")
            for card in self.cards.values():
                card.count.setText("…")
            # The first picture is the day's work, not empty cards painted a moment before it: the page is not
            # painted until its rows are in (what was on screen stays meanwhile), or for HOLD_PAINT_MS at most.
            self.setUpdatesEnabled(False)
            QTimer.singleShot(self.HOLD_PAINT_MS, self._paint_again)
        else:
            self.refresh()

    def _build_below(self) -> None:
        """Make the part below the first screen, unless made: the counts per colleague, the money cards and the cash
        forecast. A page read in the background makes it right after its first paint (_show_rest), so that the
        first screen is not kept waiting for widgets nobody sees yet."""
        if self._below_built:
            return
        body = self._body
        self.team = QFrame(body)
        self.team.setProperty("card", True)
        tl = QVBoxLayout(self.team)
        t = QLabel("کارهای باز همکاران", self.team)
        t.setProperty("role", "card-title")
        tl.addWidget(t)
        self.team_table = QTableWidget(0, 4, self.team)
        self.team_table.setHorizontalHeaderLabels(["همکار", "باز", "عقب‌افتاده", "امروز"])
        self.team_table.verticalHeader().hide()
        self.team_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        hh = self.team_table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            self.team_table.setColumnWidth(col, 110)
        self.team_table.setMinimumHeight(150)
        self.team_table.cellDoubleClicked.connect(self._open_colleague)
        tl.addWidget(self.team_table)
        self.grid.addWidget(self.team, (len(SECTIONS) + 1) // 2, 0, 1, 2)
        # the office's money: overdue invoices, cheques this week, bounced cheques, today's collection calls
        from ui.money import cards as money_cards

        first = (len(SECTIONS) + 1) // 2 + 1
        for i, (key, title, empty) in enumerate(money_cards.SECTIONS):
            card = Card(title, empty, body)
            card.list.itemActivated.connect(self._activate)
            card.list.customContextMenuRequested.connect(lambda pos, c=card: self._menu(c, pos))
            self.cards[key] = card
            self.grid.addWidget(card, first + i // 2, i % 2)
            if self.data is None or not self.data.below:
                card.count.setText("…")
        self.forecast = QFrame(body)
        self.forecast.setProperty("card", True)
        fl = QVBoxLayout(self.forecast)
        ft = QLabel("پیش‌بینی نقدینگی (ماه‌های شمسی)", self.forecast)
        ft.setProperty("role", "card-title")
        fl.addWidget(ft)
        from ui.money.page import forecast_table

        self.forecast_table = forecast_table()
        self.forecast_table.setMinimumHeight(190)
        fl.addWidget(self.forecast_table)
        self.grid.addWidget(self.forecast, first + (len(money_cards.SECTIONS) + 1) // 2, 0, 1, 2)
        self._below_built = True

    # --- loading -----------------------------------------------------------------------------------------
    def _mark_dirty(self) -> None:
        self._dirty = True

    def _customer_changed(self, _customer_id: int) -> None:
        self._changed()

    def _changed(self, _what: str = "") -> None:
        if self.isVisible():
            self._debounce.start()
        else:
            self._dirty = True

    def showEvent(self, e) -> None:
        super().showEvent(e)
        if self._dirty and not self._loading:
            self.refresh(below=False)           # chosen again after a change: the first screen at once
        elif self._count_when_shown is not None:
            self._count_opportunities(self._count_when_shown)

    def is_loading(self) -> bool:
        """A read is under way on a worker thread."""
        return self._loading

    def _load(self, below: bool = True) -> tuple[dash.Dashboard, tuple[list, list]]:
        """Everything the page shows, read in one go (on any thread: no widgets here); `below=False`: without what
        only the part below the first screen shows (dash.load)."""
        from ui.pipeline.dashboard_card import load_opportunities

        d = dash.load(self.ctx.user_id, below=below)
        return d, load_opportunities(d.user_id, d.manager)

    def refresh(self, below: bool = True) -> None:
        """Read and show now (on the GUI thread). `below=False`: what only the part below the first screen shows
        (the money cards' summary, the counts per colleague) follows from a worker thread, as at the first
        opening."""
        t0 = time.perf_counter()
        self._generation += 1
        try:
            loaded = self._load(below)
        except Exception:  # a failed refresh keeps the last picture
            logger.exception("dashboard refresh failed")
            return
        self._show_loaded(loaded, t0)

    def refresh_in_background(self, below: bool = True) -> None:
        """Read on a worker thread, then show (the periodic and change-driven refreshes, and the first picture at
        start-up): the GUI thread only fills the cards. `below=False`: what only the part below the first screen
        shows is read after the first screen is painted."""
        if self._loading:
            self._dirty = True              # asked again meanwhile: one more read when this one is shown
            return
        from ui.ops import QueryOp

        self._loading = True
        self._dirty = False
        self._generation += 1
        generation = self._generation
        t0 = time.perf_counter()

        def done(loaded) -> None:
            self._loading = False
            again = self._dirty
            if generation == self._generation:
                self._show_loaded(loaded, t0, defer_rows=True)
            if again:
                self._dirty = True
                if self.isVisible():
                    self._debounce.start()

        def failed(_exc: BaseException) -> None:     # a failed refresh keeps the last picture
            self._loading = False
            self._dirty = True
            self._paint_again()
            self._build_below()
            logger.error("dashboard refresh failed: %s", _exc)

        QueryOp(self, lambda _ctl: self._load(below), done, name="dashboard").failure(failed).prompt().run()

    def _read_below(self) -> None:
        """Every row of the data shown is in: read what it left out for the part below the first screen and fill
        that part, or, when nothing was left out, say the page is complete."""
        d, generation = self.data, self._generation
        if d is not None:
            # a moment after this read is painted (the badge is what comes last): a quick succession of reads, or
            # a page left at once, counts once or not at all
            QTimer.singleShot(self.COUNT_AFTER_MS, self, lambda: self._count_opportunities(d))
        if d is None or d.below:
            self.completed.emit()
            return
        self._read_below_of(d, generation)

    def _read_below_of(self, d: dash.Dashboard, generation: int) -> None:
        """One read below the first screen at a time: while one is under way, a later one waits for it and then reads
        for the data shown by then (a page chosen again and again would otherwise queue a read of the money for each
        time on the worker, and every other page's read behind them: at a million customers the inbox waited 3.5 s
        after thirty quick openings)."""
        if self._below_reading:
            self._below_again = True
            return
        from ui.ops import QueryOp

        self._below_reading = True

        def next_or_none() -> bool:
            self._below_reading = False
            if not self._below_again:
                return False
            self._below_again = False
            if self.data is not None and not self.data.below:
                self._read_below_of(self.data, self._generation)
                return True
            return False

        def done(got) -> None:
            if next_or_none() or generation != self._generation or self.data is not d:
                return                      # a later read is shown, with all of it (or being read)
            d.money, d.per_user = got
            d.below = True
            self._fill_below(d)
            for card in self.cards.values():
                card.show_rows()
            self.completed.emit()

        def failed(exc: BaseException) -> None:
            logger.error("dashboard read below the first screen failed: %s", exc)
            if not next_or_none():
                self.completed.emit()

        QueryOp(self, lambda _ctl: dash.read_below(d), done, name="dashboard-below").failure(failed).prompt().run()

    def _show_loaded(self, loaded: tuple[dash.Dashboard, tuple[list, list]], t0: float,
                     defer_rows: bool = False) -> None:
        """Fill the cards and paint. `defer_rows` (a read that arrived through the event loop): only the first
        screenful of each card is made before the page is painted, the rest right after that paint."""
        self.data, self._opportunities = loaded
        self._dirty = False
        defer_rows = defer_rows and self.isVisible()
        self._fill(self.data, self.FIRST_ROWS if defer_rows else None)
        if defer_rows:
            self._rest_pending = True
            QTimer.singleShot(100, self._show_rest)   # in case no paint comes (covered by another window)
        else:
            self._read_below()
        self._paint_again()
        self.last_load_ms = (time.perf_counter() - t0) * 1000
        self.loaded.emit()

    def _paint_again(self) -> None:
        if not self.updatesEnabled():
            self.setUpdatesEnabled(True)

    def eventFilter(self, obj, event) -> bool:
        # a card's list painted (the cards repaint, not the page): the rest of the rows after this paint
        if self._rest_pending and event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, self._show_rest)
        return False

    def _show_rest(self) -> None:
        if not self._rest_pending:
            return
        self._rest_pending = False
        self.painted.emit()
        if not self._below_built:
            self._build_below()
            if self.data is not None:
                self._fill_below(self.data)
        for card in self.cards.values():
            card.show_rows()
        self._read_below()

    def _fill(self, d: dash.Dashboard, rows: int | None = None) -> None:
        """Fill the cards; `rows`: how many of each card's rows to make now (all when None)."""
        who = ts.user_name(self.ctx.user_id)
        self.title.setText(f"پیشخوان — {jalali.format_long(d.at)}" + (f" — {who}" if who else ""))
        self.calls_btn.setText(f"تماس‌های امروز من ({fmt.num(d.calls_today)})")
        for card in self.cards.values():
            card.clear()
        c = self.cards["overdue"]
        for r in d.overdue:
            c.add(self._task_text(r, with_date=True), ("task", r.id, r.customer_id), RED, self._task_tip(r))
        c.set_count(d.counts.get("overdue", len(d.overdue)), alert=True)
        c.finish(d.counts.get("overdue", len(d.overdue)))
        c = self.cards["today"]
        for r in d.today:
            c.add(self._task_text(r), ("task", r.id, r.customer_id), None, self._task_tip(r))
        c.set_count(d.counts.get("today", len(d.today)))
        c.finish(d.counts.get("today", len(d.today)))
        c = self.cards["meetings"]
        for m in d.meetings:
            kind = meetings.KIND_LABELS.get(m.kind, "")
            status = "" if m.status == "planned" else f" ({meetings.STATUS_LABELS.get(m.status, '')})"
            c.add(f"{fmt.time(m.start_at)}  {m.subject or kind} — {m.customer_name}{status}",
                  ("meeting", m.id, m.customer_id), None, f"{kind}\n{m.location}".strip())
        c.set_count(len(d.meetings))
        c.finish(len(d.meetings))
        c = self.cards["dates"]
        for item in d.dates:
            phone = f" — {fmt.phone(item.phone)}" if item.phone else ""
            c.add(f"{item.label}{phone}", ("customer", item.customer_id, item.customer_id))
        total = d.counts.get("dates", len(d.dates))
        c.set_count(total)
        c.finish(total, more=("more", "dates"))
        for key, calls, total in (("missed", d.missed_calls, d.counts.get("missed", 0)),
                                  ("unhandled", d.unhandled_calls, d.counts.get("unhandled", 0))):
            c = self.cards[key]
            for call in calls:
                number = fmt.phone(call.number) if call.number else "شماره نامشخص"
                name = call.name or "ناشناس"
                owner = f" — مسئول: {call.user_name}" if call.user_name else ""
                c.add(f"{fmt.datetime(call.started_at)}  {name} — {number}{owner}",
                      ("call", call.id, call.customer_id), RED if key == "missed" else None)
            c.set_count(total, alert=(key == "missed"))
            c.finish(total)
        from ui.pipeline.dashboard_card import fill_opportunities

        fill_opportunities(self.cards["opportunities"], d.user_id, d.manager, self._opportunities)
        if rows is None:
            self._build_below()
        if self._below_built:
            self._fill_below(d)
        for card in self.cards.values():
            card.show_rows(rows)

    def _count_opportunities(self, d: dash.Dashboard) -> None:
        """The opportunities card's lists cut at their limit: how many deals there are in all is read on a worker,
        once the rows are in (it walks the office's open deals), and shown when it comes."""
        from ui.pipeline import dashboard_card as opp

        self._count_when_shown = None
        if self._opportunities is None or not opp.is_cut(self._opportunities) or self.data is not d:
            return
        if not self.isVisible():
            self._count_when_shown = d          # a page left by now counts when it is chosen again, not before
            return
        from ui.ops import QueryOp

        generation = self._generation

        def done(total: int) -> None:
            if generation == self._generation and self.data is d:
                self.cards["opportunities"].set_total(total, more=opp.MORE)

        QueryOp(self, lambda _ctl: opp.count_opportunities(d.user_id, d.manager), done,
                name="dashboard-opportunities").failure(
            lambda exc: logger.error("dashboard opportunities count failed: %s", exc)).run()

    def _fill_below(self, d: dash.Dashboard) -> None:
        """Fill the part below the first screen (its cards' rows are made by show_rows); with data read without it
        (`d.below` False), only whether the colleagues' counts are shown: the rest follows its own read."""
        self.team.setVisible(d.manager)
        if not d.below:
            from ui.money import cards as money_cards

            self.forecast.setVisible(False)
            for key, title, _empty in money_cards.SECTIONS:      # read again: no figures of the last reading
                self.cards[key].title.setText(title)
                self.cards[key].count.setText("…")
            return
        if d.money is not None:
            from ui.money import cards as money_cards

            money_cards.fill(self.cards, self.forecast_table, d.money)
        self.forecast.setVisible(d.money is not None)
        self.team_table.setRowCount(len(d.per_user))
        for i, row in enumerate(d.per_user):
            cells = [row["name"], fmt.num(row["open"]), fmt.num(row["overdue"]), fmt.num(row["today"])]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(ROLE, row["user_id"])
                if j == 2 and row["overdue"]:
                    item.setForeground(QBrush(RED))
                self.team_table.setItem(i, j, item)

    @staticmethod
    def _task_text(r: ts.TaskRow, with_date: bool = False) -> str:
        if r.due_at is None:
            when = ""
        elif with_date:
            when = fmt.date(r.due_at) if r.all_day else fmt.datetime(r.due_at)
        else:
            when = "در طول روز" if r.all_day else fmt.time(r.due_at)
        customer = f" — {r.customer_name}" if r.customer_name and r.customer_name not in r.title else ""
        prio = " (فوری)" if r.priority >= 3 else ""
        return f"{when}  {r.title}{customer}{prio}"

    @staticmethod
    def _task_tip(r: ts.TaskRow) -> str:
        parts = [f"مسئول: {r.assignee_name or '—'}", f"اولویت: {ts.PRIORITY_LABELS.get(r.priority, '')}"]
        if r.referred_by:
            parts.append(f"ارجاع از {r.referred_by} ({fmt.datetime(r.referred_at)})"
                         + (f": {r.referral_note}" if r.referral_note else ""))
        return "\n".join(parts)

    # --- actions -----------------------------------------------------------------------------------------
    def _activate(self, item: QListWidgetItem) -> None:
        payload = item.data(ROLE)
        if not payload:
            return
        self.open_payload(payload)

    def open_payload(self, payload: tuple) -> None:
        kind = payload[0]
        from ui.money import cards as money_cards

        if money_cards.open_payload(self, payload):
            return
        if kind == "task":
            from ui.tasks.task_dialog import open_task_dialog

            open_task_dialog(self.ctx, payload[1], parent=self)
        elif kind == "call":
            self.ctx.bus.log_call.emit(payload[2] or 0, payload[1])
        elif kind == "meeting":
            from ui.tasks.meeting_dialog import MeetingDialog

            dlg = MeetingDialog(self.ctx, payload[1], parent=self)
            dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dlg.show()
        elif kind == "customer":
            self.ctx.bus.open_customer.emit(payload[1])
        elif kind == "opportunity":
            from ui.pipeline.dialog import open_opportunity

            open_opportunity(self.ctx, payload[1], None, self)
        elif kind == "more" and payload[1:] == ("dates",):
            self.show_dates()
        elif kind == "more" and payload[1:] == ("pipeline",):
            self.ctx.bus.show_section.emit("pipeline")
        elif kind == "more":
            self._show_tasks()

    def _menu(self, card: Card, pos) -> None:
        item = card.list.itemAt(pos)
        payload = item.data(ROLE) if item else None
        if not payload or payload[0] == "more":
            return
        menu = QMenu(self)
        menu.addAction("باز کردن", lambda: self.open_payload(payload))
        if len(payload) > 2 and payload[2]:
            menu.addAction("پرونده مشتری", lambda: self.ctx.bus.open_customer.emit(payload[2]))
        if payload[0] == "call":
            menu.addAction("رسیدگی شد", lambda: self._mark_handled(payload[1]))
        if payload[0] == "task":
            menu.addAction("انجام شد", lambda: self._done(payload[1]))
        menu.popup(card.list.viewport().mapToGlobal(pos))

    def _mark_handled(self, call_id: int) -> None:
        """«رسیدگی شد»: the same service as the calls page's button (who handled it is recorded)."""
        try:
            call_log.mark_handled(call_id, user=self.ctx.user_id)
        except UserError as e:
            QMessageBox.warning(self, "رسیدگی به تماس", e.message)
            return
        self.ctx.bus.data_changed.emit("calls")

    def _done(self, task_id: int) -> None:
        ts.set_done(task_id, True, user=self.ctx.user_id)
        self.ctx.bus.data_changed.emit("tasks")

    def _tasks_page(self):
        mw = self.ctx.main_window
        if mw is not None and hasattr(mw, "page"):
            return mw.page("tasks")
        return None

    def show_dates(self):
        """Every birthday and anniversary of the day the page shows (the card holds the first ones)."""
        from ui.dashboard.dates_dialog import DatesDialog

        if self.data is None:
            return None
        dlg = DatesDialog(self.ctx, self.data.at.date(), parent=self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        return dlg

    def _show_tasks(self) -> None:
        self.ctx.bus.show_section.emit("tasks")

    def show_calls_today(self) -> None:
        page = self._tasks_page()
        if page is not None and hasattr(page, "show_calls_today"):
            page.show_calls_today()
        self.ctx.bus.show_section.emit("tasks")

    def _open_colleague(self, row: int, _col: int) -> None:
        item = self.team_table.item(row, 0)
        page = self._tasks_page()
        if item is not None and page is not None and hasattr(page, "show_user"):
            page.show_user(item.data(ROLE))
            self.ctx.bus.show_section.emit("tasks")

    def new_task(self) -> None:
        from ui.tasks.task_dialog import open_task_dialog

        open_task_dialog(self.ctx, None, parent=self)

    def new_meeting(self) -> None:
        from ui.tasks.meeting_dialog import MeetingDialog

        dlg = MeetingDialog(self.ctx, parent=self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()

    # for tests and the bench
    def texts(self, key: str) -> list[str]:
        self._show_rest()
        lst = self.cards[key].list
        return [lst.item(i).text() for i in range(lst.count())]
