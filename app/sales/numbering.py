"""Document numbers: ``{Jalali year}{seq:04d}`` per document type, taken inside the writing transaction.

The counter row is bumped inside the transaction that writes the document (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: the UPDATE's row lock), so concurrent desks never share a number and a failed save gives its number
back: no gaps. Proformas are numbered when written; invoices when issued (drafts have no number).
"""
from __future__ import annotations

import logging

from models.sales import DocumentCounter

logger = logging.getLogger(__name__)


PROFORMA_PREFIXES = ("P", "p", "پ")

def next_number(doc_type: str, year: int) -> tuple[int, str]:
    """Take the next number inside the caller's write transaction."""
    DocumentCounter.insert(doc_type=doc_type, year=year, last=0).on_conflict_ignore().execute()
    (DocumentCounter.update(last=DocumentCounter.last + 1)
     .where((DocumentCounter.doc_type == doc_type) & (DocumentCounter.year == year)).execute())
    seq = (DocumentCounter.select(DocumentCounter.last)
           .where((DocumentCounter.doc_type == doc_type) & (DocumentCounter.year == year)).scalar())
    return seq, format_number_of(year, seq)


def format_number_of(year: int, seq: int) -> str:
    return f"{year}{seq:04d}"
