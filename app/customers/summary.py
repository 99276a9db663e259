"""The customer at a glance: what the caller-ID popup shows between the first and the second ring.

`customer_summary(customer_id, exclude_call_id=None) -> CustomerSummary` reads a handful of indexed queries
(customer + rep, tags, the sales snapshot, the last visit, the last call). Sales data comes from
`app.sales.balances.customer_sales_snapshot` and the last visit from `app.tasks.meetings.last_visit`; both are
imported lazily, and when the module, the function or its tables are missing the item is None and reads «هنوز ثبت نشده».
`summary_fields(s)` turns a summary into (label, text) pairs ready to show, Persian digits and Jalali dates.

An organisation's summary carries its contact person (title, first and last name) apart from its name, so
the popup can show «گروه پیشگامان ساختمان» and under it «خانم سارا محمدی», never the title glued to the
company. "What was said" is the latest call that has a note (`last_note`), which is often not the last call.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field

import peewee as pw

from app import fmt
from app.core.clock import today
from app.core.errors import PermissionDenied
from app.core.jalali import format_date, format_datetime
from app.core.text import to_persian_digits
from app.office import roles
from models import sqlcache
from models.calls import Call
from models.core import Customer, CustomerTag, Tag, User
from models.sales import SalesDocument
from models.tasks import Meeting

logger = logging.getLogger(__name__)

NONE_YET = "هنوز ثبت نشده"


@dataclass(frozen=True)
class DocBrief:
    number: str
    date: dt.date | None
    total: int


@dataclass(frozen=True)
class CallBrief:
    id: int
    at: dt.datetime
    direction: str
    state: str
    duration: int | None
    note: str


@dataclass(frozen=True)
class CustomerSummary:
    customer_id: int
    name: str
    company: str = ""
    title: str = ""
    rank: str = ""
    customer_type: str = ""
    status: str = ""
    tags: tuple[str, ...] = field(default=())
    assigned_rep: str = ""
    last_proforma: DocBrief | None = None
    last_invoice: DocBrief | None = None
    balance: int | None = None          # Rials; positive = the customer owes us; None = no sales data yet
    overdue: int | None = None
    last_visit: tuple[dt.datetime, str] | None = None
    last_call: CallBrief | None = None
    last_note: CallBrief | None = None  # the latest call with a note ("what was said")
    kind: str = "person"                # person / organisation
    contact: str = ""                   # an organisation's contact person: «خانم سارا محمدی»
    opportunities: str = ""             # «۲ فرصت باز؛ اولی: مذاکره، ۵۰٬۰۰۰٬۰۰۰ ریال»; "" when none
    warranty: str = ""                  # app.contracts.warranty_brief's line; "" when nothing is covered

    @property
    def is_organisation(self) -> bool:
        return self.kind == "organisation"

    @property
    def heading(self) -> str:
        """The popup's big line: a person with their title, an organisation by its name."""
        if self.is_organisation:
            return self.name
        return f"{self.title} {self.name}".strip() if self.title else self.name


def prewarm() -> None:
    """Import what the summary reads (sales, meetings) now, at start-up, and have the database prepare its
    statement (a summary of no customer: id 0 is never given), not on the GUI thread between the first two rings."""
    import app.contracts as _contracts  # noqa: F401
    from app.pipeline import board as _board  # noqa: F401
    from app.sales import balances as _balances  # noqa: F401
    from app.tasks import meetings as _meetings  # noqa: F401

    try:
        customer_summary(0)
    except Exception:  # prepared again at the first call
        logger.exception("summary: could not prepare its statement")


def _safe(fn, *args):
    if fn is None:
        return None
    try:
        return fn(*args)
    except PermissionDenied:
        return None                      # this role does not see it (money for reception): nothing to show
    except pw.DatabaseError:
        # A feature whose tables do not exist yet (older database): nothing to show.
        logger.debug("summary: %s unavailable", getattr(fn, "__name__", fn), exc_info=True)
        return None
    except Exception:  # the popup must show what it can
        logger.exception("summary: %s failed", getattr(fn, "__name__", fn))
        return None


