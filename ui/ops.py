"""Long work off the GUI thread: one task manager and one fluent helper (after Anki's QueryOp/CollectionOp).

    QueryOp(parent=self, op=lambda ctl: export(path, progress=ctl.progress, cancel=ctl.cancelled),
            success=lambda result: ...)                 # on the GUI thread
        .failure(lambda exc: ...)                       # default: a Persian message box (UserError.message)
        .with_progress("در حال ساختن PDF…")             # a modal progress dialog with «انصراف» if the job is long
        .run()

    run_on_main(fn)                                     # from a worker: call fn on the GUI thread, soon

The job gets a Control: ``progress(done, total)``, ``label(text)``, ``cancelled()`` and ``check()`` (raises
Cancelled). A service takes them as its own progress/cancel callbacks. Progress, success and failure are
delivered on the GUI thread, in order, through one queued signal; progress is coalesced (the GUI sees the
latest value, never a flood). Database writes inside a job go through models/writer.py (a service decorated
with @writes does it itself; otherwise call ``writer.run(fn, ...)`` in the job). Each job closes its thread's
peewee connection when it ends (peewee keeps one per thread; pool threads are reused), except a prompt read's:
it runs on a reader thread (app/connections.py, models/reader.py) that keeps its connection until the database
is closed.

Why a QThreadPool and not a QThread per job: the pool owns its threads, so nothing the program forgets to
keep alive can destroy a running thread (Qt aborts the process when a running QThread is destroyed); its
threads are reused and their number bounded (two cores shared with the caller-ID listener and the database
writer), and ``waitForDone`` gives the bounded wait at shutdown. Even past that bound the pool's destructor
waits for the last job, so the process never ends with a thread still running. Pool threads run at a
lower priority than the GUI thread (a nice value on Linux), so a busy job does not take the GUI's core.

Shutdown (``QApplication.aboutToQuit``): give the jobs a short grace, then ask every one to cancel, then
wait (bounded). The jobs in this program honour cancel (imports roll back, exports delete their temporary
file, backups stop between pages); callbacks whose parent widget is already gone are skipped.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from concurrent.futures import wait as futures_wait
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Qt, QThread, QThreadPool, Signal

from app.connections import close_thread_connection, start_readers, submit_read
from app.core.errors import UserError

logger = logging.getLogger(__name__)

Closure = Callable[[], None]

GRACE_MS = 2_000          # at shutdown: let jobs end by themselves this long …
CANCEL_WAIT_MS = 8_000    # … then cancel them and wait at most this long more
MAX_THREADS = 4


class Cancelled(UserError):
    """The user (or shutdown) cancelled the job."""

    def __init__(self, message: str = "کار لغو شد.") -> None:
        super().__init__(message, en="Cancelled.")


def error_text(exc: BaseException) -> str:
    """What the user reads about a failed job: a UserError's Persian message, otherwise a general sentence."""
    if isinstance(exc, UserError):
        return exc.message
    return "کار با خطای پیش‌بینی‌نشده متوقف شد؛ جزئیات در پرونده گزارش (crm.log) ثبت شد."


def on_gui_thread() -> bool:
    app = QCoreApplication.instance()
    return app is not None and QThread.currentThread() is app.thread()


# --- the task manager --------------------------------------------------------------------------------------

