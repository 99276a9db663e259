"""Background jobs (ui/ops.py): delivery on the GUI thread, a responsive GUI during a long job, Persian
failures, progress dialog and cancel, shutdown; and every long action of the program runs off the GUI thread.

Real parts: a real SQLite file, real widgets (offscreen), real Excel/PDF files, a real pty for the modem."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEvent, QObject, QThread, QTimer
from PySide6.QtWidgets import QMessageBox, QPushButton

from app.core.errors import UserError
from ui.ops import Cancelled, QueryOp, error_text, run_on_main, taskman

ROOT = Path(__file__).resolve().parents[2]


def on_gui() -> bool:
    return QThread.currentThread() is QCoreApplication.instance().thread()


@pytest.fixture(autouse=True)
def _no_job_left(qapp, qtbot):
    """Every test leaves no job behind (a job still running would touch the next test's database)."""
    yield
    assert taskman().wait(20_000), "a background job was still running"
    qtbot.waitUntil(lambda: not taskman().jobs, timeout=5_000)


class Recorder:
    """Wrap a service function: remember the thread it ran on (and whether that was the writer)."""

    def __init__(self, fn):
        self.fn = fn
        self.threads: list[int] = []
        self.on_writer: list[bool] = []

    def __call__(self, *args, **kwargs):
        from models.writer import writer

        self.threads.append(threading.get_ident())
        self.on_writer.append(writer.on_writer_thread())
        return self.fn(*args, **kwargs)

    def off_gui(self) -> bool:
        return bool(self.threads) and threading.main_thread().ident not in self.threads


# --- the helper itself -------------------------------------------------------------------------------------

def test_success_and_progress_arrive_on_the_gui_thread(qtbot):
    seen: dict = {"progress": [], "progress_on_gui": set()}

    def job(ctl):
        seen["job_thread"] = threading.get_ident()
        seen["job_on_gui"] = on_gui()
        for i in range(1, 51):
            ctl.progress(i, 50)
            time.sleep(0.002)
        return "تمام"

    def progress(done, total):
        seen["progress"].append((done, total))
        seen["progress_on_gui"].add(on_gui())

    def success(result):
        seen["result"] = result
        seen["success_on_gui"] = on_gui()

    op = QueryOp(None, job, success).on_progress(progress).run()
    assert op.running
    qtbot.waitUntil(lambda: "result" in seen, timeout=5_000)
    assert seen["result"] == "تمام" and seen["success_on_gui"] is True
    assert seen["job_on_gui"] is False and seen["job_thread"] != threading.get_ident()
    assert seen["progress_on_gui"] == {True}
    assert seen["progress"][-1] == (50, 50)                     # the last value always arrives …
    assert seen["progress"] == sorted(seen["progress"])          # … in order, never after success
    assert not op.running and op.result == "تمام" and op.error is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_a_long_job_runs_below_the_gui_and_a_prompt_read_beside_it(qtbot):
    """A long job's thread is niced below the GUI thread; a short read the user waits for (prompt) keeps the
    GUI's priority, even right after long jobs ran (its threads are its own, never lowered)."""
    gui = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: dict = {}

    def nice_of(key):
        def job(_ctl):
            seen[key] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return job

    for i in range(3):
        QueryOp(None, nice_of(f"long{i}")).run()
    qtbot.waitUntil(lambda: all(f"long{i}" in seen for i in range(3)), timeout=5_000)
    for i in range(3):
        QueryOp(None, nice_of(f"prompt{i}")).prompt().run()
    qtbot.waitUntil(lambda: all(f"prompt{i}" in seen for i in range(3)), timeout=5_000)
    assert all(seen[f"long{i}"] > gui for i in range(3))
    assert all(seen[f"prompt{i}"] == gui for i in range(3))


def test_a_read_asked_for_when_another_is_delivered_does_not_wait_behind_a_long_one(qtbot):
    """One reader is held by a long read. Reads asked for one after another, each from the last one's callback
    (a list drawn, then its footer read), go to the other reader: when a read's outcome reaches the GUI thread,
    its reader already counts it as ended, so the next one is not queued behind the long one."""
    from models.reader import readers

    gate = threading.Event()
    QueryOp(None, lambda _ctl: gate.wait(20)).prompt().run()
    qtbot.waitUntil(lambda: readers.busy() == 1, timeout=5_000)
    busy_when_delivered: list[int] = []

    def next_read(_got=None):
        if _got is not None:
            busy_when_delivered.append(readers.busy())
        if len(busy_when_delivered) < 50:
            QueryOp(None, lambda _ctl: sum(range(2_000)), next_read).prompt().run()

    next_read()
    try:
        qtbot.waitUntil(lambda: len(busy_when_delivered) == 50, timeout=5_000)
    finally:
        gate.set()
    assert busy_when_delivered == [1] * 50          # only the long read


def test_run_on_main_hops_back_to_the_gui_thread(qtbot):
    where: list[bool] = []

    def job(ctl):
        run_on_main(lambda: where.append(on_gui()))
        return None

    QueryOp(None, job).run()
    qtbot.waitUntil(lambda: bool(where), timeout=5_000)
    assert where == [True]


def test_a_user_error_is_shown_in_persian_by_default(qtbot):
    from PySide6.QtWidgets import QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()

    def job(ctl):
        raise UserError("فایل «x.xlsx» پیدا نشد.")

    op = QueryOp(parent, job).run()
    qtbot.waitUntil(lambda: op.error_box is not None, timeout=5_000)
    box = op.error_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "«x.xlsx»" in box.text() and "پیدا نشد" in box.text() and box.parent() is parent
    box.close()


def test_failure_handler_gets_the_exception_on_the_gui_thread(qtbot):
    got: list = []

    def job(ctl):
        raise ValueError("boom")

    op = QueryOp(None, job, lambda r: got.append(("ok", r))).failure(lambda e: got.append((e, on_gui())))
    op.run()
    qtbot.waitUntil(lambda: bool(got), timeout=5_000)
    exc, gui = got[0]
    assert isinstance(exc, ValueError) and gui is True and op.error_box is None
    assert "پیش‌بینی‌نشده" in error_text(exc)                    # never a traceback for the user


def test_cancel_stops_the_job_and_says_so_on_the_gui_thread(qtbot):
    started = threading.Event()
    got: list = []

    def job(ctl):
        started.set()
        while True:
            ctl.check()
            time.sleep(0.01)

    op = QueryOp(None, job).failure(lambda e: got.append((e, on_gui()))).run()
    assert started.wait(5)
    op.cancel()
    qtbot.waitUntil(lambda: bool(got), timeout=5_000)
    assert isinstance(got[0][0], Cancelled) and got[0][1] is True
    assert got[0][0].message == "کار لغو شد."


def test_progress_dialog_appears_for_a_long_job_and_its_cancel_button_cancels(qtbot):
    from PySide6.QtWidgets import QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    stopped = threading.Event()

    def job(ctl):
        n = 0
        while not ctl.cancelled():
            n += 1
            ctl.progress(n % 100, 100)
            time.sleep(0.01)
        stopped.set()
        raise Cancelled()

    op = QueryOp(parent, job).with_progress("در حال ساختن PDF…", delay_ms=100).run()
    dlg = op.dialog
    qtbot.waitUntil(lambda: dlg.isVisible(), timeout=5_000)
    assert dlg.labelText() == "در حال ساختن PDF…" and dlg.isModal()
    cancel = [b for b in dlg.findChildren(QPushButton) if b.text() == "انصراف"]
    assert cancel
    cancel[0].click()
    assert stopped.wait(5)
    qtbot.waitUntil(lambda: not op.running, timeout=5_000)
    assert isinstance(op.error, Cancelled) and op.error_box is None   # cancelled by the user: no message
    assert op.dialog is None and (not shiboken6.isValid(dlg) or not dlg.isVisible())


def test_a_short_job_shows_no_progress_dialog(qtbot):
    shown: list = []
    spy = _ShowSpy(shown)
    op = QueryOp(None, lambda ctl: 1).with_progress("در حال کار…", delay_ms=400)
    op.run()
    op.dialog.installEventFilter(spy)
    qtbot.waitUntil(lambda: not op.running, timeout=5_000)
    qtbot.wait(500)
    assert shown == [] and op.dialog is None


class _ShowSpy(QObject):
    def __init__(self, shown):
        super().__init__()
        self.shown = shown

    def eventFilter(self, obj, event):  # Qt naming
        if event.type() == QEvent.Type.Show:
            self.shown.append(obj)
        return False


def test_the_gui_stays_responsive_during_a_two_second_job(qtbot):
    """A 10 ms heartbeat keeps beating while a CPU-bound job runs for 2 s; the same work on the GUI thread
    would stop it for the whole 2 s."""
    gaps: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def beat():
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(beat)

    def job(ctl):
        end = time.monotonic() + 2.0
        n = 0
        while time.monotonic() < end:
            sum(i * i for i in range(2_000))          # real Python work, holding the GIL between switches
            n += 1
            ctl.progress(n, 0)
        return n

    timer.start()
    op = QueryOp(None, job).run()
    qtbot.waitUntil(lambda: not op.running, timeout=10_000)
    timer.stop()
    during = gaps[3:]                                 # the first beats include start-up
    print(f"\nheartbeat during a 2 s job: {len(during)} beats, mean {sum(during) / len(during):.1f} ms, "
          f"largest gap {max(during)} ms")
    assert op.result and op.result > 10
    assert len(during) > 100, len(during)
    assert max(during) < 50, f"largest gap {max(during)} ms over {len(during)} beats"
    # the measurement can fail: the same work on the GUI thread (0.3 s of it) stops the heartbeat
    gaps.clear()
    timer.start()
    qtbot.wait(50)
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        sum(i * i for i in range(2_000))
    qtbot.wait(50)
    timer.stop()
    print(f"the same work on the GUI thread: largest gap {max(gaps)} ms")
    assert max(gaps) >= 250


def test_shutdown_waits_for_a_running_job_and_ends_cleanly(qtbot):
    ended = threading.Event()
    delivered: list = []

    def job(ctl):
        time.sleep(0.5)                               # does not look at cancel: shutdown must wait for it
        ended.set()
        return "ok"

    QueryOp(None, job, delivered.append).run()
    t0 = time.monotonic()
    assert taskman().shutdown(grace_ms=3_000, cancel_ms=1_000)
    assert ended.is_set() and time.monotonic() - t0 < 3
    assert delivered == ["ok"] and not taskman().jobs and taskman().active_threads() == 0


def test_shutdown_cancels_a_long_job_after_the_grace(qtbot):
    got: list = []

    def job(ctl):
        while True:
            ctl.check()
            time.sleep(0.01)

    op = QueryOp(None, job).failure(got.append).run()
    t0 = time.monotonic()
    assert taskman().shutdown(grace_ms=200, cancel_ms=5_000)
    assert time.monotonic() - t0 < 2
    assert not op.thread_running and isinstance(op.error, Cancelled) and got == [op.error]


def test_quitting_the_app_with_a_job_running_exits_cleanly(tmp_path):
    """A real process: the app quits while a job runs; the job ends, no thread is left, exit code 0."""
    marker = tmp_path / "job-ended"
    script = tmp_path / "quit.py"
    script.write_text(textwrap.dedent(f"""
        import time
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from ui.ops import QueryOp, taskman

        def job(ctl):
            for _ in range(1000):              # 10 s, looking at cancel: shutdown cancels it after its grace
                if ctl.cancelled():
                    break
                time.sleep(0.01)
            time.sleep(0.3)                    # and some work that cannot be cancelled
            open({str(marker)!r}, "w").write("cancelled" if ctl.cancelled() else "ended")
            return 1

        QueryOp(None, job).run()
        QTimer.singleShot(100, app.quit)
        app.exec()
        print("active", taskman().active_threads(), flush=True)
    """), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "QThread" not in proc.stderr and "Destroyed" not in proc.stderr
    assert marker.read_text() == "cancelled" and "active 0" in proc.stdout
    assert time.monotonic() - t0 < 9                       # the grace (2 s) and the cancel, not the 10 s


def test_each_job_closes_its_database_connection(qtbot, db):
    from models.base import db as database
    from models.core import Customer

    conns: list = []

    def job(ctl):
        n = Customer.select().count()
        conns.append(database.connection())
        return n

    op = QueryOp(None, job).run()
    qtbot.waitUntil(lambda: not op.running, timeout=5_000)
    assert op.result == 0 and conns
    import sqlite3

    with pytest.raises(sqlite3.ProgrammingError):
        conns[0].execute("SELECT 1")                  # closed by the job's thread when it ended


def test_no_raw_threads_in_the_gui_package():
    """threading.Thread and QThread subclasses only in ui/ops.py (which uses a thread pool instead)."""
    found = []
    for path in sorted((ROOT / "ui").rglob("*.py")):
        if path.name == "ops.py" and path.parent.name == "ui":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if name in ("Thread", "QThread", "Timer", "start_new_thread"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}()")
            elif isinstance(node, ast.ClassDef):
                for base in node.bases:
                    name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
                    if name in ("Thread", "QThread"):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} class {node.name}({name})")
            elif isinstance(node, ast.ImportFrom) and node.module in ("threading", "_thread"):
                if any(a.name in ("Thread", "Timer") for a in node.names):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} import Thread")
    assert found == []


