"""The caller-ID popup: who is calling, before the second ring, without taking the keyboard.

One CallPopup per call. It is a frameless tool window that stays on top and never takes focus
(Qt.WindowDoesNotAcceptFocus + WA_ShowWithoutActivating), so a receptionist typing in another program keeps
typing; buttons still work with the mouse. It follows its call: «در حال زنگ» → «پاسخ داده شد» → ended
(dimmed, closed or kept, by the desk setting callerid.popup_on_hangup). ui/calls/popup_stack.py places several
popups (multi-line boxes) one above the other.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGraphicsOpacityEffect,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QStyleOptionButton,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.callerid import events as ev
from app.callerid import service as svc
from app.calls import log as call_log
from app.core.errors import UserError
from app.customers import summary as sm
from ui.calls.popup_fields import FieldsView, Shown, TextBlock
from ui.context import AppContext

logger = logging.getLogger(__name__)

POPUP_WIDTH = 380
ANSWERED_ELSEWHERE_MS = 4000    # a ring group's popup, once a colleague answered: «پاسخ داده شد: …», then gone

STATE_STYLE = {
    # state: (header colour, text)
    "ringing": ("#2563eb", "در حال زنگ…"),
    "answered": ("#16a34a", "پاسخ داده شد"),
    "ended": ("#6b7280", "تماس تمام شد"),
    "missed": ("#dc2626", "تماس بی‌پاسخ"),
    "dialing": ("#7c3aed", "تماس خروجی"),
}

STYLE = """
QFrame#card { background: #ffffff; border: 1px solid #9ca3af; border-radius: 8px; }
QLabel#headerText, QLabel#lineLabel { color: white; font-weight: bold; }
QLabel#lineLabel { background: rgba(255,255,255,0.22); border-radius: 4px; padding: 1px 8px; }
#name { font-size: 15pt; font-weight: bold; }
#number { font-size: 12pt; }
#contact { font-size: 11pt; }
QPushButton { padding: 4px 10px; border: 1px solid #c7ccd4; background: #f7f8fa;
              color: #111827; }
QPushButton:hover { background: #eef2ff; border-color: #93a4c8; }
QPushButton:pressed { background: #dfe5f5; }
QPushButton#closeBtn { background: transparent; color: white; border: none; font-weight: bold; padding: 0 6px; }
"""


HEADER_RADIUS = 7


class CallHeader(QFrame):
    """The coloured band at the top of the card, in its state's colour, with the card's rounded top corners.
    Painted here, not by a style sheet: a call's state changes the colour on every call (the last call ended
    «بی‌پاسخ», the next one rings), and a new style sheet would polish the band and its labels again."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("header")
        self._colour = QColor(STATE_STYLE["ringing"][0])

    def set_colour(self, colour: str) -> None:
        c = QColor(colour)
        if c != self._colour:
            self._colour = c
            self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect())
        path = QPainterPath()           # rounded at the top, square at the bottom (the card's body follows)
        path.addRoundedRect(r.adjusted(0, 0, 0, HEADER_RADIUS), HEADER_RADIUS, HEADER_RADIUS)
        p.setClipRect(r)
        p.fillPath(path, self._colour)
        p.end()


_RESTYLED = (QEvent.Type.StyleChange, QEvent.Type.FontChange, QEvent.Type.PaletteChange,
             QEvent.Type.LayoutDirectionChange, QEvent.Type.EnabledChange)


class PopupButton(QPushButton):
    """A popup's action button, drawn through the style (sheet) once per look (size, text, pressed, hovered,
    enabled) and blitted from a pixmap after. The style sheet paints a button several times slower than a blit,
    and every customer's popup shows the same buttons. A change of style, font, palette or direction draws
    afresh."""

    _LOOKS = 8

    def __init__(self, text: str = "", parent: QWidget | None = None, **kw):
        super().__init__(text, parent, **kw)
        self._looks: dict[tuple, QPixmap] = {}

    def paintEvent(self, event) -> None:
        opt = QStyleOptionButton()
        self.initStyleOption(opt)
        pm = self._look(opt)
        p = QPainter(self)
        p.drawPixmap(0, 0, pm)
        p.end()

    def prepare(self) -> None:
        """Draw the looks of this button at its size now, in an active window and an inactive one (the popup
        may be either when a call comes), so that its first paint on a ring is a blit."""
        opt = QStyleOptionButton()
        self.initStyleOption(opt)
        active = QStyle.StateFlag.State_Active
        for state in (opt.state | active, opt.state & ~active):
            opt.state = state
            self._look(opt)

    def _look(self, opt: QStyleOptionButton) -> QPixmap:
        dpr = self.devicePixelRatioF()
        key = (self.width(), self.height(), dpr, self.text(), int(opt.state.value), opt.direction)
        pm = self._looks.get(key)
        if pm is None:
            pm = QPixmap(max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr)))
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.GlobalColor.transparent)
            p = QPainter(pm)
            self.style().drawControl(QStyle.ControlElement.CE_PushButton, opt, p, self)
            p.end()
            if len(self._looks) >= self._LOOKS:
                self._looks.clear()
            self._looks[key] = pm
        return pm

    def changeEvent(self, event) -> None:
        if event.type() in _RESTYLED:
            self._looks.clear()
        super().changeEvent(event)


