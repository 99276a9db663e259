"""Backups: take one now, see the list, restore one (the app restarts on the restored file)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel, QListWidget, QMessageBox, QPushButton, QSpinBox, QVBoxLayout, QWidget

from app import backup, fmt, options, settings


class BackupPanel(QWidget):
    TITLE = "پشتیبان‌گیری"

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("پشتیبان خودکار هر بار که برنامه باز می‌شود گرفته می‌شود."))
        self.keep = QSpinBox()
        self.keep.setRange(1, 200)
        self.keep.setValue(settings.get(options.BACKUP_KEEP))
        self.keep.setPrefix("تعداد پشتیبان‌های نگه‌داشته: ")
        self.keep.valueChanged.connect(lambda v: settings.set(options.BACKUP_KEEP, v))
        lay.addWidget(self.keep)
        self.now_btn = QPushButton("پشتیبان‌گیری همین حالا")
        lay.addWidget(self.now_btn)
        self.list = QListWidget()
        lay.addWidget(self.list, 1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        self.now_btn.clicked.connect(self.backup_now)
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        for p in backup.list_backups():
            self.list.addItem(p.name)

    def backup_now(self):
        """Take a backup in the background (a progress window if it takes a while). Returns the job."""
        from models.base import db
        from ui.ops import QueryOp, error_text

        path = getattr(db.obj, "database", None)
        if not path or path == ":memory:":
            QMessageBox.information(self, "پشتیبان", "پایگاه داده این میز SQLite نیست؛ از سرور پشتیبان بگیرید.")
            return None
        self.now_btn.setEnabled(False)
        self.message.setText("در حال پشتیبان‌گیری…")

        def done(out: Path) -> None:
            self.message.setText(f"پشتیبان ذخیره شد: {fmt.path(out)}")
            self.reload()

        return QueryOp(self, lambda ctl: backup.backup(Path(path), cancel=ctl.cancelled), done,
                       name="backup-now", title="پشتیبان‌گیری") \
            .failure(lambda e: self.message.setText(fmt.isolate_paths(error_text(e)))) \
            .finished(lambda: self.now_btn.setEnabled(True)) \
            .with_progress("در حال پشتیبان‌گیری از پایگاه داده…") \
            .run()
