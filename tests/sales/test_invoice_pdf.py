"""Invoice PDFs rendered for real and read back with pdftotext (poppler), which rebuilds logical order."""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import unicodedata
from decimal import Decimal

import pytest
from pypdf import PdfReader

from app import settings
from app.core import clock
from app.core.pdf_text import fa_digits
from app.core.text import format_number, to_persian_digits
from app.core.words import amount_in_words
from app.sales.documents import cancel_document, create_invoice, create_proforma
from app.sales.invoice_pdf import invoice_pdf_main, render_document
from app.sales.totals import LineInput
from app.sales.views import get_document
from models.core import Address, PhoneNumber
from tests.sales.helpers_sales import make_customer

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="pdftotext (Debian package poppler-utils) is needed to read PDFs back")

LONG_NAME = ("کابل برق ۲.۵ افشان نیکسان حلقه ۱۰۰ متری با روکش دوبل و گواهی استاندارد ملی ایران "
             "برای سیم‌کشی ساختمان‌های مسکونی و اداری")


def pdf_text(path, first: int | None = None, last: int | None = None) -> str:
    """The text of a PDF in logical order, letters folded from presentation forms, without any spaces
    (pdftotext's spacing of right-to-left runs is not reliable; compare with squash())."""
    cmd = ["pdftotext", "-enc", "UTF-8"]
    if first:
        cmd += ["-f", str(first)]
    if last:
        cmd += ["-l", str(last)]
    out = subprocess.run([*cmd, str(path), "-"], check=True, capture_output=True).stdout.decode("utf-8")
    out = unicodedata.normalize("NFKC", out)
    out = re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", out)
    return squash(out)


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


@pytest.fixture
def office(db):
    clock.set_now(dt.datetime(2026, 11, 24, 10, 0))        # 1405/09/03
    settings.set("office.name", "شرکت پیوند نور پارسیان")
    settings.set("office.economic_code", "411345678912")
    settings.set("office.national_id", "10320456789")
    settings.set("office.registration_no", "45871")
    settings.set("office.postal_code", "1543915678")
    settings.set("office.address", "تهران، خیابان ولیعصر، کوچه نیلوفر، پلاک ۱۲")
    settings.set("office.phone", "021-88776655")
    c = make_customer("آفتاب شرق", kind="organisation", company="شرکت بازرگانی آفتاب شرق",
                      economic_code="411111111111", national_id="10101234567", postal_code="1987654321")
    Address.create(customer=c, city="مشهد", province="خراسان رضوی", line="بلوار سجاد، پلاک ۴۵")
    PhoneNumber.create(customer=c, raw="051-38445566", canonical="05138445566")
    return c


def three_lines():
    return [LineInput("لامپ LED-40W مهتابی", 3, 1_200_000, code="K001", goods_id="2720000000017"),
            LineInput(LONG_NAME, "2.5", 333, code="K002"),
            LineInput("نصب و راه‌اندازی", 1, 45_000_000, discount=500_000, vat_exempt=True, code="K003")]


def test_three_line_invoice_reads_back(office, tmp_path):
    inv = create_invoice(office, three_lines(), doc_discount=100_000, settlement="credit", invoice_type=1,
                               notes="تحویل در انبار خریدار")
    doc = get_document(inv.id)
    out = tmp_path / "inv.pdf"
    data = render_document(inv.id, out, paper="A4", toman=False)
    assert out.read_bytes() == data and data.startswith(b"%PDF")
    reader = PdfReader(str(out))
    assert len(reader.pages) == 1
    assert reader.metadata.title == f"فاکتور فروش {inv.number}"
    text = pdf_text(out)
    for expected in ["صورتحساب فروش کالا و خدمات", "مشخصات فروشنده", "مشخصات خریدار",
                     "شرکت پیوند نور پارسیان", "شرکت بازرگانی آفتاب شرق",
                     to_persian_digits("411345678912"), to_persian_digits("411111111111"),
                     to_persian_digits("1987654321"), to_persian_digits("10101234567"),
                     to_persian_digits("021-88776655"), to_persian_digits("051-38445566"),
                     to_persian_digits(inv.number), "۱۴۰۵/۰۹/۰۳", "LED-40W", "K001", "۲۷۲۰۰۰۰۰۰۰۰۱۷",
                     "مبلغ قابل پرداخت", "مهر و امضای فروشنده", "مهر و امضای خریدار", "نسیه",
                     "تحویل در انبار خریدار", "صفحه ۱ از ۱", "۲٫۵"]:
        assert squash(expected) in text, expected
    for ln in doc.lines:
        assert format_number(ln.total) in text
        assert format_number(ln.unit_price) in text
    for amount in (doc.subtotal, doc.vat_total, doc.total, doc.line_discount, doc.doc_discount):
        assert format_number(amount) in text, amount
    # the words wrap onto a second line here, and pdftotext reads the two lines apart
    words = amount_in_words(doc.total).split()
    assert squash(" ".join(words[:10])) in text and squash(" ".join(words[-2:])) in text
    # every word of the long name made it into the cell (wrapped, nothing clipped)
    for w in LONG_NAME.split():
        assert unicodedata.normalize("NFKC", fa_digits(w)) in text, w