def _doc(d) -> DocBrief | None:
    if not d:
        return None
    if isinstance(d, dict):
        return DocBrief(str(d.get("number") or ""), d.get("date"), int(d.get("total") or 0))
    return DocBrief(str(getattr(d, "number", "") or ""), getattr(d, "date", None), int(getattr(d, "total", 0) or 0))


def _customer_query(cid):
    return (Customer.select(Customer.id, Customer.first_name, Customer.last_name, Customer.company, Customer.kind,
                            Customer.title, Customer.rank, Customer.customer_type, Customer.status,
                            User.name.alias("rep"))
            .join(User, pw.JOIN.LEFT_OUTER, on=(Customer.assigned_to == User.id))
            .where(Customer.id == cid).limit(1))


def _tags_query(cid):
    return Tag.select(Tag.name).join(CustomerTag).where(CustomerTag.customer == cid).order_by(Tag.name)


def _last_call_query(cid, exclude=None):
    q = (Call.select(Call.id, Call.started_at, Call.direction, Call.state, Call.duration, Call.note)
         .where(Call.customer == cid))
    if exclude is not None:
        q = q.where(Call.id != exclude)
    return q.order_by(Call.started_at.desc(), Call.id.desc()).limit(1)


def _last_note_query(cid, exclude=None):
    q = (Call.select(Call.id, Call.started_at, Call.direction, Call.state, Call.duration, Call.note)
         .where(Call.customer == cid, Call.note != ""))
    if exclude is not None:
        q = q.where(Call.id != exclude)
    return q.order_by(Call.started_at.desc(), Call.id.desc()).limit(1)


def _brief(c) -> CallBrief | None:
    if not c:
        return None
    return CallBrief(c[0], Call.started_at.python_value(c[1]), c[2], c[3], c[4], c[5])


def customer_summary(customer_id: int, exclude_call_id: int | None = None) -> CustomerSummary | None:
    """None when the customer does not exist (deleted between the ring and the look-up).

    One hand-written indexed query reads everything (see _SUMMARY_SQL); a database that lacks one of its
    tables (an older file) is read part by part instead, each part that is missing reading «هنوز ثبت نشده»."""
    money = roles.can("money.view")
    try:
        return _summary_one_query(customer_id, exclude_call_id, money)
    except pw.DatabaseError:
        logger.debug("summary: one-query read failed; reading part by part", exc_info=True)
        return _summary_by_parts(customer_id, exclude_call_id)


# The popup's data in one statement: every "latest X" is a LEFT JOIN on the id an indexed correlated sub-query
# picks (SQLite and PostgreSQL both take it; no LATERAL needed), the sums are scalar sub-queries. Same rules as
# the part-by-part services it stands for: sales.customer_sales_snapshot (_last, customer_balance,
# overdue_amount), meetings.last_visit, _after_sale_flags, the last call / last call with a note, and
# pipeline.open_opportunities_brief's line (how many open, the first by next step: its stage and value).
_CALL_COLS = "{a}.id, {a}.started_at, {a}.direction, {a}.state, {a}.duration, {a}.note"
_SUMMARY_HEAD = f"""SELECT c.id, c.first_name, c.last_name, c.company, c.kind, c.title, c.rank, c.customer_type,
 c.status, u.name, {{tags}},
 {_CALL_COLS.format(a="lc")}, {_CALL_COLS.format(a="ln")}, mv.start_at, mv.summary, mv.subject,
 (SELECT COUNT(*) FROM "opportunity" o WHERE o.customer_id = c.id AND o.status = 'open'),
 EXISTS (SELECT 1 FROM "warranty" w WHERE w.customer_id = c.id AND w.end_date >= ?)
  OR EXISTS (SELECT 1 FROM "contract" k WHERE k.customer_id = c.id AND k.end_date >= ?),
 COALESCE(fs.name, ''), fo.value"""
