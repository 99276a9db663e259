"""The office's list of competitors (رقبا)."""
from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import NotFound, ValidationError
from app.core.text import clean
from models.pipeline import Competitor, OpportunityCompetitor
from models.writer import writes


@dataclass(frozen=True)
class CompetitorInfo:
    id: int
    name: str
    website: str
    strengths: str
    weaknesses: str
    notes: str
    deals: int


def list_competitors(active_only: bool = True) -> list[CompetitorInfo]:
    import peewee as pw

    q = (Competitor.select(Competitor, pw.fn.COUNT(OpportunityCompetitor.id).alias("deals"))
         .join(OpportunityCompetitor, pw.JOIN.LEFT_OUTER, on=(OpportunityCompetitor.competitor == Competitor.id))
         .group_by(Competitor.id).order_by(Competitor.name))
    if active_only:
        q = q.where(Competitor.active == True)  # noqa: E712
    return [CompetitorInfo(c.id, c.name, c.website, c.strengths, c.weaknesses, c.notes, c.deals) for c in q]


@writes
def save_competitor(data: dict, competitor_id: int | None = None) -> CompetitorInfo:
    name = clean(data.get("name") or "")
    if not name:
        raise ValidationError({"name": "نام رقیب را بنویسید."})
    if len(name) > 120:
        raise ValidationError({"name": "نام رقیب بیش از ۱۲۰ نویسه است."})
    clash = Competitor.get_or_none(Competitor.name == name)
    if clash and clash.id != competitor_id:
        raise ValidationError({"name": f"رقیبی به نام «{name}» از قبل هست."})
    fields = {"name": name, "website": clean(data.get("website") or "")[:200],
              "strengths": (data.get("strengths") or "").strip(), "weaknesses": (data.get("weaknesses") or "").strip(),
              "notes": (data.get("notes") or "").strip()}
    if competitor_id:
        if not Competitor.update(**fields).where(Competitor.id == competitor_id).execute():
            raise NotFound("این رقیب پیدا نشد.")
        c = Competitor.get_by_id(competitor_id)
    else:
        c = Competitor.create(**fields)
    return CompetitorInfo(c.id, c.name, c.website, c.strengths, c.weaknesses, c.notes, 0)

