"""Settings «خدمات پس از فروش»: the request categories with their targets (SLA), the names of the statuses, the
service team with its hand-over rule, the office hours the targets and KPIs are counted in, and the survey SMS.

Four tabs, each saved with its own button; every value is checked by app/service before anything is stored,
and a refusal is shown in Persian under the tab."""
from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import fmt, options, settings
from app.core import jalali
from app.core.clock import today
from app.core.errors import UserError
from app.service import hours, reassign
from app.service import requests as rq
from app.service.kpi import minutes_text
from ui.context import AppContext
from ui.ops import QueryOp, error_text
from ui.tasks.task_dialog import TimeEdit
from ui.widgets.jalali_date_edit import JalaliDateEdit

logger = logging.getLogger(__name__)

STATUS_HINTS = ("تازه ثبت شده", "کسی روی آن کار می‌کند", "منتظر پاسخ یا کار مشتری", "کار انجام شد",
                "پرونده بسته شد")


class _Message(QLabel):
    """The line under a tab: green «ذخیره شد.» or the service's Persian refusal in red."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)

    def ok(self, text: str = "ذخیره شد.") -> None:
        self.setStyleSheet("color: #15803d;")
        self.setText(text)

    def error(self, text: str) -> None:
        self.setStyleSheet("color: #dc2626;")
        self.setText(text)


class DurationEdit(QWidget):
    """Office time as hours and minutes (a target of 27 hours is three working days of nine)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.hours = QSpinBox()
        self.hours.setRange(0, 2000)
        self.hours.setSuffix(" ساعت")
        self.minutes = QSpinBox()
        self.minutes.setRange(0, 59)
        self.minutes.setSingleStep(5)
        self.minutes.setSuffix(" دقیقه")
        lay.addWidget(self.hours)
        lay.addWidget(self.minutes)
        lay.addStretch(1)

    def value(self) -> int:
        return self.hours.value() * 60 + self.minutes.value()

    def setValue(self, minutes: int) -> None:  # Qt naming
        self.hours.setValue(minutes // 60)
        self.minutes.setValue(minutes % 60)


def _button_row(*buttons: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    for b in buttons:
        row.addWidget(b)
    row.addStretch(1)
    return row


# --- categories, targets and status names -----------------------------------------------------------------------

class CategoriesTab(QWidget):
    COLUMNS = ("دسته", "مهلت نخستین پاسخ", "مهلت انجام", "شکایت", "فعال")

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.current_id: int | None = None
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("مهلت‌ها به ساعت کاری دفتر شمرده می‌شوند (زبانه «ساعت کاری و تعطیلات»). "
                             "موعد هر درخواست تازه از مهلت دسته‌اش به دست می‌آید."))
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(170)
        lay.addWidget(self.table, 1)
        self.new_btn = QPushButton("دسته تازه")
        self.up_btn = QPushButton("بالاتر")
        self.down_btn = QPushButton("پایین‌تر")
        self.delete_btn = QPushButton("حذف دسته")
        lay.addLayout(_button_row(self.new_btn, self.up_btn, self.down_btn, self.delete_btn))

        box = QGroupBox("دسته")
        form = QFormLayout(box)
        self.name = QLineEdit()
        self.name.setMaxLength(80)
        self.response = DurationEdit()
        self.resolve = DurationEdit()
        self.complaint = QCheckBox("این دسته شکایت است (گزارش جدا دارد)")
        self.active = QCheckBox("فعال (در فهرست درخواست تازه می‌آید)")
        self.save_btn = QPushButton("ذخیره دسته")
        form.addRow("نام:", self.name)
        form.addRow("مهلت نخستین پاسخ:", self.response)
        form.addRow("مهلت انجام:", self.resolve)
        form.addRow("", self.complaint)
        form.addRow("", self.active)
        form.addRow("", _button_row(self.save_btn))
        lay.addWidget(box)

        box = QGroupBox("وضعیت‌ها و مهلت درخواست بی‌دسته")
        form = QFormLayout(box)
        self.status_edits: list[QLineEdit] = []
        names = list(rq.status_labels().values())
        row = QHBoxLayout()
        for i, hint in enumerate(STATUS_HINTS):
            e = QLineEdit(names[i])
            e.setToolTip(hint)
            e.setMaxLength(40)
            self.status_edits.append(e)
            row.addWidget(e)
        form.addRow("نام وضعیت‌ها به ترتیب:", row)
        self.default_response = DurationEdit()
        self.default_resolve = DurationEdit()
        form.addRow("نخستین پاسخ:", self.default_response)
        form.addRow("انجام:", self.default_resolve)
        self.save_general_btn = QPushButton("ذخیره وضعیت‌ها و مهلت‌ها")
        form.addRow("", _button_row(self.save_general_btn))
        lay.addWidget(box)
        self.message = _Message()
        lay.addWidget(self.message)

        self.table.itemSelectionChanged.connect(self._on_select)
        self.new_btn.clicked.connect(self.new_category)
        self.up_btn.clicked.connect(lambda: self.move(-1))
        self.down_btn.clicked.connect(lambda: self.move(1))
        self.delete_btn.clicked.connect(self.delete_current)
        self.save_btn.clicked.connect(self.save_category)
        self.save_general_btn.clicked.connect(self.save_general)
        self.load()

    def load(self, select: int | None = None) -> None:
        self.rows = rq.list_categories(active_only=False)
        t = self.table
        t.blockSignals(True)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        t.setRowCount(len(self.rows))
        for i, c in enumerate(self.rows):
            vals = (c.name, minutes_text(c.response_minutes), minutes_text(c.resolve_minutes),
                    "بله" if c.is_complaint else "", "بله" if c.active else "خیر")
            for j, v in enumerate(vals):
                it = QTableWidgetItem(v)
                if j:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if not c.active:
                    it.setForeground(Qt.GlobalColor.gray)
                t.setItem(i, j, it)
        t.resizeColumnsToContents()
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        t.blockSignals(False)
        self.default_response.setValue(int(settings.get(options.SERVICE_DEFAULT_RESPONSE_MINUTES)))
        self.default_resolve.setValue(int(settings.get(options.SERVICE_DEFAULT_RESOLVE_MINUTES)))
        ids = [c.id for c in self.rows]
        target = select if select in ids else (self.current_id if self.current_id in ids else None)
        if target is not None:
            # setCurrentCell, not selectRow: in a right-to-left table selectRow finds no column and selects nothing
            t.setCurrentCell(ids.index(target), 0)
            self._on_select()
        else:
            self.new_category()

    def _on_select(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        c = self.rows[rows[0].row()]
        self.current_id = c.id
        self.name.setText(c.name)
        self.response.setValue(c.response_minutes)
        self.resolve.setValue(c.resolve_minutes)
        self.complaint.setChecked(c.is_complaint)
        self.active.setChecked(c.active)
        self._enable()

    def _enable(self) -> None:
        has = self.current_id is not None
        for b in (self.up_btn, self.down_btn, self.delete_btn):
            b.setEnabled(has)

    def new_category(self) -> None:
        self.table.clearSelection()
        self.current_id = None
        self.name.clear()
        self.response.setValue(int(settings.get(options.SERVICE_DEFAULT_RESPONSE_MINUTES)))
        self.resolve.setValue(int(settings.get(options.SERVICE_DEFAULT_RESOLVE_MINUTES)))
        self.complaint.setChecked(False)
        self.active.setChecked(True)
        self._enable()
        self.name.setFocus()

    def save_category(self) -> bool:
        try:
            c = rq.save_category(self.name.text(), self.response.value(), self.resolve.value(),
                                 self.complaint.isChecked(), category_id=self.current_id,
                                 active=self.active.isChecked())
        except UserError as e:
            self.message.error(e.message)
            return False
        self.current_id = c.id
        self.load(select=c.id)
        self.message.ok(f"دسته «{c.name}» ذخیره شد.")
        self.ctx.bus.data_changed.emit("service")
        return True

    def move(self, step: int) -> None:
        if self.current_id is None:
            return
        rq.move_category(self.current_id, step)
        self.load(select=self.current_id)
        self.ctx.bus.data_changed.emit("service")

    def delete_current(self) -> bool:
        if self.current_id is None:
            return False
        try:
            rq.delete_category(self.current_id)
        except UserError as e:
            self.message.error(e.message)
            return False
        self.current_id = None
        self.load()
        self.message.ok("دسته حذف شد.")
        self.ctx.bus.data_changed.emit("service")
        return True

    def save_general(self) -> bool:
        response, resolve = self.default_response.value(), self.default_resolve.value()
        if not response or not resolve:
            self.message.error("مهلت درخواست بی‌دسته باید بیش از صفر باشد.")
            return False
        try:
            rq.save_status_names([e.text() for e in self.status_edits])
        except UserError as e:
            self.message.error(e.message)
            return False
        settings.set(options.SERVICE_DEFAULT_RESPONSE_MINUTES, response)
        settings.set(options.SERVICE_DEFAULT_RESOLVE_MINUTES, resolve)
        self.message.ok()
        self.ctx.bus.data_changed.emit("service")
        return True


# --- the team and the hand-over rule ----------------------------------------------------------------------------

class TeamTab(QWidget):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.rule = QComboBox()
        for key in reassign.RULES:
            self.rule.addItem(reassign.RULE_LABELS[key], key)
        form.addRow("ارجاع درخواست تازه و خودکار:", self.rule)
        lay.addLayout(form)
        explain = QLabel("درخواستی که تا مهلت نخستین پاسخ بی‌پاسخ بماند، یا از موعد انجامش بگذرد، یک بار به "
                         "همکار آزاد تیم ارجاع می‌شود و در کارتابل او می‌نشیند. «نوبتی»: اعضا به ترتیب همین "
                         "فهرست؛ «کم‌کارترین»: عضوی که کمترین درخواست باز را دارد.")
        explain.setWordWrap(True)
        explain.setProperty("role", "muted")
        lay.addWidget(explain)
        lay.addWidget(QLabel("اعضای تیم خدمات (تیک: درخواست می‌گیرد):"))
        self.list = QListWidget()
        self.list.setMinimumHeight(180)
        lay.addWidget(self.list, 1)
        self.up_btn = QPushButton("بالاتر")
        self.down_btn = QPushButton("پایین‌تر")
        lay.addLayout(_button_row(self.up_btn, self.down_btn))
        self.turn = QLabel()
        self.turn.setProperty("role", "muted")
        lay.addWidget(self.turn)
        self.save_btn = QPushButton("ذخیره")
        self.message = _Message()
        row = _button_row(self.save_btn)
        row.addWidget(self.message, 1)
        lay.addLayout(row)
        self.up_btn.clicked.connect(lambda: self.move(-1))
        self.down_btn.clicked.connect(lambda: self.move(1))
        self.save_btn.clicked.connect(self.save)
        self.rule.currentIndexChanged.connect(self._show_turn)
        self.load()

    def load(self) -> None:
        self.rule.setCurrentIndex(max(0, self.rule.findData(settings.get(options.SERVICE_REASSIGN_RULE))))
        self.list.clear()
        for m in reassign.team_view():
            it = QListWidgetItem(f"{m.name} ({fmt.ltr(m.username)}) — {fmt.num(m.open_requests)} درخواست باز")
            it.setData(Qt.ItemDataRole.UserRole, m.user_id)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Checked if m.in_team else Qt.CheckState.Unchecked)
            self.list.addItem(it)
        self._show_turn()

    def _show_turn(self) -> None:
        if self.rule.currentData() != "round_robin":
            self.turn.setText("")
            return
        nxt = reassign.next_in_turn()
        name = next((self.list.item(i).text().split(" (")[0] for i in range(self.list.count())
                     if self.list.item(i).data(Qt.ItemDataRole.UserRole) == nxt), "")
        self.turn.setText(f"نوبت درخواست بعدی: {name}" if name else "")

    def move(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        it = self.list.takeItem(row)
        self.list.insertItem(target, it)
        self.list.setCurrentRow(target)

    def members(self) -> list[int]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def save(self) -> bool:
        try:
            reassign.save_team(self.members(), self.rule.currentData())
        except UserError as e:
            self.message.error(e.message)
            return False
        self.load()
        self.message.ok()
        self.ctx.bus.data_changed.emit("settings")
        return True


# --- office hours and holidays ----------------------------------------------------------------------------------

def _time_edit(t: dt.time) -> TimeEdit:
    # the tasks' typed time field, not QTimeEdit: in a Persian locale Qt lays a QTimeEdit's sections out
    # backwards («۰۸:۰۰» shows as «۰۰:۰۸»)
    e = TimeEdit()
    e.setPlaceholderText("۰۸:۰۰")
    e.setTime(t)
    return e


def _range_text(start: TimeEdit, end: TimeEdit, label: str) -> str:
    """'08:00-17:00' from two fields; a ValueError with a Persian message when one is empty or wrong."""
    a, b = start.time(), end.time()
    if a is None or b is None:
        raise ValueError(f"ساعت کاری {label}: " + (start.error_text or end.error_text
                                                   or "ساعت آغاز و پایان را بنویسید (مثل ۰۸:۰۰ و ۱۷:۰۰)."))
    if b <= a:
        raise ValueError(f"ساعت کاری {label}: پایان باید پس از آغاز باشد.")
    return hours.range_text((a, b))


class HoursTab(QWidget):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.recomputing = False
        self.op: QueryOp | None = None
        lay = QVBoxLayout(self)
        self.business = QCheckBox("زمان‌های خدمت فقط در ساعت کاری شمرده شود (شب‌ها، جمعه‌ها و تعطیلات بیرون "
                                  "می‌مانند)")
        lay.addWidget(self.business)
        box = QGroupBox("روزهای کاری")
        grid = QFormLayout(box)
        h = hours.office_hours()
        self.week_start, self.week_end = _time_edit(h.weekday[0]), _time_edit(h.weekday[1])
        thu = h.thursday or (dt.time(8), dt.time(13))
        self.thu_on = QCheckBox("پنجشنبه کار می‌کنیم")
        self.thu_start, self.thu_end = _time_edit(thu[0]), _time_edit(thu[1])
        grid.addRow("شنبه تا چهارشنبه:", self._range(self.week_start, self.week_end))
        thu_row = self._range(self.thu_start, self.thu_end)
        thu_row.insertWidget(0, self.thu_on)
        grid.addRow("پنجشنبه:", thu_row)
        grid.addRow("جمعه:", QLabel("تعطیل"))
        lay.addWidget(box)

        box = QGroupBox("تعطیلات")
        hl = QVBoxLayout(box)
        note = QLabel("تعطیلات رسمی خورشیدی هر سال با دکمه زیر افزوده می‌شوند. تعطیلات مذهبی (قمری) هر سال "
                      "جابه‌جا می‌شوند؛ تاریخشان را از تقویم رسمی همان سال بیفزایید.")
        note.setWordWrap(True)
        note.setProperty("role", "muted")
        hl.addWidget(note)
        self.holidays = QListWidget()
        self.holidays.setMinimumHeight(140)
        hl.addWidget(self.holidays, 1)
        self.date = JalaliDateEdit()
        self.add_btn = QPushButton("افزودن روز تعطیل")
        self.remove_btn = QPushButton("حذف")
        year = jalali.to_jalali(today()).year
        self.year = year
        self.fixed_btn = QPushButton(f"تعطیلات رسمی خورشیدی {fmt.digits(year)} و {fmt.digits(year + 1)}")
        row = QHBoxLayout()
        row.addWidget(self.date)
        row.addWidget(self.add_btn)
        row.addWidget(self.remove_btn)
        row.addStretch(1)
        row.addWidget(self.fixed_btn)
        hl.addLayout(row)
        lay.addWidget(box, 1)

        self.example = QLabel()
        self.example.setWordWrap(True)
        lay.addWidget(self.example)
        self.closed_too = QCheckBox("زمان‌ها و تحقق مهلت درخواست‌های انجام‌شده و بسته‌شده هم با این ساعت‌ها "
                                    "دوباره سنجیده شود (گزارش ماه‌های گذشته تغییر می‌کند)")
        lay.addWidget(self.closed_too)
        self.save_btn = QPushButton("ذخیره")
        self.message = _Message()
        row = _button_row(self.save_btn)
        row.addWidget(self.message, 1)
        lay.addLayout(row)

        self.add_btn.clicked.connect(self.add_holiday)
        self.remove_btn.clicked.connect(self.remove_holiday)
        self.fixed_btn.clicked.connect(self.add_fixed)
        self.save_btn.clicked.connect(self.save)
        self.thu_on.toggled.connect(self._thursday_toggled)
        for w in (self.week_start, self.week_end, self.thu_start, self.thu_end):
            w.textChanged.connect(self.update_example)
        self.business.toggled.connect(self.update_example)
        self.load()

    @staticmethod
    def _range(start: TimeEdit, end: TimeEdit) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("از"))
        row.addWidget(start)
        row.addWidget(QLabel("تا"))
        row.addWidget(end)
        row.addStretch(1)
        return row

    def load(self) -> None:
        h = hours.office_hours()
        self.business.setChecked(h.business_hours)
        self.week_start.setTime(h.weekday[0])
        self.week_end.setTime(h.weekday[1])
        self.thu_on.setChecked(h.thursday is not None)
        if h.thursday is not None:
            self.thu_start.setTime(h.thursday[0])
            self.thu_end.setTime(h.thursday[1])
        self._thursday_toggled(h.thursday is not None)
        self.holidays.clear()
        for d in h.holidays:
            self._add_day(d)
        self.update_example()

    def _thursday_toggled(self, on: bool) -> None:
        self.thu_start.setEnabled(on)
        self.thu_end.setEnabled(on)
        self.update_example()

    def _names(self) -> dict[dt.date, str]:
        out: dict[dt.date, str] = {}
        for y in (self.year - 1, self.year, self.year + 1):
            for d, name in hours.fixed_holidays(y):
                out[d] = name
        return out

    def _add_day(self, d: dt.date) -> bool:
        if d in self.days():
            return False
        name = self._names().get(d, "")
        it = QListWidgetItem(f"{jalali.weekday_name(d)} {fmt.date(d)}" + (f" — {name}" if name else ""))
        it.setData(Qt.ItemDataRole.UserRole, d)
        # sorted insert: the list reads as a calendar
        row = next((i for i in range(self.holidays.count())
                    if self.holidays.item(i).data(Qt.ItemDataRole.UserRole) > d), self.holidays.count())
        self.holidays.insertItem(row, it)
        return True

    def days(self) -> list[dt.date]:
        return [self.holidays.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.holidays.count())]

    def add_holiday(self) -> bool:
        if not self.date.is_valid() or self.date.date() is None:
            self.date.show_error(self.date.error() or "تاریخ روز تعطیل را بنویسید.")
            return False
        added = self._add_day(self.date.date())
        self.date.setDate(None)
        self.update_example()
        return added

    def remove_holiday(self) -> None:
        for it in self.holidays.selectedItems():
            self.holidays.takeItem(self.holidays.row(it))
        self.update_example()

    def add_fixed(self) -> int:
        n = sum(self._add_day(d) for y in (self.year, self.year + 1) for d, _name in hours.fixed_holidays(y))
        self.message.ok(f"{fmt.num(n)} روز تعطیل رسمی افزوده شد؛ برای ماندن، ذخیره کنید." if n
                        else "تعطیلات رسمی خورشیدی این دو سال از پیش در فهرست‌اند.")
        self.update_example()
        return n

    def schedule(self) -> hours.Schedule:
        """The schedule on screen, so the example shows what saving would do (ValueError while a time is wrong)."""
        return hours.make_schedule(self._week_text(), self._thu_text(), self.days(), self.business.isChecked())

    def _week_text(self) -> str:
        return _range_text(self.week_start, self.week_end, "شنبه تا چهارشنبه")

    def _thu_text(self) -> str:
        return _range_text(self.thu_start, self.thu_end, "پنجشنبه") if self.thu_on.isChecked() else ""

    def update_example(self) -> None:
        try:
            s = self.schedule()
        except ValueError as e:
            self.example.setStyleSheet("color: #dc2626;")
            self.example.setText(str(e))
            return
        self.example.setStyleSheet("")
        # the coming Wednesday at 16:00 with a two-hour target: where does its due time fall?
        d = today()
        d += dt.timedelta(days=(2 - d.weekday()) % 7)
        received = dt.datetime.combine(d, dt.time(16, 0))
        due = hours.example_due(s, received, 120)
        self.example.setText(f"نمونه: درخواستی که {jalali.weekday_name(received.date())} {fmt.datetime(received)} "
                             f"برسد، با مهلت ۲ ساعت کاری، موعدش {jalali.weekday_name(due.date())} "
                             f"{fmt.datetime(due)} است.")

    def save(self) -> bool:
        try:
            hours.save_office_hours(self.business.isChecked(), self._week_text(), self._thu_text(), self.days())
        except ValueError as e:
            self.message.error(str(e))
            return False
        except UserError as e:
            self.message.error(e.message)
            return False
        self.load()
        self.message.ok("ذخیره شد. موعد درخواست‌های باز با این ساعت‌ها دوباره حساب می‌شود…")
        self.ctx.bus.data_changed.emit("settings")
        self._recompute(self.closed_too.isChecked())
        return True

    def _recompute(self, closed_too: bool) -> None:
        """Open requests (and, when asked, the solved ones) measured again under the saved hours, off the GUI
        thread: with many requests it takes a while, and the writer takes them a few hundred at a time."""
        self.recomputing = True
        self._asked_closed = closed_too
        self.save_btn.setEnabled(False)
        self.op = (QueryOp(self, op=lambda _ctl: rq.recompute_minutes(closed_too), success=self._recomputed,
                           name="service-recompute")
                   .failure(self._recompute_failed)
                   .finished(self._recompute_over))
        self.op.run()

    def _recomputed(self, result: rq.Recomputed) -> None:
        text = f"ذخیره شد. موعد {fmt.num(result.open)} درخواست باز با این ساعت‌ها دوباره حساب شد؛ "
        if self._asked_closed:
            text += f"زمان‌های {fmt.num(result.closed)} درخواست بسته‌شده هم دوباره سنجیده شد."
        else:
            text += "درخواست‌های بسته‌شده همان‌طور که سنجیده شده‌اند می‌مانند."
        self.message.ok(text)
        self.closed_too.setChecked(False)
        self.ctx.bus.data_changed.emit("service")

    def _recompute_failed(self, e: BaseException) -> None:
        logger.error("service: recomputing due times failed: %s", e)
        self.message.error(f"ساعت‌ها ذخیره شد، ولی موعد درخواست‌های باز دوباره حساب نشد: {error_text(e)}")

    def _recompute_over(self) -> None:
        self.recomputing = False
        self.save_btn.setEnabled(True)