_SUMMARY_MONEY = """,
 lp.number, lp.date, lp.total, li.number, li.date, li.total,
 (SELECT COALESCE(SUM(d.total), 0) FROM "sales_document" d
   WHERE d.customer_id = c.id AND d.doc_type = 'invoice' AND d.state = 'issued')
 - (SELECT COALESCE(SUM(p.amount), 0) FROM "payment" p
   WHERE p.customer_id = c.id AND p.state = 'active' AND p.cheque_state != 'bounced'),
 (SELECT COALESCE(SUM(d.total - d.paid), 0) FROM (
   SELECT d.total, (SELECT COALESCE(SUM(a.amount), 0) FROM "payment_allocation" a
                    JOIN "payment" p ON p.id = a.payment_id
                    WHERE a.document_id = d.id AND p.state = 'active' AND p.cheque_state != 'bounced') AS paid
   FROM "sales_document" d WHERE d.customer_id = c.id AND d.doc_type = 'invoice' AND d.state = 'issued'
    AND d.due_date < ?) AS d WHERE d.total > d.paid)"""
_SUMMARY_FROM = """
FROM "customer" c
LEFT JOIN "user" u ON u.id = c.assigned_to_id
LEFT JOIN "call" lc ON lc.id = (SELECT x.id FROM "call" x WHERE x.customer_id = c.id AND x.id != ?
                                ORDER BY x.started_at DESC, x.id DESC LIMIT 1)
LEFT JOIN "call" ln ON ln.id = (SELECT x.id FROM "call" x WHERE x.customer_id = c.id AND x.id != ? AND x.note != ''
                                ORDER BY x.started_at DESC, x.id DESC LIMIT 1)
LEFT JOIN "meeting" mv ON mv.id = (SELECT x.id FROM "meeting" x WHERE x.customer_id = c.id AND x.status = 'held'
                                   ORDER BY x.start_at DESC, x.id DESC LIMIT 1)
LEFT JOIN "opportunity" fo ON fo.id = (SELECT x.id FROM "opportunity" x WHERE x.customer_id = c.id
    AND x.status = 'open' ORDER BY x.next_step_date IS NULL, x.next_step_date, x.id LIMIT 1)
LEFT JOIN "pipeline_stage" fs ON fs.id = fo.stage_id"""
_SUMMARY_MONEY_FROM = """
LEFT JOIN "sales_document" lp ON lp.id = (SELECT x.id FROM "sales_document" x WHERE x.customer_id = c.id
    AND x.doc_type = 'proforma' AND x.number IS NOT NULL ORDER BY x.date DESC, x.id DESC LIMIT 1)
LEFT JOIN "sales_document" li ON li.id = (SELECT x.id FROM "sales_document" x WHERE x.customer_id = c.id
    AND x.doc_type = 'invoice' AND x.number IS NOT NULL ORDER BY x.date DESC, x.id DESC LIMIT 1)"""
# tags in one text, joined by the unit separator: SQLite's group_concat has no order (sorted here: Python's
# order of str is SQLite's BINARY order), PostgreSQL's string_agg keeps the server's collation order
_TAGS = {False: 'SELECT group_concat(t.name, char(31)) FROM "customer_tag" ct JOIN "tag" t ON t.id = ct.tag_id '
                "WHERE ct.customer_id = c.id",
         True: 'SELECT string_agg(t.name, chr(31) ORDER BY t.name) FROM "customer_tag" ct JOIN "tag" t '
               "ON t.id = ct.tag_id WHERE ct.customer_id = c.id"}


def _summary_sql(money: bool, postgres: bool) -> str:
    head = _SUMMARY_HEAD.replace("{tags}", f"({_TAGS[postgres]})")
    if money:
        return head + _SUMMARY_MONEY + _SUMMARY_FROM + _SUMMARY_MONEY_FROM + "\nWHERE c.id = ?"
    return head + _SUMMARY_FROM + "\nWHERE c.id = ?"


_SQL: dict[tuple[bool, bool], str] = {}


