"""The dashboard's pipeline card: my opportunities whose next step is due (today or late), then the rotting
ones (idle longer than their stage allows)."""
from __future__ import annotations

import logging

from PySide6.QtGui import QColor

from app import fmt
from app.core.clock import today
from app.pipeline import board as pb

logger = logging.getLogger(__name__)
RED = QColor("#b91c1c")
MORE = ("more", "pipeline")      # the card's «… و N مورد دیگر» row: opens the pipeline


def _whose(user_id: int | None, manager: bool) -> int | None:
    """The card's owner filter: this person's deals, or everyone's for a manager's desk with nobody signed in."""
    return None if (manager and not user_id) else user_id


def load_opportunities(user_id: int | None, manager: bool = False) -> tuple[list, list]:
    """The card's rows (any thread): opportunities whose next step is due, then the rotting ones."""
    who = _whose(user_id, manager)
    try:
        stages = pb.all_stages()
        return pb.needing_step(who, stages=stages), pb.rotting(who, stages=stages)
    except Exception:  # the dashboard must draw even if this card cannot
        logger.exception("pipeline dashboard card")
        return [], []


def is_cut(rows: tuple[list, list]) -> bool:
    """A list of the card reached its limit: there may be more deals than it shows (count_opportunities)."""
    return any(len(r) >= pb.DASHBOARD_LIMIT for r in rows)


def count_opportunities(user_id: int | None, manager: bool = False) -> int:
    """How many deals the card's lists would hold without their limit (any thread; a few milliseconds over an
    office's open deals, read after the card is shown)."""
    return pb.count_needing_attention(_whose(user_id, manager))


def fill_opportunities(card, user_id: int | None, manager: bool = False,
                       rows: tuple[list, list] | None = None) -> None:
    """Fill a dashboard Card (add/set_count/finish) with payloads ("opportunity", id, customer id); `rows` are
    load_opportunities()'s when they were read beforehand (off the GUI thread)."""
    due, idle = rows if rows is not None else load_opportunities(user_id, manager)
    day = today()
    seen = set()
    for r in due:
        seen.add(r.id)
        late = r.next_step_date is not None and r.next_step_date < day
        when = fmt.date(r.next_step_date) if late else "امروز"
        card.add(f"{when}  {r.next_step} — {r.title} ({r.customer_name})", ("opportunity", r.id, r.customer_id),
                 RED if late else None, f"{r.stage_name} — {fmt.num(r.value)} ریال")
    for r in idle:
        if r.id in seen:
            continue
        card.add(f"راکد {fmt.num(r.idle_days)} روز در «{r.stage_name}» — {r.title} ({r.customer_name})",
                 ("opportunity", r.id, r.customer_id), RED, f"{fmt.num(r.value)} ریال")
    total = len(due) + len([r for r in idle if r.id not in seen])
    card.set_count(total, alert=bool(idle))
    card.finish(total, more=MORE)      # a cut list's total follows (count_opportunities, Card.set_total)
