"""The Kanban board: one column per stage, right to left, cards dragged between columns.

Each column is a QListView on the shared BoardModel with its root set to the stage, under a header with the
stage's name, count, total and weighted total. Cards are painted by CardDelegate (title, customer, value and
probability, owner, next step or close date; a red edge when the deal is rotting)."""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QScrollArea,
    QStyle,
    QStyledItemDelegate,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from ui.pipeline.models import OPP_ROLE, BoardModel, money_short

CARD_W, CARD_H = 228, 86
STAGE_COLOURS = {"open": "#2563eb", "won": "#16a34a", "lost": "#9ca3af"}
# one style sheet for every column (a sheet per widget would be parsed and applied seven times over)
BOARD_STYLE = "\n".join([
    "QLabel#stageTitle { font-weight: bold; font-size: 11pt; }",
    *(f'QLabel#stageTitle[kind="{k}"] {{ color: {c}; }}' for k, c in STAGE_COLOURS.items()),
    "QLabel#stageSums { color: #4b5563; font-size: 9pt; }",
    "QListView { background: #f3f5f8; border: none; border-radius: 6px; }",
    "QPushButton#stageMore { color: #2563eb; }",
])


class CardDelegate(QStyledItemDelegate):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._fonts_key = ""
        self._fonts: tuple = ()
        self._days: dict = {}                # date → its Jalali text (a Jalali conversion costs more than a card)

    def sizeHint(self, option, index) -> QSize:
        return QSize(CARD_W, CARD_H)

    def _fonts_for(self, font: QFont) -> tuple:
        """(base, bold, small) fonts with their metrics and the line height, made once per view font."""
        key = font.key()
        if key != self._fonts_key:
            base = QFont(font)
            bold = QFont(base)
            bold.setBold(True)
            small = QFont(base)
            small.setPointSizeF(max(7.0, base.pointSizeF() * 0.88))
            self._fonts = ((base, QFontMetrics(base)), (bold, QFontMetrics(bold)), (small, QFontMetrics(small)),
                           QFontMetrics(base).height())
            self._fonts_key = key
        return self._fonts

    def _day(self, d) -> str:
        text = self._days.get(d)
        if text is None:
            text = self._days[d] = fmt.date(d)
        return text

    def paint(self, painter: QPainter, option, index: QModelIndex) -> None:
        row = index.data(OPP_ROLE)
        if row is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(QPen(QColor("#93c5fd" if selected else "#e2e6ec")))
        painter.setBrush(QColor("#eff6ff" if selected else "white"))
        painter.drawRoundedRect(r, 6, 6)
        rtl = option.direction == Qt.LayoutDirection.RightToLeft
        edge = QColor("#dc2626") if row.rotting else QColor(
            STAGE_COLOURS["won" if row.status == "won" else "lost" if row.status == "lost" else "open"])
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(edge)
        painter.drawRoundedRect(QRect(r.right() - 3, r.top(), 4, r.height()) if rtl
                                else QRect(r.left(), r.top(), 4, r.height()), 2, 2)
        inner = r.adjusted(10, 5, -10, -5)
        align = int((Qt.AlignmentFlag.AlignRight if rtl else Qt.AlignmentFlag.AlignLeft)
                    | Qt.AlignmentFlag.AlignVCenter)
        base, bold, small, line_h = self._fonts_for(option.font)
        y = inner.top()

        def text(s: str, font: tuple, colour: str) -> None:
            nonlocal y
            painter.setFont(font[0])
            painter.setPen(QColor(colour))
            painter.drawText(QRect(inner.left(), y, inner.width(), line_h), align,
                             font[1].elidedText(s, Qt.TextElideMode.ElideRight, inner.width()))
            y += line_h

        text(row.title, bold, "#111827")
        text(row.customer_name, base, "#374151")
        value = f"{money_short(row.value)} ریال  •  {fmt.num(row.probability)}٪"
        text(value, base, "#1d4ed8")
        if row.next_step and row.next_step_date:
            late = row.next_step_date <= _today()
            info = f"{self._day(row.next_step_date)[5:]}: {row.next_step}"
            colour = "#b91c1c" if late else "#4b5563"
        elif row.close_date:
            info, colour = f"بستن: {self._day(row.close_date)}", "#4b5563"
        else:
            info, colour = "", "#4b5563"
        owner = row.owner_name.split()[0] if row.owner_name else ""
        if row.rotting:
            info = f"راکد {fmt.num(row.idle_days)} روز" + (f" — {info}" if info else "")
            colour = "#b91c1c"
        text(" — ".join(x for x in (info, owner) if x), small, colour)
        painter.restore()


