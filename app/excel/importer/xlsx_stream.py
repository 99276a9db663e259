"""A streaming .xlsx sheet reader: rows one at a time in flat memory, with the cells whose formula has no saved
value.

python-calamine reads a whole sheet into memory (about 30 bytes a cell, empty or not, plus the text): right for
ordinary sheets, too much for a million rows. This reader walks the sheet's XML with lxml's iterparse and drops
each row once it is read; shared strings are kept as one UTF-8 buffer with offsets. Values come out the way
calamine gives them (text, float, bool, date/datetime/time for date-formatted numbers, '' for an empty cell) so
the rest of the import cannot tell the readers apart.
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from array import array
from collections.abc import Iterator
from posixpath import join, normpath
from typing import Any

from lxml import etree

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DATE_FORMAT_IDS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))
_EPOCH = dt.datetime(1899, 12, 30)


def _col_index(ref: str) -> int:
    n = 0
    for ch in ref:
        o = ord(ch)
        if 65 <= o <= 90:
            n = n * 26 + o - 64
        elif 97 <= o <= 122:
            n = n * 26 + o - 96
        else:
            break
    return n - 1


def sheet_parts(path: str) -> dict[str, str]:
    """Sheet name → its XML part inside the package."""
    with zipfile.ZipFile(path) as z:
        wb = etree.fromstring(z.read("xl/workbook.xml"))
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(_PKG_REL + "Relationship")}
    out = {}
    for s in wb.iter(NS + "sheet"):
        target = targets.get(s.get(_REL_NS + "id"), "")
        if not target:
            continue
        part = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
        out[s.get("name")] = part
    return out


def _date_styles(z: zipfile.ZipFile) -> set[int]:
    """Indexes of the cell formats (s="…") that show a number as a date or time."""
    try:
        root = etree.fromstring(z.read("xl/styles.xml"))
    except KeyError:
        return set()
    custom = {}
    for nf in root.iter(NS + "numFmt"):
        code = re.sub(r'"[^"]*"|\[[^]]*]|\\.|_.|\*.', "", nf.get("formatCode") or "").lower()
        custom[int(nf.get("numFmtId", "0"))] = bool(re.search(r"[dmyhs]", code)) and "general" not in code
    out: set[int] = set()
    xfs = root.find(NS + "cellXfs")
    if xfs is None:
        return out
    for i, xf in enumerate(xfs.iter(NS + "xf")):
        fid = int(xf.get("numFmtId", "0"))
        if fid in _DATE_FORMAT_IDS or custom.get(fid):
            out.add(i)
    return out


class SharedStrings:
    """The workbook's shared strings, as one UTF-8 buffer and offsets (a list of str costs ~3× more)."""

    def __init__(self, z: zipfile.ZipFile):
        self.buf = bytearray()
        self.offsets = array("Q", [0])
        try:
            f = z.open("xl/sharedStrings.xml")
        except KeyError:
            return
        with f:
            for _ev, el in etree.iterparse(f, events=("end",), tag=NS + "si", huge_tree=True):
                text = "".join(t.text or "" for t in el.iter(NS + "t") if t.getparent().tag != NS + "rPh")
                self.buf += text.encode("utf-8")
                self.offsets.append(len(self.buf))
                el.clear()
                while el.getprevious() is not None:
                    del el.getparent()[0]

    def __getitem__(self, i: int) -> str:
        return self.buf[self.offsets[i]:self.offsets[i + 1]].decode("utf-8")

    def __len__(self) -> int:
        return len(self.offsets) - 1


def _date_value(v: float) -> Any:
    if 0 <= v < 1:
        seconds = round(v * 86400)
        return dt.time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60)
    d = _EPOCH + dt.timedelta(days=v)
    if v == int(v):
        return d.date()
    return d.replace(microsecond=0) if d.microsecond < 500 else (d + dt.timedelta(seconds=1)).replace(microsecond=0)


class XlsxSheet:
    """One sheet of an .xlsx, read as a stream. ``rows()`` may be called again (each call reads the file anew)."""

    def __init__(self, path: str, part: str):
        self.path = path
        self.part = part
        self._shared: SharedStrings | None = None
        self._dates: set[int] | None = None
        # cells holding a formula with no saved value, found by the last full pass of rows(): (row, column)
        self.uncached_formulas: list[tuple[int, int]] = []

    def _prepare(self, z: zipfile.ZipFile) -> None:
        if self._shared is None:
            self._shared = SharedStrings(z)
            self._dates = _date_styles(z)

    def size(self) -> int:
        """The sheet XML's uncompressed size in bytes."""
        with zipfile.ZipFile(self.path) as z:
            return z.getinfo(self.part).file_size

    def dimension(self) -> tuple[int, int] | None:
        """(rows, columns) from the sheet's <dimension> element, when it has one."""
        with zipfile.ZipFile(self.path) as z, z.open(self.part) as f:
            head = f.read(64 * 1024).decode("utf-8", "replace")
        m = re.search(r'<(?:\w+:)?dimension ref="[A-Z]*\d*:?([A-Z]+)(\d+)"', head)
        if not m:
            return None
        return int(m.group(2)), _col_index(m.group(1)) + 1

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(spreadsheet row number, values) for every row element that has cells."""
        formulas: list[tuple[int, int]] = []
        with zipfile.ZipFile(self.path) as z:
            self._prepare(z)
            shared, dates = self._shared, self._dates
            c_tag, v_tag, f_tag, is_tag, t_tag = NS + "c", NS + "v", NS + "f", NS + "is", NS + "t"
            prev = 0
            with z.open(self.part) as f:
                for _ev, row_el in etree.iterparse(f, events=("end",), tag=NS + "row", huge_tree=True):
                    r = row_el.get("r")
                    row_no = int(r) if r else prev + 1
                    prev = row_no
                    values: list[Any] = []
                    for c in row_el.iterchildren(c_tag):
                        ref = c.get("r")
                        col = _col_index(ref) if ref else len(values)
                        t = c.get("t")
                        raw = None
                        has_formula = False
                        inline = None
                        for ch in c:
                            tag = ch.tag
                            if tag == v_tag:
                                raw = ch.text
                            elif tag == f_tag:
                                has_formula = True
                            elif tag == is_tag:
                                inline = "".join(x.text or "" for x in ch.iter(t_tag)
                                                 if x.getparent().tag != NS + "rPh")
                        if t == "inlineStr":
                            value: Any = inline or ""
                        elif raw is None or raw == "":
                            value = ""
                            if has_formula:
                                formulas.append((row_no, col))
                        elif t == "s":
                            value = shared[int(raw)]
                        elif t == "str":
                            value = raw
                        elif t == "b":
                            value = raw == "1"
                        elif t == "e":
                            value = ""
                        elif t == "d":
                            try:
                                value = dt.datetime.fromisoformat(raw)
                            except ValueError:
                                value = raw
                        else:
                            try:
                                num = float(raw)
                            except ValueError:
                                num = None
                            s = c.get("s")
                            if num is None:
                                value = raw
                            elif s is not None and int(s) in dates:
                                try:
                                    value = _date_value(num)
                                except (OverflowError, ValueError):
                                    value = num
                            else:
                                value = num
                        n = len(values)
                        if col == n:
                            values.append(value)
                        elif col > n:
                            values.extend([""] * (col - n))
                            values.append(value)
                        else:
                            values[col] = value
                    row_el.clear()
                    while row_el.getprevious() is not None:
                        del row_el.getparent()[0]
                    if values:
                        yield row_no, values
        self.uncached_formulas = formulas
