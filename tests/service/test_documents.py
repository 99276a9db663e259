"""Documents: attach, dedupe, preview, delete; a backup and restore round trip; a 200 MB file refused cleanly;
the same on PostgreSQL (documents live in the database, so every desk sees them)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from app import backup as B
from app import documents as docs
from app.core import clock
from app.core.errors import NotFound, UserError
from models.connection import close_database, open_database
from models.service import Document, DocumentBlob, DocumentChunk
from tests.tasks.helpers import customer, j, timeline_kinds, user


def make_pdf(path: Path, text: str = "Peyvand") -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    c.drawString(100, 750, text)
    c.save()
    return path


def make_png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (64, 32), (37, 99, 235)).save(path)
    return path


@pytest.fixture
def office(anydb):
    clock.set_now(j(1405, 3, 2, 9, 0))
    return {"reza": user("رضا کریمی", "reza"), "ali": customer()}


def test_attach_dedupe_preview_delete(office, tmp_path):
    pdf = make_pdf(tmp_path / "قرارداد.pdf")
    copy = tmp_path / "copy-of-contract.pdf"
    copy.write_bytes(pdf.read_bytes())
    png = make_png(tmp_path / "photo.png")
    a = docs.attach("customer", office["ali"], pdf, user=office["reza"])
    b = docs.attach("customer", office["ali"], copy, user=office["reza"])
    c = docs.attach("customer", office["ali"], png, user=office["reza"])
    assert DocumentBlob.select().count() == 2                 # the two PDFs share one content
    rows = docs.documents_of_customer(office["ali"])
    assert {r.name for r in rows} == {"قرارداد.pdf", "copy-of-contract.pdf", "photo.png"}
    assert docs.get(a.id).is_pdf and docs.get(c.id).is_image and docs.get(c.id).mime == "image/png"
    assert docs.read_bytes(b.id) == pdf.read_bytes()
    assert docs.get(a.id).sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()
    png_bytes = docs.pdf_first_page_png(docs.read_bytes(a.id), width=200)
    assert png_bytes.startswith(b"\x89PNG")
    out = docs.export_copy(a.id, tmp_path / "opened")
    assert out.name == "قرارداد.pdf" and out.read_bytes() == pdf.read_bytes()
    docs.delete(a.id, office["reza"])
    assert DocumentBlob.select().count() == 2                 # still used by the copy
    docs.delete(b.id, office["reza"])
    assert DocumentBlob.select().count() == 1 and DocumentChunk.select().count() == 1
    with pytest.raises(NotFound):
        docs.read_bytes(a.id)
    kinds = timeline_kinds(office["ali"])
    assert kinds.count("document") == 3 and kinds.count("document_removed") == 2


def test_large_file_is_chunked(office, tmp_path):
    big = tmp_path / "scan.bin"
    data = os.urandom(3 * docs.CHUNK + 123)
    big.write_bytes(data)
    d = docs.attach("customer", office["ali"], big)
    assert DocumentChunk.select().where(DocumentChunk.blob == d.blob_id).count() == 4
    assert docs.read_bytes(d.id) == data


def test_200_mb_file_refused_cleanly(office, tmp_path):
    huge = tmp_path / "video.mp4"
    with huge.open("wb") as f:
        f.truncate(200 * 1024 * 1024)                          # sparse: cheap to make, never read
    with pytest.raises(UserError) as e:
        docs.attach("customer", office["ali"], huge)
    assert "۲۰۰ مگابایت" in e.value.message and "۵۰ مگابایت" in e.value.message
    assert Document.select().count() == 0 and DocumentBlob.select().count() == 0


def test_missing_owner_and_bad_files(office, tmp_path):
    pdf = make_pdf(tmp_path / "a.pdf")
    with pytest.raises(NotFound):
        docs.attach("request", 12345, pdf)
    with pytest.raises(UserError):
        docs.attach("customer", office["ali"], tmp_path / "nope.pdf")
    with pytest.raises(UserError):
        docs.attach("customer", office["ali"], tmp_path)
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(UserError):
        docs.attach("customer", office["ali"], tmp_path / "empty.txt")
    with pytest.raises(UserError):
        docs.pdf_first_page_png(b"not a pdf")
    assert Document.select().count() == 0


def test_documents_of_requests_and_invoices_show_on_the_customer(office, tmp_path):
    from app.service import requests as rq

    r = rq.create_request({"customer_id": office["ali"], "subject": "تعمیر", "assignee_id": office["reza"]})
    docs.attach("request", r.id, make_png(tmp_path / "خرابی.png"))
    docs.attach_bytes("opportunity", 7, b"%PDF-1.4 test", "پیشنهاد.pdf", customer_id=office["ali"])
    rows = docs.documents_of_customer(office["ali"])
    assert sorted((x.owner_type, x.name) for x in rows) == [("opportunity", "پیشنهاد.pdf"), ("request", "خرابی.png")]
    assert [x.name for x in docs.list_documents("request", r.id)] == ["خرابی.png"]


def test_backup_and_restore_round_trip(tmp_path):
    path = tmp_path / "office" / "crm.sqlite3"
    open_database(str(path), create=True)
    try:
        cid = customer()
        pdf = make_pdf(tmp_path / "before.pdf", "kept")
        kept = docs.attach("customer", cid, pdf)
        good = B.backup(path)
        docs.delete(kept.id)
        docs.attach("customer", cid, make_png(tmp_path / "after.png"))
    finally:
        close_database()
    B.restore(good, path)
    open_database(str(path))
    try:
        rows = docs.documents_of_customer(cid)
        assert [r.name for r in rows] == ["before.pdf"]
        assert docs.read_bytes(rows[0].id) == pdf.read_bytes()
    finally:
        close_database()
