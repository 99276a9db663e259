"""Columns sized to their widest cell (ui.widgets.columns.fit_columns): as wide as Qt's own measure of every cell,
without asking the model for every cell."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import QTableView

from ui.widgets.columns import fit_columns

pytestmark = pytest.mark.usefixtures("persian_app")

ROWS = 2000
WIDE_ROW = 1700                 # far below the first screen
NARROW = "۱۱۱٬۱۱۱٬۱۱۱"          # the longest texts, of Vazirmatn's narrowest digit
WIDE = "۸۸۸٬۸۸۸٬۸۸"             # shorter, and wider


class _Model(QAbstractTableModel):
    def __init__(self, with_texts: bool):
        super().__init__()
        self.asked = 0
        if with_texts:
            self.column_texts = lambda col: [self._text(r, col) for r in range(ROWS)]

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else ROWS

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else 3

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return ("مبلغ", "مشتری", "شرح بسیار بلند این ستون")[section]
        return None

    @staticmethod
    def _text(row: int, col: int) -> str:
        if col == 0:
            return WIDE if row == WIDE_ROW else NARROW
        return "علی" if col == 1 else "۱"

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            self.asked += 1
            return self._text(index.row(), index.column())
        return None


def _view(qtbot, model) -> QTableView:
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(600, 300)
    return view


def _show(qtbot, view: QTableView) -> QTableView:
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.mark.parametrize("with_texts", [True, False])
def test_each_column_is_as_wide_as_its_widest_cell_and_its_header(qtbot, with_texts):
    model = _Model(with_texts)
    view = _view(qtbot, model)
    fit_columns(view)                        # not shown yet: sized when it is
    assert model.asked == 0
    _show(qtbot, view)
    header = view.horizontalHeader()
    wide = view.sizeHintForIndex(model.index(WIDE_ROW, 0)).width()
    assert wide > view.sizeHintForIndex(model.index(0, 0)).width()          # the case the lengths would miss
    assert header.sectionSize(0) >= wide + 1
    assert header.sectionSize(2) >= header.sectionSizeHint(2)               # the header is wider than «۱»
    assert header.sectionSize(1) >= view.sizeHintForIndex(model.index(0, 1)).width()
    if with_texts:
        assert model.asked < 300             # the texts came from column_texts; a few cells were measured
    model.asked = 0
    view.horizontalHeader().setSectionResizeMode(0, header.ResizeMode.ResizeToContents)
    view.horizontalHeader().resizeSections()
    assert model.asked >= 1000               # what Qt's own measure asks (1,000 rows), at every reset


class _Texts(QAbstractTableModel):
    """One column of given texts, many times over."""

    def __init__(self, texts: list[str], times: int = 200):
        super().__init__()
        self.texts = texts * times

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.texts)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else 2

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            return self.texts[index.row()] if index.column() == 0 else "۱"
        return None


@pytest.mark.parametrize("texts", [
    ["نستعلیق کیمیا", "Kimia Trading"],                       # joined Persian letters against Latin ones
    ["تسویه نستعلیق بیمه", "محمدحسین عبدالهی"],                # Persian against Persian
    ["۱۱۱٬۱۱۱٬۱۱۱", "۸۸۸٬۸۸۸٬۸۸", "ـــــــــــــب", "بببببببببب"],  # a run of connecting letters
])
@pytest.mark.parametrize("elsewhere", [False, True])
def test_a_column_of_persian_and_latin_words_fits_its_widest_cell(qtbot, texts, elsewhere):
    """…also when its widest texts were found off the GUI thread, from the advances measured on it (a character
    never measured, Greek here, counts as the widest known)."""
    from ui.widgets.columns import advances_of, widest_texts

    model = _Texts(texts + ["ΩΨΩ ΦΩ"] if elsewhere else texts)
    view = _show(qtbot, _view(qtbot, model))
    near = {0: widest_texts(advances_of(view), model.texts)} if elsewhere else None
    fit_columns(view, skip=(1,), near=near)
    widest = max(view.sizeHintForIndex(model.index(r, 0)).width() for r in range(len(model.texts) // 200))
    assert view.horizontalHeader().sectionSize(0) >= widest + 1


def test_a_view_filled_twice_before_it_is_shown_is_fitted_as_the_last_fill_asked(qtbot):
    model = _Model(True)
    view = _view(qtbot, model)
    fit_columns(view, skip=(0,))
    fit_columns(view, skip=(1,))                  # the later fill leaves the other column to stretch
    _show(qtbot, view)
    header = view.horizontalHeader()
    assert header.sectionSize(0) >= view.sizeHintForIndex(model.index(WIDE_ROW, 0)).width() + 1
    assert header.sectionSize(1) == header.defaultSectionSize() != header.sectionSize(0)    # left as it was


def test_texts_given_by_the_filler_are_used_and_a_stale_list_is_not(qtbot):
    """An item view's filler passes the texts it has at hand (``texts=``); they are what is measured. A list left
    from a fill since cleared and refilled by other means does not match the rows: the view's own texts are
    read instead, and the column still fits."""
    from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

    tree = QTreeWidget()
    qtbot.addWidget(tree)
    tree.setHeaderLabels(["زمان", "شرح"])
    tree.resize(600, 300)
    rows = [[NARROW, "الف"] for _ in range(300)] + [[WIDE, "ب"]]
    tree.addTopLevelItems([QTreeWidgetItem(r) for r in rows])
    _show(qtbot, tree)
    asked: list[int] = []
    fit_columns(tree, skip=(1,), texts=lambda col: asked.append(col) or [r[col] for r in rows])
    assert asked == [0]
    model = tree.model()
    wide = tree.sizeHintForIndex(model.index(300, 0)).width()
    assert wide > tree.sizeHintForIndex(model.index(0, 0)).width()
    assert tree.header().sectionSize(0) >= wide

    tree.header().resizeSection(0, 10)
    tree.addTopLevelItem(QTreeWidgetItem(["۸۸۸٬۸۸۸٬۸۸۸٬۸۸۸", "پ"]))        # one more row than the list
    fit_columns(tree, skip=(1,), texts=lambda col: [r[col] for r in rows])
    wider = tree.sizeHintForIndex(model.index(301, 0)).width()
    assert wider > wide and tree.header().sectionSize(0) >= wider


def test_the_widest_texts_found_on_another_thread_fit_the_columns_as_the_view_would(qtbot):
    """A list that reads its rows on a reader thread finds there which texts could be each column's widest
    (``widest_texts`` with the view's ``advances_of``): the columns come out as wide as fitted on the GUI
    thread alone, no cell is asked for, and an answer for more rows than the model holds is not used."""
    import threading

    from ui.widgets.columns import advances_of, widest_texts

    model = _Model(False)
    view = _show(qtbot, _view(qtbot, model))
    fit_columns(view, skip=(2,))
    alone = [view.horizontalHeader().sectionSize(c) for c in range(2)]
    for c in range(2):
        view.horizontalHeader().resizeSection(c, 10)
    advance, near = advances_of(view), {}
    worker = threading.Thread(target=lambda: near.update(
        {c: widest_texts(advance, [model._text(r, c) for r in range(ROWS)]) for c in range(2)}))
    worker.start()
    worker.join()
    assert near[0][0] == (WIDE, WIDE_ROW)                 # the widest estimate first, with its row
    # the other thread measures nothing: a character the GUI thread has not measured counts as the widest known
    assert "Ω" not in advance and advance["Ω"] == max(advance.values()) and "Ω" not in advance
    model.asked = 0
    fit_columns(view, skip=(2,), near=near)
    assert [view.horizontalHeader().sectionSize(c) for c in range(2)] == alone
    assert model.asked < 100                             # only the cells measured as Qt measures them

    view.horizontalHeader().resizeSection(0, 10)
    fit_columns(view, skip=(1, 2), near={0: [(WIDE, ROWS + 5)]})     # for rows no longer there: found again
    assert view.horizontalHeader().sectionSize(0) == alone[0]
