"""«پرونده مشتری»: one customer's details and the timeline of everything recorded about them.

open_customer_file(ctx, customer_id) shows the window (one per customer; a second call raises it).
The window follows a merge: opened on a merged-away customer, it shows the surviving one.
"""
from __future__ import annotations

import logging
import re
from collections import Counter

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app import fmt, settings
from app.core import phones as ph
from app.core.clock import today
from app.core.errors import NotFound, UserError
from app.core.jalali import format_long, next_anniversary, years_since
from app.customers import service as cs
from app.customers import timeline
from ui.context import AppContext
from ui.widgets.columns import fit_columns
from ui.widgets.forms import error_label
from ui.widgets.rows_table import RowsModel
from ui.widgets.tabs import ReadWhenChosen

logger = logging.getLogger(__name__)

_open_windows: dict[int, CustomerFileWindow] = {}

BADGE_STYLE = ("QLabel {{ background: {bg}; color: {fg}; border-radius: 8px; padding: 2px 8px; "
               "font-size: 9pt; }}")
BADGE_COLOURS = {
    "kind": ("#e0e7ff", "#3730a3"),
    "actual": ("#dcfce7", "#166534"),
    "potential": ("#fef3c7", "#92400e"),
    "active": ("#dcfce7", "#166534"),
    "inactive": ("#e5e7eb", "#374151"),
    "blacklist": ("#fee2e2", "#991b1b"),
    "rank": ("#fce7f3", "#9d174d"),
    "type": ("#e0f2fe", "#075985"),
    "tag": ("#f3e8ff", "#6b21a8"),
}


def badge(text: str, colours: tuple[str, str]) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(BADGE_STYLE.format(bg=colours[0], fg=colours[1]))
    return label


def fa(value: object) -> str:
    return fmt.digits(value) if value not in (None, "") else ""


LRI, PDI = "\u2066", "\u2069"


def phone_display(canonical: str, extension: str = "") -> str:
    """'۰۲۱ ۸۸۷۶ ۵۴۳۲ داخلی ۲۱۴'. The grouped number is isolated left-to-right: inside Persian text the
    bidi algorithm would otherwise show its groups in reverse order (۵۴۳۲ ۸۸۷۶ ۰۲۱)."""
    p = ph.normalize(canonical, settings.area_code())
    number = p.display().split(" داخلی ")[0] if p.valid else canonical
    text = LRI + fmt.digits(number) + PDI
    ext = extension or p.extension
    if ext:
        text += f" داخلی {fmt.digits(ext)}"
    return text


_WORD = re.compile(r"\S+")
_LATIN = re.compile(r"[A-Za-z@]")


def fa_text(s: str | None) -> str:
    """Persian digits in running text, except inside Latin words and codes (LED-40W, an e-mail address)."""
    if not s:
        return ""
    if not _LATIN.search(s):
        return fmt.digits(s)               # no Latin word: every digit (a customer's long history: most entries)
    return _WORD.sub(lambda m: m.group(0) if _LATIN.search(m.group(0)) else fmt.digits(m.group(0)), s)


class TimelineModel(RowsModel):
    """The timeline's rows (entries, newest first), each cell's text made when Qt asks for it, for the rows on
    screen. A long history (3,000 entries) made an item per entry, each with its digits turned Persian and two
    tooltips, before the file showed. The summary's tooltip is the whole of it; the time's, the long date."""

    def __init__(self, parent=None):
        super().__init__([("زمان", lambda e: fmt.datetime(e.at), None), ("نوع", lambda e: e.label, None),
                          ("شرح", self._first_line, None), ("کاربر", lambda e: e.user_name, None)], parent=parent)
        self._summaries: dict[int, str] = {}        # entry id → its summary with Persian digits

    def set_rows(self, rows) -> None:
        self._summaries = {}
        super().set_rows(rows)

    def summary(self, e: timeline.Entry) -> str:
        got = self._summaries.get(e.id)
        if got is None:
            got = self._summaries[e.id] = fa_text(e.summary)        # word by word (Latin words kept)
        return got

    def _first_line(self, e: timeline.Entry) -> str:
        summary = self.summary(e).strip()
        return summary.splitlines()[0] if summary else ""

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        e = self.row(index.row()) if index.isValid() else None
        if e is not None and role == Qt.ItemDataRole.ToolTipRole and index.column() in (0, 2):
            return self.summary(e) if index.column() == 2 else format_long(e.at)
        if e is not None and role == Qt.ItemDataRole.UserRole and index.column() == 0:
            return e.id
        return super().data(index, role)


