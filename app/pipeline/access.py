"""Who sees and changes which opportunities, after the office's roles (app/office/roles.py).

* A role that sees every customer («customers.all») sees every opportunity. A role limited to its own
  customers sees the opportunities it owns and those of the customers it may see (its own and unassigned
  ones): the board, the list, the dashboard's lists, the popup's brief and the reports are narrowed alike
  (``scope``), and opening or changing another's opportunity is refused in Persian (``check``).
* The office's pipeline settings — stages, lost reasons, learned probabilities, sales targets — are office
  settings: they need «settings.change». Competitors stay open to everyone (reps meet them in their deals).
"""
from __future__ import annotations

from app.core.errors import PermissionDenied
from app.office import roles, session
from models.core import Customer
from models.pipeline import Opportunity

SETTINGS = "settings.change"


def customer_scope() -> tuple[str, int | None]:
    """The shape of what this desk may see and its value (roles.customer_scope), for scope()'s `scope`."""
    return roles.customer_scope()


def scope(q, scope: tuple[str, int | None] | None = None):
    """Narrow a query on Opportunity to what the person at this desk may see. `scope`: roles.customer_scope()'s
    answer (the statement's shape and the person's id), given when the caller builds a statement for reuse."""
    kind, uid = scope if scope is not None else roles.customer_scope()
    if kind == "all":
        return q
    if kind == "none":
        return q.where(Opportunity.id < 0)
    visible = roles.scope_customers(Customer.select(Customer.id), (kind, uid))
    return q.where((Opportunity.owner == uid) | Opportunity.customer.in_(visible))


def check(opp: Opportunity) -> None:
    """Refuse an opportunity this role may not see (owned by a colleague, for a colleague's customer)."""
    if roles.sees_all_customers() or (opp.owner_id is not None and opp.owner_id == session.current_user_id()):
        return
    try:
        roles.check_customer(opp.customer_id)
    except PermissionDenied:
        raise PermissionDenied("این فرصت فروش از آنِ همکار دیگری است و نقش شما فقط فرصت‌های خودتان و مشتریانتان "
                               "را می‌بیند.",
                               en="This opportunity belongs to a colleague; your role sees only your own.") from None


def check_customer(customer_id: int) -> None:
    """Refuse a new opportunity for a customer this role may not see."""
    roles.check_customer(customer_id)


def require_settings() -> None:
    roles.require(SETTINGS)
