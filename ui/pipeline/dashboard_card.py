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


def load_opportunities(user_id: int | None, manager: bool = False) -> tuple[list, list, int | None]:
    """The card's rows (any thread): opportunities whose next step is due, then the rotting ones; and how many
    there are in all when a list was cut at its limit (None: the rows are all of them)."""
    who = None if (manager and not user_id) else user_id
    try:
        stages = pb.all_stages()
        due, idle = pb.needing_step(who, stages=stages), pb.rotting(who, stages=stages)
        cut = len(due) >= pb.DASHBOARD_LIMIT or len(idle) >= pb.DASHBOARD_LIMIT
        return due, idle, pb.count_needing_attention(who, stages=stages) if cut else None
    except Exception:  # the dashboard must draw even if this card cannot
        logger.exception("pipeline dashboard card")
        return [], [], None


def fill_opportunities(card, user_id: int | None, manager: bool = False,
                       rows: tuple[list, list, int | None] | None = None) -> None:
    """Fill a dashboard Card (add/set_count/finish) with payloads ("opportunity", id, customer id); `rows` are
    load_opportunities()'s when they were read beforehand (off the GUI thread)."""
    due, idle, whole = rows if rows is not None else load_opportunities(user_id, manager)
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
    shown = len(due) + len([r for r in idle if r.id not in seen])
    total = max(whole or 0, shown)
    card.set_count(total, alert=bool(idle))
    card.finish(total, more=("more", "pipeline"))     # «… و N مورد دیگر» opens the pipeline
