"""Documents attached to a customer, an opportunity, a service request, an invoice or a contract.

Where the files live, and why: inside the database, on both backends, content-addressed by sha256
(``DocumentBlob`` once per content, in 1 MiB ``DocumentChunk`` rows; ``Document`` rows name the owner, the
original file name and type). The issue allowed a folder beside the SQLite file; the database wins because
- backups and restores already copy the database online and integrity-check it: documents join them with no
  second copy step that could be half-done, and a restore can never pair a database with another day's files;
- the PostgreSQL office gets the same code path (every desk sees every file), and ``db copy`` carries them;
- deleting the last document of a content deletes the content in the same transaction: no orphan files.
The cost is a larger database file; the size limit (``documents.max_mb``, 50 MB by default) keeps single
files reasonable, and identical files are stored once.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import mimetypes
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import peewee as pw

from app import fmt, options, settings
from app.core.clock import now
from app.core.errors import NotFound, UserError, ValidationError
from app.customers import timeline
from models.core import Customer, User
from models.sales import SalesDocument
from models.service import Contract, Document, DocumentBlob, DocumentChunk, ServiceRequest
from models.writer import writes

logger = logging.getLogger(__name__)

CHUNK = 1 << 20

OWNER_LABELS = {"customer": "پرونده مشتری", "opportunity": "فرصت فروش", "request": "درخواست خدمت",
                "invoice": "فاکتور", "contract": "قرارداد"}
_MAGIC = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
          (b"GIF8", "image/gif"), (b"PK\x03\x04", ""), (b"BM", "image/bmp"))


class TooLarge(UserError):
    pass


@dataclass(frozen=True)
class DocRow:
    id: int
    name: str
    mime: str
    size: int
    owner_type: str
    owner_id: int
    owner_label: str
    customer_id: int | None
    created_at: dt.datetime
    user_name: str
    sha256: str

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")

    @property
    def is_pdf(self) -> bool:
        return self.mime == "application/pdf"


def max_bytes() -> int:
    return max(1, int(settings.get(options.DOCUMENTS_MAX_MB))) * 1024 * 1024


def size_text(n: int) -> str:
    if n < 1024:
        return f"{fmt.num(n)} بایت"
    if n < 1024 * 1024:
        return f"{fmt.num(round(n / 1024, 1))} کیلوبایت"
    return f"{fmt.num(round(n / 1024 / 1024, 1))} مگابایت"


def guess_mime(name: str, head: bytes) -> str:
    for magic, mime in _MAGIC:
        if head.startswith(magic) and mime:
            return mime
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _owner_customer(owner_type: str, owner_id: int, customer_id: int | None) -> int | None:
    if owner_type not in Document.OWNERS:
        raise ValidationError({"owner_type": "سند را به چه چیزی پیوست کنیم؟ نوع درست نیست."})
    model = {"customer": Customer, "request": ServiceRequest, "invoice": SalesDocument, "contract": Contract}
    if owner_type == "opportunity":
        return customer_id
    m = model[owner_type]
    row = m.get_or_none(m.id == owner_id)
    if row is None:
        raise NotFound(f"{OWNER_LABELS[owner_type]} پیدا نشد؛ سند پیوست نشد.")
    return owner_id if owner_type == "customer" else row.customer_id


def read_file(path: str | os.PathLike) -> tuple[list[bytes], str, int]:
    """The file's chunks, sha256 and size — refused before reading when it is larger than the limit."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as e:
        raise UserError(f"پرونده {fmt.path(p)} پیدا نشد یا خواندنی نیست.", details=str(e),
                        en=f"File {p} not found or unreadable.") from e
    if not p.is_file():
        raise UserError(f"{fmt.path(p)} پرونده نیست (شاید پوشه است)؛ فقط پرونده پیوست می‌شود.")
    limit = max_bytes()
    if st.st_size > limit:
        raise TooLarge(f"پرونده «{p.name}» {size_text(st.st_size)} است؛ بیشترین اندازه مجاز برای پیوست "
                       f"{size_text(limit)} است (در تنظیمات تغییرپذیر). سندی پیوست نشد.",
                       en=f"{p.name} is {st.st_size} bytes; the limit is {limit} bytes. Nothing was attached.")
    if st.st_size == 0:
        raise UserError(f"پرونده «{p.name}» خالی است؛ پیوست نشد.")
    h = hashlib.sha256()
    chunks = []
    size = 0
    try:
        with p.open("rb") as f:
            while True:
                block = f.read(CHUNK)
                if not block:
                    break
                size += len(block)
                if size > limit:          # it grew while we read it
                    raise TooLarge(f"پرونده «{p.name}» بزرگ‌تر از {size_text(limit)} است؛ پیوست نشد.")
                h.update(block)
                chunks.append(block)
    except OSError as e:
        raise UserError(f"پرونده {fmt.path(p)} خوانده نشد.", details=str(e)) from e
    return chunks, h.hexdigest(), size


def attach(owner_type: str, owner_id: int, path: str | os.PathLike, user: int | None = None,
           customer_id: int | None = None, name: str | None = None) -> Document:
    """Attach a file: read and hashed here (off the writer), stored through the one door. The same content
    attached twice is stored once."""
    chunks, digest, size = read_file(path)
    fname = (name or Path(path).name).strip()[:255] or "سند"
    mime = guess_mime(fname, chunks[0][:16] if chunks else b"")
    return _store(owner_type, owner_id, chunks, digest, size, fname, mime, user, customer_id)


