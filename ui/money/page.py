"""«مطالبات و چک‌ها»: the collection list a rep works through (call in one click, log the result, set the next
follow-up), every cheque received and issued (with «ثبت چک پرداختی»), and the Jalali-month cash forecast.

A manager (or a desk with nobody signed in) sees the office's money; anyone else their own customers'.

Each tab reads its rows on a reader thread (ui.ops.LatestRead): at a million customers a tab's read takes a
fifth of a second, and the page stays usable meanwhile, showing the rows it read last; only the latest choice
(a view, a scope, a tick) is drawn. ``MoneyPage.reading`` is true until every read asked for is
drawn."""
from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.core.clock import today
from app.core.errors import UserError
from app.money import cheques, collection, forecast
from app.sales.payments import set_cheque_state
from app.tasks import service as ts
from ui.context import AppContext
from ui.ops import LatestRead, error_text
from ui.widgets.rows_table import RowsModel, rows_table, select_row, selected_row
from ui.widgets.tabs import ReadWhenChosen
from ui.widgets.timers import shown_debounce

logger = logging.getLogger(__name__)

RED = QColor("#b91c1c")
MUTED = QColor("#6b7280")
GREEN = QColor("#15803d")


def _when(d) -> str:
    return fmt.datetime(d) if d is not None and (d.hour or d.minute) else fmt.date(d)