class TaskManager(QObject):
    """Runs jobs on a bounded thread pool and hops closures back to the GUI thread."""

    _closures_pending = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(MAX_THREADS)
        # short reads somebody is looking at an empty card for (QueryOp.prompt): the reader threads
        # (app.connections), never lowered, so the read is not queued behind an import nor put after every
        # other program on the machine, and on a connection kept from the last read
        self._prompt_jobs: set[Future] = set()
        if on_gui_thread():
            start_readers()
        self._lock = threading.Lock()
        self._closures: deque[Closure] = deque()
        self._jobs: set[QueryOp] = set()      # started, not yet delivered: kept alive until they end
        self._closures_pending.connect(self._on_closures_pending, Qt.ConnectionType.QueuedConnection)

    # --- hopping to the GUI thread ----------------------------------------------------------------------
    def run_on_main(self, fn: Closure) -> None:
        """Call `fn` on the GUI thread from the event loop (also when called on the GUI thread: later, in order)."""
        with self._lock:
            self._closures.append(fn)
        self._closures_pending.emit()

    def _on_closures_pending(self) -> None:
        # One closure per event (each run_on_main posted one): a closure that opens a modal dialog with exec()
        # does not hold up the others, they run in its event loop.
        with self._lock:
            if not self._closures:
                return                      # already run by _drain_closures
            fn = self._closures.popleft()
        fn()

    def _drain_closures(self) -> None:
        """Run every pending closure now (shutdown, after the jobs ended)."""
        while True:
            with self._lock:
                if not self._closures:
                    return
                fn = self._closures.popleft()
            try:
                fn()
            except Exception:  # at shutdown a failing callback must not stop the others
                logger.exception("a job's callback failed at shutdown")

    # --- jobs ---------------------------------------------------------------------------------------------
    def start(self, job: QueryOp) -> None:
        with self._lock:
            self._jobs.add(job)
        if not job._prompt:
            self._pool.start(job._work)
            return
        fut = submit_read(job._outcome)
        with self._lock:
            self._prompt_jobs.add(fut)
        fut.add_done_callback(self._prompt_ended)
        # delivered once the reader thread counts the job as ended: a read the GUI thread asks for in the
        # callback then goes to the idle reader, not behind a long one on the other
        fut.add_done_callback(job._read_ended)

    def _prompt_ended(self, fut: Future) -> None:
        with self._lock:
            self._prompt_jobs.discard(fut)

    def _ended(self, job: QueryOp) -> None:
        with self._lock:
            self._jobs.discard(job)

    @property
    def jobs(self) -> list[QueryOp]:
        with self._lock:
            return list(self._jobs)

    def active_threads(self) -> int:
        with self._lock:
            prompt = len(self._prompt_jobs)
        return self._pool.activeThreadCount() + prompt

    def _wait_all(self, ms: int) -> bool:
        start = time.monotonic()
        with self._lock:
            prompt = list(self._prompt_jobs)
        if prompt and futures_wait(prompt, None if ms < 0 else ms / 1000).not_done:
            return False
        left = ms if ms < 0 else max(0, ms - int((time.monotonic() - start) * 1000))
        return self._pool.waitForDone(left)

    def wait(self, ms: int = -1) -> bool:
        """Block until every job's function has returned (callbacks still need the event loop)."""
        return self._wait_all(ms)

    def shutdown(self, grace_ms: int = GRACE_MS, cancel_ms: int = CANCEL_WAIT_MS) -> bool:
        """At exit: wait a little, cancel what still runs, wait (bounded). True when no job is left running."""
        if self._wait_all(grace_ms):
            self._drain_closures()
            return True
        running = self.jobs
        logger.info("shutdown: cancelling %d running job(s): %s", len(running),
                    ", ".join(j.name for j in running))
        for job in running:
            job.cancel()
        ok = self._wait_all(cancel_ms)
        if not ok:
            # The pool's destructor still waits for them: the process never ends with a thread running.
            logger.error("shutdown: job(s) still running after %d ms: %s", grace_ms + cancel_ms,
                         ", ".join(j.name for j in self.jobs if j.thread_running))
        else:
            self._drain_closures()
        return ok


_manager: TaskManager | None = None
_manager_lock = threading.Lock()


def taskman() -> TaskManager:
    """The one task manager (created on first use, living on the GUI thread, shut down when the app quits)."""
    global _manager
    with _manager_lock:
        if _manager is None:
            app = QCoreApplication.instance()
            if app is None:
                raise RuntimeError("background jobs need a QApplication")
            manager = TaskManager()
            if manager.thread() is not app.thread():
                manager.moveToThread(app.thread())
            app.aboutToQuit.connect(manager.shutdown)
            _manager = manager
        return _manager


