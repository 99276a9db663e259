"""A sales invoice or proforma as a PDF, in the layout Iranian offices use (صورتحساب فروش کالا و خدمات).

Pages: A4 portrait, or A5 landscape (the same width, so the same columns at a slightly smaller size). The
first page carries the header (logo, title, number, Jalali date), the seller and buyer blocks; the lines table
continues over as many pages as it needs, repeating its header row; totals, VAT, the amount payable in words,
terms, notes and the signature boxes follow the last line (on a new page if they do not fit). Amounts are
Rials, or Toman (÷10) with ``toman=True``. A cancelled or corrected document carries a large stamp.

CLI: ``crm invoice pdf NUMBER --out FILE.pdf [--toman]`` → ``invoice_pdf_main(number, out, toman)``.
"""
from __future__ import annotations

import io
import logging
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas as rl_canvas

from app import fmt, options
from app.core.jalali import format_date
from app.core.pdf_text import (
    FONT,
    FONT_BOLD,
    Column,
    draw_paragraph,
    draw_row,
    draw_text,
    fa_digits,
    layout_row,
    leading_for,
    register_fonts,
    text_width,
    wrap,
)
from app.core.words import amount_in_words
from app.office import audit, roles
from app.sales.common import SETTLEMENT_LABELS
from app.sales.documents import find_document
from app.sales.totals import percent_label
from app.sales.views import DocumentView, get_document

logger = logging.getLogger(__name__)

GREY = Color(0.90, 0.90, 0.90)
DARK = Color(0.25, 0.25, 0.25)
STAMP = Color(0.80, 0.10, 0.10, alpha=0.28)


@dataclass
class Geometry:
    width: float
    height: float
    margin: float
    scale: float            # font scale: 1 for A4, smaller for A5

    @property
    def right(self) -> float:
        return self.width - self.margin

    @property
    def inner(self) -> float:
        return self.width - 2 * self.margin

    def fs(self, size: float) -> float:
        return round(size * self.scale, 2)


def geometry(paper: str) -> Geometry:
    paper = (paper or "A4").upper()
    if paper == "A5":
        w, h = landscape(A5)
        return Geometry(w, h, 16, 0.9)
    if paper != "A4":
        raise ValueError(f"unknown paper {paper!r}")
    w, h = A4
    return Geometry(w, h, 20, 1.0)


def money(amount: int, toman: bool) -> str:
    """An amount in a cell, without its unit (the column says ریال/تومان): the one rule of app/fmt.py."""
    return fmt.money(amount, toman=toman, unit=False)


def qty_text(q) -> str:
    s = format(q.normalize(), "f") if hasattr(q, "normalize") else str(q)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    whole, _, frac = s.partition(".")
    out = fmt.num(int(whole))
    return out + (fmt.DECIMAL + fmt.digits(frac) if frac else "")


def _columns(g: Geometry, unit: str) -> list[Column]:
    s = g.scale
    fixed = [
        Column("row", "ردیف", 18 * s, "center", "shrink"),
        Column("code", "کد کالا", 42 * s, "center", "wrap"),
        Column("description", "شرح کالا یا خدمات", 0, "right", "wrap"),
        Column("quantity", "مقدار", 34 * s, "center", "shrink"),
        Column("unit", "واحد", 30 * s, "center", "wrap"),
        Column("unit_price", f"مبلغ واحد ({unit})", 56 * s, "center", "shrink"),
        Column("gross", f"مبلغ کل ({unit})", 60 * s, "center", "shrink"),
        Column("discount", f"تخفیف ({unit})", 50 * s, "center", "shrink"),
        Column("taxable", f"مبلغ پس از تخفیف ({unit})", 60 * s, "center", "shrink"),
        Column("vat", f"مالیات و عوارض ({unit})", 54 * s, "center", "shrink"),
        Column("total", f"جمع کل ({unit})", 62 * s, "center", "shrink"),
    ]
    used = sum(c.width for c in fixed)
    fixed[2].width = g.inner - used
    return fixed