def _summary_one_query(customer_id: int, exclude_call_id: int | None, money: bool) -> CustomerSummary | None:
    postgres = sqlcache.is_postgres()
    sql = _SQL.get((money, postgres))
    if sql is None:
        sql = _SQL[(money, postgres)] = _summary_sql(money, postgres)
    day = today()
    at: object = day if postgres else day.isoformat()
    skip = exclude_call_id or 0                      # ids start at 1: 0 excludes nothing
    params: tuple = (at, at, at, skip, skip, customer_id) if money else (at, at, skip, skip, customer_id)
    r = sqlcache.raw(sql, params, prepare=f"popup_summary_{int(money)}").fetchone()
    if r is None:
        return None
    organisation = r[4] == "organisation"
    row = {"first_name": r[1] or "", "last_name": r[2] or "", "company": r[3] or "", "kind": r[4]}
    from app.customers.service import display_name_of

    tags = tuple(r[10].split("\x1f")) if r[10] else ()
    if not postgres:
        tags = tuple(sorted(tags))
    last_call = _brief(r[11:17]) if r[11] is not None else None
    last_note = _brief(r[17:23]) if r[17] is not None else None
    visit = (_visit_time(r[23]), r[24] or r[25]) if r[23] is not None else None
    open_opps, has_cover = int(r[26] or 0), bool(r[27])
    proforma = invoice = None
    balance = overdue = None
    if money:
        if r[30] is not None:
            proforma = DocBrief(str(r[30] or ""), _doc_date(r[31]), int(r[32] or 0))
        if r[33] is not None:
            invoice = DocBrief(str(r[33] or ""), _doc_date(r[34]), int(r[35] or 0))
        balance, overdue = int(r[36] or 0), int(r[37] or 0)
    if not open_opps:
        opportunities = ""
    elif roles.sees_all_customers():            # every one of them is visible: the statement's line is the line
        opportunities = opportunities_line(open_opps, r[28] or "", int(r[29] or 0))
    else:                                       # a role that sees some: the board's own scoping decides
        opportunities = opportunities_text(_safe(_open_opportunities_brief, customer_id) or [])
    warranty = _safe(_warranty_brief, customer_id) if has_cover else None
    person = " ".join(p for p in (row["first_name"], row["last_name"]) if p)
    title = r[5] or ""
    contact = " ".join(p for p in (title, person) if p) if organisation and person else ""
    return CustomerSummary(
        customer_id=customer_id, name=display_name_of(row), company=row["company"], title=title,
        rank=r[6] or "", customer_type=r[7] or "", status=r[8] or "", tags=tags, assigned_rep=r[9] or "",
        last_proforma=proforma, last_invoice=invoice, balance=balance, overdue=overdue,
        last_visit=visit, last_call=last_call, last_note=last_note, kind=r[4] or "person", contact=contact,
        opportunities=opportunities, warranty=warranty.text if warranty is not None else "")


def _doc_date(v) -> dt.date | None:
    return SalesDocument.date.python_value(v) if v is not None else None


def _visit_time(v) -> dt.datetime:
    return Meeting.start_at.python_value(v)


def _open_opportunities_brief(customer_id: int):
    from app.pipeline import open_opportunities_brief

    return open_opportunities_brief(customer_id)


def _warranty_brief(customer_id: int):
    from app.contracts import warranty_brief

    return warranty_brief(customer_id)