class NoteDialog(QDialog):
    """A note for the customer's timeline. Ctrl+Enter saves."""

    def __init__(self, ctx: AppContext, customer_id: int, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.customer_id = customer_id
        self.note_id: int | None = None
        self.setWindowTitle("یادداشت جدید")
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        lay = QVBoxLayout(self)
        self.body = QPlainTextEdit()
        self.body.setPlaceholderText("مثلاً: قرار شد پیش‌فاکتور تا شنبه فرستاده شود.")
        self.body.setMinimumSize(420, 140)
        lay.addWidget(self.body)
        self.error = error_label(self)
        lay.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton("ثبت یادداشت", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton("انصراف", QDialogButtonBox.ButtonRole.RejectRole)
        self.save_button.setToolTip("Ctrl+Enter")
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.reject)
        lay.addWidget(buttons)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.save)
        QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self.save)
        self.body.setFocus()

    def save(self) -> bool:
        try:
            note = cs.add_note(self.customer_id, self.body.toPlainText(), self.ctx.user_id)
        except UserError as e:
            self.error.setText(e.message)
            self.error.show()
            self.body.setFocus()
            return False
        self.note_id = note.id
        self.ctx.bus.customer_changed.emit(self.customer_id)
        self.accept()
        return True


class CustomerFileWindow(QWidget):
    """The customer's file: header, contact details, and the timeline (newest first, filterable by kind)."""

    def __init__(self, ctx: AppContext, customer_id: int, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.ctx = ctx
        self.customer_id = customer_id
        self.requested_id = customer_id
        self.data: dict = {}
        self.entries: list[timeline.Entry] = []
        self.merged_from: str = ""
        self.child_dialogs: list[QWidget] = []
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(1120, 740)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(50)
        self._refresh_timer.timeout.connect(self.refresh)
        self._build()
        self.refresh()
        ctx.bus.customer_changed.connect(self._on_customer_changed)
        ctx.bus.data_changed.connect(self._on_data_changed)
        QShortcut(QKeySequence("Esc"), self, activated=self.close)
        QShortcut(QKeySequence("F5"), self, activated=self.refresh)

    # --- building -----------------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 10, 10, 10)
        outer.setSpacing(8)

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel { background: #fef9c3; color: #713f12; padding: 6px; border-radius: 4px; }")
        self.banner.hide()
        outer.addWidget(self.banner)

        header = QFrame()
        header.setObjectName("fileHeader")
        header.setStyleSheet("QFrame#fileHeader { background: white; border: 1px solid #e5e7eb; border-radius: 6px; }")
        hl = QVBoxLayout(header)
        top = QHBoxLayout()
        self.name_label = QLabel()
        self.name_label.setProperty("role", "title")
        self.name_label.setStyleSheet("font-size: 16pt; font-weight: bold; color: #111827;")
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(self.name_label)
        self.badges = QHBoxLayout()
        self.badges.setSpacing(4)
        top.addLayout(self.badges)
        top.addStretch(1)
        self.edit_button = QPushButton("ویرایش")
        self.note_button = QPushButton("یادداشت جدید")
        self.call_button = QPushButton("ثبت تماس")
        self.merge_button = QPushButton("ادغام با مشتری دیگر…")
        self.sms_button = QPushButton("پیامک")
        self.sms_button.setToolTip("فرستادن پیامک به همراه این مشتری")
        self.email_button = QPushButton("ایمیل")
        self.email_button.setToolTip("فرستادن ایمیل به نشانی این مشتری")
        self.email_button.hide()                       # shown when the customer has an address
        self.edit_button.setShortcut(QKeySequence("Ctrl+E"))
        self.note_button.setShortcut(QKeySequence("Ctrl+N"))
        self.call_button.setShortcut(QKeySequence("Ctrl+L"))
        self.edit_button.setToolTip("Ctrl+E")
        self.note_button.setToolTip("Ctrl+N")
        self.call_button.setToolTip("ثبت تماس با این مشتری در تاریخچه (Ctrl+L)")
        for b in (self.edit_button, self.note_button, self.call_button, self.sms_button, self.email_button,
                  self.merge_button):
            top.addWidget(b)
        hl.addLayout(top)
        self.sub_label = QLabel()
        self.sub_label.setStyleSheet("color: #374151;")
        self.sub_label.setWordWrap(True)
        hl.addWidget(self.sub_label)
        self.tags_row = QHBoxLayout()
        self.tags_row.setSpacing(4)
        hl.addLayout(self.tags_row)
        outer.addWidget(header)

        self.edit_button.clicked.connect(self.edit)
        self.note_button.clicked.connect(self.add_note)
        self.call_button.clicked.connect(self.log_call)
        self.merge_button.clicked.connect(self.merge)
        self.sms_button.clicked.connect(self.send_sms)
        self.email_button.clicked.connect(self.send_email)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        outer.addWidget(split, 1)

        # details (right side in RTL)
        details_scroll = QScrollArea()
        details_scroll.setWidgetResizable(True)
        details_scroll.setFrameShape(QFrame.Shape.NoFrame)
        details = QWidget()
        self.details_layout = dl = QVBoxLayout(details)
        dl.setContentsMargins(0, 0, 6, 0)
        self.phones_box = QGroupBox("شماره‌های تماس")
        self.phones_grid = QGridLayout(self.phones_box)
        self.phones_grid.setColumnStretch(1, 1)
        dl.addWidget(self.phones_box)
        self.addresses_box = QGroupBox("نشانی‌ها")
        self.addresses_layout = QVBoxLayout(self.addresses_box)
        dl.addWidget(self.addresses_box)
        self.standing_box = QGroupBox("حساب و آخرین رویدادها")
        sbl = QVBoxLayout(self.standing_box)
        self.standing_grid = QGridLayout()
        self.standing_grid.setColumnStretch(1, 1)
        sbl.addLayout(self.standing_grid)
        sales_row = QHBoxLayout()
        self.proforma_button = QPushButton("پیش‌فاکتور جدید")
        self.invoice_button = QPushButton("فاکتور جدید")
        sales_row.addWidget(self.proforma_button)
        sales_row.addWidget(self.invoice_button)
        sales_row.addStretch(1)
        sbl.addLayout(sales_row)
        self.proforma_button.clicked.connect(lambda: self._new_document("proforma"))
        self.invoice_button.clicked.connect(lambda: self._new_document("invoice"))
        dl.addWidget(self.standing_box)
        from ui.pipeline.customer_box import OpportunitiesBox

        self.opportunities_box = OpportunitiesBox(self.ctx, details)
        dl.addWidget(self.opportunities_box)
        self.info_box = QGroupBox("مشخصات")
        self.info_grid = QGridLayout(self.info_box)
        self.info_grid.setColumnStretch(1, 1)
        dl.addWidget(self.info_box)
        self.description_box = QGroupBox("توضیحات")
        dsl = QVBoxLayout(self.description_box)
        self.description_label = QLabel()
        self.description_label.setWordWrap(True)
        self.description_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dsl.addWidget(self.description_label)
        dl.addWidget(self.description_box)
        dl.addStretch(1)
        details_scroll.setWidget(details)
        details_scroll.setMinimumWidth(340)
        split.addWidget(details_scroll)

        # timeline (left side in RTL)
        tl = QWidget()
        tll = QVBoxLayout(tl)
        tll.setContentsMargins(6, 0, 0, 0)
        bar = QHBoxLayout()
        title = QLabel("تاریخچه")
        title.setStyleSheet("font-size: 12pt; font-weight: bold;")
        bar.addWidget(title)
        bar.addStretch(1)
        bar.addWidget(QLabel("نمایش:"))
        self.kind_filter = QComboBox()
        self.kind_filter.setMinimumWidth(180)
        self.kind_filter.currentIndexChanged.connect(self._fill_timeline)
        bar.addWidget(self.kind_filter)
        tll.addLayout(bar)
        self.timeline = QTreeView()
        self.timeline_model = TimelineModel(self)
        self.timeline.setModel(self.timeline_model)
        self.timeline.setRootIsDecorated(False)
        self.timeline.setAlternatingRowColors(True)
        self.timeline.setUniformRowHeights(True)
        self.timeline.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        hdr = self.timeline.header()
        hdr.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)      # the others: fit_columns at each fill
        hdr.setStretchLastSection(False)
        self.timeline.selectionModel().currentRowChanged.connect(self._show_entry)
        tll.addWidget(self.timeline, 3)
        self.entry_view = QTextBrowser()
        self.entry_view.setMaximumHeight(120)
        self.entry_view.setOpenLinks(False)
        self.entry_view.setPlaceholderText("برای دیدن متن کامل، یک رویداد را انتخاب کنید.")
        tll.addWidget(self.entry_view, 1)
        self.empty_label = QLabel("هنوز چیزی در تاریخچه این مشتری ثبت نشده است.")
        self.empty_label.setProperty("role", "muted")
        self.empty_label.hide()
        tll.addWidget(self.empty_label)
        # after-sale tabs (requests, documents, contracts and warranty) beside the timeline
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(tl, "تاریخچه")
        from ui.service.customer_tabs import add_tabs

        self.after_sale = add_tabs(self.ctx, self.customer_id, self.side_tabs)
        self._read_when_chosen = ReadWhenChosen(self.side_tabs)
        split.addWidget(self.side_tabs)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([420, 680])

    # --- data ---------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload from the database (after an edit, a note, a call, a merge…)."""
        self._refresh_timer.stop()
        try:
            d = cs.customer_data(self.customer_id)
            seen = {self.customer_id}
            while d.get("merged_into"):
                if not self.merged_from:
                    self.merged_from = d.get("display_name", "")
                nxt = d["merged_into"]
                if nxt in seen:
                    break
                seen.add(nxt)
                self._move_to(nxt)
                d = cs.customer_data(nxt)
        except NotFound as e:
            self._show_missing(e.message)
            return
        self.data = d
        self.entries = timeline.entries(self.customer_id, limit=5000)
        self._fill_header()
        self._fill_details()
        self._fill_standing()
        self.opportunities_box.load(self.customer_id)
        self._fill_filter()
        self._fill_timeline()
        for tab in self.after_sale.values():
            tab.customer_id = self.customer_id     # a merge moves the file to the surviving customer
            if hasattr(tab, "owner_id"):
                tab.owner_id = self.customer_id
        # the after-sale tab on screen is read now, the others when chosen (most openings never look at them)
        self._read_when_chosen.mark(self.after_sale.values())
        self.apply_permissions()

    def apply_permissions(self) -> None:
        """Buttons the signed-in person's role may not use are disabled, their tooltip saying why (the services
        refuse anyway)."""
        from ui.office.restrict import gate

        gate(self.merge_button, "customers.delete")
        gate(self.proforma_button, "money.view")
        gate(self.invoice_button, "money.view", "invoice.issue")

    def _move_to(self, new_id: int) -> None:
        if _open_windows.get(self.customer_id) is self:
            del _open_windows[self.customer_id]
        self.customer_id = new_id
        _open_windows.setdefault(new_id, self)

    def _show_missing(self, message: str) -> None:
        self.data = {}
        self.entries = []
        self.name_label.setText("پرونده پیدا نشد")
        self.sub_label.setText(message)
        for b in (self.edit_button, self.note_button, self.call_button, self.merge_button):
            b.setEnabled(False)
        self.email_button.hide()
        self.timeline_model.set_rows([])

    def _fill_header(self) -> None:
        d = self.data
        name = d.get("display_name") or "(بی‌نام)"
        title = d.get("title") or ""
        shown = f"{title} {name}".strip() if d.get("kind") == "person" else name
        self.name_label.setText(fa_text(shown))
        self.setWindowTitle(f"پرونده مشتری — {name}")
        self.email_button.setVisible(bool((d.get("email") or "").strip()))
        if self.merged_from:
            self.banner.setText(f"پرونده «{self.merged_from}» در این پرونده ادغام شده است؛ "
                                "همه شماره‌ها، یادداشت‌ها و تاریخچه آن اینجاست.")
            self.banner.show()
        _clear_layout(self.badges)
        self.badges.addWidget(badge(cs.KIND_LABELS.get(d["kind"], d["kind"]), BADGE_COLOURS["kind"]))
        self.badges.addWidget(badge(cs.STAGE_LABELS.get(d["stage"], d["stage"]),
                                    BADGE_COLOURS.get(d["stage"], BADGE_COLOURS["kind"])))
        if d.get("status") and d["status"] != "active":
            self.badges.addWidget(badge(cs.STATUS_LABELS.get(d["status"], d["status"]),
                                        BADGE_COLOURS.get(d["status"], BADGE_COLOURS["inactive"])))
        if d.get("rank"):
            self.badges.addWidget(badge(f"رتبه {fa(d['rank'])}", BADGE_COLOURS["rank"]))
        if d.get("customer_type"):
            self.badges.addWidget(badge(d["customer_type"], BADGE_COLOURS["type"]))
        parts = []
        if d["kind"] == "person":
            if d.get("job") and d.get("company"):
                parts.append(f"{d['job']}، {d['company']}")
            elif d.get("company") or d.get("job"):
                parts.append(d.get("company") or d.get("job"))
        else:
            contact = " ".join(x for x in (d.get("title"), d.get("first_name"), d.get("last_name")) if x)
            if contact:
                parts.append(f"رابط: {contact}" + (f" ({d['job']})" if d.get("job") else ""))
        if d.get("activity_field"):
            parts.append(f"زمینه فعالیت: {d['activity_field']}")
        parts.append(f"کارشناس مسئول: {d.get('assigned_name') or 'تعیین نشده'}")
        self.sub_label.setText(fa_text("  •  ".join(parts)))
        _clear_layout(self.tags_row)
        for t in d.get("tags", []):
            self.tags_row.addWidget(badge(fa_text(t), BADGE_COLOURS["tag"]))
        self.tags_row.addStretch(1)

    def _fill_details(self) -> None:
        d = self.data
        _clear_layout(self.phones_grid)
        self.dial_buttons: list[QToolButton] = []
        from ui.calls.dialing import dial_reason

        reason = dial_reason(self.ctx)
        for i, p in enumerate(d.get("phones", [])):
            kind = QLabel(cs.PHONE_LABELS.get(p["label"], p["label"]))
            kind.setProperty("role", "muted")
            number = QLabel(phone_display(p["canonical"], p.get("extension", "")))
            number.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute
                                | Qt.AlignmentFlag.AlignVCenter)
            number.setStyleSheet("font-size: 11pt;")
            btn = QToolButton()
            btn.setText("☎ تماس")
            btn.setProperty("number", p["canonical"])
            # Always clickable: when the modem cannot dial, the click says why (the listener may start later).
            btn.setToolTip(reason or f"شماره‌گیری {phone_display(p['canonical'])} با مودم")
            btn.clicked.connect(lambda _=False, n=p["canonical"]: self.dial(n))
            self.dial_buttons.append(btn)
            self.phones_grid.addWidget(kind, i, 0)
            self.phones_grid.addWidget(number, i, 1)
            self.phones_grid.addWidget(btn, i, 2)
        if not d.get("phones"):
            self.phones_grid.addWidget(_muted("شماره‌ای ثبت نشده است."), 0, 0, 1, 3)

        _clear_layout(self.addresses_layout)
        for a in d.get("addresses", []):
            where = "، ".join(x for x in (a.get("province"), a.get("city")) if x)
            if a.get("province") and a.get("province") == a.get("city"):
                where = a["city"]
            text = f"<b>{cs.ADDRESS_LABELS.get(a['label'], a['label'])}:</b> " + "، ".join(
                x for x in (where, a.get("line")) if x)
            if a.get("postal_code"):
                text += f" — کد پستی {a['postal_code']}"
            lab = QLabel(fa_text(text))
            lab.setWordWrap(True)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.addresses_layout.addWidget(lab)
        self.addresses_box.setVisible(bool(d.get("addresses")))

        _clear_layout(self.info_grid)
        rows: list[tuple[str, str]] = []
        org = d["kind"] == "organisation"
        if d.get("national_id"):
            rows.append(("شناسه ملی" if org else "کد ملی", fa(d["national_id"])))
        if d.get("economic_code"):
            rows.append(("کد اقتصادی", fa(d["economic_code"])))
        if d.get("registration_no"):
            rows.append(("شماره ثبت", fa(d["registration_no"])))
        if d.get("postal_code"):
            rows.append(("کد پستی", fa(d["postal_code"])))
        t = today()
        if d.get("birthday"):
            b = d["birthday"]
            nxt = next_anniversary(b, t)
            days = (nxt - t).days
            when = "امروز!" if days == 0 else f"{fa(days)} روز دیگر"
            rows.append(("تاریخ تولد", f"{fmt.date(b)} ({fa(years_since(b, t))} ساله؛ تولد بعدی {when})"))
        if d.get("anniversary"):
            a = d["anniversary"]
            nxt = next_anniversary(a, t)
            days = (nxt - t).days
            rows.append(("سالگرد ازدواج", f"{fmt.date(a)} ({'امروز!' if days == 0 else fa(days) + ' روز دیگر'})"))
        if d.get("email"):
            rows.append(("ایمیل", d["email"]))
        if d.get("website"):
            rows.append(("وب‌سایت", d["website"]))
        if d.get("source"):
            rows.append(("نحوه آشنایی", d["source"]))
        rows.append(("وضعیت", cs.STATUS_LABELS.get(d.get("status") or "active", d.get("status") or "")))
        if d.get("created_at"):
            rows.append(("تشکیل پرونده", fmt.datetime(d["created_at"])))
        rows.append(("شماره پرونده", fa(d["id"])))
        for i, (k, v) in enumerate(rows):
            key = QLabel(k)
            key.setProperty("role", "muted")
            val = QLabel(v)
            val.setWordWrap(True)
            val.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            # Absolute: digit-only and Latin values would otherwise sit at the far left of the column.
            val.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute
                             | Qt.AlignmentFlag.AlignVCenter)
            self.info_grid.addWidget(key, i, 0, Qt.AlignmentFlag.AlignTop)
            self.info_grid.addWidget(val, i, 1)
        self.description_label.setText(fa_text(d.get("description")))
        self.description_box.setVisible(bool(d.get("description")))
        for b in (self.edit_button, self.note_button, self.call_button, self.merge_button):
            b.setEnabled(True)

    def _fill_standing(self) -> None:
        """Balance, last proforma and invoice, last visit and call: the same facts the caller-ID popup shows."""
        from app.customers.summary import customer_summary, summary_fields

        _clear_layout(self.standing_grid)
        wanted = ("مانده حساب", "آخرین پیش‌فاکتور", "آخرین فاکتور", "آخرین بازدید", "آخرین تماس")
        fields = dict(summary_fields(customer_summary(self.customer_id)))
        for i, k in enumerate(wanted):
            key = QLabel(k)
            key.setProperty("role", "muted")
            val = QLabel(fields.get(k, ""))
            val.setWordWrap(True)
            val.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            val.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute
                             | Qt.AlignmentFlag.AlignVCenter)
            self.standing_grid.addWidget(key, i, 0, Qt.AlignmentFlag.AlignTop)
            self.standing_grid.addWidget(val, i, 1)
        has_sales = self._main_window() is not None
        self.proforma_button.setVisible(has_sales)
        self.invoice_button.setVisible(has_sales)

    def _main_window(self):
        """The main window whose invoices section makes the documents (none: a file opened on its own)."""
        win = getattr(self.ctx, "main_window", None)
        return win if win is not None and hasattr(win, "page") else None

    def _invoices_page(self):
        """The invoices section's page, built when a document is asked for (not to decide whether the buttons
        show: building it read the invoices and took a third of the first file's opening)."""
        win = self._main_window()
        if win is None:
            return None
        page = win.page("invoices")
        return page if hasattr(page, "new_invoice_for") else None

    def _new_document(self, kind: str) -> None:
        page = self._invoices_page()
        if page is None:
            return
        self.ctx.bus.show_section.emit("invoices")
        if kind == "proforma":
            page.new_proforma_for(self.customer_id)
        else:
            page.new_invoice_for(self.customer_id)

    def _fill_filter(self) -> None:
        current = self.kind_filter.currentData()
        counts = Counter(e.kind for e in self.entries)
        labels = {e.kind: e.label for e in self.entries}
        self.kind_filter.blockSignals(True)
        self.kind_filter.clear()
        self.kind_filter.addItem(f"همه ({fa(len(self.entries))})", None)
        for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], labels[kv[0]])):
            self.kind_filter.addItem(f"{labels[kind]} ({fa(n)})", kind)
        idx = self.kind_filter.findData(current) if current else 0
        self.kind_filter.setCurrentIndex(max(idx, 0))
        self.kind_filter.blockSignals(False)

    def set_kind_filter(self, kind: str | None) -> None:
        idx = self.kind_filter.findData(kind) if kind else 0
        self.kind_filter.setCurrentIndex(max(idx, 0))

    def visible_entries(self) -> list[timeline.Entry]:
        kind = self.kind_filter.currentData()
        return [e for e in self.entries if kind is None or e.kind == kind]

    def _fill_timeline(self) -> None:
        self.timeline_model.set_rows(self.visible_entries())
        fit_columns(self.timeline, skip=(2,))           # by the model's column_texts
        self.empty_label.setVisible(not self.entries)
        self.entry_view.clear()

    def _show_entry(self, current: QModelIndex, _prev=None) -> None:
        e = self.timeline_model.row(current.row()) if current.isValid() else None
        if e is None:
            self.entry_view.clear()
            return
        head = f"{e.label} — {format_long(e.at)}، ساعت {fmt.time(e.at)}"
        if e.user_name:
            head += f" — {e.user_name}"
        self.entry_view.setPlainText(f"{head}\n\n{self.timeline_model.summary(e)}")

    # --- actions ------------------------------------------------------------------------------------------
    def edit(self):
        from ui.customers.form import edit_customer

        dlg = edit_customer(self.ctx, self.customer_id, parent=self)
        if dlg is not None:
            self._keep(dlg)
        return dlg

    def add_note(self) -> NoteDialog:
        dlg = NoteDialog(self.ctx, self.customer_id, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._keep(dlg)
        dlg.show()
        return dlg

    def log_call(self) -> None:
        self.ctx.bus.log_call.emit(self.customer_id, 0)

    def send_sms(self):
        """One SMS to this customer's mobile (ui/sms/send_dialog.py), with the merge fields filled from the file."""
        from ui.sms import send_sms_dialog

        dlg = send_sms_dialog(self, customer_id=self.customer_id)
        self._keep(dlg)
        return dlg

    def send_email(self):
        """One email to this customer's address (ui/sms/email_dialog.py), subject and body from the templates."""
        from ui.sms.email_dialog import send_email_dialog

        dlg = send_email_dialog(self, customer_id=self.customer_id, address=self.data.get("email") or "")
        self._keep(dlg)
        return dlg

    def merge(self):
        from ui.customers.merge_dialog import MergeDialog

        dlg = MergeDialog(self.ctx, self.customer_id, parent=self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._keep(dlg)
        dlg.show()
        return dlg

    def dial(self, number: str) -> None:
        from ui.calls.dialing import start_dial

        reason = start_dial(self.ctx, number)
        if reason:
            QMessageBox.information(self, "شماره‌گیری", reason)
        else:
            self.ctx.bus.status_message.emit(f"در حال شماره‌گیری {phone_display(number)}؛ گوشی را بردارید.")

    def _keep(self, w: QWidget) -> None:
        self.child_dialogs = [d for d in self.child_dialogs if _alive(d)]
        self.child_dialogs.append(w)

    # --- bus ----------------------------------------------------------------------------------------------
    def _on_customer_changed(self, customer_id: int) -> None:
        if customer_id in (self.customer_id, self.requested_id):
            self._refresh_timer.start()

    def _on_data_changed(self, what: str) -> None:
        if what != "settings":
            self._refresh_timer.start()

    def closeEvent(self, event) -> None:
        for sig, slot in ((self.ctx.bus.customer_changed, self._on_customer_changed),
                          (self.ctx.bus.data_changed, self._on_data_changed)):
            try:
                sig.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        for cid, w in list(_open_windows.items()):
            if w is self:
                del _open_windows[cid]
        super().closeEvent(event)


def _alive(w: QWidget) -> bool:
    try:
        w.objectName()
        return True
    except RuntimeError:
        return False


def _muted(text: str) -> QLabel:
    lab = QLabel(text)
    lab.setProperty("role", "muted")
    return lab


def _clear_layout(layout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        w = item.widget()
        if w is not None:
            w.hide()
            w.deleteLater()
        elif item.layout() is not None:
            _clear_layout(item.layout())


def open_customer_file(ctx: AppContext, customer_id: int) -> CustomerFileWindow:
    """Show the customer's file (the surviving one, if this customer was merged); one window per customer."""
    win = _open_windows.get(customer_id)
    if win is not None and _alive(win):
        win.refresh()
    else:
        win = CustomerFileWindow(ctx, customer_id, parent=ctx.main_window
                                 if isinstance(ctx.main_window, QWidget) else None)
        existing = _open_windows.get(win.customer_id)
        if existing is not None and existing is not win and _alive(existing):
            win.close()
            win = existing
        else:
            _open_windows[win.customer_id] = win
    win.show()
    win.raise_()
    win.activateWindow()
    return win

