"""Opportunities (فرصت‌های فروش): create, edit, move between stages, win, lose, reopen; their lines,
competitors, linked proformas/invoices, the next step (a follow-up task) and the stage history.

Rules:
* every stage change writes one StageChange row (from, to, when, who, probability and value then); the
  creation is the first row (from empty). Time in a stage is the gap between its row and the next one (the
  open stage: until now);
* moving to a won stage: status won, probability 100, closed today; the customer, if still a lead, becomes a
  customer (app.pipeline.conversion). Moving to a lost stage needs a lost reason (ValidationError otherwise —
  the board's drop asks for it): status lost, probability 0, closed today. Moving a closed deal back to an open
  stage reopens it (closed date and lost reason cleared);
* probability follows the stage's default unless a person typed one (``probability_manual``); a typed value
  sticks across moves until it is cleared (probability None in an edit);
* the next step with a date is a follow-up task (app.tasks) for the owner; changing the step or date edits
  that task, closing the deal cancels it if still open;
* the expected value is typed, or — when there are lines and no value is typed — the sum of the lines.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app import fmt
from app.core.clock import now
from app.core.errors import NotFound, UserError, ValidationError
from app.core.jalali import date_field, format_date
from app.core.text import clean
from app.customers import timeline
from app.office.users import names_by_id
from app.pipeline import access
from models.core import Customer, User
from models.pipeline import (
    Competitor,
    LostReason,
    Opportunity,
    OpportunityCompetitor,
    OpportunityDocument,
    OpportunityLine,
    PipelineStage,
    StageChange,
)
from models.sales import Product, SalesDocument
from models.writer import writes

logger = logging.getLogger(__name__)


STATUS_LABELS = {"open": "باز", "won": "برنده", "lost": "ازدست‌رفته"}
MAX_VALUE = 10 ** 16


# --- parsing ------------------------------------------------------------------------------------------------

def _money(value: Any, key: str, errors: dict[str, str], label: str = "مبلغ") -> int | None:
    from app.sales.totals import parse_money

    if value in (None, ""):
        return None
    v = parse_money(value)
    if v is None:
        errors[key] = f"{label} باید عدد (ریال) باشد."
        return None
    if v < 0:
        errors[key] = f"{label} نمی‌تواند منفی باشد."
        return None
    if v > MAX_VALUE:
        errors[key] = f"{label} بیش از اندازه بزرگ است."
        return None
    return v


def _probability(value: Any, errors: dict[str, str]) -> int | None:
    if value in (None, ""):
        return None
    from app.core.text import parse_int

    p = value if isinstance(value, int) and not isinstance(value, bool) else parse_int(str(value).replace("٪", "")
                                                                                       .replace("%", ""))
    if p is None or not 0 <= p <= 100:
        errors["probability"] = "احتمال باید عددی بین ۰ و ۱۰۰ باشد."
        return None
    return p


@dataclass
class _Clean:
    fields: dict
    lines: list[dict] | None
    competitors: list[dict] | None
    probability: int | None
    probability_given: bool


def _validate(data: dict, existing: Opportunity | None) -> _Clean:
    from app.sales.totals import parse_quantity

    errors: dict[str, str] = {}
    f: dict[str, Any] = {}
    if existing is None or "customer_id" in data:
        cid = data.get("customer_id")
        c = Customer.get_or_none(Customer.id == cid) if cid else None
        if c is None:
            errors["customer"] = "مشتری یا سرنخ این فرصت را انتخاب کنید."
        elif c.merged_into_id:
            errors["customer"] = "این پرونده با پرونده دیگری ادغام شده است؛ پرونده اصلی را انتخاب کنید."
        else:
            f["customer"] = c.id
    if existing is None or "title" in data:
        title = clean(data.get("title") or "")
        if not title:
            errors["title"] = "عنوان فرصت را بنویسید (مثلاً «سیم‌کشی ساختمان اداری»)."
        elif len(title) > 200:
            errors["title"] = "عنوان بیش از ۲۰۰ نویسه است."
        f["title"] = title
    if "stage_id" in data and data["stage_id"] is not None:
        st = PipelineStage.get_or_none(PipelineStage.id == data["stage_id"])
        if st is None or not st.active:
            errors["stage"] = "مرحله انتخاب‌شده پیدا نشد."
        else:
            f["stage"] = st
    if "value" in data:
        v = _money(data["value"], "value", errors, "ارزش مورد انتظار")
        f["value"] = v
    if "close_date" in data:
        f["close_date"] = date_field(data["close_date"], "close_date", errors)
    if "next_step_date" in data:
        f["next_step_date"] = date_field(data["next_step_date"], "next_step_date", errors)
    for key, limit in (("source", 80), ("campaign", 120), ("next_step", 250)):
        if key in data:
            s = clean(data.get(key) or "")
            if len(s) > limit:
                errors[key] = f"متن بیش از {limit} نویسه است."
            f[key] = s[:limit]
    if "notes" in data:
        f["notes"] = (data.get("notes") or "").strip()
    if "owner_id" in data:
        oid = data.get("owner_id")
        if oid and not User.select().where(User.id == oid).exists():
            errors["owner"] = "کارشناس انتخاب‌شده پیدا نشد."
        f["owner"] = oid or None
    given = "probability" in data
    p = _probability(data.get("probability"), errors) if given else None
    lines = None
    if data.get("lines") is not None:
        lines = []
        for i, ln in enumerate(data["lines"]):
            desc = clean(ln.get("description") or "")
            pid = ln.get("product_id")
            if pid and not desc:
                prod = Product.get_or_none(Product.id == pid)
                desc = prod.name if prod else ""
            if not desc and not pid:
                if ln.get("unit_price") in (None, "", 0, "0"):
                    continue
                errors[f"lines.{i}"] = f"ردیف {i + 1}: شرح کالا یا خدمت را بنویسید."
                continue
            q = parse_quantity(ln.get("quantity", 1))
            if q is None or q <= 0:
                errors[f"lines.{i}"] = f"ردیف {i + 1}: تعداد باید عددی بزرگ‌تر از صفر باشد."
                continue
            price = _money(ln.get("unit_price", 0), f"lines.{i}", errors, f"ردیف {i + 1}: بهای واحد") or 0
            amount = int((q * Decimal(price)).to_integral_value())
            lines.append({"product": pid or None, "description": desc[:300], "quantity": q, "unit_price": price,
                          "amount": amount})
    competitors = None
    if data.get("competitors") is not None:
        competitors = []
        seen: set[int | str] = set()
        for i, c in enumerate(data["competitors"]):
            cid = c.get("competitor_id")
            name = clean(c.get("name") or "")
            if not cid and not name:
                continue
            key = cid or name
            if key in seen:
                errors[f"competitors.{i}"] = "یک رقیب دو بار آمده است."
                continue
            seen.add(key)
            competitors.append({"competitor_id": cid, "name": name,
                                "price": _money(c.get("price"), f"competitors.{i}", errors, "قیمت رقیب"),
                                "strengths": (c.get("strengths") or "").strip(), "notes": (c.get("notes") or "").strip()})
    if errors:
        raise ValidationError(errors)
    return _Clean(f, lines, competitors, p, given)


def _competitor_id(entry: dict) -> int:
    if entry.get("competitor_id"):
        return int(entry["competitor_id"])
    comp, _ = Competitor.get_or_create(name=entry["name"][:120])
    return comp.id


def _write_lines(opp: Opportunity, lines: list[dict]) -> None:
    OpportunityLine.delete().where(OpportunityLine.opportunity == opp.id).execute()
    for i, ln in enumerate(lines):
        OpportunityLine.create(opportunity=opp.id, position=i, **ln)


def _write_competitors(opp: Opportunity, comps: list[dict]) -> None:
    OpportunityCompetitor.delete().where(OpportunityCompetitor.opportunity == opp.id).execute()
    for c in comps:
        OpportunityCompetitor.create(opportunity=opp.id, competitor=_competitor_id(c), price=c["price"],
                                     strengths=c["strengths"], notes=c["notes"])


def _sync_next_task(opp: Opportunity, user: int | None) -> None:
    """The next step with a date is an open follow-up task for the owner (created or edited)."""
    from app.tasks import service as tasks

    if opp.status != "open" or not opp.next_step or not opp.next_step_date:
        _cancel_next_task(opp, user)
        return
    data = {"title": f"فرصت «{opp.title}»: {opp.next_step}"[:200], "kind": "followup",
            "customer_id": opp.customer_id, "assignee_id": opp.owner_id or user,
            "due_at": dt.datetime.combine(opp.next_step_date, dt.time()), "all_day": True,
            "description": f"گام بعدی فرصت فروش «{opp.title}»"}
    current = tasks.Task.get_or_none(tasks.Task.id == opp.next_task_id) if opp.next_task_id else None
    if current is not None and current.status == "open":
        if (current.title, current.due_at, current.assignee_id) != (data["title"], data["due_at"],
                                                                       data["assignee_id"]):
            tasks.update_task(current.id, data, user=user)
        return
    t = tasks.create_task(data, user=user)
    opp.next_task = t.id
    Opportunity.update(next_task=t.id).where(Opportunity.id == opp.id).execute()


def _cancel_next_task(opp: Opportunity, user: int | None) -> None:
    from app.tasks import service as tasks

    if opp.next_task_id:
        t = tasks.Task.get_or_none(tasks.Task.id == opp.next_task_id)
        if t is not None and t.status == "open":
            tasks.cancel_task(t.id, user=user)


# --- create / edit ------------------------------------------------------------------------------------------

@writes
def create_opportunity(data: dict, user: int | None = None) -> Opportunity:
    """data: customer_id, title, value, close_date, stage_id (default: the first open stage), probability
    (None: the stage's), owner_id (default: the customer's assigned colleague, else the creator), source
    (default: the customer's), campaign, next_step, next_step_date, notes, lines, competitors."""
    from app.pipeline.stages import first_open_stage

    c = _validate(data, None)
    f = c.fields
    stage = f.pop("stage", None) or PipelineStage.get_by_id(first_open_stage().id)
    if stage.is_won or stage.is_lost:
        raise ValidationError({"stage": "فرصت تازه در مرحله باز ساخته می‌شود؛ پس از ساختن آن را برنده یا "
                                        "ازدست‌رفته کنید."})
    customer = Customer.get_by_id(f["customer"])
    access.check_customer(customer.id)
    if "owner" not in f or f["owner"] is None:
        f["owner"] = customer.assigned_to_id or user
    if not f.get("source"):
        f["source"] = customer.source or ""
    if f.get("value") is None:
        f["value"] = sum(ln["amount"] for ln in c.lines or [])
    at = now()
    opp = Opportunity.create(**f, stage=stage.id, probability=stage.probability if c.probability is None
                             else c.probability, probability_manual=c.probability is not None, status="open",
                             created_by=user, created_at=at, updated_at=at, stage_changed_at=at,
                             last_activity_at=at)
    if c.lines:
        _write_lines(opp, c.lines)
    if c.competitors:
        _write_competitors(opp, c.competitors)
    StageChange.create(opportunity=opp.id, from_stage=None, to_stage=stage.id, at=at, user=user,
                       probability=opp.probability, value=opp.value, note="ایجاد")
    _sync_next_task(opp, user)
    timeline.record(opp.customer_id, "opportunity",
                    f"فرصت فروش «{opp.title}» به ارزش {fmt.money(opp.value, toman=False)} در مرحله «{stage.name}» ثبت شد",
                    ref_table="opportunity", ref_id=opp.id, data={"event": "created", "value": opp.value}, user=user)
    logger.info("opportunity %s created", opp.id)
    return opp


def _get(opp_id: int) -> Opportunity:
    opp = Opportunity.get_or_none(Opportunity.id == opp_id)
    if opp is None:
        raise NotFound("این فرصت فروش پیدا نشد (شاید حذف شده است).")
    access.check(opp)
    return opp


@writes
def update_opportunity(opp_id: int, data: dict, user: int | None = None) -> Opportunity:
    """Edit any of create's fields (only those present in `data`). A stage in `data` is a move (history,
    won/lost rules; a lost stage needs `lost_reason_id`)."""
    opp = _get(opp_id)
    c = _validate(data, opp)
    f = c.fields
    stage = f.pop("stage", None)
    if c.lines is not None:
        _write_lines(opp, c.lines)
        if f.get("value") is None and "value" in data:
            f["value"] = sum(ln["amount"] for ln in c.lines)
    if "value" in f and f["value"] is None:
        f["value"] = 0
    if c.competitors is not None:
        _write_competitors(opp, c.competitors)
    for k, v in f.items():
        setattr(opp, k, v)
    if c.probability_given:
        if c.probability is None:
            opp.probability_manual = False
            if opp.status == "open":
                opp.probability = PipelineStage.get_by_id(opp.stage_id).probability
        elif opp.status == "open":
            opp.probability = c.probability
            opp.probability_manual = True
    opp.updated_at = opp.last_activity_at = now()
    opp.save()
    if stage is not None and stage.id != opp.stage_id:
        _move(opp, stage, user, data.get("lost_reason_id"), data.get("close_note", ""))
    elif opp.status == "open":
        _sync_next_task(opp, user)
    timeline.record(opp.customer_id, "opportunity", f"فرصت فروش «{opp.title}» ویرایش شد", ref_table="opportunity",
                    ref_id=opp.id, data={"event": "edited"}, user=user)
    return opp


# --- moves --------------------------------------------------------------------------------------------------

def _move(opp: Opportunity, stage: PipelineStage, user: int | None, lost_reason_id: int | None,
          note: str = "") -> None:
    from app.pipeline.conversion import convert_customer

    note = clean(note or "")
    if stage.is_lost:
        reason = LostReason.get_or_none(LostReason.id == lost_reason_id) if lost_reason_id else None
        if reason is None:
            raise ValidationError({"lost_reason": "علت از دست رفتن فرصت را انتخاب کنید."})
    old_stage = PipelineStage.get_by_id(opp.stage_id)
    at = now()
    opp.stage = stage.id
    opp.stage_changed_at = opp.last_activity_at = opp.updated_at = at
    if stage.is_won:
        opp.status, opp.probability, opp.closed_at, opp.lost_reason = "won", 100, at.date(), None
        opp.close_note = note
    elif stage.is_lost:
        opp.status, opp.probability, opp.closed_at = "lost", 0, at.date()
        opp.lost_reason = lost_reason_id
        opp.close_note = note
    else:
        reopened = opp.status != "open"
        opp.status, opp.closed_at, opp.lost_reason = "open", None, None
        if reopened:
            opp.close_note = ""
        if not opp.probability_manual or reopened:
            opp.probability = stage.probability
            opp.probability_manual = False
    opp.save()
    StageChange.create(opportunity=opp.id, from_stage=old_stage.id, to_stage=stage.id, at=at, user=user,
                       probability=opp.probability, value=opp.value, note=note)
    what = f"فرصت فروش «{opp.title}» از «{old_stage.name}» به «{stage.name}» رفت"
    if stage.is_lost:
        what += f" (علت: {LostReason.get_by_id(lost_reason_id).name})"
    timeline.record(opp.customer_id, "opportunity_stage", what, ref_table="opportunity", ref_id=opp.id,
                    data={"event": "stage", "from": old_stage.id, "to": stage.id, "status": opp.status}, user=user)
    if opp.status == "open":
        _sync_next_task(opp, user)
    else:
        _cancel_next_task(opp, user)
    if stage.is_won:
        convert_customer(opp.customer_id, "opportunity", user, opportunity_id=opp.id)


@writes
def move_stage(opp_id: int, stage_id: int, user: int | None = None, lost_reason_id: int | None = None,
               note: str = "") -> Opportunity:
    """Move an opportunity to another stage (the board's drag and drop). See the module's rules."""
    opp = _get(opp_id)
    stage = PipelineStage.get_or_none(PipelineStage.id == stage_id)
    if stage is None or not stage.active:
        raise NotFound("مرحله مقصد پیدا نشد.")
    if stage.id == opp.stage_id:
        return opp
    _move(opp, stage, user, lost_reason_id, note)
    return opp


@writes
def mark_won(opp_id: int, user: int | None = None, note: str = "") -> Opportunity:
    from app.pipeline.stages import won_stage

    return move_stage(opp_id, won_stage().id, user, note=note)


@writes
def mark_lost(opp_id: int, lost_reason_id: int | None, user: int | None = None, note: str = "") -> Opportunity:
    from app.pipeline.stages import lost_stage

    return move_stage(opp_id, lost_stage().id, user, lost_reason_id=lost_reason_id, note=note)


# --- documents ----------------------------------------------------------------------------------------------

@writes
def link_document(opp_id: int, doc_id: int, user: int | None = None) -> None:
    opp = _get(opp_id)
    doc = SalesDocument.get_or_none(SalesDocument.id == doc_id)
    if doc is None:
        raise NotFound("این سند پیدا نشد.")
    if doc.customer_id != opp.customer_id:
        raise UserError("این سند برای مشتری دیگری است و به این فرصت وصل نمی‌شود.")
    OpportunityDocument.get_or_create(opportunity=opp.id, document=doc.id)
    Opportunity.update(last_activity_at=now()).where(Opportunity.id == opp.id).execute()


@writes
def create_proforma(opp_id: int, user: int | None = None) -> SalesDocument:
    """A proforma (پیش‌فاکتور) from the opportunity's lines (or one line of its value), linked to it."""
    from app.sales import documents as sales_documents
    from app.sales.totals import LineInput

    opp = _get(opp_id)
    lines = [LineInput(ln.description, ln.quantity, ln.unit_price, product_id=ln.product_id)
             for ln in OpportunityLine.select().where(OpportunityLine.opportunity == opp.id)
             .order_by(OpportunityLine.position)]
    if not lines:
        if not opp.value:
            raise UserError("این فرصت نه ردیف کالا دارد و نه ارزش؛ پیش‌فاکتور خالی ساخته نمی‌شود.")
        lines = [LineInput(opp.title, 1, opp.value)]
    doc = sales_documents.create_proforma(opp.customer_id, lines, rep_id=opp.owner_id, user=user)
    OpportunityDocument.create(opportunity=opp.id, document=doc.id)
    Opportunity.update(last_activity_at=now()).where(Opportunity.id == opp.id).execute()
    return doc


# --- reading ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryRow:
    at: dt.datetime
    from_stage: str
    to_stage: str
    user_name: str
    probability: int
    value: int
    note: str
    days: float            # time spent in `to_stage` (until the next move, or now)


def history(opp_id: int, at: dt.datetime | None = None) -> list[HistoryRow]:
    """Oldest first, with the time spent in each stage."""
    at = at or now()
    names = {s.id: s.name for s in PipelineStage.select(PipelineStage.id, PipelineStage.name)}
    users = names_by_id()
    rows = list(StageChange.select().where(StageChange.opportunity == opp_id)
                .order_by(StageChange.at, StageChange.id))
    opp = Opportunity.get_or_none(Opportunity.id == opp_id)
    out = []
    for i, r in enumerate(rows):
        if i + 1 < len(rows):
            end = rows[i + 1].at
        elif opp is not None and opp.status != "open":
            end = r.at
        else:
            end = at
        out.append(HistoryRow(r.at, names.get(r.from_stage_id, "") if r.from_stage_id else "",
                              names.get(r.to_stage_id, ""), users.get(r.user_id, "") if r.user_id else "",
                              r.probability, r.value, r.note, max(0.0, (end - r.at).total_seconds() / 86400)))
    return out


def days_in_stage(opp: Opportunity, at: dt.datetime | None = None) -> int:
    return max(0, ((at or now()) - opp.stage_changed_at).days)


def get_opportunity(opp_id: int) -> dict:
    """Everything the opportunity dialog shows, as plain data."""
    from app.sales.views import customer_name

    opp = _get(opp_id)
    stage = PipelineStage.get_by_id(opp.stage_id)
    owner = User.get_or_none(User.id == opp.owner_id) if opp.owner_id else None
    lines = [{"product_id": ln.product_id, "description": ln.description, "quantity": ln.quantity,
              "unit_price": ln.unit_price, "amount": ln.amount}
             for ln in OpportunityLine.select().where(OpportunityLine.opportunity == opp.id)
             .order_by(OpportunityLine.position)]
    comps = [{"competitor_id": oc.competitor_id, "name": comp.name, "price": oc.price, "strengths": oc.strengths,
              "notes": oc.notes}
             for oc, comp in ((oc, oc.competitor) for oc in OpportunityCompetitor.select(
                 OpportunityCompetitor, Competitor).join(Competitor)
                 .where(OpportunityCompetitor.opportunity == opp.id).order_by(OpportunityCompetitor.id))]
    reason = LostReason.get_or_none(LostReason.id == opp.lost_reason_id) if opp.lost_reason_id else None
    return {"id": opp.id, "customer_id": opp.customer_id, "customer_name": customer_name(opp.customer_id),
            "title": opp.title, "value": opp.value, "close_date": opp.close_date, "stage_id": opp.stage_id,
            "stage_name": stage.name, "probability": opp.probability, "probability_manual": opp.probability_manual,
            "status": opp.status, "owner_id": opp.owner_id, "owner_name": owner.name if owner else "",
            "source": opp.source, "campaign": opp.campaign, "next_step": opp.next_step,
            "next_step_date": opp.next_step_date, "next_task_id": opp.next_task_id, "notes": opp.notes,
            "lost_reason_id": opp.lost_reason_id, "lost_reason": reason.name if reason else "",
            "close_note": opp.close_note, "closed_at": opp.closed_at, "created_at": opp.created_at,
            "stage_changed_at": opp.stage_changed_at, "days_in_stage": days_in_stage(opp),
            "lines": lines, "competitors": comps, "documents": documents(opp.id)}


@dataclass(frozen=True)
class DocInfo:
    id: int
    doc_type: str
    number: str
    date: dt.date
    state: str
    total: int

    @property
    def label(self) -> str:
        from app.sales.common import STATE_LABELS, TYPE_LABELS

        return (f"{TYPE_LABELS.get(self.doc_type, self.doc_type)} {self.number or 'پیش‌نویس'} — "
                f"{format_date(self.date)} — {fmt.money(self.total, toman=False)} ({STATE_LABELS.get(self.state, self.state)})")


def documents(opp_id: int) -> list[DocInfo]:
    q = (SalesDocument.select(SalesDocument.id, SalesDocument.doc_type, SalesDocument.number, SalesDocument.date,
                              SalesDocument.state, SalesDocument.total)
         .join(OpportunityDocument, on=(OpportunityDocument.document == SalesDocument.id))
         .where(OpportunityDocument.opportunity == opp_id).order_by(SalesDocument.date, SalesDocument.id))
    return [DocInfo(d.id, d.doc_type, d.number or "", d.date, d.state, d.total) for d in q]


def realised_amount(opp_id: int) -> int:
    """مقدار محقق شده: the total of the issued invoices linked to the opportunity."""
    return sum(d.total for d in documents(opp_id) if d.doc_type == "invoice" and d.state == "issued")


def customer_documents(customer_id: int) -> list[DocInfo]:
    """The customer's proformas and invoices, to link one to an opportunity."""
    q = (SalesDocument.select(SalesDocument.id, SalesDocument.doc_type, SalesDocument.number, SalesDocument.date,
                              SalesDocument.state, SalesDocument.total)
         .where(SalesDocument.customer == customer_id, SalesDocument.state != "cancelled")
         .order_by(SalesDocument.date.desc(), SalesDocument.id.desc()).limit(200))
    return [DocInfo(d.id, d.doc_type, d.number or "", d.date, d.state, d.total) for d in q]

