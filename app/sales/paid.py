"""What counts as paid: active payments that are not bounced cheques, and what they have allocated to a document.
"""
from __future__ import annotations

import logging

import peewee as pw

from models.sales import Payment, PaymentAllocation, SalesDocument

logger = logging.getLogger(__name__)


# --- payments ----------------------------------------------------------------------------------------------

def counting_payments():
    """Payments that count: not voided, and not a bounced cheque."""
    return (Payment.state == "active") & (Payment.cheque_state != "bounced")


def paid_expr():
    """Correlated sub-query: what counting payments have allocated to the outer SalesDocument row."""
    return (PaymentAllocation.select(pw.fn.COALESCE(pw.fn.SUM(PaymentAllocation.amount), 0))
            .join(Payment).where((PaymentAllocation.document == SalesDocument.id) & counting_payments()))


def paid_amount(doc_id: int) -> int:
    return int(PaymentAllocation.select(pw.fn.COALESCE(pw.fn.SUM(PaymentAllocation.amount), 0))
               .join(Payment).where(PaymentAllocation.document == doc_id, counting_payments()).scalar() or 0)