def _today():
    from app.core.clock import today

    return today()


class StageColumn(QFrame):
    """A stage's header and its list of cards."""

    def __init__(self, model: BoardModel, stage_row: int, parent=None):
        super().__init__(parent)
        self.model = model
        self.stage_row = stage_row
        self.stage = model.columns[stage_row].stage
        self.setObjectName("stageColumn")
        self.setFixedWidth(CARD_W + 26)
        # looks come from the board's one style sheet (BOARD_STYLE), by object name and the stage's kind
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        kind = "won" if self.stage.is_won else "lost" if self.stage.is_lost else "open"
        self.title = QLabel(self.stage.name)
        self.title.setObjectName("stageTitle")
        self.title.setProperty("kind", kind)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sums = QLabel()
        self.sums.setObjectName("stageSums")
        self.sums.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.title)
        lay.addWidget(self.sums)
        self.view = QListView()
        # everything set before the model: each of these would otherwise lay the cards out again
        self.view.setItemDelegate(CardDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.view.setDragEnabled(True)
        self.view.setAcceptDrops(True)
        self.view.setDropIndicatorShown(True)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setModel(model)
        self.view.setRootIndex(model.index(stage_row, 0))
        lay.addWidget(self.view, 1)
        self.more = QPushButton()
        self.more.setObjectName("stageMore")
        self.more.setFlat(True)
        self.more.clicked.connect(lambda: self.model.show_more(self.stage_row))
        lay.addWidget(self.more)
        self.update_sums()

    def update_sums(self) -> None:
        n, total, weighted = self.model.summary(self.stage_row)
        text = f"{fmt.num(n)} فرصت — {money_short(total)} ریال"
        if not (self.stage.is_won or self.stage.is_lost):
            text += f"\nوزنی: {money_short(weighted)} ریال"
        self.sums.setText(text)
        hidden = self.model.hidden(self.stage_row)
        self.more.setText(f"نمایش بیشتر ({fmt.num(hidden)} فرصت دیگر)")
        self.more.setVisible(hidden > 0)
        self.title.setToolTip(f"احتمال پیش‌فرض {fmt.num(self.stage.probability)}٪" +
                              (f"؛ راکد پس از {fmt.num(self.stage.rot_days)} روز" if self.stage.rot_days else ""))


class BoardView(QScrollArea):
    """All the columns side by side (right to left) in a horizontal scroll area."""

    open_requested = Signal(int)          # an opportunity id (double-click / Enter)

    def __init__(self, model: BoardModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.columns: list[StageColumn] = []
        self._inner = QWidget()
        self._inner.setStyleSheet(BOARD_STYLE)
        self._lay = QHBoxLayout(self._inner)
        self._lay.setContentsMargins(4, 4, 4, 4)
        self._lay.setSpacing(8)
        self.setWidget(self._inner)
        model.modelReset.connect(self.rebuild)
        model.totals_changed.connect(self.update_sums)
        self.rebuild()

    def rebuild(self) -> None:
        for c in self.columns:
            c.setParent(None)
            c.deleteLater()
        self.columns = []
        while self._lay.count():
            self._lay.takeAt(0)
        for i in range(self.model.rowCount()):
            col = StageColumn(self.model, i, self._inner)
            col.view.activated.connect(self._activated)
            col.view.doubleClicked.connect(self._activated)
            self.columns.append(col)
            self._lay.addWidget(col)
        self._lay.addStretch(1)

    def update_sums(self) -> None:
        for c in self.columns:
            c.update_sums()

    def _activated(self, index: QModelIndex) -> None:
        row = index.data(OPP_ROLE)
        if row is not None:
            self.open_requested.emit(row.id)

    def column_for(self, stage_id: int) -> StageColumn | None:
        return next((c for c in self.columns if c.stage.id == stage_id), None)