def run_on_main(fn: Closure) -> None:
    """From any thread: call `fn` on the GUI thread."""
    taskman().run_on_main(fn)


# --- one job -----------------------------------------------------------------------------------------------

class Control:
    """What the background function sees: report progress, ask whether the user cancelled."""

    def __init__(self, job: QueryOp):
        self._job = job
        self._cancel = threading.Event()

    def progress(self, done: int, total: int = 0) -> None:
        self._job._post_progress(int(done), int(total or 0))
        time.sleep(0)       # hand the GIL over now if the GUI thread is waiting for it (not after 5 ms)

    def label(self, text: str) -> None:
        """A new line of text for the progress dialog (e.g. «مشتریان…», «فاکتورها…»)."""
        self._job._post_label(str(text))

    def cancelled(self) -> bool:
        time.sleep(0)       # a service asks this in its loop: a moment for the GUI thread to take the GIL
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise Cancelled when the user asked to stop."""
        if self._cancel.is_set():
            raise Cancelled()


class QueryOp:
    """One background job with a fluent set-up; see the module's docstring. `Op` is the same class."""

    def __init__(self, parent: QObject | None = None, op: Callable[[Control], Any] | None = None,
                 success: Callable[[Any], None] | None = None, *, name: str = "", title: str = ""):
        if op is None:
            raise TypeError("QueryOp needs op=")
        self.parent = parent
        self.fn = op
        self.name = name or getattr(op, "__name__", "job")
        self.title = title
        self.control = Control(self)
        self._on_success: list[Callable[[Any], None]] = [success] if success else []
        self._on_failure: list[Callable[[BaseException], None]] = []
        self._on_progress: list[Callable[[int, int], None]] = []
        self._on_finished: list[Callable[[], None]] = []
        self._progress_label: str | None = None
        self._progress_cancellable = True
        self._progress_delay_ms = 400
        self._prompt = False                 # prompt(): a short read the user waits for
        self.dialog = None                   # the QProgressDialog (with_progress)
        self.error_box = None                # the default failure's QMessageBox
        self.result: Any = None
        self.error: BaseException | None = None
        self.worker_thread: int | None = None   # threading.get_ident() of the thread that ran the job
        self._lock = threading.Lock()
        self._progress: tuple[int, int] | None = None
        self._progress_posted = False
        self._label: str | None = None
        self._started = False
        self._delivered = False
        self._thread_done = threading.Event()
        self._exec_loop: QEventLoop | None = None
        self._ok = False

    # --- set-up (fluent) ----------------------------------------------------------------------------------
    def success(self, fn: Callable[[Any], None]) -> QueryOp:
        self._on_success.append(fn)
        return self

    def failure(self, fn: Callable[[BaseException], None]) -> QueryOp:
        """Handle a failure yourself (instead of the default message box)."""
        self._on_failure.append(fn)
        return self

    def on_progress(self, fn: Callable[[int, int], None]) -> QueryOp:
        self._on_progress.append(fn)
        return self

    def finished(self, fn: Callable[[], None]) -> QueryOp:
        """Called after success or failure (to enable buttons again, forget the job …)."""
        self._on_finished.append(fn)
        return self

    def prompt(self) -> QueryOp:
        """A short read the user is waiting for (a page's rows): run at the GUI thread's priority, on threads
        kept for such reads. Not for long jobs: those run below the GUI so it stays responsive."""
        self._prompt = True
        return self

    def with_progress(self, label: str, *, cancellable: bool = True, delay_ms: int = 400) -> QueryOp:
        """A modal progress dialog, shown only if the job is still running after `delay_ms`."""
        self._progress_label = label
        self._progress_cancellable = cancellable
        self._progress_delay_ms = delay_ms
        return self

    # --- running ------------------------------------------------------------------------------------------
    def run(self) -> QueryOp:
        if self._started:
            raise RuntimeError("a QueryOp runs once")
        self._started = True
        if self._progress_label is not None:
            self._make_dialog()
        taskman().start(self)
        return self

    def exec(self) -> bool:
        """Run and spin a local event loop until the job is delivered (start-up work before the main window).
        True when it succeeded."""
        self._exec_loop = QEventLoop()
        self.run()
        if not self._delivered:
            self._exec_loop.exec()
        self._exec_loop = None
        return self._ok

    def cancel(self) -> None:
        self.control._cancel.set()

    @property
    def running(self) -> bool:
        """Started and its outcome not yet delivered to the GUI thread."""
        return self._started and not self._delivered

    @property
    def thread_running(self) -> bool:
        return self._started and not self._thread_done.is_set()

    def wait(self, ms: int = -1) -> bool:
        """Block until the job's function has returned (tests). Delivery still needs the event loop."""
        return self._thread_done.wait(None if ms < 0 else ms / 1000)

    # --- on the worker thread -----------------------------------------------------------------------------
    def _work(self) -> None:
        """A pool thread's job: run, then hand the outcome to the GUI thread."""
        self._post(self._outcome())

    def _read_ended(self, fut: Future) -> None:
        """A reader thread's job (prompt) has ended: its outcome to the GUI thread."""
        self._post(("failed", CancelledError()) if fut.cancelled() else fut.result())

    def _outcome(self) -> tuple[str, Any]:
        self.worker_thread = threading.get_ident()
        if not self._prompt:
            _lower_priority()
        outcome: tuple[str, Any]
        try:
            outcome = ("ok", self.fn(self.control))
        except BaseException as e:  # handed to the GUI thread, never lost
            if not isinstance(e, Exception):
                logger.warning("background job %s interrupted: %r", self.name, e)
            elif not isinstance(e, UserError):
                logger.exception("background job %s failed", self.name)
            outcome = ("failed", e)
        finally:
            if not self._prompt:
                close_thread_connection()      # a pool thread's; a reader thread keeps its connection
        return outcome

    def _post(self, outcome: tuple[str, Any]) -> None:
        self._thread_done.set()
        run_on_main(lambda: self._deliver(outcome))

    def _post_progress(self, done: int, total: int) -> None:
        with self._lock:
            self._progress = (done, total)
            if self._progress_posted:
                return
            self._progress_posted = True
        run_on_main(self._deliver_progress)

    def _post_label(self, text: str) -> None:
        with self._lock:
            self._label = text
        run_on_main(self._deliver_label)

    # --- on the GUI thread --------------------------------------------------------------------------------
    def _alive(self) -> bool:
        if self.parent is None:
            return True
        import shiboken6

        return shiboken6.isValid(self.parent)

    def _deliver_progress(self) -> None:
        with self._lock:
            value, self._progress, self._progress_posted = self._progress, None, False
        if value is None or self._delivered or not self._alive():
            return
        done, total = value
        if self.dialog is not None:
            if total:
                self.dialog.setMaximum(total)
                self.dialog.setValue(min(done, total))
        for fn in self._on_progress:
            fn(done, total)

    def _deliver_label(self) -> None:
        with self._lock:
            text = self._label
        if text is not None and self.dialog is not None and not self._delivered:
            self.dialog.setLabelText(text)

    def _deliver(self, outcome: tuple[str, Any]) -> None:
        self._deliver_progress()            # the last progress first (it may still be queued behind us)
        self._delivered = True
        taskman()._ended(self)
        self._close_dialog()
        kind, value = outcome
        self._ok = kind == "ok"
        if self._ok:
            self.result = value
        else:
            self.error = value
        if self._exec_loop is not None:
            self._exec_loop.quit()
        if not self._alive():
            logger.debug("job %s ended after its window closed; callbacks skipped", self.name)
            return
        try:
            if self._ok:
                for fn in self._on_success:
                    fn(value)
            else:
                if self._on_failure:
                    for fn in self._on_failure:
                        fn(value)
                else:
                    self._show_failure(value)
        finally:
            for fn in self._on_finished:
                fn()

    def _show_failure(self, exc: BaseException) -> None:
        if self.control.cancelled() and isinstance(exc, UserError):
            return                          # the user cancelled: nothing to tell
        from PySide6.QtWidgets import QMessageBox, QWidget

        parent = self.parent if isinstance(self.parent, QWidget) else None
        box = QMessageBox(QMessageBox.Icon.Warning, self.title or "انجام نشد", error_text(exc),
                          QMessageBox.StandardButton.Ok, parent)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.error_box = box
        box.open()                          # window-modal, without a nested event loop

    def _make_dialog(self) -> None:
        from PySide6.QtWidgets import QProgressDialog, QWidget

        parent = self.parent if isinstance(self.parent, QWidget) else None
        dlg = QProgressDialog(self._progress_label, "انصراف", 0, 0, parent)
        dlg.setWindowTitle(self.title or "لطفاً صبر کنید")
        dlg.setWindowModality(Qt.WindowModality.WindowModal if parent is not None
                              else Qt.WindowModality.ApplicationModal)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.setMinimumDuration(self._progress_delay_ms)
        if self._progress_cancellable:
            dlg.canceled.connect(self._cancel_from_dialog)
        else:
            dlg.setCancelButton(None)
        self.dialog = dlg

    def _cancel_from_dialog(self) -> None:
        self.cancel()
        if self.dialog is not None and not self._delivered:
            self.dialog.setLabelText("در حال لغو…")
            self.dialog.show()              # cancel hides it; keep it up until the job has stopped

    def _close_dialog(self) -> None:
        dlg, self.dialog = self.dialog, None
        if dlg is None:
            return
        import shiboken6

        if shiboken6.isValid(dlg):
            if self._progress_cancellable:
                dlg.canceled.disconnect(self._cancel_from_dialog)   # closing it is not the user cancelling
            dlg.close()
            dlg.deleteLater()