# --- satisfaction by SMS ----------------------------------------------------------------------------------------

class SurveyTab(QWidget):
    """The automatic SMS «نظرسنجی پس از انجام درخواست خدمت» (app/sms/automatic) and its text."""

    KIND = "survey"

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        self.enabled = QCheckBox("پس از انجام هر درخواست، نظرسنجی پیامکی برای مشتری فرستاده شود")
        lay.addWidget(self.enabled)
        explain = QLabel("مشتری با فرستادن عددی از ۱ تا ۵ پاسخ می‌دهد و پاسخش تا سه روز، نظرسنجی همان درخواست "
                         "ثبت می‌شود (امتیازی که همکاران ثبت کرده‌اند عوض نمی‌شود). پیامک‌ها با تنظیمات «پیامک» و "
                         "فقط در بازه ارسال خودکار فرستاده می‌شوند.")
        explain.setWordWrap(True)
        explain.setProperty("role", "muted")
        lay.addWidget(explain)
        lay.addWidget(QLabel("متن پیام ({شماره_درخواست}، {نام} و {نام_دفتر} با مقدار خود جایگزین می‌شوند):"))
        self.text = QPlainTextEdit()
        self.text.setMaximumHeight(110)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.text.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        option = self.text.document().defaultTextOption()
        option.setTextDirection(Qt.LayoutDirection.RightToLeft)
        option.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.text.document().setDefaultTextOption(option)
        lay.addWidget(self.text)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b45309;")
        lay.addWidget(self.warning)
        self.save_btn = QPushButton("ذخیره")
        self.message = _Message()
        row = _button_row(self.save_btn)
        row.addWidget(self.message, 1)
        lay.addLayout(row)
        lay.addStretch(1)
        self.save_btn.clicked.connect(self.save)
        self.load()

    def load(self) -> None:
        from app.sms import config

        self.enabled.setChecked(bool(settings.get(options.SMS_AUTO_ENABLED[self.KIND])))
        self.text.setPlainText(settings.get(options.SMS_AUTO_TEXT[self.KIND]))
        self.warning.setText("" if config.key_is_set() else
                             "سامانه پیامک هنوز تنظیم نشده است (تنظیمات ← پیامک)؛ تا آن زمان پیامی فرستاده نمی‌شود.")

    def save(self) -> bool:
        from app.sms import automatic, templates

        text = " ".join(self.text.toPlainText().split())      # the customer's text keeps its Persian digits
        if not text:
            self.message.error("متن پیام نظرسنجی را بنویسید.")
            return False
        if bad := templates.unknown_fields(text):
            self.message.error("این جای‌نگهدار شناخته نیست: " + "، ".join("{" + f + "}" for f in bad))
            return False
        automatic.enable(self.KIND, self.enabled.isChecked(), text)
        self.load()
        self.message.ok()
        self.ctx.bus.data_changed.emit("settings")
        return True


class ServiceSettingsPanel(QWidget):
    TITLE = "خدمات پس از فروش"

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        self.tabs = QTabWidget()
        self.categories = CategoriesTab(ctx)
        self.team = TeamTab(ctx)
        self.hours = HoursTab(ctx)
        self.tabs.addTab(self.categories, "دسته‌ها و مهلت‌ها")
        self.tabs.addTab(self.team, "تیم و ارجاع")
        self.survey = SurveyTab(ctx)
        self.tabs.addTab(self.hours, "ساعت کاری و تعطیلات")
        self.tabs.addTab(self.survey, "نظرسنجی پیامکی")
        lay.addWidget(self.tabs)