def ltr(text: str) -> str:
    """Keep a number's digit groups in order inside right-to-left text (LRI … PDI)."""
    return f"\u2066{text}\u2069"


def header_place(v: svc.CallView) -> str:
    """The header's badge: the line's label and, from a PBX, the extension («خط فروش · داخلی ۱۰۲»)."""
    ext = f"داخلی {fmt.digits(v.extension)}" if v.extension else ""
    return " · ".join(x for x in (v.line_label, ext) if x)


def persian_number(view_or_row) -> str:
    return ltr(fmt.digits(view_or_row.number_display or view_or_row.number_raw or ""))


FIELD_LABELS = ("شرکت", "رتبه و گروه", "برچسب‌ها", "مسئول", "آخرین پیش‌فاکتور", "آخرین فاکتور", "مانده حساب",
                "آخرین بازدید", "آخرین تماس", "آنچه گفته شد", "فرصت‌های باز", "گارانتی")


# What the rehearsal draws (CallPopup.rehearse): each Persian letter alone, at the start, in the middle and at the
# end of a word, and the digits and signs a popup shows, so that the first real call's letters are already made
# into glyphs in each of the popup's fonts (making them took a good part of the first popup's painting).
_LETTERS = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیآئءؤ"
_GLYPHS = " ".join(f"{c} {c}ب ب{c}ب ب{c}" for c in _LETTERS)
_DIGITS = "۰۱۲۳۴۵۶۷۸۹ 0123456789 ،؛:«»()/-+…٬"


