"""GUI start-up: one function that logs each step (language, direction, font, database, backup, window)."""
from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from pathlib import Path

logger = logging.getLogger(__name__)

STYLE = """
QWidget { font-size: 10pt; }
QMainWindow, QDialog { background: #f6f7f9; }
QListWidget#nav { background: #24344d; color: #e8edf5; border: none; font-size: 11pt; }
QListWidget#nav::item { padding: 10px 14px; }
QListWidget#nav::item:selected { background: #3b82f6; color: white; }
QLabel[role="title"] { font-size: 15pt; font-weight: bold; color: #1f2937; }
QLabel[role="muted"] { color: #6b7280; }
QLabel[role="error"] { color: #dc2626; font-size: 9pt; }
QTableView { background: white; alternate-background-color: #f3f6fa; gridline-color: #e5e7eb;
             selection-background-color: #dbeafe; selection-color: #111827; }
QHeaderView::section { background: #eef1f5; padding: 4px; border: none; border-bottom: 1px solid #d1d5db;
                       font-weight: bold; }
QPushButton { padding: 5px 12px; }
QScrollBar:vertical { background: #f1f3f6; width: 10px; margin: 0; border: none; }
QScrollBar:horizontal { background: #f1f3f6; height: 10px; margin: 0; border: none; }
QScrollBar::handle { background: #c3cad4; border-radius: 4px; margin: 1px; }
QScrollBar::handle:hover, QScrollBar::handle:pressed { background: #9aa4b2; }
QScrollBar::handle:vertical { min-height: 28px; }
QScrollBar::handle:horizontal { min-width: 28px; }
QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; border: none; }
QScrollBar::add-page, QScrollBar::sub-page { background: none; }
"""


def no_display() -> bool:
    if sys.platform.startswith("linux"):
        platform = os.environ.get("QT_QPA_PLATFORM", "")
        if platform in ("offscreen", "minimal", "vnc"):
            return False
        return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return False