# --- every long action runs off the GUI thread ---------------------------------------------------------------

def test_excel_import_reads_checks_and_writes_off_the_gui_thread(qtbot, db, persian_app, monkeypatch, tmp_path):
    from app.excel import importer as ei
    from app.excel.importer import writing
    from models.core import Customer
    from ui.excel.import_wizard import ImportWizard

    rec = {name: Recorder(getattr(ei, name)) for name in ("load_table", "analyse", "import_rows")}
    for name, r in rec.items():
        monkeypatch.setattr(ei, name, r)
    write_job = Recorder(writing._write)
    monkeypatch.setattr(writing, "_write", write_job)
    p = tmp_path / "x.csv"
    p.write_text("نام,موبایل\nعلی کریمی,09121234567\nمریم احمدی,09351234567\n", encoding="utf-8")
    w = ImportWizard()
    qtbot.addWidget(w)
    w.show()
    w.load(p)
    qtbot.waitUntil(lambda: w.table is not None and not w.busy, timeout=10_000)
    w.next()
    w.next()
    qtbot.waitUntil(lambda: w.report is not None and not w.busy, timeout=10_000)
    w.next()
    ip = w.import_page
    qtbot.waitUntil(lambda: ip.result is not None or ip.failed, timeout=20_000)
    assert not ip.failed, ip.status.text()
    assert Customer.select().count() == 2
    assert all(r.off_gui() for r in rec.values()), {k: r.threads for k, r in rec.items()}
    # the rows are decided on the worker with no lock held; the writes then go through the one door as one job
    assert rec["import_rows"].on_writer == [False]
    assert write_job.on_writer == [True] and write_job.off_gui()


