"""The main window: a navigation list on the right (RTL), one page per section, a status bar."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from app import APP_TITLE, options
from ui.context import AppContext
from ui.widgets.persian import fit_to_screen

logger = logging.getLogger(__name__)

# key, Persian label, module, class. A page whose module is absent shows a placeholder.
def _dashboard(ctx, parent):
    from ui.dashboard.page import DashboardPage

    return DashboardPage(ctx, parent, load_in_background=True)   # the window shows while its queries run


def _customers(ctx, parent):
    from ui.customers.page import CustomersPage

    return CustomersPage(ctx, parent)


def _calls(ctx, parent):
    from ui.calls.page import CallsPage

    return CallsPage(ctx, parent)


def _tasks(ctx, parent):
    from ui.tasks.page import TasksPage

    return TasksPage(ctx, parent)


def _invoices(ctx, parent):
    from ui.sales.invoices_page import InvoicesPage

    return InvoicesPage(ctx, parent)


def _money(ctx, parent):
    from ui.money.page import MoneyPage

    return MoneyPage(ctx, parent)


def _service(ctx, parent):
    from ui.service.page import ServicePage

    return ServicePage(ctx, parent)


def _reports(ctx, parent):
    from ui.reports.page import ReportsPage

    return ReportsPage(ctx, parent)


def _pipeline(ctx, parent):
    from ui.pipeline.page import PipelinePage

    return PipelinePage(ctx, parent)


def _sms(ctx, parent):
    from ui.sms.page import SmsPage

    return SmsPage(ctx, parent)


def _settings(ctx, parent):
    from ui.settings.page import SettingsPage

    return SettingsPage(ctx, parent)


def _audit(ctx, parent):
    from ui.office.audit_page import AuditPage

    return AuditPage(ctx, parent)


# The sections in the side bar: key, label, and the page's factory. A page is built the first time it is shown
# (its module is imported then, which keeps start-up fast); the imports are plain, so a broken page fails loudly.
SECTIONS = [
    ("dashboard", "پیشخوان", _dashboard),
    ("customers", "مشتریان", _customers),
    ("calls", "تماس‌ها", _calls),
    ("tasks", "کارتابل و پیگیری‌ها", _tasks),
    ("invoices", "پیش‌فاکتور و فاکتور", _invoices),
    ("money", "مطالبات و چک‌ها", _money),
    ("service", "خدمات پس از فروش", _service),
    ("reports", "گزارش‌ها", _reports),
    ("pipeline", "فرصت‌های فروش", _pipeline),
    ("sms", "پیامک", _sms),
    ("settings", "تنظیمات", _settings),
    ("audit", "گزارش رویدادها", _audit),
]


# The customer file and what it opens with are imported this long after the desk's background services start
# (MainWindow._warm_screens), so that the first customer opened (often from a caller-ID popup) opens as fast as
# the next ones.
WARM_AFTER_MS = 2000


def _isolated(text: str) -> str:
    """A message that may name a file or a serial port path: isolated, it reads in its own order in RTL text."""
    from app import fmt  # after the first paint (fmt brings the Jalali calendar)

    return fmt.isolate_paths(text)


class MainWindow(QMainWindow):
    # Emitted once the first section's page has replaced the stand-in (start-up with first_page_after_paint).
    first_page_ready = Signal()

    def __init__(self, ctx: AppContext | None = None, start_callerid: bool = True,
                 first_page_after_paint: bool = False):
        """`first_page_after_paint` (the program's start): the window shows and paints at once, then builds the
        dashboard, then starts the background services (caller ID, reminders…); tests build it at once."""
        super().__init__()
        self.ctx = ctx or AppContext()
        self.ctx.main_window = self
        if self.ctx.user_id is None:
            from app import settings
            from app.office.session import current_user_id

            self.ctx.user_id = current_user_id() or settings.get(options.UI_CURRENT_USER) or None
        # Qt appends the application's display name (پیوند) to a title that does not already end with it.
        self.setWindowTitle(f"مدیریت ارتباط با مشتری — {APP_TITLE}")
        fit_to_screen(self, 1280, 800)
        central = QWidget()
        lay = QHBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(190)
        self.stack = QStackedWidget()
        self.pages: dict[str, QWidget] = {}
        for key, label, _factory in SECTIONS:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.nav.addItem(item)
        lay.addWidget(self.nav)
        lay.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.nav.currentRowChanged.connect(self._on_nav)

        self.callerid_label = QLabel("شناسه تماس: خاموش")
        self.statusBar().addPermanentWidget(self.callerid_label)
        from ui.office.restrict import apply_sections, install_user_bar

        apply_sections(self)                   # sections this role may not open are not listed
        install_user_bar(self)
        self._connect_bus()
        for i, (key, *_rest) in enumerate(SECTIONS):
            sc = QShortcut(QKeySequence(f"Ctrl+{i + 1}"), self)
            sc.activated.connect(lambda k=key: self.show_section(k))
        self.callerid = None
        self.reminders = None
        self.live = None
        self.sms_auto = None
        self._start_callerid_later = start_callerid
        self._stand_in: QWidget | None = None
        self._first_paint_pending = first_page_after_paint
        if first_page_after_paint:
            # stands in for the first section until the window has been painted once: the window (side bar,
            # status bar) is on screen before the first page is built and read; then the page replaces it
            self._stand_in = QLabel("در حال بارگذاری…")
            self._stand_in.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._stand_in.setProperty("role", "muted")
            self.stack.addWidget(self._stand_in)
            self.nav.blockSignals(True)
            self.nav.setCurrentRow(0)
            self.nav.blockSignals(False)
        else:
            self.show_section("dashboard")
            if start_callerid:
                # Background services start together (tests pass start_callerid=False), just after the window is
                # up: caller ID's listener and protocol modules cost more to load than the whole first screen.
                QTimer.singleShot(0, self._start_background)

    def paintEvent(self, e) -> None:
        super().paintEvent(e)
        if self._first_paint_pending:
            self._first_paint_pending = False
            QTimer.singleShot(0, self._after_first_paint)     # once this paint has reached the screen

    def _after_first_paint(self) -> None:
        if self._stand_in is not None and self.stack.currentWidget() is self._stand_in:
            self._on_nav(self.nav.currentRow())          # no other section was chosen meanwhile
        if self._stand_in is not None:
            self.stack.removeWidget(self._stand_in)
            self._stand_in.deleteLater()
            self._stand_in = None
        self.first_page_ready.emit()
        if self._start_callerid_later:
            # after the first page's own read (the services' modules would hold the GUI thread meanwhile), or
            # after a second at most
            page = self.stack.currentWidget()
            if getattr(page, "is_loading", lambda: False)():
                page.loaded.connect(lambda: QTimer.singleShot(0, self._start_background_once))
                QTimer.singleShot(1000, self._start_background_once)
            else:
                QTimer.singleShot(0, self._start_background_once)

    def _start_background_once(self) -> None:
        if self._start_callerid_later:
            self._start_callerid_later = False
            self._start_background()

    def _start_background(self) -> None:
        self._start_callerid()
        self._start_reminders()
        self._start_live()
        self._start_service()
        self._start_sms()
        QTimer.singleShot(WARM_AFTER_MS, self._warm_screens)

    def _warm_screens(self) -> None:
        """Import, while the desk is idle after its start, what the customer file opens with (the screen a
        caller-ID popup's «پرونده مشتری» opens): its first opening took twice the next ones, most of it importing."""
        try:
            # plain imports, which a frozen build finds; the file imports the other three again when it opens
            import ui.calls.dialing
            import ui.customers.file
            import ui.pipeline.customer_box
            import ui.service.customer_tabs  # noqa: F401 - imported for later, not used here
        except Exception:  # the file imports them again when opened, and says what is wrong then
            logger.exception("could not import the customer file ahead of use")

    # --- sections ---------------------------------------------------------------------------------------
    def page(self, key: str) -> QWidget:
        """The page for a section, created on first use (keeps start-up fast)."""
        if key not in self.pages:
            factory = next(s[2] for s in SECTIONS if s[0] == key)
            widget = factory(self.ctx, self)
            from ui.office.restrict import restrict

            restrict(widget)                   # buttons this role may not use are hidden
            self.pages[key] = widget
            self.stack.addWidget(widget)
        return self.pages[key]

    def show_section(self, key: str) -> None:
        row = next(i for i, s in enumerate(SECTIONS) if s[0] == key)
        if self.nav.currentRow() != row:
            self.nav.setCurrentRow(row)
        else:
            self._on_nav(row)

    def _on_nav(self, row: int) -> None:
        if row < 0:
            return
        self.stack.setCurrentWidget(self.page(SECTIONS[row][0]))

    # --- bus --------------------------------------------------------------------------------------------
    def _connect_bus(self) -> None:
        bus = self.ctx.bus
        # methods, not lambdas: a lambda connected to the bus would keep this window (and every page in it) for as
        # long as the bus lives, past a sign-out that closes it
        bus.show_section.connect(self.show_section)
        bus.status_message.connect(self._status_message)
        bus.callerid_state.connect(self._callerid_state)
        bus.open_customer.connect(self.open_customer)
        bus.new_customer_with_phone.connect(self.new_customer_with_phone)
        bus.log_call.connect(self.log_call)
        bus.open_task.connect(self.open_task)

    def _status_message(self, message: str) -> None:
        # Messages may name a file or a serial port path: isolated, it reads in its own order in RTL text.
        self.statusBar().showMessage(_isolated(message), 5000)

    def _callerid_state(self, _key: str, text: str) -> None:
        self.callerid_label.setText(_isolated(text))

    def open_customer(self, customer_id: int) -> None:
        try:
            from ui.customers.file import open_customer_file
        except ImportError:
            logger.warning("customer file screen not available")
            return
        open_customer_file(self.ctx, customer_id)

    def new_customer_with_phone(self, number: str) -> None:
        from ui.customers.form import edit_customer

        edit_customer(self.ctx, prefill={"phones": [{"raw": number}]}, parent=self)

    def open_task(self, task_id: int) -> None:
        from ui.tasks.task_dialog import open_task_dialog

        open_task_dialog(self.ctx, task_id or None, parent=self)

    def _start_reminders(self) -> None:
        """Task/meeting alarms and birthdays; reminders missed while the app was closed show at start."""
        try:
            from ui.tasks.reminder_popup import install

            self.reminders = install(self.ctx, self)
        except Exception:  # reminders must never keep the window from opening
            logger.exception("reminders could not start")

    def _start_live(self) -> None:
        """The other desks, live (ui/office/live.py): their calls, referrals to me, their changes."""
        try:
            from ui.office.live import install

            self.live = install(self.ctx, self)
        except Exception:  # never keeps the window from opening
            logger.exception("office events could not start")
    def _start_service(self) -> None:
        """Unhandled or overdue service requests are handed to a free colleague (checked every minute)."""
        try:
            from ui.service import install

            self.service_timer = install(self.ctx, self)
        except Exception:
            logger.exception("service hand-over could not start")

    def _start_sms(self) -> None:
        """Automatic messages and delivery reports (ui/sms/auto_timer.py), when switched on in the settings."""
        try:
            from ui.sms.auto_timer import install

            self.sms_auto = install(self.ctx, self)
        except Exception:  # never keeps the window from opening
            logger.exception("automatic messages could not start")

    def open_group_sms(self, preset=None):
        """The group send (ارسال گروهی پیامک), from the SMS section or with the customer list's filter."""
        page = self.page("sms")
        return page.open_group_send(preset)

    def log_call(self, customer_id: int, call_id: int) -> None:
        try:
            from ui.calls.call_dialog import CallDialog
        except ImportError:
            logger.warning("call dialog not available")
            return
        dlg = CallDialog(self.ctx, customer_id=customer_id or None, call_id=call_id or None, parent=self)
        dlg.show()

    def _start_callerid(self) -> None:
        try:
            from ui.calls.controller import CallerIdController
        except ImportError:
            return
        try:
            self.callerid = CallerIdController(self.ctx, self)
            self.callerid.start()
        except Exception:  # caller ID must never keep the window from opening
            logger.exception("caller ID could not start")
            self.callerid_label.setText("شناسه تماس: خطا در راه‌اندازی")

    def closeEvent(self, event) -> None:
        if self.sms_auto is not None:
            self.sms_auto.stop()
        if self.live is not None:
            self.live.stop()
        if self.callerid is not None:
            try:
                self.callerid.stop()
            except Exception:
                logger.exception("caller ID stop failed")
        super().closeEvent(event)