def _summary_by_parts(customer_id: int, exclude_call_id: int | None = None) -> CustomerSummary | None:
    """The summary read service by service (an older database without some of the tables)."""
    cur = sqlcache.run("summary.customer", _customer_query, customer_id)
    first = cur.fetchone()
    if first is None:
        return None
    row = dict(zip(sqlcache.columns(cur), first, strict=True))
    from app.customers.service import display_name_of

    tags = tuple(t[0] for t in sqlcache.run("summary.tags", _tags_query, customer_id).fetchall())
    from app.contracts import warranty_brief
    from app.pipeline import open_opportunities_brief
    from app.sales.balances import customer_sales_snapshot
    from app.tasks.meetings import last_visit

    snap = _safe(customer_sales_snapshot, customer_id) or {}
    has_opps, has_cover = _safe(_after_sale_flags, customer_id) or (False, False)
    opps = (_safe(open_opportunities_brief, customer_id) or []) if has_opps else []
    warranty = _safe(warranty_brief, customer_id) if has_cover else None
    visit = _safe(last_visit, customer_id)
    if exclude_call_id:
        c = sqlcache.run("summary.last_call_excl", _last_call_query, customer_id, exclude_call_id).fetchone()
    else:
        c = sqlcache.run("summary.last_call", _last_call_query, customer_id).fetchone()
    last_call = _brief(c)
    if last_call is not None and last_call.note:
        last_note = last_call                   # the last call has a note: no second query
    elif last_call is None:
        last_note = None                        # no call at all
    elif exclude_call_id:
        last_note = _brief(sqlcache.run("summary.last_note_excl", _last_note_query, customer_id,
                                        exclude_call_id).fetchone())
    else:
        last_note = _brief(sqlcache.run("summary.last_note", _last_note_query, customer_id).fetchone())
    has_sales = bool(snap)
    organisation = row["kind"] == "organisation"
    person = " ".join(p for p in (row["first_name"] or "", row["last_name"] or "") if p)
    contact = " ".join(p for p in (row["title"] or "", person) if p) if organisation and person else ""
    return CustomerSummary(
        customer_id=customer_id, name=display_name_of(row), company=row["company"] or "", title=row["title"] or "",
        rank=row["rank"] or "", customer_type=row["customer_type"] or "", status=row["status"] or "", tags=tags,
        assigned_rep=row["rep"] or "", last_proforma=_doc(snap.get("last_proforma")),
        last_invoice=_doc(snap.get("last_invoice")),
        balance=int(snap["balance"]) if has_sales and snap.get("balance") is not None else None,
        overdue=int(snap["overdue"]) if has_sales and snap.get("overdue") is not None else None,
        last_visit=tuple(visit) if visit else None, last_call=last_call, last_note=last_note,
        kind=row["kind"] or "person", contact=contact, opportunities=opportunities_text(opps),
        warranty=warranty.text if warranty is not None else "")


def _after_sale_flags(customer_id: int) -> tuple[bool, bool]:
    """(has an open opportunity, has a warranty or contract not yet ended): one query, so that most callers,
    who have neither, cost the popup one query and not the four of the two briefs."""
    from models.pipeline import Opportunity
    from models.service import Contract, Warranty

    at = today()
    opp = Opportunity.select(Opportunity.id).where(Opportunity.customer == customer_id,
                                                   Opportunity.status == "open")
    war = Warranty.select(Warranty.id).where(Warranty.customer == customer_id, Warranty.end_date >= at)
    con = Contract.select(Contract.id).where(Contract.customer == customer_id, Contract.end_date >= at)
    row = Customer.select(pw.fn.EXISTS(opp), pw.fn.EXISTS(war), pw.fn.EXISTS(con)).where(
        Customer.id == customer_id).tuples().first()
    if row is None:
        return False, False
    return bool(row[0]), bool(row[1] or row[2])


def opportunities_text(opps) -> str:
    """One short line: how many open opportunities, and the first one's (soonest next step) stage and value."""
    if not opps:
        return ""
    return opportunities_line(len(opps), opps[0].stage_name, opps[0].value)


def opportunities_line(count: int, stage_name: str, value: int) -> str:
    """opportunities_text from the count and the first one's stage and value."""
    if not count:
        return ""
    head = f"{to_persian_digits(count)} فرصت باز"
    detail = "، ".join(x for x in (stage_name, fmt.money(value, toman=False) if value else "") if x)
    if not detail:
        return head
    return f"{head}؛ {'اولی: ' if count > 1 else ''}{detail}"