class CallPopup(QWidget):
    """One call's popup. Signals tell the stack when it closes; buttons talk to the app through ctx.bus.

    Every child widget is made once; showing another call (`assign`) only changes texts and visibility, so
    the stack can keep closed popups and reuse them: no widget is created between the ring and the popup.
    The height is worked out afresh for every call and every change (`fit_height`): a reused popup never keeps
    the previous call's height, and any spare height goes below the buttons, never into the header.
    """

    closed = Signal(str)        # call key

    def __init__(self, ctx: AppContext, view: svc.CallView | None = None, parent: QWidget | None = None,
                 summary: sm.CustomerSummary | None = None):
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.WindowDoesNotAcceptFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setObjectName("callPopup")
        self.setStyleSheet(STYLE)
        self.setFixedWidth(POPUP_WIDTH)
        self.ctx = ctx
        self.view: svc.CallView | None = None
        self.summary: sm.CustomerSummary | None = None
        self.dimmed = False
        self.finished = False
        self.taken_by = ""          # a ring group's colleague answered this call elsewhere: their name
        self._close_timer = QTimer(self)
        self._close_timer.setSingleShot(True)
        self._close_timer.timeout.connect(self.close)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.card = QFrame(objectName="card")
        outer.addWidget(self.card)
        # dimming (a finished call) fades the card, not the window: window opacity is not supported everywhere
        # (Wayland, the offscreen platform), a widget effect is
        self._dim = QGraphicsOpacityEffect(self.card)
        self._dim.setOpacity(0.55)
        self._dim.setEnabled(False)
        self.card.setGraphicsEffect(self._dim)
        lay = QVBoxLayout(self.card)
        lay.setContentsMargins(0, 0, 0, 8)
        lay.setSpacing(6)

        self.header = CallHeader()
        hl = QHBoxLayout(self.header)
        hl.setContentsMargins(10, 5, 6, 5)
        self.line_label = QLabel(objectName="lineLabel")
        self.state_label = QLabel(objectName="headerText")
        self.close_btn = PopupButton("✕", objectName="closeBtn")
        self.close_btn.setToolTip("بستن")
        self.close_btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.close_btn.clicked.connect(self.close)
        hl.addWidget(self.line_label)
        hl.addWidget(self.state_label, 1)
        hl.addWidget(self.close_btn)
        lay.addWidget(self.header)

        body = QVBoxLayout()
        body.setContentsMargins(12, 2, 12, 0)
        body.setSpacing(4)
        # painted from kept text layouts (see TextBlock); their fonts come from the style sheet (#name…)
        self.name_label = TextBlock(colour="#111827", name="name")
        self.contact_label = TextBlock(colour="#1f2937", name="contact")    # an organisation's contact person
        self.number_label = TextBlock(colour="#374151", name="number")
        self.notice = TextBlock(colour="#92400e", background="#fef3c7", padding=(6, 3), radius=4,
                                name="notice")
        body.addWidget(self.name_label)
        body.addWidget(self.contact_label)
        body.addWidget(self.number_label)
        body.addWidget(self.notice)
        self.fields_box = FieldsView()          # the «label: value» rows, painted in one pass
        self._field_labels: dict[str, Shown] = {label: Shown(label + ":") for label in FIELD_LABELS}
        body.addWidget(self.fields_box)
        lay.addLayout(body)

        self.buttons = QGridLayout()
        self.buttons.setContentsMargins(12, 4, 12, 0)
        self.buttons.setSpacing(6)
        lay.addLayout(self.buttons)
        lay.addStretch(1)            # spare height (never expected) goes here, not into the header
        self._all_buttons: dict[str, QPushButton] = {}
        for key, text, slot in (("open", "پرونده مشتری", self.open_customer),
                                ("note", "یادداشت این تماس", self.write_note),
                                ("follow_up", "پیگیری بعدی", self.follow_up),
                                ("refer", "ارجاع به همکار", self.refer),
                                ("new", "مشتری جدید", self.new_customer),
                                ("add_existing", "افزودن به مشتری موجود", self.add_to_existing),
                                ("service", "درخواست خدمت", self.service_request),
                                ("sms", "پیامک", self.send_sms)):
            b = PopupButton(text)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(slot)
            self._all_buttons[key] = b
        self.field_values: dict[str, Shown] = {}
        self.action_buttons: dict[str, QPushButton] = {}
        self._button_layout: list[tuple[str, int, int, int]] = []
        if view is not None:
            self.assign(view, summary)

    # --- content -------------------------------------------------------------------------------------------

    @property
    def key(self) -> str:
        return self.view.key if self.view else ""

    def assign(self, view: svc.CallView, summary: sm.CustomerSummary | None = None) -> None:
        """Show this call (a new popup, or a closed one reused by the stack)."""
        self._close_timer.stop()
        self.finished = False
        self.taken_by = ""
        if self.dimmed:
            self.dimmed = False
            self._dim.setEnabled(False)
        self.view = view
        self.summary = summary
        self._render_identity()
        self._render_state()

    def rehearse(self) -> None:
        """Lay out and paint this hidden popup once with a customer's call, then forget it: the first real call
        no longer pays for Qt's first layout of these widgets, the first shaping in each of the popup's fonts,
        the buttons' looks and the native window (the first popup of a session took several times the next
        ones). Nothing is shown; the next call's assign() replaces every text."""
        import datetime as dt

        view = svc.CallView(
            call_id=0, key="", line=1, line_label="خط ۱", direction="in", state="ringing",
            number_raw="09120000000", number="09120000000", number_display="0912 000 0000",
            number_status=ev.OK, caller_name="", customer_id=-1, customer_name="مشتری", other_matches=1,
            started_at=dt.datetime(2000, 1, 1), answered_at=None, ended_at=None, duration=None, rings=1,
            final=False, number_known=True, source="")
        summary = sm.CustomerSummary(customer_id=-1, name=_GLYPHS, title="آقای", company=_GLYPHS, tags=(_GLYPHS,),
                                     assigned_rep=_DIGITS, contact=_GLYPHS, kind="person")
        self.assign(view, summary)
        self.number_label.setText(_DIGITS)
        self.notice.setText(_GLYPHS)            # every text block and the rows draw each letter in each of its forms
        self.notice.setVisible(True)
        self.fit_height()
        self.create()                 # the native window, made now rather than at the first show
        self.grab()
        for b in self.action_buttons.values():
            b.prepare()
        self.view = None
        self.summary = None

    def set_summary(self, summary: sm.CustomerSummary | None) -> None:
        self.summary = summary
        self._render_identity()

    def update_call(self, view: svc.CallView) -> None:
        identity_changed = (view.customer_id, view.number, view.number_status, view.number_known,
                            view.extension, view.colleague) != (
            self.view.customer_id, self.view.number, self.view.number_status, self.view.number_known,
            self.view.extension, self.view.colleague)
        self.view = view
        if identity_changed:
            self._render_identity()
        self._render_state()

    def _set_buttons(self, layout: list[tuple[str, int, int, int]]) -> None:
        if layout == self._button_layout:
            return                  # the previous call's buttons, in their places (most calls: a customer's)
        self._button_layout = list(layout)
        while self.buttons.count():
            self.buttons.takeAt(0)
        wanted = {k for k, *_ in layout}
        for k, b in self._all_buttons.items():
            if k not in wanted:
                b.hide()
        self.action_buttons = {}
        for k, row, col, span in layout:
            b = self._all_buttons[k]
            self.buttons.addWidget(b, row, col, 1, span)
            b.show()        # a child added to a visible window is shown only later: show it now so it counts
            self.action_buttons[k] = b

    def _render_identity(self) -> None:
        v = self.view
        self.field_values = {}
        notice = ""
        where = header_place(v)
        self.line_label.setText(where)
        self.line_label.setVisible(bool(where))
        fields: list[tuple[str, str]] = []
        contact = ""
        if v.number_status == ev.PRIVATE:
            self.name_label.setText("شماره تماس‌گیرنده پنهان است")
            self.number_label.setText("تماس‌گیرنده شماره خود را نشان نمی‌دهد.")
            buttons = [("note", 0, 0, 6)]
        elif v.number_status == ev.UNAVAILABLE or (v.number_known and not (v.number or v.number_raw)):
            self.name_label.setText("شماره تماس‌گیرنده نامشخص است")
            self.number_label.setText("شبکه تلفن شماره‌ای نفرستاد.")
            buttons = [("note", 0, 0, 6)]
        elif not v.number_known:
            self.name_label.setText("تماس ورودی")
            self.number_label.setText("در انتظار شماره تماس‌گیرنده…")
            buttons = [("note", 0, 0, 6)]
        elif v.customer_id:
            s = self.summary if self.summary is not None and self.summary.customer_id == v.customer_id else None
            self.name_label.setText(s.heading if s else v.customer_name)
            contact = s.contact if s else ""
            self.number_label.setText(persian_number(v))
            if v.other_matches:
                notice = f"این شماره در پرونده {fmt.digits(v.other_matches)} مشتری دیگر هم ثبت است."
            if s is not None:
                fields = sm.summary_fields(s)
            buttons = [("open", 0, 0, 2), ("note", 0, 2, 2), ("sms", 0, 4, 2),
                       ("follow_up", 1, 0, 2), ("refer", 1, 2, 2), ("service", 1, 4, 2)]
        elif v.colleague:                  # a colleague's customer, for a role that sees only its own
            self.name_label.setText(f"مشتری همکار: {v.colleague}")
            self.number_label.setText(persian_number(v))
            notice = "پرونده این تماس‌گیرنده به همکارتان سپرده شده است؛ اگر کاری دارد، تماس را به او ارجاع دهید."
            buttons = [("note", 0, 0, 3), ("refer", 0, 3, 3)]
        else:
            self.name_label.setText(v.caller_name or "شماره ناشناس")
            self.number_label.setText(persian_number(v))
            notice = "این شماره در پرونده هیچ مشتری نیست."
            buttons = [("new", 0, 0, 3), ("add_existing", 0, 3, 3), ("note", 1, 0, 3), ("sms", 1, 3, 3)]
        self.contact_label.setText(contact)
        self.contact_label.setVisible(bool(contact))
        self.notice.setText(notice)
        self.notice.setVisible(bool(notice))
        values = dict(fields)
        rows = []
        for label in FIELD_LABELS:
            value = values.get(label)
            self._field_labels[label].set_visible(value is not None)
            if value is None:
                continue
            # RLM first: a value that starts with a Latin letter («C، سازمانی») must still read right to left.
            rows.append((label + ":", "\u200f" + value, "none" if value == sm.NONE_YET else "value"))
            self.field_values[label] = Shown("\u200f" + value, True)
        self.fields_box.set_rows(rows)
        self.fields_box.setVisible(bool(fields))
        self._set_buttons(buttons)
        self.fit_height()

    def fit_height(self) -> None:
        """Height for the fixed width, from this call's content only (word-wrapped values need heightForWidth,
        which adjustSize ignores). The previous call's fixed height is released first, and every layout's cached
        size hint is dropped, so a reused popup is laid out afresh."""
        self.setMinimumHeight(0)
        self.setMaximumHeight(16777215)
        lay = self.card.layout()     # the outer layout's item for the card caches its height: ask the card's
        for sub in (self.buttons, self.header.layout(), lay, self.layout()):
            sub.invalidate()
        for w in (self.line_label, self.name_label, self.contact_label, self.number_label, self.notice,
                  self.fields_box, self.header):
            w.updateGeometry()
        lay.activate()
        h = lay.totalHeightForWidth(POPUP_WIDTH) if lay.hasHeightForWidth() else lay.totalSizeHint().height()
        self.setFixedHeight(max(h, lay.totalMinimumSize().height()))
        self.layout().invalidate()
        self.layout().activate()

    def _render_state(self) -> None:
        v = self.view
        colour, text = STATE_STYLE.get(v.state, STATE_STYLE["ringing"])
        if v.direction == "in" and v.state == "ended":
            if v.duration is not None:
                text = f"تماس تمام شد، {call_log.format_duration(v.duration)}"
            elif v.result in call_log.SYSTEM_RESULT_LABELS:
                text = call_log.SYSTEM_RESULT_LABELS[v.result]
            elif v.outcome_unknown:
                text = "زنگ تمام شد"
        if v.state == "ringing" and v.rings > 1:
            text = f"در حال زنگ… (زنگ {fmt.digits(v.rings)})"
        if self.taken_by:
            text = f"پاسخ داده شد: {self.taken_by}"
        self.state_label.setText(text)
        self.header.set_colour(colour)            # repaints only when the colour changes
        if v.final and not self.finished:
            self.finished = True
            self._on_finished()

    def answered_elsewhere(self, name: str) -> None:
        """A colleague in the ring group answered: the header says who, the card fades, and the popup closes
        on its own after a few seconds (the receptionist may still glance at it, need not close it)."""
        if self.taken_by:
            return
        self.taken_by = name
        self._render_state()
        self.dimmed = True
        self._dim.setEnabled(True)
        self._close_timer.start(ANSWERED_ELSEWHERE_MS)

    def _on_finished(self) -> None:
        if self.taken_by:
            return                              # closing already
        from app import settings
        from app.callerid import settings_keys as sk

        mode = settings.get(sk.POPUP_ON_HANGUP)
        after = int(settings.get(svc.POPUP_CLOSE_AFTER) or 0)
        if mode == "close":
            self._close_timer.start(1500)       # long enough to read «تماس تمام شد»
            return
        if mode == "dim":
            self.dimmed = True
            self._dim.setEnabled(True)
        if after > 0 and not self._close_timer.isActive():
            self._close_timer.start(after * 1000)

    def closeEvent(self, event):
        self._close_timer.stop()
        super().closeEvent(event)
        self.closed.emit(self.key)

    # --- actions ---------------------------------------------------------------------------------------------

    def open_customer(self) -> None:
        if self.view.customer_id:
            self.ctx.bus.open_customer.emit(self.view.customer_id)
            self._raise_main_window()

    def follow_up(self) -> None:
        self.ctx.bus.log_call.emit(self.view.customer_id or 0, self.view.call_id)
        self._raise_main_window()

    def refer(self) -> None:
        # The call-logging dialog holds the referral (to a colleague) as well; it opens on this call.
        self.ctx.bus.log_call.emit(self.view.customer_id or 0, self.view.call_id)
        self._raise_main_window()

    def service_request(self) -> None:
        """«درخواست خدمت»: a new service request with the caller, channel «تلفن» and this call filled in."""
        if self.view.call_id:
            from ui.service import open_request_from_call

            open_request_from_call(self.ctx, self.view.call_id, self)
        else:                       # the row is still in the writer's queue: the customer is enough
            from ui.service.request_dialog import open_request_dialog

            dlg = open_request_dialog(self.ctx, customer_id=self.view.customer_id, parent=self)
            dlg.channel.setCurrentIndex(max(dlg.channel.findData("phone"), 0))

    def send_sms(self) -> None:
        from ui.sms import send_sms_dialog

        send_sms_dialog(self, customer_id=self.view.customer_id or None,
                        number=self.view.number or self.view.number_raw or None)

    def new_customer(self) -> None:
        self.ctx.bus.new_customer_with_phone.emit(self.view.number or self.view.number_raw)
        self._raise_main_window()

    def write_note(self) -> None:
        dlg = CallNoteDialog(self.view, self, call_id=lambda: self.view.call_id, user=self.ctx.user_id)
        dlg.exec()

    def add_to_existing(self) -> None:
        dlg = AddToCustomerDialog(self.view.number or self.view.number_raw, self)
        if dlg.exec() == QDialog.DialogCode.Accepted and dlg.customer_id:
            self.attach_to(dlg.customer_id)

    def attach_to(self, customer_id: int) -> bool:
        """Add this call's number to the customer. The caller-ID controller (on customer_changed) then links this
        live call, for every later event too, and the number's earlier unlinked calls, and turns this popup into
        the customer's."""
        from app.customers import service as customers

        try:
            customers.add_phone(customer_id, self.view.number or self.view.number_raw, user=self.ctx.user_id)
        except UserError as e:
            QMessageBox.warning(self, "افزودن شماره", e.message)
            return False
        self.ctx.bus.customer_changed.emit(customer_id)
        self.ctx.bus.data_changed.emit("calls")
        return True

    def _raise_main_window(self) -> None:
        w = self.ctx.main_window
        if w is None:
            return
        try:
            if w.isMinimized():
                w.showNormal()
            w.raise_()
            w.activateWindow()
        except RuntimeError:
            pass


