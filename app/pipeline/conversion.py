"""A lead (سرنخ, Customer.stage == "potential") becomes a customer ("actual") when one of its opportunities is
won or its first invoice is issued. The conversion is recorded once (CustomerConversion: when, by whom, from
what, and the lead's source at that moment) and written on the timeline."""
from __future__ import annotations

import logging

from app import timeline
from app.clock import now
from models.base import db
from models.core import Customer
from models.pipeline import CustomerConversion, Opportunity, OpportunityDocument
from models.writer import writes

logger = logging.getLogger(__name__)

timeline.register_kind("converted", "تبدیل سرنخ به مشتری")

VIA_LABELS = {"opportunity": "برنده شدن فرصت فروش", "invoice": "صدور فاکتور", "manual": "به دست کاربر"}


@writes
def convert_customer(customer_id: int, via: str, user: int | None = None, opportunity_id: int | None = None,
                     document_id: int | None = None) -> CustomerConversion | None:
    """Make a lead a customer; None when it already was one (nothing is written then)."""
    c = Customer.get_or_none(Customer.id == customer_id)
    if c is None or c.stage != "potential":
        return None
    at = now()
    Customer.update(stage="actual", updated_at=at).where(Customer.id == customer_id).execute()
    conv = CustomerConversion.create(customer=customer_id, at=at, user=user, via=via, opportunity=opportunity_id,
                                     document=document_id, source=c.source or "")
    timeline.record(customer_id, "converted", f"سرنخ به مشتری تبدیل شد ({VIA_LABELS.get(via, via)})",
                    ref_table="opportunity" if opportunity_id else ("sales_document" if document_id else "customer"),
                    ref_id=opportunity_id or document_id or customer_id,
                    data={"via": via, "opportunity": opportunity_id, "document": document_id}, user=user)
    logger.info("customer %s converted from lead (%s)", customer_id, via)
    return conv


def conversion_of(customer_id: int) -> CustomerConversion | None:
    return (CustomerConversion.select().where(CustomerConversion.customer == customer_id)
            .order_by(CustomerConversion.at).first())


def invoice_issued(doc, user: int | None = None) -> None:
    """Called by app.sales inside the transaction that issues an invoice. Converts a lead to a customer and
    links the invoice to the opportunity its proforma belonged to. Never fails the invoice: any error here is
    rolled back to a savepoint and logged."""
    try:
        with db.atomic():
            opp_id = None
            if doc.source_id:
                link = OpportunityDocument.get_or_none(OpportunityDocument.document == doc.source_id)
                if link is not None:
                    opp_id = link.opportunity_id
                    OpportunityDocument.get_or_create(opportunity=opp_id, document=doc.id)
                    Opportunity.update(last_activity_at=now()).where(Opportunity.id == opp_id).execute()
            convert_customer(doc.customer_id, "invoice", user, opportunity_id=opp_id, document_id=doc.id)
    except Exception:  # noqa: BLE001 - the invoice matters more than the pipeline's bookkeeping
        logger.exception("pipeline bookkeeping after invoice %s failed", getattr(doc, "id", None))