def _doc_text(d: DocBrief | None) -> str:
    if d is None:
        return NONE_YET
    parts = []
    if d.date:
        parts.append(format_date(d.date))
    parts.append(fmt.money(d.total, toman=False))
    if d.number:
        parts.append(f"شماره {to_persian_digits(d.number)}")
    return "، ".join(parts)


def balance_text(balance: int | None, overdue: int | None = None) -> str:
    if balance is None:
        return NONE_YET
    if balance > 0:
        text = f"بدهکار {fmt.money(balance, toman=False)}"
        if overdue:
            text += f" (سررسید گذشته {fmt.money(overdue, toman=False)})"
        return text
    if balance < 0:
        return f"بستانکار {fmt.money(-balance, toman=False)}"
    return "تسویه"


CALL_STATE_WORDS = {("in", "missed"): "تماس بی‌پاسخ", ("in", "ended"): "تماس ورودی",
                    ("in", "answered"): "تماس ورودی", ("in", "ringing"): "تماس ورودی",
                    ("out", "ended"): "تماس خروجی", ("out", "dialing"): "تماس خروجی"}


_WORD = re.compile(r"\S+")
_LATIN = re.compile(r"[A-Za-z]")


def persian_digits_in_text(text: str) -> str:
    """Digits of free text in Persian, except in words with Latin letters (LED-40W, A4) which keep theirs."""
    if not text:
        return ""
    if _LATIN.search(text) is None:             # no Latin word at all: every digit turns Persian
        return to_persian_digits(text)
    return _WORD.sub(lambda m: m.group(0) if _LATIN.search(m.group(0)) else to_persian_digits(m.group(0)), text)


def last_call_text(c: CallBrief | None) -> str:
    """«تماس ورودی، ۱۴۰۵/۰۹/۰۳ ۱۰:۰۰» (what was said is last_note_text's)."""
    if c is None:
        return NONE_YET

    return f"{CALL_STATE_WORDS.get((c.direction, c.state), 'تماس')}، {format_datetime(c.at)}"


def last_note_text(c: CallBrief | None) -> str:
    """What was said on the latest call that has a note, with its Jalali date: «۱۴۰۵/۰۹/۰۳: قرار شد …»."""
    if c is None or not c.note:
        return NONE_YET
    note = " ".join(c.note.split())
    return f"{format_date(c.at)}: {persian_digits_in_text(note[:160])}{'…' if len(note) > 160 else ''}"


def summary_fields(s: CustomerSummary) -> list[tuple[str, str]]:
    """(label, text) pairs in the order the popup shows them; every missing item reads «هنوز ثبت نشده»."""
    rank = "، ".join(x for x in (s.rank, s.customer_type) if x)
    visit = NONE_YET
    if s.last_visit:
        when, what = s.last_visit
        visit = format_date(when) + (f": {persian_digits_in_text(what[:100])}" if what else "")
    # An organisation's name is the heading and its contact person is shown under it (CustomerSummary.contact):
    # no «شرکت» row repeating the name.
    first = [] if s.is_organisation else [("شرکت", s.company or NONE_YET)]
    return [
        *first,
        ("رتبه و گروه", persian_digits_in_text(rank) or NONE_YET),
        ("برچسب‌ها", "، ".join(persian_digits_in_text(t) for t in s.tags) or NONE_YET),
        ("مسئول", s.assigned_rep or NONE_YET),
        ("آخرین پیش‌فاکتور", _doc_text(s.last_proforma)),
        ("آخرین فاکتور", _doc_text(s.last_invoice)),
        ("مانده حساب", balance_text(s.balance, s.overdue)),
        ("آخرین بازدید", visit),
        ("آخرین تماس", last_call_text(s.last_call)),
        ("آنچه گفته شد", last_note_text(s.last_note)),
        # after-sale and pipeline lines only when there is something to say: the popup stays short
        *([("فرصت‌های باز", s.opportunities)] if s.opportunities else []),
        *([("گارانتی", s.warranty)] if s.warranty else []),
    ]