def test_excel_export_runs_off_the_gui_thread(qtbot, db, persian_app, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    from app.customers import service as cs
    from app.excel import export as excel_export
    from ui.context import AppContext
    from ui.excel.export_dialog import export_customers

    cs.create_customer({"first_name": "حسن", "last_name": "موسوی", "phones": [{"raw": "09127778899"}]})
    rec = Recorder(excel_export.export_customers)
    monkeypatch.setattr(excel_export, "export_customers", rec)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "c.xlsx"), ""))
    dlg = export_customers(AppContext(), cs.Filter())
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.outcome is not None or bool(dlg.error), timeout=20_000)
    assert dlg.error is None and dlg.outcome.rows == 1 and (tmp_path / "c.xlsx").exists()
    assert rec.off_gui()


@pytest.fixture
def invoices(db, qtbot, persian_app):
    import datetime as dt

    from app.core import clock
    from app.sales.documents import create_invoice
    from app.sales.totals import LineInput
    from tests.sales.helpers_sales import VALID_CODE, make_customer
    from ui.context import AppContext
    from ui.sales.invoices_page import InvoicesPage

    clock.set_now(dt.datetime(2026, 11, 24, 10, 0))
    c1 = make_customer("رضا کریمی", national_id=VALID_CODE)
    inv = create_invoice(c1, [LineInput("خدمات نصب", 1, 2_000_000)], settlement="credit")
    page = InvoicesPage(AppContext())
    qtbot.addWidget(page)
    page.show()
    yield page.documents, inv
    del page