def setup_qt_app(argv: list[str] | None = None):
    """Create the QApplication with Persian locale, right-to-left layout, Vazirmatn and the style sheet."""
    from PySide6.QtCore import QLibraryInfo, QLocale, Qt, QTranslator
    from PySide6.QtGui import QFont, QFontDatabase, QIcon
    from PySide6.QtWidgets import QApplication

    from app import APP_ID, APP_NAME, APP_TITLE
    from app.core.paths import resources_dir
    from app.core.qtcompat import guard_pyside

    guard_pyside()
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_TITLE)
    lang = os.environ.get("CRM_LANG", "fa")
    if lang == "fa":
        QLocale.setDefault(QLocale(QLocale.Language.Persian, QLocale.Country.Iran))
        app.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        tr = QTranslator(app)
        if tr.load(QLocale(QLocale.Language.Persian), "qtbase", "_",
                   QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            app.installTranslator(tr)
    family = None
    for ttf in sorted((resources_dir() / "fonts").glob("Vazirmatn-*.ttf")):
        fid = QFontDatabase.addApplicationFont(str(ttf))
        if fid >= 0 and family is None:
            fams = QFontDatabase.applicationFontFamilies(fid)
            family = fams[0] if fams else None
    if family:
        app.setFont(QFont(family, 10))
    icon = resources_dir() / "icons" / "peyvand.png"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    app.setDesktopFileName(APP_ID)          # the desktop shell matches the window to resources/linux/<APP_ID>.desktop
    app.setStyleSheet(STYLE)
    return app


def install_excepthook() -> None:
    """Log any uncaught exception and show it in Persian with the details behind a button; never exit."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    def hook(exc_type, exc, tb):
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        logger.error("uncaught exception:\n%s", details)
        from app.core.errors import UserError

        if QApplication.instance() is None:
            return
        box = QMessageBox()
        box.setIcon(QMessageBox.Icon.Warning if isinstance(exc, UserError) else QMessageBox.Icon.Critical)
        box.setWindowTitle("خطا")
        if isinstance(exc, UserError):
            box.setText(exc.message)
        else:
            box.setText("خطای پیش‌بینی‌نشده‌ای رخ داد. کار شما ذخیره شده است؛ جزئیات در پرونده گزارش ثبت شد.")
            box.setDetailedText(details)
        box.exec()

    sys.excepthook = hook


BACKUP_DELAY_MS = 3000
COLLECTOR_DELAY_MS = 2000            # start-up's objects are frozen this long after the window is shown


class StartChecks:
    """What the start owes the database file once the window is up: the page check skipped at open for a file
    sealed at its last clean close (models.connection.seal), then the start-up backup. Damage found stops the
    backup (a damaged copy must never rotate a good one out), is shown, and closes the program; the file is
    sealed again at a clean exit only when its pages were checked in this run (at exit, if it closes first)."""

    def __init__(self, path: Path, owe_check: bool, parent=None, quit=None):
        self.path = path
        self.quit = quit
        self.owe_check = owe_check
        self.parent = parent
        self.checked = not owe_check
        self.damaged = False
        self.job = None
        self.box = None

    def start(self):
        self.job = start_backup(self.path, check=self.owe_check, on_checked=self._checked,
                                on_damaged=self._damaged)
        return self.job

    def _checked(self) -> None:
        self.checked = True

    def _damaged(self, message: str) -> None:
        from PySide6.QtWidgets import QApplication, QMessageBox

        self.damaged = True
        from app import fmt

        box = QMessageBox(QMessageBox.Icon.Critical, "پایگاه داده آسیب دیده است", fmt.isolate_message(message),
                          QMessageBox.StandardButton.Ok, self.parent)
        box.setObjectName("damaged-database")
        box.finished.connect(lambda _r: (self.quit or QApplication.quit)())
        self.box = box                              # kept: a parentless box would be deleted with its wrapper
        box.open()

    def close(self) -> bool:
        """At a clean exit: close the database and seal the file once its pages are known whole (checked now if
        the program closes before its background check ran). True if sealed."""
        from models.connection import close_database, quick_check, seal
        from models.reader import readers
        from models.writer import writer

        writer.shutdown()
        readers.shutdown()
        close_database()
        if self.damaged:
            return False
        if not self.checked:
            problem = quick_check(self.path)
            if problem is not None:
                logger.error("damaged database found at exit: %s", problem)
                return False
        return seal(self.path)


def start_backup(path, check: bool = False, on_checked=None, on_damaged=None):
    """The start-up backup runs beside the window as a background job (SQLite's online backup API reads a
    consistent snapshot), so a large database does not delay the first screen. Closing the program while it
    runs stops it between pages (no half file). check: read every page first (the start skipped that for a
    sealed file); damage skips the backup and goes to on_damaged(message). Returns the job, or None when there
    is nothing to do (backups at start off and no check owed)."""
    from app import options, settings
    from app.backup import auto_backup
    from app.core.errors import DatabaseError
    from models.connection import damaged, quick_check
    from ui.ops import QueryOp, error_text

    take_backup = bool(settings.get(options.BACKUP_ON_START))
    if not take_backup and not check:
        return None
    keep = settings.get(options.BACKUP_KEEP)

    passed = []                                    # set by the job once the pages were read whole

    def work(ctl):
        if check:
            problem = quick_check(path)
            if problem is not None:
                raise damaged(path, problem, in_use=True)
            passed.append(True)
        return auto_backup(path, keep=keep, cancel=ctl.cancelled) if take_backup else None

    def done(out) -> None:
        if passed and on_checked is not None:
            on_checked()
        if out is not None:
            logger.info("start-up backup written: %s", out)

    def failed(exc: BaseException) -> None:       # a failed backup never takes the program down
        if passed and on_checked is not None:
            on_checked()
        if isinstance(exc, DatabaseError) and not passed and check:
            logger.error("damaged database found by the background check: %s", exc.details)
            if on_damaged is not None:
                on_damaged(exc.message)
            return
        logger.warning("start-up backup failed: %s", error_text(exc))

    return QueryOp(None, work, done, name="startup-backup").failure(failed).run()


def seed_demo_data(customers: int = 300) -> bool:
    """`crm --demo-if-empty`: sample data for a fresh database, written through the one door in the
    background while a progress window stays responsive; the main window opens after it."""
    from PySide6.QtWidgets import QMessageBox

    from ui.ops import QueryOp, error_text

    def work(ctl):
        from app.demo.customers import seed
        from models.writer import writer

        return writer.run(seed, customers=customers, progress=ctl.label)

    failure: list[BaseException] = []
    op = QueryOp(None, work, lambda counts: logger.info("demo data created: %s", counts), name="demo-data",
                 title="داده نمونه").failure(failure.append).with_progress("در حال ساختن داده نمونه…",
                                                                           cancellable=False)
    if op.exec():
        return True
    QMessageBox.warning(None, "داده نمونه", "داده نمونه ساخته نشد: " + error_text(failure[0]))
    return False


def offer_restore(backup_file: Path, db_path: Path | None) -> bool:
    """A backup file opened from the file manager (the installer's file association): say what it is and offer to
    restore it into this desk's database before anything opens it. Returns True when it was restored; a refusal
    (a damaged file, another desk using the database) is shown in Persian and the program opens as it was."""
    from PySide6.QtWidgets import QMessageBox

    from app import backup, fmt
    from app.core.errors import UserError

    if db_path is None:
        QMessageBox.information(None, "بازگردانی پشتیبان", "پایگاه داده این میز روی سرور PostgreSQL است؛ پشتیبان "
                                "سرور را روی خود سرور بازگردانید (راهنما در README).")
        return False
    answer = QMessageBox.question(
        None, "بازگردانی پشتیبان",
        f"پایگاه داده برنامه با پشتیبان «{fmt.path(backup_file)}» جایگزین شود؟\n"
        f"داده‌های کنونی پیش از آن در یک نسخه ایمنی نگه داشته می‌شوند.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    if answer != QMessageBox.StandardButton.Yes:
        logger.info("restore of %s declined", backup_file)
        return False
    try:
        safety = backup.restore(backup_file, db_path)
    except UserError as e:
        QMessageBox.critical(None, "بازگردانی پشتیبان", e.message)
        return False
    logger.info("restored %s from %s", db_path, backup_file)
    QMessageBox.information(None, "بازگردانی پشتیبان", "بازگردانی انجام شد." + (
        f" نسخه پیشین در «{fmt.path(safety)}» نگه داشته شد." if safety else ""))
    return True


def run_gui(args) -> int:
    t0 = time.perf_counter()
    if no_display():
        print("نمایشگری پیدا نشد (DISPLAY خالی است). برنامه را روی میزکار اجرا کنید، یا با xvfb-run؛ "
              "برای آزمایش بدون نمایشگر QT_QPA_PLATFORM=offscreen را تنظیم کنید.", file=sys.stderr)
        return 3
    from app.core import logs

    previous_crash = logs.enable_faulthandler()
    app = setup_qt_app()
    from ui.collector import Collector

    collector = Collector(app)             # the cycle collector runs on the GUI thread only, from here on
    try:
        return _run_gui(args, app, collector, previous_crash, t0)
    finally:
        collector.stop()


class UpgradeNotice:
    """A window shown while a database written by an earlier version is brought up to date before the first
    screen: a copy of the file is made first, and a large file's new indexes take minutes, during which nothing
    else would be on screen (and the user might start the program again)."""

    TEXT = ("پایگاه داده برای این نسخهٔ برنامه به‌روز می‌شود؛ پیش از آن یک نسخهٔ پشتیبان از آن ساخته می‌شود.\n"
            "در پایگاه‌های دادهٔ بزرگ این کار چند دقیقه طول می‌کشد. لطفاً برنامه را نبندید و دوباره باز نکنید.")

    def __init__(self, app) -> None:
        self._app = app
        self.window = None

    def show(self, _numbers: list[int]) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QLabel

        label = QLabel(self.TEXT)
        label.setWindowTitle("پیوند — به‌روزرسانی پایگاه داده")
        label.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        label.setMargin(24)
        label.setMinimumWidth(560)
        label.show()
        self.window = label
        for _ in range(3):                   # painted before the work holds this thread
            self._app.processEvents()

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
            self.window.deleteLater()
            self.window = None


def _run_gui(args, app, collector, previous_crash: bool, t0: float) -> int:
    logger.info("qt application ready in %.0f ms", (time.perf_counter() - t0) * 1000)
    install_excepthook()
    from PySide6.QtWidgets import QMessageBox

    from app.core.errors import UserError
    from models.pgdriver import without_driver

    # peewee is imported without PostgreSQL's driver: a desk on an SQLite file never needs it, and opening a
    # server's database gives it to peewee then (models.connection.make_database)
    with without_driver():
        from models.connection import open_database, resolve_url, sqlite_path_of

    try:
        url = resolve_url(args.db)          # a malformed --db is refused here, in Persian
        path = sqlite_path_of(url)
        if getattr(args, "open_backup", None):
            offer_restore(Path(args.open_backup), path)
        fresh = path is not None and (not path.exists() or path.stat().st_size == 0)
        # a new file only for the default data folder (first start); a file sealed at its last clean close
        # opens without reading every page first (that check follows in the background)
        notice = UpgradeNotice(app)
        try:
            open_database(args.db, defer_check=True, upgrading=notice.show)
        finally:
            notice.close()
    except UserError as e:
        from app import fmt

        QMessageBox.critical(None, "پایگاه داده", fmt.isolate_message(e.message))
        return 2
    from models.connection import take_unchecked

    owe_check = take_unchecked(path)
    backup_path = path if path is not None and not fresh else None
    logger.info("database ready in %.0f ms", (time.perf_counter() - t0) * 1000)
    if fresh and getattr(args, "demo_if_empty", False):
        seed_demo_data(customers=300)
    from app import options, settings
    from app.office.users import ensure_default_user

    ensure_default_user()
    from ui.office.gate import sign_in_at_start

    principal = sign_in_at_start()           # the first admin's password, a remembered desk, or the sign-in form
    if principal is None:
        return 0
    settings.set(options.UI_CURRENT_USER, principal.user_id)
    from ui.context import AppContext
    from ui.main_window import MainWindow

    win = MainWindow(AppContext(user_id=principal.user_id), first_page_after_paint=True)
    win.show()
    logger.info("main window shown in %.0f ms", (time.perf_counter() - t0) * 1000)
    from PySide6.QtCore import QTimer

    QTimer.singleShot(COLLECTOR_DELAY_MS, collector.start)   # start-up's objects frozen once the first screen is up
    checks = StartChecks(path, owe_check, win) if path is not None else None
    if checks is not None and (backup_path is not None or owe_check):
        # Once the first screen is up: the check and the copy read the whole file, and on a large database they
        # competed with the first screen's reads for the disk and the processor.
        from PySide6.QtCore import QTimer

        QTimer.singleShot(BACKUP_DELAY_MS, checks.start)
    if previous_crash:
        QMessageBox.warning(win, "گزارش خطا",
                            "برنامه دفعه پیش ناگهان بسته شد. گزارش آن در پوشه logs ذخیره شده است.")
    quit_after = getattr(args, "quit_after", None)
    if quit_after:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(int(quit_after * 1000), app.quit)
    rc = app.exec()
    if checks is not None:
        try:
            checks.close()
        except Exception:  # the seal only saves the next start some time
            logger.exception("closing the database at exit failed")
    return rc