def test_sixty_lines_continue_with_repeated_headers(office, tmp_path):
    lines = [LineInput(f"{LONG_NAME if i % 7 == 0 else 'کالای شماره'} {i + 1}", i % 5 + 1, 100_000 + i)
             for i in range(60)]
    inv = create_invoice(office, lines)
    out = tmp_path / "inv60.pdf"
    render_document(inv.id, out)
    pages = len(PdfReader(str(out)).pages)
    assert pages >= 3
    for p in range(1, pages + 1):
        t = pdf_text(out, p, p)
        assert squash(f"صفحه {to_persian_digits(p)} از {to_persian_digits(pages)}") in t
        if squash("شرح کالا یا خدمات") not in t:
            assert p == pages           # only a last page holding just the totals may lack the table
        if p > 1 and squash("شرح کالا یا خدمات") in t:
            assert squash("ادامه فاکتور فروش") in t
        if p < pages:
            assert squash("مبلغ قابل پرداخت") not in t
    assert squash("مبلغ قابل پرداخت") in pdf_text(out, pages, pages)
    assert squash("مشخصات فروشنده") in pdf_text(out, 1, 1)
    assert squash("مشخصات فروشنده") not in pdf_text(out, 2, 2)
    whole = pdf_text(out)
    for i in range(60):
        assert squash(f"کالای شماره {to_persian_digits(i + 1)}") in whole or i % 7 == 0
    doc = get_document(inv.id)
    assert format_number(doc.total) in whole


def test_toman_and_a5(office, tmp_path):
    inv = create_invoice(office, [LineInput("خدمات مشاوره", 1, 1_200_000)])
    out = tmp_path / "t.pdf"
    render_document(inv.id, out, paper="A5", toman=True)
    page = PdfReader(str(out)).pages[0]
    w, h = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(w), round(h)) == (595, 420)                  # A5 landscape
    text = pdf_text(out)
    assert "تومان" in text and "(ریال)" not in text.replace(")ریال(", "(ریال)")
    assert format_number(132_000) in text                       # 1,320,000 Rials = 132,000 Toman
    assert format_number(1_320_000) not in text
    assert squash(amount_in_words(1_320_000, toman=True)) in text


def test_proforma_and_cancelled_stamp(office, tmp_path):
    pf = create_proforma(office, [LineInput("طراحی نشان تجاری", 1, 8_000_000)])
    out = tmp_path / "pf.pdf"
    render_document(pf.id, out)
    text = pdf_text(out)
    assert squash("پیش‌فاکتور") in text and squash("اعتبار تا") in text and to_persian_digits(pf.number) in text
    cancel_document(pf.id, "مشتری نخواست")
    render_document(pf.id, out)
    text = pdf_text(out)
    assert squash("باطل شده") in text and squash("مشتری نخواست") in text


def test_logo_is_drawn(office, tmp_path):
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 80), (30, 90, 160)).save(logo)
    settings.set("office.logo_path", str(logo))
    inv = create_invoice(office, [LineInput("کالا", 1, 1000)])
    out = tmp_path / "logo.pdf"
    render_document(inv.id, out)
    assert len(PdfReader(str(out)).pages[0].images) == 1
    settings.set("office.logo_path", str(tmp_path / "missing.png"))
    inv2 = create_invoice(office, [LineInput("کالا", 1, 1000)])
    render_document(inv2.id, out)                               # a missing logo does not stop the invoice
    assert len(PdfReader(str(out)).pages[0].images) == 0