Op = QueryOp


class LatestRead:
    """Reads for one place on screen (a page's report, a list's footer), where only the latest request matters: one
    read at a time on a reader thread (QueryOp.prompt); a request made during a read is read once it ends, and of
    several only the last. The outcome goes to `done` or `failed` only for the latest request; an earlier one's is
    dropped. `started`, when given, is called as each read starts."""

    def __init__(self, parent: QObject, name: str, started: Callable[[], None] | None = None):
        self.parent = parent
        self.name = name
        self.started = started
        self._running = False
        self._next: tuple[Callable[[], Any], Callable[[Any], None], Callable[[BaseException], None]] | None = None

    @property
    def busy(self) -> bool:
        """A read is under way or waiting to start."""
        return self._running or self._next is not None

    def read(self, fn: Callable[[], Any], done: Callable[[Any], None],
             failed: Callable[[BaseException], None]) -> None:
        self._next = (fn, done, failed)
        if not self._running:
            self._start()

    def _start(self) -> None:
        assert self._next is not None
        fn, done, failed = self._next
        self._next = None
        self._running = True
        if self.started is not None:
            self.started()

        def latest() -> bool:
            """True when the read just ended is the latest request's (else the next read starts)."""
            self._running = False
            if self._next is None:
                return True
            self._start()
            return False

        def on_failure(exc: BaseException) -> None:
            if latest():
                failed(exc)
            else:
                logger.error("%s: a read no longer wanted failed", self.name, exc_info=exc)

        QueryOp(self.parent, lambda _ctl: fn(), lambda got: latest() and done(got), name=self.name) \
            .failure(on_failure).prompt().run()


_lowered = threading.local()


def _lower_priority() -> None:
    """Once per pool thread: below the GUI thread, so a busy job never competes with it for a core.
    QThread priorities work on Windows and macOS; on Linux a thread has its own nice value."""
    if getattr(_lowered, "done", False):
        return
    _lowered.done = True
    try:
        QThread.currentThread().setPriority(QThread.Priority.LowPriority)
        if sys.platform.startswith("linux"):
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + 5))
    except (OSError, AttributeError, RuntimeError):
        logger.debug("could not lower a worker thread's priority", exc_info=True)