class _Tab(QWidget):
    """What the three tabs share: their read on a reader thread, drawn only when it is the latest asked for."""

    def __init__(self, ctx: AppContext, owner: MoneyPage, name: str, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.owner = owner
        self.reads = LatestRead(self, name)

    @property
    def reading(self) -> bool:
        return self.reads.busy

    def _read(self, fn, draw) -> None:
        def drawn(got) -> None:
            draw(got)
            self.owner.drawn.emit()

        self.reads.read(fn, drawn, self._failed)

    def _failed(self, exc: BaseException) -> None:
        self._say(error_text(exc))             # (the read's own log has the details)
        self.owner.tab_failed(self)

    def _say(self, text: str) -> None:
        raise NotImplementedError


class CollectionTab(_Tab):
    """پیگیری مطالبات: one row per customer to chase, the ones due now first."""

    def __init__(self, ctx: AppContext, owner: MoneyPage, parent=None):
        super().__init__(ctx, owner, "money page: collection", parent)
        self._wanted: int | None = None        # a customer to select once the list is read (the dashboard's card)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.due_only = QCheckBox("فقط پیگیری‌های امروز")
        self.due_only.setChecked(True)
        self.due_only.toggled.connect(lambda _on: self.refresh())
        self.summary = QLabel()
        self.summary.setProperty("role", "muted")
        bar.addWidget(self.due_only)
        bar.addStretch(1)
        bar.addWidget(self.summary)
        lay.addLayout(bar)
        self.model = RowsModel([
            ("مشتری", lambda r: r.name, None),
            ("تلفن", lambda r: fmt.phone(r.phone) if r.phone else "—", None),
            ("مبلغ معوق", lambda r: fmt.num(r.overdue_amount) if r.overdue_amount else "",
             lambda r: RED if r.overdue_amount else None),
            ("دیرکرد", lambda r: fmt.count(r.days_late, "روز") if r.overdue_count else "",
             lambda r: RED if r.days_late > 30 else None),
            ("چک برگشتی", lambda r: fmt.num(r.bounced_amount) if r.bounced_amount else "",
             lambda r: RED if r.bounced_amount else None),
            ("آخرین تماس", lambda r: fmt.date(r.last_contact) if r.last_contact else "—", None),
            ("پیگیری بعدی", lambda r: _when(r.next_follow_up) if r.next_follow_up else "—",
             lambda r: None if r.due_now else MUTED),
            ("مسئول", lambda r: r.assigned_name or "—", None),
        ], numeric=(2, 4))
        self.view = rows_table(self.model, 0)
        self.view.doubleClicked.connect(lambda _i: self.log_result())
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        lay.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.call_btn = QPushButton("تماس")
        self.call_btn.setToolTip("شماره‌گیری با مودم و باز کردن فرم ثبت نتیجه (F5)")
        self.log_btn = QPushButton("ثبت نتیجه تماس")
        self.follow_btn = QPushButton("پیگیری بعدی…")
        self.pay_btn = QPushButton("دریافت وجه")
        self.file_btn = QPushButton("پرونده مشتری")
        for b, fn in ((self.call_btn, self.call), (self.log_btn, self.log_result), (self.follow_btn, self.follow_up),
                      (self.pay_btn, self.payments), (self.file_btn, self.open_file)):
            b.clicked.connect(fn)
            row.addWidget(b)
        row.addStretch(1)
        self.dial_note = QLabel()
        self.dial_note.setProperty("role", "muted")
        row.addWidget(self.dial_note)
        lay.addLayout(row)
        QShortcut(QKeySequence("F5"), self, activated=self.call)
        self._update_buttons()

    LIMIT = 1000            # rows read and listed, the most urgent first; the figures cover the whole list

    def refresh(self) -> None:
        on, who, due_only, limit = today(), self.owner.scope_user(), self.due_only.isChecked(), self.LIMIT
        self._read(lambda: collection.collection_page(on, who, due_only=due_only, limit=limit), self._draw)

    def _say(self, text: str) -> None:
        self.summary.setText(text)

    def _draw(self, got) -> None:
        rows, figures = got
        keep = self.selected()
        self.model.set_rows(rows)
        text = f"{fmt.count(figures.due, 'پیگیری امروز')} — جمع معوق {fmt.money(figures.overdue_total)}"
        if len(rows) < figures.count:
            text += f" — {fmt.num(len(rows))} مشتری نخست از {fmt.count(figures.count, 'مشتری')} نمایش داده می‌شود"
        self.summary.setText(text)
        if rows:
            i = next((k for k, r in enumerate(rows) if keep and r.customer_id == keep.customer_id), 0)
            select_row(self.view, i)
        self._update_buttons()
        self._select_wanted()

    def selected(self) -> collection.CollectionRow | None:
        return self.model.row(selected_row(self.view))

    def find_customer(self, customer_id: int) -> None:
        """Select this customer's row, now or once the list being read is drawn; a customer with no follow-up
        today is found in the whole list («فقط پیگیری‌های امروز» unticked)."""
        self._wanted = customer_id
        if not self.reading:
            self._select_wanted()

    def _select_wanted(self) -> None:
        cid = self._wanted
        if cid is None:
            return
        if self.select_customer(cid) or not self.due_only.isChecked():
            self._wanted = None
        else:
            self.due_only.setChecked(False)         # read again: the customer is selected when it is drawn

    def select_customer(self, customer_id: int) -> bool:
        for i, r in enumerate(self.model.rows):
            if r.customer_id == customer_id:
                select_row(self.view, i)
                return True
        return False

    def _update_buttons(self) -> None:
        r = self.selected()
        for b in (self.log_btn, self.follow_btn, self.pay_btn, self.file_btn):
            b.setEnabled(r is not None)
        self.call_btn.setEnabled(r is not None and bool(r.phone))

    # --- actions -----------------------------------------------------------------------------------------
    def call(self):
        """One click: dial the customer through the modem (when there is one) and open the result form."""
        r = self.selected()
        if r is None or not r.phone:
            return None
        from ui.calls.dialing import start_dial

        reason = start_dial(self.ctx, r.phone)
        self.dial_note.setText(f"شماره را با تلفن بگیرید: {fmt.phone(r.phone)} ({reason})" if reason
                               else f"در حال شماره‌گیری {fmt.phone(r.phone)}…")
        return self.log_result()

    def log_result(self):
        r = self.selected()
        if r is None:
            return None
        from ui.money.dialogs import CollectionCallDialog

        dlg = CollectionCallDialog(self.ctx, r, parent=self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(self.refresh)
        dlg.show()
        return dlg

    def follow_up(self):
        r = self.selected()
        if r is None:
            return None
        from ui.money.dialogs import FollowUpDialog

        dlg = FollowUpDialog(self.ctx, r, parent=self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(self.refresh)
        dlg.show()
        return dlg

    def payments(self):
        r = self.selected()
        if r is None:
            return None
        from ui.sales.payments_dialog import PaymentsDialog

        dlg = PaymentsDialog(self.ctx, r.customer_id, parent=self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.finished.connect(lambda _r: self.owner.refresh())
        dlg.show()
        return dlg

    def open_file(self) -> None:
        r = self.selected()
        if r is not None:
            self.ctx.bus.open_customer.emit(r.customer_id)


class ChequesTab(_Tab):
    """Every cheque, received and issued; «ثبت چک پرداختی» and the state changes."""

    VIEWS = (("week", "سررسید این هفته"), ("pending", "در انتظار سررسید"), ("bounced", "برگشتی"),
             ("out", "همه چک‌های پرداختی"), ("in", "همه چک‌های دریافتی"))

    def __init__(self, ctx: AppContext, owner: MoneyPage, parent=None):
        super().__init__(ctx, owner, "money page: cheques", parent)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.view_choice = QComboBox()
        for key, label in self.VIEWS:
            self.view_choice.addItem(label, key)
        self.view_choice.currentIndexChanged.connect(lambda _i: self.refresh())
        self.summary = QLabel()
        self.summary.setProperty("role", "muted")
        self.new_btn = QPushButton("ثبت چک پرداختی")
        self.new_btn.clicked.connect(self.new_cheque)
        bar.addWidget(QLabel("نمایش"))
        bar.addWidget(self.view_choice)
        bar.addStretch(1)
        bar.addWidget(self.summary)
        bar.addWidget(self.new_btn)
        lay.addLayout(bar)
        on = today

        self.model = RowsModel([
            ("نوع", lambda c: cheques.DIRECTION_LABELS[c.direction],
             lambda c: RED if c.direction == "out" else GREEN),
            ("شماره چک", lambda c: fmt.digits(c.number), None),
            ("بانک", lambda c: c.bank, None),
            ("مبلغ (ریال)", lambda c: fmt.num(c.amount), None),
            ("سررسید", lambda c: fmt.date(c.due), lambda c: RED if c.state == "pending" and c.due < on() else None),
            ("روز مانده", lambda c: fmt.num(c.days_to(on())) if c.state == "pending" else "", None),
            ("طرف حساب", lambda c: c.party, None),
            ("وضعیت", lambda c: c.state_label, lambda c: RED if c.state == "bounced" else None),
        ], numeric=(3, 5))
        self.view = rows_table(self.model, 6)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        lay.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.cleared_btn = QPushButton("وصول / پاس شد")
        self.bounced_btn = QPushButton("برگشت خورد")
        self.cancel_btn = QPushButton("ابطال چک پرداختی")
        self.cleared_btn.clicked.connect(lambda: self.set_state("cleared"))
        self.bounced_btn.clicked.connect(lambda: self.set_state("bounced"))
        self.cancel_btn.clicked.connect(lambda: self.set_state("cancelled"))
        for b in (self.cleared_btn, self.bounced_btn, self.cancel_btn):
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        self._update_buttons()

    LIMIT = 2000            # rows read and listed; the figures cover the whole list

    def refresh(self) -> None:
        who = self.owner.scope_user()
        issued = self.owner.manager          # (the page shows new_btn to a manager)
        key = self.view_choice.currentData()
        n = self.LIMIT
        on = today()

        def read() -> cheques.ChequeSummary:
            # each list's first LIMIT rows, read so, and its figures summed by the database over all of it
            if key == "week":
                return cheques.week_summary(on, who, issued, limit=n)
            if key == "pending":
                return cheques.due_summary(on + dt.timedelta(days=3650), None, who, issued, limit=n)
            if key == "bounced":
                return cheques.bounced_summary(who, issued, limit=n)
            if key == "out":
                return cheques.issued_summary(None, n) if issued else cheques.ChequeSummary([])
            return cheques.received_summary(None, who, n)

        self._read(read, self._draw)

    def _say(self, text: str) -> None:
        self.summary.setText(text)

    def _draw(self, got: cheques.ChequeSummary) -> None:
        self.model.set_rows(got.rows)
        text = f"{fmt.count(got.count, 'چک')} — دریافتی {fmt.money(got.received)}، پرداختی {fmt.money(got.issued)}"
        if len(got.rows) < got.count:
            text += f" — {fmt.num(len(got.rows))} چک نخست نمایش داده می‌شود"
        self.summary.setText(text)
        self._update_buttons()

    def selected(self) -> cheques.ChequeRow | None:
        return self.model.row(selected_row(self.view))

    def _update_buttons(self) -> None:
        c = self.selected()
        self.cleared_btn.setEnabled(c is not None and c.state in ("pending", "bounced"))
        self.bounced_btn.setEnabled(c is not None and c.state in ("pending", "cleared"))
        self.cancel_btn.setEnabled(c is not None and c.direction == "out" and c.state != "cancelled")

    def set_state(self, state: str) -> bool:
        c = self.selected()
        if c is None:
            return False
        try:
            if c.direction == "in":
                set_cheque_state(c.id, state, user=self.ctx.user_id)
            else:
                cheques.set_issued_state(c.id, state, user=self.ctx.user_id)
        except UserError as e:
            QMessageBox.warning(self, "انجام نشد", e.message)
            return False
        self.ctx.bus.data_changed.emit("payments")
        self.owner.refresh()
        return True

    def new_cheque(self):
        from ui.money.dialogs import IssuedChequeDialog

        dlg = IssuedChequeDialog(self.ctx, parent=self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(self.owner.refresh)
        dlg.show()
        return dlg


class ForecastTab(_Tab):
    """پیش‌بینی نقدینگی: money in and out per Jalali month."""

    def __init__(self, ctx: AppContext, owner: MoneyPage, parent=None):
        super().__init__(ctx, owner, "money page: forecast", parent)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.months = QComboBox()
        for n in (3, 6, 12):
            self.months.addItem(fmt.count(n, "ماه"), n)
        self.months.setCurrentIndex(1)
        self.months.currentIndexChanged.connect(lambda _i: self.refresh())
        bar.addWidget(QLabel("افق پیش‌بینی"))
        bar.addWidget(self.months)
        bar.addStretch(1)
        self.status = QLabel()
        self.status.setProperty("role", "muted")
        bar.addWidget(self.status)
        lay.addLayout(bar)
        self.table = forecast_table()
        lay.addWidget(self.table, 1)
        note = QLabel("مانده فاکتورها بر پایه سررسید پرداخت، و چک‌ها بر پایه سررسید چک؛ چک برگشتی به حساب "
                      "نمی‌آید و مانده فاکتورش دوباره شمرده می‌شود.")
        note.setWordWrap(True)
        note.setProperty("role", "muted")
        lay.addWidget(note)

    def refresh(self) -> None:
        on, months, who, manager = today(), self.months.currentData(), self.owner.scope_user(), self.owner.manager
        self._read(lambda: forecast.cash_forecast(on, months, who, manager), self._draw)

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def _draw(self, rows: list[forecast.ForecastMonth]) -> None:
        self.status.setText("")
        fill_forecast(self.table, rows)


def _amount(v: int) -> str:
    return fmt.num(v) if v else "—"


FORECAST_COLUMNS = [
    ("ماه", lambda r: r[0], None),
    ("مانده فاکتورها", lambda r: _amount(r[1]), None),
    ("چک‌های دریافتی", lambda r: _amount(r[2]), None),
    ("چک‌های پرداختی", lambda r: _amount(r[3]), None),
    ("خالص", lambda r: _amount(r[4]), lambda r: RED if r[4] < 0 else None),
]


def forecast_table() -> QTableView:
    """The forecast's table (the page's tab and the dashboard's card): a RowsModel like the page's other tables."""
    v = rows_table(RowsModel(FORECAST_COLUMNS, numeric=(1, 2, 3, 4)), 0)
    v.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    v.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return v


def fill_forecast(table: QTableView, rows: list[forecast.ForecastMonth]) -> None:
    """The forecast rows, and a total row."""
    totals = [sum(r.invoices for r in rows), sum(r.cheques_in for r in rows), sum(r.cheques_out for r in rows)]
    body = [(r.label, r.invoices, r.cheques_in, r.cheques_out, r.net) for r in rows]
    body.append(("جمع", *totals, totals[0] + totals[1] - totals[2]))
    model = table.model()
    assert isinstance(model, RowsModel)
    model.set_rows(body)


class MoneyPage(QWidget):
    drawn = Signal()            # a tab's latest read is drawn

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.manager = True
        self._dirty = True
        lay = QVBoxLayout(self)
        head = QHBoxLayout()
        self.title = QLabel("مطالبات و چک‌ها")
        self.title.setProperty("role", "title")
        head.addWidget(self.title)
        head.addStretch(1)
        self.scope = QComboBox()
        self.scope.addItem("همه مشتریان دفتر", "all")
        self.scope.addItem("مشتریان من", "mine")
        self.scope.currentIndexChanged.connect(lambda _i: self.refresh())
        head.addWidget(self.scope)
        lay.addLayout(head)
        self.tabs = QTabWidget()
        self.collection = CollectionTab(ctx, self)
        self.cheques = ChequesTab(ctx, self)
        self.forecast = ForecastTab(ctx, self)
        self.tabs.addTab(self.collection, "پیگیری مطالبات")
        self.tabs.addTab(self.cheques, "چک‌ها")
        self.tabs.addTab(self.forecast, "پیش‌بینی نقدینگی")
        lay.addWidget(self.tabs, 1)
        self._read_when_chosen = ReadWhenChosen(self.tabs)
        self._debounce = shown_debounce(self, 250, self.refresh, self._mark_dirty)
        ctx.bus.data_changed.connect(self._changed)
        self.refresh()

    def scope_user(self) -> int | None:
        """Whose customers: a rep always their own; a manager the office's unless «مشتریان من»."""
        if not self.manager:
            return self.ctx.user_id
        return self.ctx.user_id if self.scope.currentData() == "mine" and self.ctx.user_id else None

    def _mark_dirty(self) -> None:
        self._dirty = True

    def _changed(self, what: str = "") -> None:
        if what not in ("", "invoices", "payments", "calls", "tasks", "customers"):
            return
        if self.isVisible():
            self._debounce.start()
        else:
            self._dirty = True

    def showEvent(self, e) -> None:
        super().showEvent(e)
        if self._dirty:
            self.refresh()

    @property
    def reading(self) -> bool:
        """A tab's read is under way or waiting (the tests and the bench wait on it)."""
        return any(t.reading for t in self._tabs())

    def _tabs(self) -> list[_Tab]:
        return [self.collection, self.cheques, self.forecast]

    def refresh(self) -> None:
        """The tab on screen, read now (on a reader thread); the others when they are chosen (at a million
        customers each tab reads for a fifth of a second, and the page opens on one)."""
        self.manager = ts.is_manager(self.ctx.user_id) or not self.ctx.user_id
        self.scope.setVisible(self.manager and bool(self.ctx.user_id))
        self.cheques.new_btn.setVisible(self.manager)          # the office's own cheques: a manager's
        self._dirty = False
        self._read_when_chosen.mark(self._tabs())

    def tab_failed(self, tab: _Tab) -> None:
        """A tab's read failed (its figures line says so): read again when the page or the tab is shown next."""
        self._dirty = True
        if tab is not self.tabs.currentWidget():
            self._read_when_chosen.mark([tab])

    def show_collection(self, customer_id: int | None = None) -> None:
        self.tabs.setCurrentWidget(self.collection)
        if customer_id:
            self.collection.find_customer(customer_id)

    def show_cheques(self, view: str = "week") -> None:
        self.tabs.setCurrentWidget(self.cheques)
        i = self.cheques.view_choice.findData(view)
        if i >= 0:
            self.cheques.view_choice.setCurrentIndex(i)
