"""What counts as paid: active payments that are not bounced cheques, and what they have allocated to a document.

A document's paid amount is kept on the document itself (`SalesDocument.paid`) by the database's triggers
(migration 22) whenever a payment, an allocation, a void or a cheque's state changes; the SQL there says what
counts exactly as counting_payments() does here.
"""
from __future__ import annotations

import logging

from models.sales import Payment, SalesDocument

logger = logging.getLogger(__name__)


# --- payments ----------------------------------------------------------------------------------------------

def counting_payments():
    """Payments that count: not voided, and not a bounced cheque."""
    return (Payment.state == "active") & (Payment.cheque_state != "bounced")


def paid_expr():
    """What counting payments have allocated to the SalesDocument row (its kept column)."""
    return SalesDocument.paid


def paid_amount(doc_id: int) -> int:
    return int(SalesDocument.select(SalesDocument.paid).where(SalesDocument.id == doc_id).scalar() or 0)