def test_cli_function(office, tmp_path, capsys):
    inv = create_invoice(office, [LineInput("کالا", Decimal("1.5"), 1000)])
    out = tmp_path / "cli.pdf"
    assert invoice_pdf_main(to_persian_digits(inv.number), str(out)) == 0
    assert out.exists() and "۱٫۵" in pdf_text(out)
    assert invoice_pdf_main("99999999", str(tmp_path / "x.pdf")) == 1
    assert "پیدا نشد" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()
    assert invoice_pdf_main(inv.number, str(tmp_path / "no" / "such" / "dir" / "x.pdf")) == 1
    assert "نوشته نشد" in capsys.readouterr().err


def test_crm_invoice_pdf_command(office, tmp_path, db):
    import os
    import sys
    from pathlib import Path

    inv = create_invoice(office, [LineInput("کالا", 2, 1_000)])
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, CRM_DATA_DIR=str(tmp_path / "cli-data"))
    db_path = db[len("sqlite:///"):]
    out = tmp_path / "cmd.pdf"
    r = subprocess.run([sys.executable, str(root / "main.py"), "--db", db_path, "invoice", "pdf", inv.number,
                        "--out", str(out), "--paper", "A5"], capture_output=True, env=env, cwd=root)
    assert r.returncode == 0, r.stderr.decode()
    assert to_persian_digits(inv.number) in pdf_text(out)
    r = subprocess.run([sys.executable, str(root / "main.py"), "--db", db_path, "invoice", "pdf", "P77",
                        "--out", str(tmp_path / "none.pdf")], capture_output=True, env=env, cwd=root)
    assert r.returncode != 0 and "پیدا نشد" in r.stderr.decode() and "Traceback" not in r.stderr.decode()


def _words(path, page: int) -> list[str]:
    """The words pdftotext reads on one page (letters folded from presentation forms)."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-f", str(page), "-l", str(page), str(path), "-"],
                         check=True, capture_output=True).stdout.decode("utf-8")
    out = unicodedata.normalize("NFKC", out)
    return re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", out).split()


@pytest.mark.parametrize("paper", ["A4", "A5"])
def test_fifty_five_lines_carry_subtotals_and_keep_words_whole(office, tmp_path, paper):
    from app.core.pdf_text import FONT, layout_row
    from app.sales.invoice_pdf import InvoiceRenderer

    # before, this invoice printed its totals alone on page 3 (A4), and «سرویس» as «سروی / س» (A5)
    names = ("حمل و تخلیه کالا", "لامپ LED-40W مهتابی", "کابل برق ۲.۵ افشان نیکسان (حلقه ۱۰۰ متری)",
             "سرویس و نگهداری دوره‌ای تابلو برق ساختمان")
    units = ("سرویس", "عدد", "حلقه", "سرویس")
    lines = [LineInput(f"{names[i % 4]} {i + 1}", i % 5 + 1, 100_000 + i * 1000, unit=units[i % 4])
             for i in range(55)]
    inv = create_invoice(office, lines)
    doc = get_document(inv.id)
    out = tmp_path / f"inv55_{paper}.pdf"
    render_document(inv.id, out, paper=paper)
    r = InvoiceRenderer(doc, paper)
    plan = r.plan([layout_row(v, r.columns, FONT, r.table_size) for v in r.line_values()])
    pages = len(PdfReader(str(out)).pages)
    assert pages == len(plan) >= 3
    # no page holds only the totals: the last page has lines above them
    assert plan[-1][1] and len(plan[-1][0]) >= 1
    buyer = squash("خریدار: شرکت بازرگانی آفتاب شرق")
    carried = 0
    for p, (idx, _closing) in enumerate(plan, start=1):
        t = pdf_text(out, p, p)
        assert squash("شرح کالا یا خدمات") in t
        if p > 1:
            # a short header with the buyer's name and the number, then the subtotal carried in
            assert buyer in t and squash(f"ادامه فاکتور فروش شماره {to_persian_digits(inv.number)}") in t
            assert squash("نقل از صفحه قبل") in t and format_number(carried) in t
        carried += sum(doc.lines[i].total for i in idx)
        if p < pages:
            assert squash("نقل به صفحه بعد") in t and format_number(carried) in t
            assert squash("مبلغ قابل پرداخت") not in t
        else:
            assert squash("نقل به صفحه بعد") not in t and squash("مبلغ قابل پرداخت") in t
        # «سرویس» is never broken: every one of this page's «سرویس» lines reads it whole, once per cell
        words = _words(out, p)
        assert "سروی" not in words and "س" not in words
        expected = sum((doc.lines[i].unit == "سرویس") + doc.lines[i].description.split().count("سرویس")
                       for i in idx)
        assert words.count("سرویس") == expected
    assert carried == doc.total