class CallNoteDialog(QDialog):
    """What was said on this call: saved on the call (and the customer's timeline)."""

    def __init__(self, view: svc.CallView, parent=None, call_id=None, user: int | None = None):
        super().__init__(parent)
        self.view = view
        self.user = user
        self._call_id = call_id or (lambda: view.call_id)    # read at save: the row may be written meanwhile
        self.setWindowTitle("یادداشت تماس")
        lay = QVBoxLayout(self)
        who = view.customer_name or (persian_number(view) if view.number else "تماس‌گیرنده")
        lay.addWidget(QLabel(f"یادداشت تماس با {who}:"))
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("موضوع تماس، درخواست مشتری، قرار بعدی…")
        lay.addWidget(self.text)
        self.error = QLabel()
        self.error.setProperty("role", "error")
        lay.addWidget(self.error)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        bb.button(QDialogButtonBox.StandardButton.Save).setText("ذخیره")
        bb.button(QDialogButtonBox.StandardButton.Cancel).setText("انصراف")
        bb.accepted.connect(self.save)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)
        self.resize(380, 220)

    def save(self) -> None:
        call_id = self._call_id()
        if not call_id:
            self.error.setText("این تماس هنوز در دفتر تماس‌ها ثبت نشده است (در نوبت ذخیره)؛ "
                               "چند لحظه بعد دوباره «ذخیره» را بزنید.")
            return
        try:
            call_log.set_call_note(call_id, self.text.toPlainText(), user=self.user)
        except UserError as e:
            self.error.setText(e.message)
            return
        self.accept()