class InvoiceRenderer:
    def __init__(self, doc: DocumentView, paper: str = "A4", toman: bool = False):
        register_fonts()
        self.doc = doc
        self.g = geometry(paper)
        self.toman = toman
        self.unit = "تومان" if toman else "ریال"
        self.columns = _columns(self.g, self.unit)
        self.body_size = self.g.fs(8)
        self.table_size = self.g.fs(7.5)
        self.footer_h = self.g.fs(22)

    # --- text of the document ------------------------------------------------------------------------
    def title(self) -> str:
        d = self.doc
        if d.doc_type == "proforma":
            return "پیش‌فاکتور"
        if d.subject == 2:
            return "صورتحساب فروش کالا و خدمات (اصلاحی)"
        return "صورتحساب فروش کالا و خدمات"

    def number_text(self) -> str:
        return fmt.digits(self.doc.number) if self.doc.number else "پیش‌نویس"

    def line_values(self) -> list[dict[str, str]]:
        rows = []
        for i, ln in enumerate(self.doc.lines):
            desc = ln.description
            if ln.goods_id:
                desc += f"\nشناسه کالا: {fmt.digits(ln.goods_id)}"
            if ln.vat_exempt:
                desc += " (معاف از مالیات)"
            rows.append({
                "row": fmt.digits(i + 1),
                "code": fa_digits(ln.code),
                "description": fa_digits(desc),
                "quantity": qty_text(ln.quantity),
                "unit": ln.unit,
                "unit_price": money(ln.unit_price, self.toman),
                "gross": money(ln.gross, self.toman),
                "discount": money(ln.discount + ln.doc_discount_share, self.toman),
                "taxable": money(ln.taxable, self.toman),
                "vat": money(ln.vat, self.toman),
                "total": money(ln.total, self.toman),
            })
        return rows

    # --- measuring --------------------------------------------------------------------------------------
    def header_height(self) -> float:
        return self.g.fs(62)

    def party_fields(self, who: str) -> list[tuple[str, str]]:
        p = self.doc.seller if who == "seller" else self.doc.buyer
        reg = p.get("registration_no") or ""
        nid = p.get("national_id") or ""
        nid_label = "شماره ثبت / شناسه ملی" if who == "seller" or p.get("kind") == "organisation" else "کد ملی"
        nid_value = " / ".join(x for x in (reg, nid) if x)
        return [
            ("نام شخص حقیقی / حقوقی", p.get("name") or "—"),
            ("شماره اقتصادی", p.get("economic_code") or "—"),
            (nid_label, nid_value or "—"),
            ("نشانی", p.get("address") or "—"),
            ("کد پستی", p.get("postal_code") or "—"),
            ("تلفن", p.get("phone") or "—"),
        ]

    def _party_cells(self, who: str) -> list[tuple[str, float]]:
        """(text, width) per field: three per row, the address row gives the address two thirds."""
        third = (self.g.inner - 8) / 3
        out = []
        for i, (label, value) in enumerate(self.party_fields(who)):
            w = third
            if i == 3:
                w = third * 1.4
            elif i in (4, 5):
                w = third * 0.8
            out.append((fa_digits(f"{label}: {value}"), w))
        return out

    def party_height(self, who: str) -> float:
        size = self.body_size
        lead = leading_for(size)
        cells = self._party_cells(who)
        h = 0.0
        for row in (cells[:3], cells[3:]):
            n = max(len(wrap(t, w - 6, FONT, size)) for t, w in row)
            h += n * lead + 4
        return h + 4 + self.party_band()

    def closing_height(self) -> float:
        return self._closing(None, 0, measure=True)

    # --- drawing ----------------------------------------------------------------------------------------
    def draw_header(self, c, y: float) -> float:
        g, d = self.g, self.doc
        h = self.header_height()
        logo = d.seller.get("logo_path") or ""
        if logo and Path(logo).exists():
            try:
                img = ImageReader(logo)
                side = h - 6
                c.drawImage(img, g.right - side, y - side - 3, side, side, preserveAspectRatio=True, mask="auto",
                            anchor="c")
            except Exception:  # a broken logo file must not stop the invoice
                logger.warning("logo %s could not be drawn", logo, exc_info=True)
        draw_text(c, self.title(), g.width / 2, y - g.fs(22), FONT_BOLD, g.fs(14), "center")
        if d.seller.get("name"):
            draw_text(c, d.seller["name"], g.width / 2, y - g.fs(40), FONT, g.fs(10), "center")
        # number / date box on the left
        bw, bh = g.fs(150), h - 8
        bx = g.margin
        c.setLineWidth(0.6)
        c.roundRect(bx, y - bh - 2, bw, bh, 4, stroke=1, fill=0)
        items = [("شماره", self.number_text()), ("تاریخ", format_date(d.date))]
        if d.doc_type == "proforma" and d.valid_until:
            items.append(("اعتبار تا", format_date(d.valid_until)))
        elif d.corrects_number:
            items.append(("اصلاح فاکتور", fmt.digits(d.corrects_number)))
        elif d.due_date and d.settlement != "cash" and d.doc_type == "invoice":
            items.append(("سررسید", format_date(d.due_date)))
        lead = (bh - 6) / len(items)
        for i, (label, value) in enumerate(items):
            base = y - 2 - 3 - (i + 1) * lead + lead * 0.3
            draw_text(c, f"{label}:", bx + bw - 6, base, FONT, g.fs(8.5), "right")
            draw_text(c, value, bx + 6, base, FONT_BOLD, g.fs(9), "left")
        return y - h

    def party_band(self) -> float:
        return self.g.fs(15)

    def draw_party(self, c, who: str, y: float) -> float:
        g = self.g
        title = "مشخصات فروشنده" if who == "seller" else "مشخصات خریدار"
        band = self.party_band()
        h = self.party_height(who)
        c.setLineWidth(0.6)
        c.setFillColor(GREY)
        c.rect(g.margin, y - band, g.inner, band, stroke=1, fill=1)
        c.setFillColorRGB(0, 0, 0)
        draw_text(c, title, g.width / 2, y - band + (band - g.fs(8.5)) / 2 + g.fs(1.5), FONT_BOLD, g.fs(8.5),
                  "center")
        c.rect(g.margin, y - h, g.inner, h, stroke=1, fill=0)
        size = self.body_size
        lead = leading_for(size)
        cells = self._party_cells(who)
        top = y - band - 2
        for row in (cells[:3], cells[3:]):
            x = g.right - 4
            n = max(len(wrap(t, w - 6, FONT, size)) for t, w in row)
            for text, w in row:
                draw_paragraph(c, text, x - 2, top, w - 6, FONT, size, lead)
                x -= w
            top -= n * lead + 4
        return y - h

    def _header_layout(self):
        cols = [col if col.key == "row" else replace(col, fit="wrap") for col in self.columns]
        return layout_row({col.key: col.title for col in cols}, cols, FONT_BOLD, self.table_size)

    def draw_table_header(self, c, y: float) -> float:
        hdr = self._header_layout()
        c.setLineWidth(0.5)
        return draw_row(c, hdr, self.columns, self.g.right, y, FONT_BOLD, self.table_size, fill=GREY)

    def table_header_height(self) -> float:
        return self._header_layout().height

    def table_title_height(self) -> float:
        return self.g.fs(16)

    def draw_table_title(self, c, y: float, cont: bool) -> float:
        g = self.g
        text = "مشخصات کالا یا خدمات مورد معامله"
        if cont:
            text += " (ادامه)"
        draw_text(c, text, g.right, y - g.fs(11), FONT_BOLD, g.fs(8.5), "right")
        return y - self.table_title_height()

    def _closing(self, c, y: float, measure: bool = False) -> float:
        """Totals, words, terms, notes and signatures. With measure=True nothing is drawn and the height is
        returned; otherwise the y below the block."""
        g, d = self.g, self.doc
        size = self.body_size
        lead = leading_for(size) + 2
        totals: list[tuple[str, int, bool]] = [("جمع مبلغ کل", d.subtotal, False)]
        if d.line_discount:
            totals.append(("تخفیف ردیف‌ها", d.line_discount, False))
        if d.doc_discount:
            totals.append(("تخفیف روی کل فاکتور", d.doc_discount, False))
        totals.append(("جمع پس از تخفیف", d.taxable, False))
        totals.append((f"مالیات و عوارض ارزش افزوده ({percent_label(d.vat_rate)})", d.vat_total, False))
        totals.append(("مبلغ قابل پرداخت", d.total, True))
        if d.doc_type == "invoice" and d.paid:
            totals.append(("پرداخت‌شده", d.paid, False))
            totals.append(("مانده", d.remaining, True))
        box_w = g.fs(230)
        totals_h = len(totals) * lead
        words = f"مبلغ قابل پرداخت به حروف: {amount_in_words(d.total, self.toman)}"
        text_w = g.inner - box_w - 10
        info = [words, f"نحوه تسویه: {SETTLEMENT_LABELS.get(d.settlement, d.settlement)}"]
        if d.doc_type == "invoice" and d.settlement != "cash" and d.due_date:
            info[-1] += f"، سررسید پرداخت {format_date(d.due_date)}"
        if d.doc_type == "proforma" and d.valid_until:
            info.append(f"این پیش‌فاکتور تا تاریخ {format_date(d.valid_until)} اعتبار دارد.")
        if d.source_number and d.doc_type == "invoice":
            info.append(f"بر اساس پیش‌فاکتور شماره {fmt.digits(d.source_number)}")
        if d.notes:
            info.append(f"توضیحات: {fa_digits(d.notes)}")
        if d.terms:
            info.append(f"شرایط: {fa_digits(d.terms)}")
        if d.state == "cancelled" and d.cancel_reason:
            info.append(f"این سند باطل شده است. علت: {d.cancel_reason}")
        info_lines = sum(len(wrap(t, text_w - 8, FONT, size)) for t in info)
        info_h = info_lines * leading_for(size) + 6 * len(info)
        block_h = max(totals_h, info_h) + 6
        sig_h = g.fs(62)
        total_h = block_h + 6 + sig_h
        if measure:
            return total_h
        # totals box on the left
        c.setLineWidth(0.5)
        ty = y
        label_w = box_w * 0.55
        for label, amount, bold in totals:
            if bold:
                c.setFillColor(GREY)
                c.rect(g.margin, ty - lead, box_w, lead, stroke=0, fill=1)
                c.setFillColorRGB(0, 0, 0)
            c.rect(g.margin, ty - lead, box_w, lead, stroke=1, fill=0)
            c.line(g.margin + box_w - label_w, ty, g.margin + box_w - label_w, ty - lead)
            base = ty - lead + (lead - size) / 2 + size * 0.2
            font = FONT_BOLD if bold else FONT
            draw_text(c, label, g.margin + box_w - 4, base, font, size, "right")
            draw_text(c, f"{money(amount, self.toman)} {self.unit}", g.margin + (box_w - label_w) / 2, base, font,
                      size, "center")
            ty -= lead
        # words, terms and notes on the right
        iy = y
        for t in info:
            iy = draw_paragraph(c, t, g.right - 4, iy, text_w - 8, FONT_BOLD if t is words else FONT, size)
            iy -= 6
        c.rect(g.right - text_w, y - block_h + 4, text_w, block_h - 4, stroke=1, fill=0)
        # signatures
        sy = y - block_h - 6
        half = g.inner / 2
        c.rect(g.margin + half, sy - sig_h, half, sig_h, stroke=1, fill=0)
        c.rect(g.margin, sy - sig_h, half, sig_h, stroke=1, fill=0)
        draw_text(c, "مهر و امضای فروشنده", g.right - 8, sy - g.fs(14), FONT_BOLD, size, "right")
        draw_text(c, "مهر و امضای خریدار", g.margin + half - 8, sy - g.fs(14), FONT_BOLD, size, "right")
        return sy - sig_h

    def draw_footer(self, c, page: int, pages: int) -> None:
        g = self.g
        y = g.margin - 4
        text = f"صفحه {fmt.digits(page)} از {fmt.digits(pages)}"
        draw_text(c, text, g.width / 2, y, FONT, g.fs(7.5), "center")
        draw_text(c, f"{self.doc.title} شماره {self.number_text()}", g.right, y, FONT, g.fs(7), "right")
        if self.doc.seller.get("phone"):
            draw_text(c, fa_digits(f"تلفن: {self.doc.seller['phone']}"), g.margin, y, FONT, g.fs(7), "left")

    def draw_stamp(self, c) -> None:
        d = self.doc
        if d.state not in ("cancelled", "corrected"):
            return
        text = "باطل شده" if d.state == "cancelled" else "اصلاح شده"
        c.saveState()
        c.setFillColor(STAMP)
        c.translate(self.g.width / 2, self.g.height / 2)
        c.rotate(30)
        draw_text(c, text, 0, 0, FONT_BOLD, self.g.fs(72), "center")
        c.restoreState()

    # --- pagination ---------------------------------------------------------------------------------
    def cont_header_height(self) -> float:
        return self.g.fs(20)

    def draw_cont_header(self, c, y: float) -> float:
        """A continuation page's short header: the document, its number and date, and the buyer's name."""
        g, d = self.g, self.doc
        h = self.cont_header_height()
        c.setLineWidth(0.6)
        c.setFillColor(GREY)
        c.rect(g.margin, y - h, g.inner, h, stroke=1, fill=1)
        c.setFillColorRGB(0, 0, 0)
        base = y - h + (h - g.fs(8.5)) / 2 + g.fs(1.5)
        draw_text(c, f"ادامه {d.title} شماره {self.number_text()}", g.right - 6, base, FONT_BOLD, g.fs(8.5), "right")
        draw_text(c, f"تاریخ {format_date(d.date)}", g.width / 2, base, FONT, g.fs(8.5), "center")
        buyer = fa_digits(f"خریدار: {d.buyer.get('name') or '—'}")
        room = g.inner / 3 - 12                 # a third of the band: it must not run into the date
        while text_width(buyer, FONT, g.fs(8.5)) > room and " " in buyer.strip():
            buyer = buyer.rstrip(" …").rsplit(" ", 1)[0] + " …"
        draw_text(c, buyer, g.margin + 6, base, FONT, g.fs(8.5), "left")
        return y - h

    def _carry_columns(self) -> list[Column]:
        """The carried-subtotal row: one label cell over the first columns, then the money columns."""
        money_keys = ("gross", "discount", "taxable", "vat", "total")
        label_w = sum(col.width for col in self.columns if col.key not in money_keys)
        return [Column("label", "", label_w, "right", "wrap")] + [
            replace(col) for col in self.columns if col.key in money_keys]

    def carry_row(self, label: str, sums: list[int]):
        values = {"label": label}
        for key, v in zip(("gross", "discount", "taxable", "vat", "total"), sums, strict=True):
            values[key] = money(v, self.toman)
        return layout_row(values, self._carry_columns(), FONT_BOLD, self.table_size)

    def carry_height(self) -> float:
        return self.carry_row("نقل به صفحه بعد", [0] * 5).height

    def line_sums(self, idx: list[int]) -> list[int]:
        """gross, discount, taxable, VAT and total of these lines (what a page carries forward)."""
        out = [0] * 5
        for i in idx:
            ln = self.doc.lines[i]
            for k, v in enumerate((ln.gross, ln.discount + ln.doc_discount_share, ln.taxable, ln.vat, ln.total)):
                out[k] += v
        return out

    def plan(self, rows) -> list[tuple[list[int], bool]]:
        """Which line rows go on which page, and the page that carries the closing block.

        Every page but the last keeps room for «نقل به صفحه بعد» at its foot; a continuation page starts with
        its short header and «نقل از صفحه قبل». The totals never stand alone on a page: when they do not fit
        under the last lines, the last lines move over with them."""
        g = self.g
        bottom = g.margin + self.footer_h
        first_top = (g.height - g.margin - self.header_height() - 6 - self.party_height("seller") - 6
                     - self.party_height("buyer") - 6)
        hdr = self.table_title_height() + self.table_header_height()
        carry = self.carry_height()
        fresh = g.height - g.margin - self.cont_header_height() - 6 - hdr - carry - carry - bottom
        closing = self.closing_height() + 8
        pages: list[list[int]] = []
        cur: list[int] = []
        avail = first_top - hdr - carry - bottom
        for i, r in enumerate(rows):
            # break before a row that does not fit, unless the page is a fresh continuation page already
            # (a single row taller than a page is drawn anyway rather than looping)
            if r.height > avail and (cur or not pages):
                pages.append(cur)
                cur = []
                avail = fresh
            cur.append(i)
            avail -= r.height
        if closing > avail + carry:          # the last page draws no «نقل به صفحه بعد»
            k = 2 if len(cur) > 2 else 1
            while k > 1 and sum(rows[i].height for i in cur[-k:]) + closing > fresh + carry:
                k -= 1
            k = min(k, len(cur))
            moved = cur[len(cur) - k:]
            cur = cur[:len(cur) - k]
            if cur or not pages:
                pages.append(cur)
            cur = moved
        pages.append(cur)
        return [(idx, n == len(pages) - 1) for n, idx in enumerate(pages)]

    def render(self, out) -> None:
        g = self.g
        c = rl_canvas.Canvas(out, pagesize=(g.width, g.height), pageCompression=1)
        d = self.doc
        c.setTitle(f"{d.title} {d.number or ''}".strip())
        c.setAuthor(d.seller.get("name") or "")
        c.setCreator("Peyvand CRM")
        c.setSubject(self.title())
        rows = [layout_row(v, self.columns, FONT, self.table_size) for v in self.line_values()]
        pages = self.plan(rows)
        carry_cols = self._carry_columns()
        done: list[int] = []
        for pno, (idx, closing_here) in enumerate(pages, start=1):
            self.draw_stamp(c)
            c.setLineWidth(0.6)
            c.setStrokeColor(DARK)
            y = g.height - g.margin
            if pno == 1:
                y = self.draw_header(c, y) - 6
                y = self.draw_party(c, "seller", y) - 6
                y = self.draw_party(c, "buyer", y) - 6
            else:
                y = self.draw_cont_header(c, y) - 6
            y = self.draw_table_title(c, y, cont=pno > 1)
            y = self.draw_table_header(c, y)
            if pno > 1 and done:
                y = draw_row(c, self.carry_row("نقل از صفحه قبل", self.line_sums(done)), carry_cols, g.right, y,
                             FONT_BOLD, self.table_size, fill=GREY)
            for i in idx:
                y = draw_row(c, rows[i], self.columns, g.right, y, FONT, self.table_size)
            done += idx
            if not closing_here and done:
                y = draw_row(c, self.carry_row("نقل به صفحه بعد", self.line_sums(done)), carry_cols, g.right, y,
                             FONT_BOLD, self.table_size, fill=GREY)
            if closing_here:
                self._closing(c, y - 8)
            self.draw_footer(c, pno, len(pages))
            c.showPage()
        c.save()
        logger.info("rendered %s %s: %d lines, %d pages", d.doc_type, d.number, len(d.lines), len(pages))


