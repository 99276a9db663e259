"""Documents on screen: a list that takes dropped files, a file picker, a preview of images and PDFs, «باز کردن»
with the system's program and «حذف». DocumentsPanel(ctx, owner_type, owner_id) or, for a customer's file,
DocumentsPanel(ctx, customer_id=…) listing every document about that customer."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import documents as docs
from app import fmt
from app.core.errors import UserError
from ui.context import AppContext

logger = logging.getLogger(__name__)
ROLE = Qt.ItemDataRole.UserRole


class DropList(QTreeWidget):
    files_dropped = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)

    def dragEnterEvent(self, e) -> None:
        if e.mimeData().hasUrls():
            e.acceptProposedAction()
        else:
            super().dragEnterEvent(e)

    def dragMoveEvent(self, e) -> None:
        if e.mimeData().hasUrls():
            e.acceptProposedAction()
        else:
            super().dragMoveEvent(e)

    def dropEvent(self, e) -> None:
        paths = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if paths:
            e.acceptProposedAction()
            self.files_dropped.emit(paths)
        else:
            super().dropEvent(e)


class DocumentsPanel(QWidget):
    changed = Signal()

    def __init__(self, ctx: AppContext, owner_type: str = "customer", owner_id: int | None = None,
                 customer_id: int | None = None, parent=None, read: bool = True):
        super().__init__(parent)
        self.ctx = ctx
        self.owner_type = owner_type
        self.owner_id = owner_id if owner_id is not None else customer_id
        self.customer_id = customer_id
        self.rows: list[docs.DocRow] = []
        self.errors: list[str] = []
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        hint = QLabel("پرونده‌ها را روی فهرست بکشید و رها کنید، یا:")
        hint.setProperty("role", "muted")
        bar.addWidget(hint)
        self.add_button = QPushButton("افزودن سند…")
        self.open_button = QPushButton("باز کردن")
        self.delete_button = QPushButton("حذف")
        for b in (self.add_button, self.open_button, self.delete_button):
            bar.addWidget(b)
        bar.addStretch(1)
        lay.addLayout(bar)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.list = DropList()
        self.list.setRootIsDecorated(False)
        self.list.setHeaderLabels(["نام سند", "پیوست به", "اندازه", "تاریخ", "کاربر"])
        hdr = self.list.header()
        hdr.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i in range(1, 5):
            hdr.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        hdr.setStretchLastSection(False)
        split.addWidget(self.list)
        self.preview = QLabel("پیش‌نمایش")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumWidth(220)
        self.preview.setStyleSheet("QLabel { background: #f9fafb; border: 1px solid #e5e7eb; color: #6b7280; }")
        split.addWidget(self.preview)
        split.setSizes([520, 260])
        lay.addWidget(split, 1)
        self.add_button.clicked.connect(self.pick_files)
        self.open_button.clicked.connect(self.open_current)
        self.delete_button.clicked.connect(self.delete_current)
        self.list.files_dropped.connect(self.add_files)
        self.list.currentItemChanged.connect(self._show_preview)
        self.list.itemDoubleClicked.connect(lambda *_a: self.open_current())
        if read:                    # (a customer's file reads its documents tab when it is chosen)
            self.refresh()

    # --- data --------------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.owner_type == "customer" and self.customer_id:
            self.rows = docs.documents_of_customer(self.customer_id)
        else:
            self.rows = docs.list_documents(self.owner_type, self.owner_id) if self.owner_id else []
        self.list.clear()
        for r in self.rows:
            it = QTreeWidgetItem([r.name, r.owner_label, docs.size_text(r.size), fmt.datetime(r.created_at),
                                  r.user_name])
            it.setData(0, ROLE, r.id)
            self.list.addTopLevelItem(it)
        has = bool(self.rows)
        self.open_button.setEnabled(has)
        self.delete_button.setEnabled(has)
        if has:
            self.list.setCurrentItem(self.list.topLevelItem(0))
        else:
            self.preview.setPixmap(QPixmap())
            self.preview.setText("هنوز سندی پیوست نشده است.")

    def current_id(self) -> int | None:
        it = self.list.currentItem()
        return it.data(0, ROLE) if it else None

    def add_files(self, paths: list[str]) -> list[int]:
        """Attach files (dropped or picked); a refused one is reported, the rest still attach."""
        if not self.owner_id:
            return []
        added, self.errors = [], []
        for p in paths:
            try:
                d = docs.attach(self.owner_type, self.owner_id, p, user=self.ctx.user_id,
                                customer_id=self.customer_id)
                added.append(d.id)
            except UserError as e:
                self.errors.append(e.message)
        self.refresh()
        if added:
            self.changed.emit()
            self.ctx.bus.data_changed.emit("documents")
        if self.errors and self.isVisible():
            QMessageBox.warning(self, "پیوست سند", "\n".join(self.errors))
        return added

    def pick_files(self) -> None:
        paths, _f = QFileDialog.getOpenFileNames(self, "افزودن سند")
        if paths:
            self.add_files(paths)

    def open_current(self) -> None:
        did = self.current_id()
        if did is None:
            return
        try:
            path = docs.export_copy(did)
        except UserError as e:
            QMessageBox.warning(self, "باز کردن سند", e.message)
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def delete_current(self, confirm: bool = True) -> None:
        did = self.current_id()
        if did is None:
            return
        name = self.list.currentItem().text(0)
        if confirm and QMessageBox.question(self, "حذف سند", f"سند «{name}» حذف شود؟") != \
                QMessageBox.StandardButton.Yes:
            return
        try:
            docs.delete(did, self.ctx.user_id)
        except UserError as e:
            QMessageBox.warning(self, "حذف سند", e.message)
        self.refresh()
        self.changed.emit()

    def _show_preview(self, item, _prev=None) -> None:
        if item is None:
            return
        row = next((r for r in self.rows if r.id == item.data(0, ROLE)), None)
        self.preview.setPixmap(QPixmap())
        if row is None or not (row.is_image or row.is_pdf):
            self.preview.setText("پیش‌نمایش برای این نوع سند نیست؛ «باز کردن» را بزنید.")
            return
        try:
            data = docs.read_bytes(row.id)
            if row.is_pdf:
                data = docs.pdf_first_page_png(data, width=320)
        except UserError as e:
            self.preview.setText(e.message)
            return
        img = QImage.fromData(data)
        if img.isNull():
            self.preview.setText("این تصویر خوانده نشد.")
            return
        w = max(160, self.preview.width() - 10)
        self.preview.setPixmap(QPixmap.fromImage(img).scaled(w, w * 4 // 3, Qt.AspectRatioMode.KeepAspectRatio,
                                                             Qt.TransformationMode.SmoothTransformation))
