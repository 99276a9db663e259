"""Columns sized to their widest cell without measuring every cell.

QHeaderView's ResizeToContents asks the delegate for the size of up to 1,000 cells of each column at every reset:
each asks the model for several roles and lays the text out. The invoice list (2,000 rows, nine columns) spent
0.7 s in it every time it was opened or filtered. Here each column's texts are compared by the sum of their
characters' advances (Vazirmatn's digits are not all one width: «۱» is narrow); those that could be the widest are
laid out whole, and the cells of the widest few are measured the way ResizeToContents measures them.

The first step is plain Python over the texts: a list that reads its rows on a reader thread can do it there too
(``widest_texts`` with the view's ``advances_of``) and hand fit_columns its answer (``near``), leaving the GUI
thread only the laying out and measuring of a few texts per column.
"""
from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QTreeView

NEAR = 0.4            # texts whose estimate comes this close to the widest one's are laid out whole: a joined
                      # Persian word is narrower than its letters' separate forms (by up to 2.2 times, for a run of
                      # connecting letters), digits and Latin letters are not
LAID_OUT = 400        # at most, the widest estimates first
MEASURED = 40         # at most, cells measured as ResizeToContents measures them: those of the texts laid out
                      # within a pixel of the widest (its rounding can differ by one)


class _FitWhenShown(QObject):
    """Sizes a view's columns when it is shown: a page built and filled before anyone looks at it (most are, at
    start-up) is not measured, and refilled while hidden, it is measured once, as its last fill left it."""

    def __init__(self, view: QAbstractItemView):
        super().__init__(view)
        self.skip: tuple[int, ...] = ()
        self.also_rows: tuple[int, ...] = ()
        self.texts: Callable[[int], Sequence] | None = None
        self.near: Near | None = None
        self.done = False
        view.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Show and not self.done:
            self.done = True
            obj.removeEventFilter(self)
            fit_columns(obj, self.skip, self.also_rows, self.texts, self.near)
            self.deleteLater()
        return False


class _Advances(dict):
    """A font's advance of each character, measured at its first use (on the GUI thread)."""

    def __init__(self, metrics: QFontMetricsF):
        super().__init__()
        self.metrics = metrics
        self.common = False             # _COMMON measured (advances_of)

    def __missing__(self, ch: str) -> float:
        w = self[ch] = self.metrics.horizontalAdvance(ch)
        return w


# what a list's cells are written in: Latin letters, digits and signs, Arabic script (Persian's letters, digits
# and signs), the zero-width non-joiner and the Persian quotation marks; measured at once for another thread
_COMMON = "".join(map(chr, (*range(0x20, 0x7F), *range(0x600, 0x700), 0x200C, 0xAB, 0xBB, 0x2026)))


class _Known(dict):
    """A copy of a font's advances for another thread, which must not measure (a font's metrics belong to the
    thread that uses them): a character not in it counts as the widest one it holds, so a text with it is
    rather laid out than missed."""

    def __init__(self, advances: _Advances):
        super().__init__(advances)
        self.widest = max(self.values(), default=0.0)

    def __missing__(self, _ch: str) -> float:
        return self.widest


# each column's texts that could be its widest, with the first row showing each (widest_texts), by column
Near = dict[int, list[tuple[str, int]]]

_KEPT_TEXTS = 20_000
_by_font: dict[str, tuple[_Advances, dict[str, float]]] = {}


def _measures(view: QAbstractItemView) -> tuple[_Advances, dict[str, float]]:
    """The view's font's character advances and whole texts' widths, kept from one fill to the next: a list
    refilled at each keystroke shows mostly the texts it showed a moment ago."""
    font = view.font()
    key = font.key()
    kept = _by_font.get(key)
    if kept is None or len(kept[1]) > _KEPT_TEXTS:
        kept = _by_font[key] = (_Advances(QFontMetricsF(font)), {})
    return kept


def advances_of(view: QAbstractItemView) -> dict[str, float]:
    """The view's font's character advances, measured on the GUI thread (Persian's and Latin's characters and
    any others it has met), for widest_texts() on another."""
    advance = _measures(view)[0]
    if not advance.common:
        advance.update({ch: advance.metrics.horizontalAdvance(ch) for ch in _COMMON if ch not in advance})
        advance.common = True
    return _Known(advance)


def widest_texts(advance: dict[str, float], texts: Sequence) -> list[tuple[str, int]]:
    """The texts of one column (each row's, in order) that could be its widest, widest estimate first, each with
    the first row that shows it (any thread). Each text's estimate is the sum of its characters' advances."""
    first_row: dict[str, int] = {}
    for r, t in enumerate(texts):
        first_row.setdefault(str(t or ""), r)
    get = advance.__getitem__
    guess = {t: sum(map(get, t)) for t in first_row}
    widest = max(guess.values(), default=0.0)
    near = heapq.nlargest(LAID_OUT, (t for t, w in guess.items() if w >= widest * NEAR), key=guess.__getitem__)
    return [(t, first_row[t]) for t in near]


def fit_columns(view: QTableView | QTreeView, skip: Collection[int] = (), also_rows: Collection[int] = (),
                texts: Callable[[int], Sequence] | None = None,
                near: Near | None = None) -> None:
    """Size every column of `view` (a table, or a list of rows in a tree view) but those in `skip` (a stretched
    one) to its header and its widest cell (when it is shown, if it is not yet). `also_rows` are measured whatever
    their text (a totals row in a bold font). ``texts(column)``, or the model's ``column_texts(column)``, gives
    each row's display text without going through Qt's indexes (an item view's filler has them at hand); ``near``,
    each column's widest_texts() of the model's rows, found beforehand (on the reader thread)."""
    if not view.isVisible():
        pending = next((f for f in view.findChildren(_FitWhenShown) if not f.done), None) or _FitWhenShown(view)
        pending.skip, pending.also_rows = tuple(skip), tuple(also_rows)     # the last fill's, when it is shown
        pending.texts, pending.near = texts, near
        return
    model = view.model()
    header = view.header() if isinstance(view, QTreeView) else view.horizontalHeader()
    texts_of = texts or getattr(model, "column_texts", None)
    rows = model.rowCount()
    grid = 1 if isinstance(view, QTableView) and view.showGrid() else 0
    advance, laid_out = _measures(view)

    def exact_width(text: str) -> float:
        w = laid_out.get(text)
        if w is None:
            w = laid_out[text] = advance.metrics.horizontalAdvance(text)
        return w

    for col in range(model.columnCount()):
        if col in skip or view.isColumnHidden(col):
            continue
        found = near.get(col) if near is not None else None
        if found is None or any(r >= rows for _t, r in found):     # not given, or for a fill since cleared
            shown = texts_of(col) if callable(texts_of) else None
            if shown is None or len(shown) != rows:     # texts given for a fill since cleared: the model's own
                shown = [model.index(r, col).data(Qt.ItemDataRole.DisplayRole) for r in range(rows)]
            found = widest_texts(advance, shown)
        first_row = dict(found)
        exact = {t: exact_width(t) for t, _r in found}
        top = max(exact.values(), default=0.0)
        longest = [first_row[t] for t in heapq.nlargest(MEASURED, (t for t, w in exact.items() if w >= top - 1.0),
                                                        key=exact.__getitem__)]
        width = header.sectionSizeHint(col)
        for r in {*longest, *(r for r in also_rows if 0 <= r < rows)}:
            width = max(width, view.sizeHintForIndex(model.index(r, col)).width() + grid)
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(col, width)
