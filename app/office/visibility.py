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
    mine = _visible_sharer(view) if getattr(view, "other_matches", 0) else None
    if mine is not None:                 # the number is shared with a customer this person may see: show that one
        return dataclasses.replace(view, customer_id=mine[0], customer_name=mine[1],
                                   other_matches=max(0, view.other_matches - 1))
    return dataclasses.replace(view, customer_id=None, customer_name="", other_matches=0,
                               colleague=name or "همکار دیگر")


def _visible_sharer(view: Any) -> tuple[int, str] | None:
    """Another customer holding the same number that this desk's person may see (their own or unassigned)."""
    from app.customers.service import find_by_phone

    me = session.current_user_id()
    try:
        found = find_by_phone(view.number or view.number_raw)
    except Exception:  # when in doubt, show less
        logger.exception("popup: customers sharing %s not read", view.number)
        return None
    for c in sorted(found, key=lambda c: c.id):
        if c.id != view.customer_id and c.assigned_to_id in (None, me):
            return c.id, c.display_name
    return None