def test_invoice_pdf_and_print_preview_render_off_the_gui_thread(qtbot, invoices, monkeypatch, tmp_path):
    from pypdf import PdfReader

    from app.sales import invoice_pdf

    tab, inv = invoices
    rec = Recorder(invoice_pdf.render_document)
    monkeypatch.setattr(invoice_pdf, "render_document", rec)
    out = tmp_path / "inv.pdf"
    job = tab.save_pdf(inv.id, str(out))
    qtbot.waitUntil(lambda: not job.running, timeout=20_000)
    assert job.error is None and len(PdfReader(str(out)).pages) == 1
    job = tab.preview(inv.id)                                  # the user's path: the dialog opens by itself
    qtbot.waitUntil(lambda: not job.running, timeout=20_000)
    dlg = tab.last_preview
    qtbot.waitUntil(lambda: dlg.isVisible(), timeout=5_000)
    assert len(job.result) == 1 and job.result[0].width() > 2000     # 300 dpi page images, made off-thread
    assert len(rec.threads) == 2 and rec.off_gui()
    dlg.close()


def test_a_preview_of_a_missing_invoice_is_a_persian_message(qtbot, invoices):
    tab, _inv = invoices
    job = tab.preview(999_999)
    qtbot.waitUntil(lambda: job.error_box is not None, timeout=20_000)
    assert job.error_box.text() and "Traceback" not in job.error_box.text()
    assert isinstance(job.error, UserError) and job.error_box.text() == job.error.message
    job.error_box.close()