class AddToCustomerDialog(QDialog):
    """Find a customer by name/company/phone and pick one (the number is added by the caller)."""

    def __init__(self, number: str, parent=None):
        super().__init__(parent)
        self.customer_id: int | None = None
        self.setWindowTitle("افزودن شماره به مشتری موجود")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"شماره {ltr(fmt.digits(call_log.display_number(number, number)))} به پرونده "
                             f"کدام مشتری افزوده شود؟"))
        self.search = QLineEdit()
        self.search.setPlaceholderText("نام، شرکت یا شماره مشتری را بنویسید…")
        lay.addWidget(self.search)
        self.results = QListWidget()
        lay.addWidget(self.results, 1)
        self.hint = QLabel()
        self.hint.setProperty("role", "muted")
        lay.addWidget(self.hint)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        bb.button(QDialogButtonBox.StandardButton.Ok).setText("افزودن")
        bb.button(QDialogButtonBox.StandardButton.Cancel).setText("انصراف")
        bb.accepted.connect(self._accept)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.results.itemDoubleClicked.connect(lambda _i: self._accept())
        self.resize(420, 360)
        self.run_search()

    def run_search(self) -> None:
        from app.customers import service as customers

        text = self.search.text().strip()
        self.results.clear()
        if not text:
            self.hint.setText("برای جستجو بنویسید.")
            return
        ids = customers.search_ids(customers.Filter(text=text))
        rows = customers.fetch_rows(ids[:50])
        for cid in ids[:50]:
            r = rows.get(cid)
            if r is None:
                continue
            label = r.name + (f" — {r.company}" if r.company and r.company != r.name else "")
            if r.phone:
                label += f"  ({ltr(fmt.digits(r.phone))})"
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, cid)
            self.results.addItem(item)
        if ids:
            self.results.setCurrentRow(0)
        more = len(ids) - 50
        self.hint.setText("مشتری‌ای پیدا نشد." if not ids else
                          (f"{fmt.digits(more)} نتیجه دیگر؛ دقیق‌تر بنویسید." if more > 0 else ""))

    def _accept(self) -> None:
        item = self.results.currentItem()
        if item is None:
            self.hint.setText("یک مشتری را از فهرست انتخاب کنید.")
            return
        self.customer_id = int(item.data(Qt.ItemDataRole.UserRole))
        self.accept()
