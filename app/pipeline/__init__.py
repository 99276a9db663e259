"""The sales pipeline: leads → opportunities → customers, on stages the office defines.

* ``app.pipeline.stages``        stages, lost reasons, probabilities learned from won/lost history
* ``app.pipeline.opportunities`` create/edit/move/win/lose, lines, competitors, documents, history
* ``app.pipeline.conversion``    a lead becomes a customer when won or invoiced (recorded once)
* ``app.pipeline.board``         rows for the board, the list, the customer file, the dashboard, the popup
* ``app.pipeline.reports``       funnel, forecast, win rate and cycle, lead sources, targets, competitors
* ``app.pipeline.competitors``   the list of competitors (رقبا)
* ``app.pipeline.demo``          a believable demo pipeline (``crm demo-data``)

For the caller-ID popup: ``open_opportunities_brief(customer_id) -> list[OpportunityBrief]`` (id, title,
stage_name, value, probability, next_step, next_step_date, close_date, owner_name, rotting), soonest next
step first.
"""
from __future__ import annotations

from app.pipeline.board import OpportunityBrief, open_opportunities_brief

__all__ = ["OpportunityBrief", "open_opportunities_brief"]
