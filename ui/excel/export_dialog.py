"""The Excel export window: runs the export in the background with a progress bar and a cancel button.

    from ui.excel.export_dialog import export_customers_interactive
    export_customers_interactive(parent, customer_filter, sort="name")       # asks where, then exports

or, for any list: ExportDialog(parent, "خروجی تماس‌ها", path, lambda path, progress, cancel: ...).start()
The function gets (path, progress, cancel) and returns an ExportResult (or a Path).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from ui.ops import QueryOp, error_text

logger = logging.getLogger(__name__)

ExportFn = Callable[[Path, Callable[[int, int], None], Callable[[], bool]], Any]


def choose_path(parent: QWidget | None, suggested: str, kind: str = "xlsx") -> Path | None:
    filters = {"xlsx": "کارپوشه اکسل (*.xlsx)", "pdf": "PDF (*.pdf)"}
    name, _ = QFileDialog.getSaveFileName(parent, "ذخیره در…", str(Path.home() / suggested), filters[kind])
    if not name:
        return None
    p = Path(name)
    return p if p.suffix.lower() == f".{kind}" else p.with_suffix(f".{kind}")


class ExportDialog(QDialog):
    """Progress, cancel, and at the end «باز کردن فایل» / «بستن»."""

    def __init__(self, parent: QWidget | None, title: str, path: Path, fn: ExportFn):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.path = Path(path)
        self.fn = fn
        self.outcome: Any = None
        self.error: str | None = None
        lay = QVBoxLayout(self)
        self.label = QLabel(f"در حال نوشتن «{self.path.name}»…")
        self.label.setWordWrap(True)
        lay.addWidget(self.label)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setFormat("%p٪")
        lay.addWidget(self.bar)
        self.count = QLabel("")
        self.count.setProperty("role", "muted")
        lay.addWidget(self.count)
        row = QHBoxLayout()
        row.addStretch(1)
        self.open_button = QPushButton("باز کردن فایل")
        self.open_button.hide()
        self.open_button.clicked.connect(self._open)
        self.folder_button = QPushButton("باز کردن پوشه")
        self.folder_button.hide()
        self.folder_button.clicked.connect(self._open_folder)
        self.cancel_button = QPushButton("انصراف")
        self.cancel_button.clicked.connect(self._cancel_or_close)
        row.addWidget(self.open_button)
        row.addWidget(self.folder_button)
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        self.op = QueryOp(self, lambda ctl: self.fn(self.path, ctl.progress, ctl.cancelled), self._done,
                          name="excel-export").failure(self._failed).on_progress(self._progress)

    def start(self) -> ExportDialog:
        self.op.run()
        self.show()
        return self

    def _progress(self, done: int, total: int) -> None:
        if total:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.count.setText(f"{fmt.digits(done)} از {fmt.digits(total)} ردیف")
        else:
            self.count.setText(f"{fmt.digits(done)} ردیف")

    def _done(self, result: Any) -> None:
        self.outcome = result
        rows = getattr(result, "rows", None)
        path = getattr(result, "path", result)
        if isinstance(path, Path):
            self.path = path
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.label.setText(f"فایل «{self.path.name}» ساخته شد."
                           + (f" ({fmt.digits(rows)} ردیف)" if rows is not None else ""))
        self.count.setText(str(self.path.parent))
        self.cancel_button.setText("بستن")
        self.open_button.show()
        self.folder_button.show()

    def _failed(self, exc: BaseException) -> None:
        self.error = error_text(exc)
        self.label.setText(self.error)
        self.label.setStyleSheet("color: #b91c1c;")
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.cancel_button.setText("بستن")

    def _cancel_or_close(self) -> None:
        if self.op.running:
            self.cancel_button.setEnabled(False)
            self.label.setText("در حال لغو…")
            self.op.cancel()
            self.op.finished(self.reject)
        else:
            self.accept() if self.outcome is not None else self.reject()

    def _open(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path)))

    def _open_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path.parent)))

    def closeEvent(self, event) -> None:  # Qt naming
        if self.op.running:
            self.op.cancel()            # the export stops by itself and removes its temporary file
        super().closeEvent(event)


def export_customers_interactive(parent: QWidget | None, customer_filter=None, sort: str = "name",
                                 descending: bool = False) -> ExportDialog | None:
    """Ask where to save, then export the customers the filter shows (the list's current filter and order)."""
    from app.core.clock import today
    from app.core.jalali import format_date

    path = choose_path(parent, f"مشتریان {format_date(today(), persian=False).replace('/', '-')}.xlsx")
    if path is None:
        return None

    def work(p, progress, cancel):
        from app.excel.export import export_customers

        return export_customers(p, customer_filter, sort=sort, descending=descending, progress=progress,
                                cancel=cancel)

    return ExportDialog(parent, "خروجی اکسل مشتریان", path, work).start()


def export_customers(ctx, customer_filter=None, parent: QWidget | None = None, sort: str = "name",
                     descending: bool = False) -> ExportDialog | None:
    """The customer list's «خروجی اکسل» button: the list's filter (and order) to a file the user picks."""
    return export_customers_interactive(parent, customer_filter, sort=sort, descending=descending)
