"""Run a function off the GUI thread, with progress and cancel (after Anki's CollectionOp).

    op = Op(lambda ctl: export_customers(path, f, progress=ctl.progress, cancel=ctl.cancelled), parent=self)
    op.succeeded.connect(on_done)          # result, on the GUI thread
    op.failed.connect(on_error)            # the exception (a UserError carries a Persian message)
    op.progressed.connect(bar_update)      # (done, total)
    op.start()
    op.cancel()                            # asks the function to stop: ctl.cancelled() turns True

The function gets a Control with progress(done, total) and cancelled(); a service passes them on as its own
progress/cancel callbacks. The worker thread closes its own database connection when done (peewee keeps one
per thread). `run_with_dialog()` shows a modal progress dialog with a cancel button around an Op.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

logger = logging.getLogger(__name__)


class Control:
    """What the background function sees: report progress, ask whether the user cancelled."""

    def __init__(self, op: Op):
        self._op = op
        self._cancel = threading.Event()

    def progress(self, done: int, total: int = 0) -> None:
        self._op.progressed.emit(int(done), int(total or 0))

    def cancelled(self) -> bool:
        return self._cancel.is_set()


class _Worker(QThread):
    def __init__(self, op: Op):
        super().__init__()
        self.op = op

    def run(self) -> None:  # noqa: D401 - QThread API
        op = self.op
        try:
            result = op.fn(op.control)
        except BaseException as e:  # noqa: BLE001 - handed to the GUI thread, never lost
            if not isinstance(e, Exception):
                logger.warning("background job interrupted: %r", e)
            else:
                from app.errors import UserError

                if not isinstance(e, UserError):
                    logger.exception("background job failed")
            op._outcome = ("failed", e)
        else:
            op._outcome = ("ok", result)
        finally:
            try:
                from models.base import db

                if db.obj is not None and not db.is_closed():
                    db.close()
            except Exception:  # noqa: BLE001 - closing this thread's connection is best effort
                logger.debug("closing the worker's connection failed", exc_info=True)


class Op(QObject):
    """One background job. Signals arrive on the thread the Op lives in (the GUI thread).

    A running Op is kept alive by the class (`_running`) so that dropping the last reference to it cannot
    destroy a thread that is still running (Qt aborts the process when that happens)."""

    _running: set[Op] = set()

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()

    def __init__(self, fn: Callable[[Control], Any], parent: QObject | None = None):
        super().__init__(parent)
        self.fn = fn
        self.control = Control(self)
        self._outcome: tuple[str, Any] | None = None
        self._thread = _Worker(self)
        self._thread.finished.connect(self._on_finished)

    def start(self) -> Op:
        Op._running.add(self)
        self._thread.start()
        return self

    def cancel(self) -> None:
        self.control._cancel.set()

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, ms: int = -1) -> bool:
        """Block until the job ends (tests, shutdown). Signals still need the event loop to be delivered."""
        return self._thread.wait() if ms < 0 else self._thread.wait(ms)

    def _on_finished(self) -> None:
        Op._running.discard(self)
        kind, value = self._outcome or ("failed", RuntimeError("no result"))
        if kind == "ok":
            self.succeeded.emit(value)
        else:
            self.failed.emit(value)
        self.finished.emit()


def error_text(exc: BaseException) -> str:
    from app.errors import UserError

    if isinstance(exc, UserError):
        return exc.message
    return "کار با خطای پیش‌بینی‌نشده متوقف شد؛ جزئیات در پرونده گزارش (crm.log) ثبت شد."


def run_with_dialog(parent, title: str, label: str, fn: Callable[[Control], Any],
                    on_success: Callable[[Any], None] | None = None,
                    on_failure: Callable[[BaseException], None] | None = None) -> Op:
    """A modal progress dialog (bar, «انصراف») around an Op; a failure is shown in a Persian message box
    unless `on_failure` handles it."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox, QProgressDialog

    dlg = QProgressDialog(label, "انصراف", 0, 0, parent)
    dlg.setWindowTitle(title)
    dlg.setWindowModality(Qt.WindowModality.WindowModal)
    dlg.setMinimumDuration(300)
    dlg.setAutoClose(False)
    dlg.setAutoReset(False)
    op = Op(fn, parent)

    def progress(done: int, total: int) -> None:
        if total:
            dlg.setMaximum(total)
            dlg.setValue(min(done, total))

    def finished() -> None:
        dlg.close()
        dlg.deleteLater()

    def failed(exc: BaseException) -> None:
        if on_failure:
            on_failure(exc)
        else:
            QMessageBox.warning(parent, title, error_text(exc))

    op.progressed.connect(progress)
    op.failed.connect(failed)
    if on_success:
        op.succeeded.connect(on_success)
    op.finished.connect(finished)
    dlg.canceled.connect(op.cancel)
    op.start()
    return op
