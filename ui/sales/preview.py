"""Print preview and printing of an invoice PDF: its pages rasterised (QtPdf when this Qt has it, else pdfium
through pypdfium2), so the preview is exactly what the PDF file holds.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter

logger = logging.getLogger(__name__)


# --- PDF → images (print preview and printing) -------------------------------------------------------------

def pdf_page_images(data: bytes, dpi: int = 150) -> list[QImage]:
    """Rasterise every page of a PDF: QtPdf when available, else pypdfium2."""
    try:
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
        from PySide6.QtPdf import QPdfDocument
    except ImportError:
        QPdfDocument = None  # a class, when present
    if QPdfDocument is not None:
        doc = QPdfDocument()
        buf = QBuffer()
        buf.setData(QByteArray(data))
        buf.open(QIODevice.OpenModeFlag.ReadOnly)
        doc.load(buf)
        out = []
        for i in range(doc.pageCount()):
            size = doc.pagePointSize(i)
            out.append(doc.render(i, QSize(int(size.width() * dpi / 72), int(size.height() * dpi / 72))))
        doc.close()
        if out:
            return out
        logger.warning("QtPdf read no pages; falling back to pdfium")
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    out = []
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            pil = page.render(scale=dpi / 72).to_pil().convert("RGBA")
            img = QImage(pil.tobytes("raw", "RGBA"), pil.width, pil.height, pil.width * 4,
                         QImage.Format.Format_RGBA8888)
            out.append(img.copy())
            page.close()
    finally:
        pdf.close()
    return out


PRINT_DPI = 300      # page images for the print preview (and printing from it): sharp on paper


def paint_pdf(printer, data: bytes) -> None:
    """Draw the PDF's pages on a QPrinter (print or preview), one printer page per PDF page."""
    paint_images(printer, pdf_page_images(data, min(max(printer.resolution(), 96), PRINT_DPI)))


def paint_images(printer, images: list[QImage]) -> None:
    """Draw page images on a QPrinter, one printer page per image, centred and scaled to the page."""
    painter = QPainter(printer)
    try:
        for i, img in enumerate(images):
            if i:
                printer.newPage()
            rect = painter.viewport()
            scaled = img.size()
            scaled.scale(rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x = rect.x() + (rect.width() - scaled.width()) // 2
            y = rect.y() + (rect.height() - scaled.height()) // 2
            painter.setViewport(x, y, scaled.width(), scaled.height())
            painter.setWindow(img.rect())
            painter.drawImage(0, 0, img)
            painter.setViewport(rect)
            painter.setWindow(rect)
    finally:
        painter.end()