def test_backup_now_runs_off_the_gui_thread(qtbot, db, persian_app, monkeypatch):
    from app import backup
    from ui.context import AppContext
    from ui.settings.backup_panel import BackupPanel

    rec = Recorder(backup.backup)
    monkeypatch.setattr(backup, "backup", rec)
    panel = BackupPanel(AppContext())
    qtbot.addWidget(panel)
    panel.show()
    job = panel.backup_now()
    assert not panel.now_btn.isEnabled()                        # one at a time
    qtbot.waitUntil(lambda: not job.running, timeout=20_000)
    assert job.error is None and job.result.exists() and panel.now_btn.isEnabled()
    assert "پشتیبان ذخیره شد" in panel.message.text() and panel.list.count() == 1
    assert rec.off_gui()


def test_startup_backup_runs_off_the_gui_thread_and_stops_when_cancelled(qtbot, db, monkeypatch):
    from app import backup
    from app.core.paths import backup_dir
    from models.base import db as database
    from ui.application import start_backup

    path = Path(database.obj.database)
    rec = Recorder(backup.auto_backup)
    monkeypatch.setattr(backup, "auto_backup", rec)
    job = start_backup(path)
    qtbot.waitUntil(lambda: not job.running, timeout=20_000)
    assert job.error is None and job.result.exists() and job.result.parent == backup_dir()
    assert rec.off_gui()
    # cancelled (the program closing): it stops between pages and leaves no file behind
    before = set(backup_dir().iterdir())
    with pytest.raises(backup.BackupCancelled):
        backup.backup(path, folder=backup_dir(), tag="auto", cancel=lambda: True)
    assert set(backup_dir().iterdir()) == before


def test_demo_data_is_written_off_the_gui_thread(qtbot, db, persian_app, monkeypatch):
    from app.demo import customers as demo
    from models.core import Customer
    from ui.application import seed_demo_data

    rec = Recorder(demo.seed)
    monkeypatch.setattr(demo, "seed", rec)
    beats: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: beats.append(1))
    timer.start(10)
    assert seed_demo_data(customers=40)
    timer.stop()
    assert Customer.select().count() == 40
    assert rec.off_gui() and rec.on_writer == [True]
    assert beats                                                # the event loop ran while it worked


def test_port_test_runs_off_the_gui_thread(qtbot, db, persian_app, monkeypatch):
    from app.callerid import modem
    from app.callerid.simulator import Simulator, SimulatorOptions
    from ui.context import AppContext
    from ui.settings.callerid_panel import CallerIdPanel

    rec = Recorder(modem.probe)
    monkeypatch.setattr(modem, "probe", rec)
    p = CallerIdPanel(AppContext())
    qtbot.addWidget(p)
    p.show()
    with Simulator(SimulatorOptions(device="modem")) as sim:
        p.port.setEditText(sim.port)
        p.test_port()
        assert not p.test_btn.isEnabled()
        qtbot.waitUntil(lambda: p.test_btn.isEnabled(), timeout=8000)
    assert "درگاه پاسخ داد" in p.test_result.text()
    assert rec.off_gui() and p.port_test.worker_thread == rec.threads[0]


def test_a_job_whose_window_closed_does_not_call_back_into_it(qtbot):
    from PySide6.QtWidgets import QWidget

    parent = QWidget()
    called: list = []
    release = threading.Event()

    def job(ctl):
        release.wait(5)
        return 1

    op = QueryOp(parent, job, called.append).run()
    shiboken6.delete(parent)                          # the window is closed and gone while the job runs
    release.set()
    qtbot.waitUntil(lambda: not op.running, timeout=5_000)
    assert called == [] and op.result == 1
