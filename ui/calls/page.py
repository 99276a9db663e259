"""Calls: the call log with filters, and the missed calls nobody has called back yet (one click to call back).

Rows are read lazily: the filter gives the ids (newest first), the columns of 100 rows are read when the view
first paints them. The page refreshes when the bus says "calls" changed (the caller-ID controller does).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.callerid import events as ev
from app.callerid import service as svc
from app.callerid import settings_keys as sk
from app.calls import log as call_log
from app.core import clock
from app.core.errors import UserError
from app.customers.summary import persian_digits_in_text
from ui.context import AppContext
from ui.widgets.jalali_date_edit import JalaliDateEdit
from ui.widgets.timers import shown_debounce

logger = logging.getLogger(__name__)

PAGE = 100
MAX_IDS = 50_000
MAX_PAGES = 50

COLUMNS = [
    ("started_at", "تاریخ و ساعت"),
    ("direction", "جهت"),
    ("state", "وضعیت"),
    ("who", "مشتری / تماس‌گیرنده"),
    ("number", "شماره"),
    ("line", "خط"),
    ("duration", "مدت"),
    ("note", "یادداشت"),
    ("handled", "پیگیری"),
]

STATE_COLOURS = {"missed": "#dc2626", "answered": "#16a34a", "ringing": "#2563eb"}


def _ltr(s: str) -> str:
    return f"\u2066{s}\u2069"


class CallTableModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.filter = call_log.CallFilter()
        self.ids: list[int] = []
        self.truncated = False
        self._pages: OrderedDict[int, dict[int, call_log.CallRow]] = OrderedDict()
        self.queries = 0

    def search(self, f: call_log.CallFilter | None = None) -> None:
        if f is not None:
            self.filter = f
        self.beginResetModel()
        ids = call_log.list_call_ids(self.filter, limit=MAX_IDS + 1)
        self.truncated = len(ids) > MAX_IDS
        self.ids = ids[:MAX_IDS]
        self._pages.clear()
        self.endResetModel()

    def call_id(self, row: int) -> int | None:
        return self.ids[row] if 0 <= row < len(self.ids) else None

    def row_data(self, row: int) -> call_log.CallRow | None:
        if not 0 <= row < len(self.ids):
            return None
        page = row // PAGE
        rows = self._pages.get(page)
        if rows is None:
            ids = self.ids[page * PAGE:(page + 1) * PAGE]
            rows = call_log.fetch_call_rows(ids)
            self.queries += 1
            self._pages[page] = rows
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page)
        return rows.get(self.ids[row])

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(COLUMNS):
            return COLUMNS[section][1]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self.row_data(index.row())
        if r is None:
            return None
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(r, key)
        if role == Qt.ItemDataRole.ForegroundRole and key == "state" and r.state in STATE_COLOURS:
            return QColor(STATE_COLOURS[r.state])
        if role == Qt.ItemDataRole.ToolTipRole and key == "note" and r.note:
            return r.note
        if role == Qt.ItemDataRole.UserRole:
            return r.id
        return None

    @staticmethod
    def _text(r: call_log.CallRow, key: str) -> str:
        if key == "started_at":
            return fmt.datetime(r.started_at)
        if key == "direction":
            return r.direction_label
        if key == "state":
            return r.state_label
        if key == "who":
            return r.who
        if key == "number":
            if r.number_status != ev.OK:
                return call_log.STATUS_LABELS.get(r.number_status, "")
            return _ltr(fmt.digits(r.number_display)) if r.number_display else ""
        if key == "line":
            return r.line_label or (fmt.digits(r.line) if r.line is not None else "")
        if key == "duration":
            return call_log.format_duration(r.duration)
        if key == "note":
            return persian_digits_in_text(r.note.replace("\n", " ")[:80])
        if key == "handled":
            if r.state == "missed":
                return "پیگیری شد" if r.handled else "پیگیری نشده"
            return "✓" if r.handled else ""
        return ""


class _CallList(QWidget):
    """A filterable table of calls with the actions of the selected call (shared by both tabs)."""

    def __init__(self, ctx: AppContext, missed_only: bool, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.missed_only = missed_only
        self.customer_id: int | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 6, 0, 0)
        bar = QHBoxLayout()
        self.date_from = JalaliDateEdit()
        self.date_to = JalaliDateEdit()
        self.direction = QComboBox()
        self.state = QComboBox()
        self.line = QComboBox()
        self.unhandled = QCheckBox("فقط پیگیری‌نشده‌ها")
        self.number = QLineEdit()
        self.number.setPlaceholderText("جستجوی شماره…")
        self.number.setClearButtonEnabled(True)
        self.customer_chip = QPushButton()
        self.customer_chip.setToolTip("برداشتن این فیلتر")
        self.customer_chip.hide()
        self.customer_chip.clicked.connect(lambda: self.show_customer(None))
        if not missed_only:
            self.direction.addItem("همه جهت‌ها", "")
            self.direction.addItem("ورودی", "in")
            self.direction.addItem("خروجی", "out")
            self.state.addItem("همه وضعیت‌ها", "")
            for key in ("answered", "missed", "ended", "ringing"):
                self.state.addItem(call_log.STATE_LABELS[key], key)
            self.line.addItem("همه خطوط", None)
            labels = sk.line_labels()
            count = max([int(_lines_setting())] + list(labels))
            for n in range(1, count + 1):
                self.line.addItem(sk.line_label(n), n)
            bar.addWidget(QLabel("از"))
            bar.addWidget(self.date_from)
            bar.addWidget(QLabel("تا"))
            bar.addWidget(self.date_to)
            for w in (self.direction, self.state, self.line, self.unhandled):
                bar.addWidget(w)
            today = clock.today()
            self.date_from.setDate(today - dt.timedelta(days=30))
        else:
            # the missed calls' list has none of these filters (current_filter() still reads them): kept as hidden
            # children, so they go with the list (a widget with no parent would outlive it, and keep it)
            for w in (self.date_from, self.date_to, self.direction, self.state, self.line, self.unhandled):
                w.setParent(self)
                w.hide()
        bar.addWidget(self.number, 1)
        bar.addWidget(self.customer_chip)
        lay.addLayout(bar)

        self.model = CallTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(28)
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(False)
        for i, w in enumerate((130, 60, 150, 190, 130, 100, 60, 220, 90)):
            self.view.setColumnWidth(i, w)
        hh.setSectionResizeMode(7, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.view, 1)

        actions = QHBoxLayout()
        self.count_label = QLabel()
        self.count_label.setProperty("role", "muted")
        self.callback_btn = QPushButton("تماس دوباره")
        self.callback_btn.setToolTip("شماره‌گیری با مودم (اگر ممکن باشد) و ثبت تماس خروجی")
        self.handled_btn = QPushButton("پیگیری شد")
        self.note_btn = QPushButton("یادداشت تماس")
        self.open_btn = QPushButton("پرونده مشتری")
        self.new_btn = QPushButton("مشتری جدید با این شماره")
        self.sms_btn = QPushButton("پیامک")
        self.sms_btn.setToolTip("فرستادن پیامک به این شماره (مثلاً «تماس شما را از دست دادیم»)")
        self.service_btn = QPushButton("درخواست خدمت")
        self.service_btn.setToolTip("ثبت درخواست خدمت از این تماس (مشتری و زمان تماس پر می‌شوند)")
        actions.addWidget(self.count_label, 1)
        for b in (self.callback_btn, self.sms_btn, self.handled_btn, self.note_btn, self.service_btn, self.open_btn,
                  self.new_btn):
            actions.addWidget(b)
        lay.addLayout(actions)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self.refresh)
        self.number.textChanged.connect(lambda _t: self._timer.start())
        if not missed_only:
            for combo in (self.direction, self.state, self.line):
                combo.currentIndexChanged.connect(lambda _i: self.refresh())
            self.unhandled.toggled.connect(lambda _b: self.refresh())
            self.date_from.dateChanged.connect(lambda _d: self.refresh())
            self.date_to.dateChanged.connect(lambda _d: self.refresh())
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.view.doubleClicked.connect(lambda _i: self.open_customer())
        self.callback_btn.clicked.connect(self.call_back)
        self.handled_btn.clicked.connect(self.mark_handled)
        self.note_btn.clicked.connect(self.write_note)
        self.open_btn.clicked.connect(self.open_customer)
        self.new_btn.clicked.connect(self.new_customer)
        self.sms_btn.clicked.connect(self.send_sms)
        self.service_btn.clicked.connect(self.new_service_request)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._row_menu)
        self.refresh()

    # --- filter ----------------------------------------------------------------------------------------------

    def current_filter(self) -> call_log.CallFilter:
        if self.missed_only:
            return call_log.CallFilter(state="missed", unhandled=True, number=self.number.text(),
                                  customer_id=self.customer_id)
        d_from = self.date_from.date() if self.date_from.is_valid() else None
        d_to = self.date_to.date() if self.date_to.is_valid() else None
        return call_log.CallFilter(date_from=d_from, date_to=d_to, direction=self.direction.currentData() or "",
                              state=self.state.currentData() or "", line=self.line.currentData(),
                              unhandled=self.unhandled.isChecked(), number=self.number.text(),
                              customer_id=self.customer_id)

    def show_customer(self, customer_id: int | None, name: str = "") -> None:
        self.customer_id = customer_id
        self.customer_chip.setVisible(bool(customer_id))
        self.customer_chip.setText(f"فقط تماس‌های {name} ✕" if customer_id else "")
        if customer_id and not self.missed_only:
            self.date_from.setDate(None)
        self.refresh()

    def refresh(self) -> None:
        selected = self.selected_id()
        try:
            self.model.search(self.current_filter())
        except UserError as e:
            self.count_label.setText(e.message)
            return
        n = len(self.model.ids)
        text = fmt.count(n, "تماس")
        if self.model.truncated:
            text += " (فقط جدیدترین‌ها؛ بازه تاریخ را کوچک‌تر کنید)"
        self.count_label.setText(text)
        if selected in self.model.ids:
            self.select_row(self.model.ids.index(selected))
        elif n:
            self.select_row(0)
        self._update_buttons()

    def select_row(self, row: int) -> None:
        from PySide6.QtCore import QItemSelectionModel

        idx = self.model.index(row, 0)
        if not idx.isValid():
            return
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.view.selectionModel().setCurrentIndex(idx, flags)

    # --- the selected call -----------------------------------------------------------------------------------

    def selected_id(self) -> int | None:
        idx = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        return self.model.call_id(idx[0].row()) if idx else None

    def selected_row(self) -> call_log.CallRow | None:
        cid = self.selected_id()
        if cid is None:
            return None
        try:
            return call_log.get_call_row(cid)
        except UserError:
            return None

    def _update_buttons(self) -> None:
        r = self.selected_row()
        has = r is not None
        dialable = has and r.number_status == ev.OK and bool(r.number)
        self.callback_btn.setEnabled(dialable)
        self.sms_btn.setEnabled(dialable)
        self.handled_btn.setEnabled(has and not r.handled)
        self.note_btn.setEnabled(has)
        self.service_btn.setEnabled(has)
        self.open_btn.setEnabled(has and bool(r.customer_id))
        self.new_btn.setEnabled(dialable and not r.customer_id)
        self.new_btn.setVisible(not has or not r.customer_id)
        self.open_btn.setVisible(not has or bool(r.customer_id))

    def row_menu(self) -> QMenu:
        """The selected row's menu: the action bar's buttons, as they are enabled now."""
        menu = QMenu(self)
        for b in (self.callback_btn, self.sms_btn, self.handled_btn, self.note_btn, self.service_btn, self.open_btn,
                  self.new_btn):
            if b.isVisible() or b.isVisibleTo(self):
                a = menu.addAction(b.text(), b.click)
                a.setEnabled(b.isEnabled())
        return menu

    def _row_menu(self, pos) -> None:
        idx = self.view.indexAt(pos)
        if not idx.isValid():
            return
        self.select_row(idx.row())
        self.row_menu().exec(self.view.viewport().mapToGlobal(pos))

    def new_service_request(self):
        """«درخواست خدمت» on a call row: the caller's customer, channel «تلفن» and the call's time filled in."""
        cid = self.selected_id()
        if cid is None:
            return None
        from ui.service import open_request_from_call

        return open_request_from_call(self.ctx, cid, self)

    def send_sms(self) -> None:
        r = self.selected_row()
        if r is None or not r.number:
            return
        from ui.sms import send_sms_dialog

        return send_sms_dialog(self, customer_id=r.customer_id or None, number=r.number)

    def call_back(self) -> None:
        r = self.selected_row()
        if r is None or not r.number:
            return
        from ui.calls.dialing import start_dial

        number_text = _ltr(fmt.digits(r.number_display))

        from ui.calls.dialing import uses_pbx

        pbx = uses_pbx(self.ctx)        # the exchange reports the call it dials: no second, typed-in row

        def done(ok: bool, _message: str, number=r.number, customer=r.customer_id) -> None:
            if ok and not pbx:
                self._log_callback(number, customer)

        if start_dial(self.ctx, r.number, done) is None:
            self.ctx.bus.status_message.emit(f"در حال شماره‌گیری {number_text}؛ گوشی را بردارید.")
            return
        box = QMessageBox(self)
        box.setWindowTitle("تماس دوباره")
        box.setText(f"شماره {number_text} را با تلفن بگیرید.")
        box.setInformativeText("پس از تماس، «تماس گرفتم» را بزنید تا در دفتر تماس‌ها ثبت شود.")
        done_btn = box.addButton("تماس گرفتم", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("انصراف", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is done_btn:
            self._log_callback(r.number, r.customer_id)

    def _log_callback(self, number: str, customer_id: int | None) -> None:
        try:
            call_log.log_manual_call(customer_id=customer_id, number=number, direction="out", user=self.ctx.user_id)
        except UserError as e:
            QMessageBox.warning(self, "تماس دوباره", e.message)
            return
        self.ctx.bus.data_changed.emit("calls")

    def mark_handled(self) -> None:
        cid = self.selected_id()
        if cid is None:
            return
        try:
            call_log.mark_handled(cid, user=self.ctx.user_id)
        except UserError as e:
            QMessageBox.warning(self, "پیگیری", e.message)
            return
        self.ctx.bus.data_changed.emit("calls")

    def write_note(self) -> None:
        from ui.calls.popup import CallNoteDialog

        r = self.selected_row()
        if r is None:
            return
        view = _row_view(r)
        dlg = CallNoteDialog(view, self, user=self.ctx.user_id)
        if dlg.exec():
            self.ctx.bus.data_changed.emit("calls")

    def open_customer(self) -> None:
        r = self.selected_row()
        if r is not None and r.customer_id:
            self.ctx.bus.open_customer.emit(r.customer_id)

    def new_customer(self) -> None:
        r = self.selected_row()
        if r is not None and r.number and not r.customer_id:
            self.ctx.bus.new_customer_with_phone.emit(r.number)


def _lines_setting() -> int:
    from app import settings

    try:
        return int(settings.get(sk.LINES))
    except Exception:  # noqa: BLE001
        return 1


def _row_view(r: call_log.CallRow) -> svc.CallView:
    """A CallRow as the view the note dialog takes."""
    return svc.CallView(
        call_id=r.id, key=f"log#{r.id}", line=r.line, line_label=r.line_label, direction=r.direction,
        state=r.state, number_raw=r.number_raw, number=r.number, number_display=r.number_display,
        number_status=r.number_status, caller_name=r.caller_name, customer_id=r.customer_id,
        customer_name=r.customer_name, other_matches=0, started_at=r.started_at, answered_at=None, ended_at=None,
        duration=r.duration, rings=0, final=True, number_known=True, source=r.source)


class CallsPage(QWidget):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        title = QLabel("تماس‌ها")
        title.setProperty("role", "title")
        lay.addWidget(title)
        self.tabs = QTabWidget()
        self.log = _CallList(ctx, missed_only=False)
        self.missed = _CallList(ctx, missed_only=True)
        self.tabs.addTab(self.log, "دفتر تماس‌ها")
        self.tabs.addTab(self.missed, "تماس‌های بی‌پاسخ")
        lay.addWidget(self.tabs, 1)
        self._refresh_timer = shown_debounce(self, 250, self.refresh, self._mark_dirty)
        ctx.bus.data_changed.connect(self._data_changed)
        self._update_missed_title()

    def _mark_dirty(self) -> None:
        self._dirty = True

    def _data_changed(self, what: str) -> None:
        if what in ("calls", "customers"):
            if self.isVisible():
                self._refresh_timer.start()
            else:
                self._dirty = True       # refreshed when shown: no queries on the GUI thread while hidden

    def showEvent(self, event):
        super().showEvent(event)
        if getattr(self, "_dirty", False):
            self._dirty = False
            self.refresh()

    def refresh(self) -> None:
        self.log.refresh()
        self.missed.refresh()
        self._update_missed_title()

    def _update_missed_title(self) -> None:
        n = len(self.missed.model.ids)
        self.tabs.setTabText(1, f"تماس‌های بی‌پاسخ ({fmt.digits(n)})" if n else "تماس‌های بی‌پاسخ")

    def show_missed(self) -> None:
        self.tabs.setCurrentWidget(self.missed)

    def show_customer(self, customer_id: int, name: str = "") -> None:
        """The log filtered to one customer (from the customer file)."""
        self.tabs.setCurrentWidget(self.log)
        self.log.show_customer(customer_id, name)
