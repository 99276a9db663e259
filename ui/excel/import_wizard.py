"""The customer import wizard: file and sheet → columns → dry run (every problem with its row number) →
all-or-nothing import. Reading, checking and writing run off the GUI thread (ui.ops.QueryOp); the import's
writes go through the one door (models.writer).

    ImportWizard(ctx, parent).show()          # or .load(path) to start with a file
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from app import fmt
from app.excel import importer as ei
from ui.context import AppContext
from ui.ops import QueryOp, error_text

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 20
MAX_PROBLEMS_SHOWN = 3000      # a table of 50,000 problems would take seconds to fill; the file has them all
SEVERITY = {"error": ("خطا", "#b91c1c"), "duplicate": ("تکراری", "#b45309"), "warning": ("هشدار", "#6b7280")}


def _cell(value) -> str:
    if value is None:
        return ""
    return fmt.digits(ei._cell_text(value)) if not isinstance(value, str) else value


def _item(text: str, color: str | None = None) -> QTableWidgetItem:
    it = QTableWidgetItem(text)
    it.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if color:
        it.setForeground(QBrush(QColor(color)))
    return it


class FilePage(QWizardPage):
    def __init__(self, wiz: ImportWizard):
        super().__init__()
        self.wiz = wiz
        self.setTitle("انتخاب فایل")
        self.setSubTitle("فایل اکسل (xlsx یا xls) یا CSV فهرست مشتریان را انتخاب کنید.")
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setReadOnly(True)
        self.path.setPlaceholderText("فایلی انتخاب نشده است")
        browse = QPushButton("انتخاب فایل…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        lay.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel("برگه:"))
        self.sheet = QComboBox()
        self.sheet.setEnabled(False)
        self.sheet.activated.connect(self._sheet_chosen)
        row.addWidget(self.sheet, 1)
        lay.addLayout(row)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.hide()
        lay.addWidget(self.busy)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        lay.addStretch(1)

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "فایل مشتریان", str(Path.home()),
                                              "صفحه‌گسترده (*.xlsx *.xlsm *.xls *.ods *.csv *.txt);;همه فایل‌ها (*)")
        if name:
            self.wiz.load(name)

    def _sheet_chosen(self) -> None:
        if self.wiz.path:
            self.wiz.load(self.wiz.path, self.sheet.currentText())

    def show_loading(self, path: str) -> None:
        self.path.setText(path)
        self.status.setStyleSheet("")
        self.status.setText("در حال خواندن فایل…")
        self.busy.show()

    def show_table(self, table: ei.Table) -> None:
        self.busy.hide()
        self.sheet.blockSignals(True)
        self.sheet.clear()
        self.sheet.addItems(table.sheets)
        self.sheet.setCurrentText(table.sheet)
        self.sheet.setEnabled(len(table.sheets) > 1)
        self.sheet.blockSignals(False)
        n = len(table.data_rows())
        self.status.setText(f"برگه «{table.sheet}»: {fmt.digits(n)} ردیف داده؛ سرستون‌ها در ردیف "
                            f"{fmt.digits(table.header_row + 1)} پیدا شد.")
        self.completeChanged.emit()

    def show_error(self, message: str) -> None:
        self.busy.hide()
        self.status.setStyleSheet("color: #b91c1c;")
        self.status.setText(message)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # Qt naming
        return self.wiz.table is not None and not self.wiz.busy


class MappingPage(QWizardPage):
    def __init__(self, wiz: ImportWizard):
        super().__init__()
        self.wiz = wiz
        self.setTitle("ستون‌ها")
        self.setSubTitle("برنامه ستون‌ها را از روی سرستون‌ها حدس زده است؛ هرجا لازم است درستش کنید.")
        lay = QVBoxLayout(self)
        self.columns = QTableWidget(0, 3)
        self.columns.setHorizontalHeaderLabels(["ستون فایل", "نمونه داده", "فیلد در برنامه"])
        self.columns.verticalHeader().hide()
        self.columns.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.columns.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.columns.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.columns, 2)
        lay.addWidget(QLabel("پیش‌نمایش ردیف‌های نخست:"))
        self.preview = QTableWidget()
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.verticalHeader().hide()          # the sheet's own row numbers are the first column
        lay.addWidget(self.preview, 3)
        self.warning = QLabel("")
        self.warning.setStyleSheet("color: #b91c1c;")
        lay.addWidget(self.warning)
        self.combos: list[QComboBox] = []

    def initializePage(self) -> None:  # Qt naming
        t = self.wiz.table
        rows = t.data_rows()[:PREVIEW_ROWS]
        self.columns.setRowCount(t.width)
        self.combos = []
        for i, header in enumerate(t.headers):
            self.columns.setItem(i, 0, _item(header or f"(ستون {fmt.digits(i + 1)})"))
            samples = [_cell(r[i]) for _n, r in rows if i < len(r) and not ei._blank(r[i])][:3]
            self.columns.setItem(i, 1, _item("، ".join(samples)))
            combo = QComboBox()
            for key, label in ei.FIELDS.items():
                combo.addItem(label, key)
            combo.setCurrentIndex(max(0, combo.findData(t.mapping[i] if i < len(t.mapping) else "")))
            combo.currentIndexChanged.connect(self._changed)
            self.columns.setCellWidget(i, 2, combo)
            self.combos.append(combo)
        self.preview.clear()
        self.preview.setColumnCount(t.width + 1)
        self.preview.setHorizontalHeaderLabels(["ردیف"] + [h or "—" for h in t.headers])
        self.preview.setRowCount(len(rows))
        for r, (row_no, values) in enumerate(rows):
            self.preview.setItem(r, 0, _item(fmt.digits(row_no)))
            for c in range(t.width):
                self.preview.setItem(r, c + 1, _item(_cell(values[c]) if c < len(values) else ""))
        self.preview.resizeColumnsToContents()
        self._changed()

    def set_field(self, column: int, key: str) -> None:
        self.combos[column].setCurrentIndex(self.combos[column].findData(key))

    def _changed(self) -> None:
        t = self.wiz.table
        t.mapping = [c.currentData() for c in self.combos]
        names = {"full_name", "first_name", "last_name", "company"}
        self.warning.setText("" if names & set(t.mapping) else "دست‌کم یک ستون باید نام، نام خانوادگی یا شرکت باشد.")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # Qt naming
        return bool(self.wiz.table) and not self.warning.text()


class CheckPage(QWizardPage):
    def __init__(self, wiz: ImportWizard):
        super().__init__()
        self.wiz = wiz
        self.setTitle("بررسی (اجرای آزمایشی)")
        self.setSubTitle("هیچ چیز هنوز ذخیره نشده است. مشکلات هر ردیف را ببینید و بگویید با تکراری‌ها چه شود.")
        lay = QVBoxLayout(self)
        self.bar = QProgressBar()
        lay.addWidget(self.bar)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        f = self.summary.font()
        f.setBold(True)
        self.summary.setFont(f)
        lay.addWidget(self.summary)
        self.problems = QTableWidget(0, 4)
        self.problems.setHorizontalHeaderLabels(["ردیف", "نوع", "ستون", "مشکل"])
        self.problems.verticalHeader().hide()
        self.problems.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        hh = self.problems.horizontalHeader()
        for i in range(3):
            hh.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.problems, 1)
        lay.addWidget(QLabel("ردیف‌های تکراری (هم‌شماره یا هم‌کدملی با مشتری موجود یا ردیف دیگر):"))
        row = QHBoxLayout()
        self.dup_group = QButtonGroup(self)
        self.dup_buttons: dict[str, QRadioButton] = {}
        for key, label in ei.DUPLICATE_CHOICES.items():
            b = QRadioButton(label)
            self.dup_group.addButton(b)
            self.dup_buttons[key] = b
            row.addWidget(b)
        self.dup_buttons["skip"].setChecked(True)
        row.addStretch(1)
        lay.addLayout(row)
        self.skip_invalid = QCheckBox("ردیف‌های خطادار وارد نشوند و بقیه وارد شوند")
        self.skip_invalid.toggled.connect(self.completeChanged)
        lay.addWidget(self.skip_invalid)
        self.save_problems = QPushButton("ذخیره فهرست مشکلات در اکسل…")
        self.save_problems.clicked.connect(self._save_problems)
        lay.addWidget(self.save_problems, 0, Qt.AlignmentFlag.AlignLeft)

    def initializePage(self) -> None:  # Qt naming
        self.wiz.report = None
        self.problems.setRowCount(0)
        self.summary.setText("در حال بررسی ردیف‌ها…")
        self.summary.setStyleSheet("")
        self.bar.setRange(0, 0)
        self.bar.show()
        table = self.wiz.table
        self.wiz.run(lambda ctl: ei.analyse(table, progress=ctl.progress, cancel=ctl.cancelled),
                     self._done, self._failed, self._progress)

    def _progress(self, done: int, total: int) -> None:
        if total:
            self.bar.setRange(0, total)
            self.bar.setValue(done)

    def _done(self, report: ei.Report) -> None:
        self.wiz.report = report
        self.bar.hide()
        self.summary.setText(report.summary() + ("" if not report.errors else
                                                 " ردیف‌های خطادار را در فایل درست کنید یا از ورود کنار بگذارید."))
        probs = report.problems()
        shown = probs[:MAX_PROBLEMS_SHOWN]
        if len(probs) > len(shown):
            self.summary.setText(self.summary.text() + f" (فقط {fmt.digits(len(shown))} مشکل نخست در جدول "
                                 f"آمده است؛ فهرست کامل {fmt.digits(len(probs))} مشکل را در اکسل ذخیره کنید.)")
        self.problems.setRowCount(len(shown))
        for i, p in enumerate(shown):
            label, color = SEVERITY[p.severity]
            self.problems.setItem(i, 0, _item(fmt.digits(p.row)))
            self.problems.setItem(i, 1, _item(label, color))
            self.problems.setItem(i, 2, _item(p.column))
            self.problems.setItem(i, 3, _item(fmt.digits(p.message)))
        self.skip_invalid.setEnabled(bool(report.errors))
        self.completeChanged.emit()

    def _failed(self, exc: BaseException) -> None:
        self.bar.hide()
        self.summary.setStyleSheet("color: #b91c1c;")
        self.summary.setText(error_text(exc))
        self.completeChanged.emit()

    def duplicates(self) -> str:
        return next(k for k, b in self.dup_buttons.items() if b.isChecked())

    def isComplete(self) -> bool:  # Qt naming
        r = self.wiz.report
        return r is not None and not self.wiz.busy and bool(r.rows) and (not r.errors or self.skip_invalid.isChecked())

    def _save_problems(self, path=None):
        """The problems list to an Excel file, written in the background (the export window shows it)."""
        from app.excel.export import Column, write_xlsx
        from ui.excel.export_dialog import ExportDialog, choose_path

        r = self.wiz.report
        if r is None:
            return None
        path = path or choose_path(self, f"مشکلات {Path(r.table.path).stem}.xlsx")
        if not path:
            return None
        cols = [Column("row", "ردیف", "int"), Column("kind", "نوع"), Column("column", "ستون"),
                Column("message", "مشکل", width=70)]
        rows = [{"row": p.row, "kind": SEVERITY[p.severity][0], "column": p.column, "message": p.message}
                for p in r.problems()]
        title, subtitle = f"مشکلات فایل «{Path(r.table.path).name}»", r.summary()

        def work(p, progress, cancel):
            return write_xlsx(p, cols, rows, title=title, subtitle=subtitle, total=len(rows), progress=progress,
                              cancel=cancel)

        return ExportDialog(self, "فهرست مشکلات", Path(path), work).start()


class ImportPage(QWizardPage):
    def __init__(self, wiz: ImportWizard):
        super().__init__()
        self.wiz = wiz
        self.setTitle("ورود")
        self.setSubTitle("همه ردیف‌ها با هم ذخیره می‌شوند؛ اگر کار نیمه‌تمام بماند هیچ ردیفی ذخیره نمی‌شود.")
        lay = QVBoxLayout(self)
        self.bar = QProgressBar()
        lay.addWidget(self.bar)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        lay.addStretch(1)
        self.result: ei.ImportResult | None = None
        self.failed = False

    def initializePage(self) -> None:  # Qt naming
        check: CheckPage = self.wiz.check_page
        report = self.wiz.report
        dup, skip = check.duplicates(), check.skip_invalid.isChecked()
        user = self.wiz.ctx.user_id
        self.result, self.failed = None, False
        self.status.setStyleSheet("")
        self.status.setText("در حال ذخیره…")
        self.bar.setRange(0, 0)
        def work(ctl):
            # not inside a writer job: the rows are decided first with no lock held, then written as one job
            return ei.import_rows(report, dup, skip, user, ctl.progress, ctl.cancelled)

        self.wiz.run(work, self._done, self._failed, self._progress)

    def _progress(self, done: int, total: int) -> None:
        if total:
            self.bar.setRange(0, total)
            self.bar.setValue(done)

    def _done(self, result: ei.ImportResult) -> None:
        self.result = result
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.status.setText("ورود انجام شد: " + result.summary())
        self.wiz.ctx.bus.data_changed.emit("customers")
        self.completeChanged.emit()

    def _failed(self, exc: BaseException) -> None:
        self.failed = True
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.status.setStyleSheet("color: #b91c1c;")
        self.status.setText(error_text(exc))
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # Qt naming
        return (self.result is not None or self.failed) and not self.wiz.busy


class ImportWizard(QWizard):
    def __init__(self, ctx: AppContext | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx or AppContext()
        self.setWindowTitle("ورود مشتریان از اکسل")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setMinimumSize(900, 640)
        self.setButtonText(QWizard.WizardButton.NextButton, "بعدی")
        self.setButtonText(QWizard.WizardButton.BackButton, "قبلی")
        self.setButtonText(QWizard.WizardButton.CancelButton, "انصراف")
        self.setButtonText(QWizard.WizardButton.FinishButton, "پایان")
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.path: str | None = None
        self.table: ei.Table | None = None
        self.report: ei.Report | None = None
        self.op: QueryOp | None = None
        self.file_page = FilePage(self)
        self.mapping_page = MappingPage(self)
        self.check_page = CheckPage(self)
        self.import_page = ImportPage(self)
        for p in (self.file_page, self.mapping_page, self.check_page, self.import_page):
            self.addPage(p)

    @property
    def busy(self) -> bool:
        return self.op is not None and self.op.running

    def run(self, fn, on_success, on_failure, on_progress=None) -> QueryOp:
        op = QueryOp(self, fn, on_success, name="excel-import").failure(on_failure).finished(self._op_finished)
        if on_progress:
            op.on_progress(on_progress)
        self.op = op.run()
        self.button(QWizard.WizardButton.CancelButton).setEnabled(True)
        return op

    def _op_finished(self) -> None:
        self.currentPage().completeChanged.emit() if self.currentPage() else None

    def load(self, path: str | Path, sheet: str | None = None) -> None:
        self.path = str(path)
        self.table = None
        self.report = None
        self.file_page.show_loading(self.path)
        self.file_page.completeChanged.emit()

        def done(table):
            self.table = table
            self.file_page.show_table(table)

        self.run(lambda ctl: ei.load_table(self.path, sheet), done,
                 lambda exc: self.file_page.show_error(error_text(exc)))

    def reject(self) -> None:
        if self.busy:
            self.op.cancel()        # reading stops; an import under way rolls back (all rows or none)
        super().reject()