@roles.guard("money.view")
@audit.printed("document", key="doc")
def render_document(doc: DocumentView | int, out=None, paper: str | None = None, toman: bool | None = None) -> bytes:
    """Render to `out` (a path or a binary file) and return the PDF bytes. Paper and Toman default to the
    office settings (sales.paper, money.show_toman)."""
    from app import settings

    if isinstance(doc, int):
        doc = get_document(doc)
    paper = paper or settings.get(options.SALES_PAPER)
    toman = settings.get(options.MONEY_SHOW_TOMAN) if toman is None else toman
    buf = io.BytesIO()
    InvoiceRenderer(doc, paper, toman).render(buf)
    data = buf.getvalue()
    if out is not None:
        if hasattr(out, "write"):
            out.write(data)
        else:
            path = Path(out)
            tmp = path.with_name(path.name + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)
    return data


def invoice_pdf_main(number: str, out: str, toman: bool = False, paper: str | None = None) -> int:
    """`crm invoice pdf NUMBER --out FILE.pdf`: 0 on success; a Persian message on stderr and 1 otherwise."""
    from app.core.errors import UserError

    try:
        doc = find_document(number)
        render_document(doc.id, out, paper=paper, toman=toman)
    except UserError as e:
        print(e.message, file=sys.stderr)
        return 1
    except OSError as e:
        from app.core.fs import cause_of

        cause = cause_of(e)
        print(f"پرونده PDF نوشته نشد: {out} ({cause[0] if cause else e.strerror or e})", file=sys.stderr)
        return 1
    print(out)
    return 0
