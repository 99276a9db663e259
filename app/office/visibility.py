"""What the person at this desk may see of a live call: the popup's look-up, limited like the customer list.

A role that sees only its own and unassigned customers (roles.sees_all_customers() false) gets, for a caller
who is a colleague's customer, the number and «مشتری همکار: <owner>» — not the customer's name, file, account or
history. The call itself is still logged against the customer (the writer's half never passes through here):
only what is shown is limited. One function, applied to the identified result wherever a popup is filled
(the popup stack, this desk's tray notice, the other desks' calls):

    view = visibility.popup_view(view)
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any

from app.office import roles, session

logger = logging.getLogger(__name__)


def owner_of(customer_id: int) -> tuple[int | None, str]:
    """(the assigned colleague's id, their name) of a customer; (None, "") when unassigned or missing."""
    from models.core import Customer, User

    row = (Customer.select(Customer.assigned_to, User.name).join(User, on=(Customer.assigned_to == User.id))
           .where(Customer.id == customer_id).tuples().first())
    return (row[0], row[1] or "") if row else (None, "")


def popup_view(view: Any) -> Any:
    """The call as this desk may show it (the same view when nothing is hidden)."""
    if not getattr(view, "customer_id", None) or roles.sees_all_customers():
        return view
    try:
        owner, name = owner_of(view.customer_id)
    except Exception:  # when in doubt, show less
        logger.exception("popup: owner of customer %s not read", view.customer_id)
        owner, name = -1, ""
    if owner is None or owner == session.current_user_id():
        return view
    return dataclasses.replace(view, customer_id=None, customer_name="", other_matches=0,
                               colleague=name or "همکار دیگر")
