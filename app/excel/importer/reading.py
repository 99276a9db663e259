"""Reading a sheet: .xlsx/.xls/.ods through python-calamine (a very large .xlsx as a stream), CSV with its
encoding and delimiter sniffed; finding the header row under any title rows; cells whose formula has no saved
value."""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import logging
import re
import threading
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.errors import UserError
from app.core.text import compact_key, search_key, to_ascii_digits, to_persian_digits
from app.excel.importer.fields import _EXACT, guess_field, guess_mapping

logger = logging.getLogger(__name__)

MAX_HEADER_SCAN = 30
# An .xlsx sheet whose XML is larger than this is read as a stream (about 100,000 rows of a 37-column
# export); smaller ones are read whole by calamine, which is 2-3× faster.
STREAM_ABOVE_BYTES = 200 * 1024 * 1024
# the formula cells without a value that are listed one by one (the count is always exact)
MAX_FORMULA_CELLS_LISTED = 10_000

Row = list[Any]
RowSource = Callable[[], Iterator[tuple[int, Row]]]


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _nonblank(row: Row) -> bool:
    for v in row:
        if v is not None and v != "" and (type(v) is not str or not v.isspace()):
            return True
    return False


@dataclass
class Table:
    """A sheet ready to check: where its header is, what each column feeds, and a way to read its rows again
    (a large sheet is never held in memory whole: ``data_rows()`` reads it anew each time)."""
    path: Path
    sheet: str
    sheets: list[str]
    head: list[Row]                # the sheet's first rows: head[i] is spreadsheet row i+1
    header_row: int                # index into head (spreadsheet row header_row + 1)
    headers: list[str]
    mapping: list[str]
    source: RowSource = field(repr=False, default=None)   # (row number, values) of every row, from row 1
    row_count: int = 0             # non-blank rows under the header
    horizontal: set = field(repr=False, default_factory=set)
    # (row number, column) of cells holding a formula that has no saved value, and how many there are
    formula_cells: list[tuple[int, int]] = field(default_factory=list)
    formula_count: int = 0
    streamed: bool = False         # read as a stream (a very large sheet)
    xlsx: Any = field(repr=False, default=None)

    def take_formula_cells(self, cells: list[tuple[int, int]]) -> None:
        cells = [(r, c) for r, c in cells if r > self.header_row + 1]
        self.formula_count = len(cells)
        self.formula_cells = cells[:MAX_FORMULA_CELLS_LISTED]

    @property
    def width(self) -> int:
        return len(self.headers)

    @property
    def rows(self) -> list[Row]:
        """The sheet's first rows (kept for callers that show the top of the sheet)."""
        return self.head

    def iter_data_rows(self) -> Iterator[tuple[int, Row]]:
        """(spreadsheet row number, values) of the non-blank rows under the header, read from the file."""
        first = self.header_row + 2
        for row_no, values in self.source():
            if row_no >= first and _nonblank(values):
                yield row_no, values

    def data_rows(self) -> DataRows:
        return DataRows(self)

    def set_header_row(self, index: int) -> None:
        self.header_row = index
        self.headers = _header_texts(self.head, index, self.horizontal)
        self.mapping = guess_mapping(self.headers)
        self.row_count = sum(1 for _ in self.iter_data_rows())

    def header_note(self) -> str:
        """Where the header was found, as the user sees the sheet in Excel."""
        p = to_persian_digits
        text = f"سرستون‌ها در ردیف {p(self.header_row + 1)} برگه «{self.sheet}» پیدا شد"
        skipped = [i + 1 for i in range(self.header_row) if i < len(self.head) and _nonblank(self.head[i])]
        if skipped:
            rows = "، ".join(p(r) for r in skipped[:5]) + ("…" if len(skipped) > 5 else "")
            text += f" (ردیف {rows} بالای آن عنوان است و وارد نمی‌شود)"
        return text

    def formula_note(self) -> str:
        if not self.formula_count:
            return ""
        return (f"{to_persian_digits(self.formula_count)} خانه فرمول دارد ولی مقدار حساب‌شده‌اش در فایل ذخیره نشده "
                "است و خالی خوانده شد")