def attach_bytes(owner_type: str, owner_id: int, data: bytes, name: str, user: int | None = None,
                 customer_id: int | None = None) -> Document:
    if len(data) > max_bytes():
        raise TooLarge(f"«{name}» بزرگ‌تر از {size_text(max_bytes())} است؛ پیوست نشد.")
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
    return _store(owner_type, owner_id, chunks, hashlib.sha256(data).hexdigest(), len(data), name,
                  guess_mime(name, data[:16]), user, customer_id)


@writes
def _store(owner_type, owner_id, chunks, digest, size, name, mime, user, customer_id) -> Document:
    cust = _owner_customer(owner_type, owner_id, customer_id)
    blob = DocumentBlob.get_or_none(DocumentBlob.sha256 == digest)
    if blob is None:
        blob = DocumentBlob.create(sha256=digest, size=size, chunks=len(chunks))
        for i, c in enumerate(chunks):
            DocumentChunk.create(blob=blob.id, seq=i, data=c)
    doc = Document.create(owner_type=owner_type, owner_id=owner_id, customer=cust, blob=blob.id, name=name,
                          mime=mime, size=size, created_by=user, created_at=now())
    if cust:
        timeline.record(cust, "document", f"پیوست {OWNER_LABELS[owner_type]}: {name} ({size_text(size)})",
                        "document", doc.id, user=user)
    logger.info("document %s attached to %s %s (%d bytes)", doc.id, owner_type, owner_id, size)
    return doc


def _rows(q) -> list[DocRow]:
    out = []
    for d in q.objects():
        out.append(DocRow(d.id, d.name, d.mime, d.size, d.owner_type, d.owner_id,
                          OWNER_LABELS.get(d.owner_type, d.owner_type), d.customer_id, d.created_at,
                          getattr(d, "uname", None) or "", getattr(d, "sha", "")))
    return out


def _base():
    return (Document.select(Document, User.name.alias("uname"), DocumentBlob.sha256.alias("sha"))
            .join(User, pw.JOIN.LEFT_OUTER, on=(Document.created_by == User.id))
            .switch(Document).join(DocumentBlob, on=(Document.blob == DocumentBlob.id))
            .order_by(Document.created_at.desc(), Document.id.desc()))


def list_documents(owner_type: str, owner_id: int) -> list[DocRow]:
    return _rows(_base().where(Document.owner_type == owner_type, Document.owner_id == owner_id))


def documents_of_customer(customer_id: int) -> list[DocRow]:
    """Every document about the customer: on their file, their requests, invoices and contracts."""
    return _rows(_base().where(Document.customer == customer_id))


def get(document_id: int) -> DocRow:
    rows = _rows(_base().where(Document.id == document_id))
    if not rows:
        raise NotFound("این سند پیدا نشد (شاید حذف شده است).")
    return rows[0]


def read_bytes(document_id: int) -> bytes:
    """The file's content, checked against its sha256 (a damaged database is reported, not shown)."""
    d = Document.get_or_none(Document.id == document_id)
    if d is None:
        raise NotFound("این سند پیدا نشد (شاید حذف شده است).")
    blob = DocumentBlob.get_by_id(d.blob_id)
    parts = [bytes(c) for (c,) in DocumentChunk.select(DocumentChunk.data).where(DocumentChunk.blob == blob.id)
             .order_by(DocumentChunk.seq).tuples()]
    data = b"".join(parts)
    if len(data) != blob.size or hashlib.sha256(data).hexdigest() != blob.sha256:
        raise UserError(f"محتوای سند «{d.name}» با آنچه ذخیره شده بود نمی‌خواند (پایگاه داده آسیب دیده است).")
    return data


def export_copy(document_id: int, folder: str | os.PathLike | None = None) -> Path:
    """Write the document under its original name (for the system's program to open it); returns the path."""
    d = get(document_id)
    base = Path(folder) if folder else Path(tempfile.gettempdir()) / "peyvand-documents" / str(d.id)
    base.mkdir(parents=True, exist_ok=True)
    safe = "".join("_" if ch in '/\\:*?"<>|' else ch for ch in d.name) or f"document-{d.id}"
    out = base / safe
    out.write_bytes(read_bytes(document_id))
    return out


@writes
def delete(document_id: int, user: int | None = None) -> None:
    """Remove a document; its content goes too when no other document shares it."""
    d = Document.get_or_none(Document.id == document_id)
    if d is None:
        raise NotFound("این سند پیدا نشد (شاید پیش‌تر حذف شده است).")
    blob_id, name, cust = d.blob_id, d.name, d.customer_id
    d.delete_instance()
    if not Document.select().where(Document.blob == blob_id).exists():
        DocumentChunk.delete().where(DocumentChunk.blob == blob_id).execute()
        DocumentBlob.delete().where(DocumentBlob.id == blob_id).execute()
    if cust:
        timeline.record(cust, "document_removed", f"حذف سند: {name}", "document", document_id, user=user)


def pdf_first_page_png(data: bytes, width: int = 480) -> bytes:
    """The first page of a PDF as a PNG (pdfium), for a preview."""
    import io

    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as e:
        raise UserError("این PDF خوانده نشد (شاید آسیب دیده است).", details=str(e)) from e
    try:
        page = pdf[0]
        w = page.get_width() or 595
        pil = page.render(scale=max(0.1, width / w)).to_pil()
        buf = io.BytesIO()
        pil.save(buf, format="PNG")
        page.close()
        return buf.getvalue()
    finally:
        pdf.close()