class DataRows:
    """The data rows of a table as a sequence: ``len()`` is counted once at load; slices read the file."""

    def __init__(self, table: Table):
        self.table = table

    def __len__(self) -> int:
        return self.table.row_count

    def __iter__(self) -> Iterator[tuple[int, Row]]:
        return self.table.iter_data_rows()

    def __bool__(self) -> bool:
        return self.table.row_count > 0

    def __getitem__(self, index):
        import itertools

        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return list(itertools.islice(self.table.iter_data_rows(), start, stop, step))
        if index < 0:
            index += len(self)
        for i, item in enumerate(self.table.iter_data_rows()):
            if i == index:
                return item
        raise IndexError(index)


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _sniff_kind(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise UserError(f"فایل «{path.name}» باز نشد.", details=str(e)) from e
    if head.startswith(b"PK"):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    return "text"


def _is_encrypted_ole(path: Path) -> bool:
    """A password-protected .xlsx is an OLE file holding an «EncryptedPackage» stream."""
    marker = "EncryptedPackage".encode("utf-16-le")
    with open(path, "rb") as f:
        data = f.read(4 * 1024 * 1024)
    return marker in data or "EncryptionInfo".encode("utf-16-le") in data


@dataclass
class _Sheet:
    name: str
    names: list[str]
    source: RowSource
    merged: list
    streamed: bool = False
    xlsx: Any = None              # the XlsxSheet behind an .xlsx sheet (formula cells)
    formula_scan: Future | None = None   # _has_formulas(xlsx), begun while calamine read the sheet


def _scan_beside(xs) -> Future:
    """_has_formulas(xs) on a thread of its own: calamine lets go of the GIL while it parses a sheet, so the scan
    of the same XML for formulas costs no wall time beside it."""
    fut: Future = Future()

    def run() -> None:
        try:
            fut.set_result(_has_formulas(xs))
        except BaseException as e:  # noqa: BLE001 - handed to the reader through the future
            fut.set_exception(e)

    threading.Thread(target=run, name="xlsx-formula-scan", daemon=True).start()
    return fut


def _xlsx_sheets(path: Path) -> dict:
    """The streaming reader of each sheet of an .xlsx by name ({} when the package cannot be read that way)."""
    from app.excel.importer.xlsx_stream import XlsxSheet, sheet_parts

    try:
        parts = sheet_parts(str(path))
    except Exception as e:  # noqa: BLE001 - zip/lxml errors of a damaged package: calamine has read it
        logger.debug("no xlsx parts in %s: %r", path, e)
        return {}
    return {name: XlsxSheet(str(path), part) for name, part in parts.items()}


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(sheet) -> bool:
    """A quick scan of the sheet's XML for any formula (most sheets have none)."""
    with zipfile.ZipFile(sheet.path) as z, z.open(sheet.part) as f:
        tail = b""
        while chunk := f.read(4 * 1024 * 1024):
            data = tail + chunk
            # the tag is «<f…» or «<x:f…»: where neither «<f» nor «:f» occurs (nearly always) there is nothing to
            # match, and a plain substring search is several times faster than the pattern
            if (b"<f" in data or b":f" in data) and _FORMULA_TAG.search(data):
                return True
            tail = chunk[-8:]
    return False


def _read_workbook(path: Path, sheet: str | None) -> _Sheet:
    import python_calamine as pc

    kind = _sniff_kind(path)
    if kind == "ole" and _is_encrypted_ole(path):
        raise UserError(f"فایل «{path.name}» رمز دارد. در اکسل رمز را بردارید (File › Info › Protect Workbook) "
                        "و دوباره امتحان کنید.")
    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError as e:
        raise UserError(f"فایل «{path.name}» رمز دارد. در اکسل رمز را بردارید و دوباره امتحان کنید.") from e
    except (pc.CalamineError, pc.ZipError, pc.XmlError, ValueError, OSError) as e:
        logger.info("calamine could not open %s: %s", path, e)
        if kind == "zip":
            raise UserError(f"فایل «{path.name}» کارپوشه اکسل سالمی نیست (شاید آسیب دیده یا نوع دیگری از فایل "
                            "است).", details=str(e)) from e
        raise UserError(f"فایل «{path.name}» صفحه‌گسترده نیست یا آسیب دیده است. فایل xlsx، xls یا csv بدهید.",
                        details=str(e)) from e
    except Exception as e:  # calamine raises various internal types for broken files
        logger.info("calamine failed on %s: %r", path, e)
        raise UserError(f"فایل «{path.name}» خوانده نشد؛ شاید آسیب دیده است.", details=str(e)) from e
    try:
        names = [m.name for m in wb.sheets_metadata if str(m.typ).endswith("WorkSheet")] or list(wb.sheet_names)
        if not names:
            raise UserError(f"در فایل «{path.name}» برگه‌ای نیست.")
        xlsx = {}
        if kind == "zip" and path.suffix.lower() not in (".ods", ".xlsb"):
            xlsx = _xlsx_sheets(path)
        loaded = {}                   # sheets calamine has read already (reading one is the costly part)
        scans: dict[str, Future] = {}

        def read(name: str):
            xs = xlsx.get(name)
            if xs is not None and name not in scans:
                scans[name] = _scan_beside(xs)
            return wb.get_sheet_by_name(name)

        if sheet is None:
            chosen = None
            # hidden sheets (the lists behind drop-downs) come last: the first visible sheet with data is the one
            hidden = {m.name for m in wb.sheets_metadata if not str(m.visible).endswith("Visible")}
            for name in sorted(names, key=lambda n: n in hidden):   # the first sheet that has anything in it
                xs = xlsx.get(name)
                if xs is not None and xs.size() > STREAM_ABOVE_BYTES:
                    if next(xs.rows(), None) is not None:
                        chosen = name
                        break
                    continue
                s = loaded[name] = read(name)
                if s.height and s.width:
                    chosen = name
                    break
            chosen = chosen or names[0]
        else:
            matches = [n for n in names if n == sheet] or [n for n in names if search_key(n) == search_key(sheet)]
            if not matches:
                raise UserError(f"برگه «{sheet}» در این فایل نیست. برگه‌ها: {'، '.join(names)}")
            chosen = matches[0]
        xs = xlsx.get(chosen)
        if xs is not None and xs.size() > STREAM_ABOVE_BYTES:
            logger.info("reading sheet %s of %s as a stream (%d bytes of XML)", chosen, path, xs.size())
            return _Sheet(chosen, names, xs.rows, _merged_ranges(xs), streamed=True, xlsx=xs)
        s = loaded.get(chosen) or read(chosen)
        rows = s.to_python(skip_empty_area=False)
        merged = list(s.merged_cell_ranges or [])
        del loaded, s                 # calamine's own copy of the cells goes now
    except UserError:
        raise
    except Exception as e:
        logger.info("reading sheet failed on %s: %r", path, e)
        raise UserError(f"برگه‌های فایل «{path.name}» خوانده نشد؛ شاید آسیب دیده است.", details=str(e)) from e
    finally:
        try:
            wb.close()
        except Exception:  # noqa: BLE001
            pass

    def source() -> Iterator[tuple[int, Row]]:
        for i, r in enumerate(rows):
            yield i + 1, r

    return _Sheet(chosen, names, source, merged, xlsx=xs, formula_scan=scans.get(chosen))


_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _merged_ranges(sheet) -> list:
    """Merged ranges of a streamed sheet, as calamine gives them: ((row, col), (row, col)), 0-based. They sit
    after the cells in the XML; only the tail of the part is searched."""
    return _scan_xml(sheet)[1]


def _count_row_elements(sheet) -> int:
    """How many <row> elements hold a cell (a fast scan of the XML, for a sheet too large to parse twice)."""
    return _scan_xml(sheet)[0]


_ROW_ELEMENT = re.compile(rb"<(?:\w+:)?row[\s>](?![^>]*/>)")


def _scan_xml(sheet) -> tuple[int, list]:
    """One pass over a streamed sheet's XML (a million rows are 2 GB of it): the <row> elements that hold cells,
    and the merged ranges in its tail. Kept on the sheet: both are asked for once each."""
    from app.excel.importer.xlsx_stream import _col_index

    cached = getattr(sheet, "_scanned", None)
    if cached is not None:
        return cached
    n = 0
    keep = 8 * 1024 * 1024
    pieces: list[bytes] = []          # the last few chunks: the merged ranges are after the cells
    held = 0
    with zipfile.ZipFile(sheet.path) as z, z.open(sheet.part) as f:
        tail = b""
        while chunk := f.read(4 * 1024 * 1024):
            pieces.append(chunk)
            held += len(chunk)
            while held - len(pieces[0]) >= keep:
                held -= len(pieces.pop(0))
            data = tail + chunk
            cut = data.rfind(b"<")
            if cut < 0:
                cut = len(data)
            n += len(_ROW_ELEMENT.findall(data, 0, cut))
            tail = data[cut:]
        n += len(_ROW_ELEMENT.findall(tail))
    end = b"".join(pieces)
    merged = [((int(m.group(2)) - 1, _col_index(m.group(1).decode())),
               (int(m.group(4)) - 1, _col_index(m.group(3).decode()))) for m in _MERGE_REF.finditer(end)]
    sheet._scanned = (n, merged)
    return sheet._scanned


def _decode_probe(path: Path) -> str:
    """The text encoding of a CSV file: UTF-16/UTF-8 (checked over the whole file, in pieces) or Windows-1256
    (what Excel on a Persian Windows saves as «CSV»)."""
    with open(path, "rb") as f:
        head = f.read(4096)
        if head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff"):
            return "utf-16"
        f.seek(0)
        dec = codecs.getincrementaldecoder("utf-8-sig")()
        try:
            while chunk := f.read(1024 * 1024):
                dec.decode(chunk)
            dec.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
    if b"\x00" in head:
        raise UserError("این فایل متنی نیست؛ فایل xlsx، xls یا csv بدهید.")
    return "cp1256"


def _read_csv(path: Path) -> RowSource:
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            data = f.read(65536)
    except OSError as e:
        raise UserError(f"فایل «{path.name}» باز نشد.", details=str(e)) from e
    if not size or (size <= len(data) and not data.strip()):
        raise UserError(f"فایل «{path.name}» خالی است.")
    encoding = _decode_probe(path)
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        sample = f.read(8192)
    if sum(ch.isprintable() or ch in "\r\n\t" for ch in sample) < 0.95 * len(sample):
        raise UserError(f"فایل «{path.name}» صفحه‌گسترده نیست. فایل xlsx، xls یا csv بدهید.")
    if not sample.strip():
        raise UserError(f"فایل «{path.name}» خالی است.")
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|،؛")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = max(",;\t|", key=sample.count) if any(c in sample for c in ",;\t|") else ","

    def source() -> Iterator[tuple[int, Row]]:
        with open(path, encoding=encoding, errors="replace", newline="") as f:
            for i, r in enumerate(csv.reader(f, delimiter=delimiter)):
                yield i + 1, r

    return source


def _fill_merged(rows: list[Row], merged: list) -> set[tuple[int, int]]:
    """Copy each merged range's value into all its cells (in the top rows that are kept); returns cells filled
    from a horizontal merge."""
    horizontal: set[tuple[int, int]] = set()
    for rng in merged:
        try:
            (r1, c1), (r2, c2) = rng
        except (TypeError, ValueError):
            continue
        if r1 >= len(rows) or r1 > MAX_HEADER_SCAN + 5:
            continue
        value = rows[r1][c1] if c1 < len(rows[r1]) else ""
        for r in range(r1, min(r2, len(rows) - 1) + 1):
            row = rows[r]
            if len(row) <= c2:
                row.extend([""] * (c2 + 1 - len(row)))
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    row[c] = value
                if c2 > c1:
                    horizontal.add((r, c))
    return horizontal


def _cell_text(v: Any) -> str:
    """A cell as text. Strings are only trimmed: app.customers.validate() normalises them (clean())."""
    if v is None:
        return ""
    if type(v) is str:
        return v.strip()
    if isinstance(v, bool):
        return "بله" if v else "خیر"
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return repr(v)
    if isinstance(v, dt.datetime):
        from app.core.jalali import format_date

        return format_date(v, persian=False)
    if isinstance(v, dt.date):
        from app.core.jalali import format_date

        return format_date(v, persian=False)
    return str(v).strip()


def _is_group_row(above: Row, index_above: int, horizontal: set, width: int) -> bool:
    """Is the row above a header the upper level of a two-level header («تلفن» over «همراه | ثابت»), not a
    title? A title is one text across the sheet (merged or not); a group row names several groups, or one group
    over a few of the columns."""
    texts = [_cell_text(v) for v in above[:width]]
    distinct = {t for t in texts if t}
    if not distinct:
        return False
    if len(distinct) >= 2:
        return True
    spanned = sum(1 for c, t in enumerate(texts) if t and (index_above, c) in horizontal)
    return 2 <= spanned <= width // 2


def _header_texts(rows: list[Row], index: int, horizontal: list | set) -> list[str]:
    row = rows[index]
    above = rows[index - 1] if index > 0 else []
    width = sum(1 for v in row if _cell_text(v))
    group = index > 0 and _is_group_row(above, index - 1, set(horizontal), max(width, 1))
    out = []
    for c, v in enumerate(row):
        own = _cell_text(v)
        parent = _cell_text(above[c]) if group and c < len(above) else ""
        if parent and parent != own and (index - 1, c) in horizontal:
            combined = f"{parent} {own}".strip()
            if guess_field(combined):
                own = combined
            elif not own:
                own = parent
        out.append(own)
    while out and not out[-1]:
        out.pop()
    return out


def _header_score(texts: list[str]) -> float:
    """How much a row looks like a header: the distinct fields its short cells name, a whole-cell name
    counting double a name found inside a longer text («فهرست مشتریان دفتر» only mentions customers)."""
    score: dict[str, float] = {}
    for t in set(texts):
        if not t or len(t) > 40:
            continue
        f = guess_field(t)
        if f is None:
            continue
        exact = compact_key(re.sub(r"\d+$", "", to_ascii_digits(t)).strip()) in _EXACT or compact_key(t) in _EXACT
        score[f] = max(score.get(f, 0), 1.0 if exact else 0.5)
    return sum(score.values())


def _find_header(rows: list[Row]) -> int:
    """The header row among the first rows: the one naming the most fields. Title rows above it (one text,
    merged across the sheet or not, any number of them, blank rows between) score lowest."""
    best, best_score = None, 0.0
    for i, row in enumerate(rows[:MAX_HEADER_SCAN]):
        texts = [_cell_text(v) for v in row]
        if not any(texts):
            continue
        if best is None:
            best = i
        score = _header_score(texts)
        if score > best_score:
            best, best_score = i, score
    if best is None:
        return -1
    return best


def load_table(path: str | Path, sheet: str | None = None) -> Table:
    """Read one sheet and guess its header row and columns. Raises UserError (Persian) for a file that is
    not a spreadsheet, is password-protected or damaged, or a sheet with nothing in it."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"فایل «{path}» پیدا نشد.")
    if path.is_dir():
        raise UserError(f"«{path}» یک پوشه است، نه فایل.")
    if path.stat().st_size == 0:
        raise UserError(f"فایل «{path.name}» خالی است.")
    kind = _sniff_kind(path)
    ext = path.suffix.lower()
    xlsx = None
    streamed = False
    formula_scan = None
    if kind == "text" and ext not in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        source = _read_csv(path)
        name, names, merged = path.stem, [path.stem], []
    elif kind == "text":
        raise UserError(f"فایل «{path.name}» با پسوند {ext} صفحه‌گسترده اکسل نیست یا آسیب دیده است.")
    else:
        s = _read_workbook(path, sheet)
        name, names, source, merged, xlsx, streamed = s.name, s.names, s.source, s.merged, s.xlsx, s.streamed
        formula_scan = s.formula_scan
    # the top of the sheet, kept in memory (with merged header cells filled in): the header is among these
    head: list[Row] = []
    for row_no, values in source():
        if row_no > MAX_HEADER_SCAN + 6:
            break
        while len(head) < row_no - 1:
            head.append([])
        head.append(list(values))
    horizontal = _fill_merged(head, merged)
    header = _find_header(head)
    if header < 0:
        raise UserError(f"برگه «{name}» خالی است.")

    def filled_source() -> Iterator[tuple[int, Row]]:
        """Rows with the merged cells of the top rows filled (the header and the first data rows)."""
        for row_no, values in source():
            if row_no <= len(head):
                yield row_no, head[row_no - 1]
            else:
                yield row_no, values

    headers = _header_texts(head, header, horizontal)
    table = Table(path, name, names, head, header, headers, guess_mapping(headers), filled_source,
                  horizontal=horizontal, streamed=streamed)
    table.xlsx = xlsx
    if streamed:
        # a very large sheet: the rows are counted from the XML (blank rows included), not parsed twice;
        # the formula cells are found while the dry run reads it
        table.row_count = max(0, _count_row_elements(xlsx) - len(head)) + sum(
            1 for i in range(header + 1, len(head)) if _nonblank(head[i]))
    else:
        table.row_count = sum(1 for _ in table.iter_data_rows())
        if xlsx is not None and (formula_scan.result() if formula_scan is not None else _has_formulas(xlsx)):
            for _ in xlsx.rows():
                pass
            table.take_formula_cells(xlsx.uncached_formulas)
    if not table.row_count:
        raise UserError(f"در برگه «{name}» زیر سرستون‌ها ردیفی نیست.")
    return table
