"""Who receives a group send: a segment of customers by place, type, rank, status, source, tags, age and gender,
purchase behaviour (last purchase, number and value of purchases in a Jalali period, RFM-style bands) and money
owed. A segment is saved as a customer filter (its fields under ``extra["segment"]``), so the customer list and
the SMS screens share one list of saved filters."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import peewee as pw

from app import fmt
from app.core import jalali
from app.core.clock import today
from app.core.errors import ValidationError
from app.customers import service as customers
from app.customers.service import Filter
from models.core import Address, Customer, CustomerTag, Tag

GENDERS = {"male": ("آقای", "آقا", "جناب", "جناب آقای"), "female": ("خانم", "سرکار خانم", "بانو")}
BANDS = {
    "loyal": "وفادار (خرید در ۹۰ روز گذشته، دست‌کم ۳ خرید)",
    "new": "تازه (تنها یک خرید، در ۹۰ روز گذشته)",
    "at_risk": "در خطر (دست‌کم ۳ خرید، آخرین بیش از ۱۸۰ روز پیش)",
    "lost": "از دست رفته (آخرین خرید بیش از ۳۶۵ روز پیش)",
    "never": "بی‌خرید",
}


@dataclass
class Segment:
    kind: str = ""
    stage: str = ""
    province: str = ""
    city: str = ""
    customer_type: str = ""
    rank: str = ""
    status: str = ""
    source: str = ""
    tags: list[str] = field(default_factory=list)       # any of them
    gender: str = ""                                     # male / female (from the title آقای/خانم)
    age_min: int | None = None
    age_max: int | None = None
    bought_within_days: int | None = None               # last purchase at most N days ago
    not_bought_days: int | None = None                   # no purchase in the last N days
    period_from: dt.date | None = None                   # purchases counted in this period
    period_to: dt.date | None = None
    purchases_min: int | None = None
    purchases_max: int | None = None
    value_min: int | None = None                         # Rials, in the period
    band: str = ""
    owed_min: int | None = None                          # balance ≥ (Rials)

    def to_dict(self) -> dict:
        d = {}
        for k, v in asdict(self).items():
            if v in (None, "", []):
                continue
            d[k] = v.isoformat() if isinstance(v, dt.date) else v
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Segment:
        kw = {k: v for k, v in (d or {}).items() if k in cls.__dataclass_fields__}
        for k in ("period_from", "period_to"):
            if isinstance(kw.get(k), str):
                kw[k] = dt.date.fromisoformat(kw[k])
        return cls(**kw)

    def describe(self) -> str:
        parts = []
        for f, title in (("province", "استان"), ("city", "شهر"), ("customer_type", "نوع"), ("rank", "رتبه"),
                         ("status", "وضعیت"), ("source", "منبع")):
            if getattr(self, f):
                parts.append(f"{title}: {getattr(self, f)}")
        if self.tags:
            parts.append("برچسب: " + "، ".join(self.tags))
        if self.gender:
            parts.append("آقایان" if self.gender == "male" else "بانوان")
        if self.age_min is not None or self.age_max is not None:
            parts.append(f"سن {fmt.digits(self.age_min or 0)} تا {fmt.digits(self.age_max or '…')}")
        if self.bought_within_days:
            parts.append(f"خرید در {fmt.digits(self.bought_within_days)} روز گذشته")
        if self.not_bought_days:
            parts.append(f"بی‌خرید در {fmt.digits(self.not_bought_days)} روز گذشته")
        if self.period_from or self.period_to:
            parts.append(f"دوره {jalali.format_date(self.period_from) or '…'} تا {jalali.format_date(self.period_to) or '…'}")
        if self.purchases_min is not None:
            parts.append(f"دست‌کم {fmt.digits(self.purchases_min)} خرید")
        if self.purchases_max is not None:
            parts.append(f"حداکثر {fmt.digits(self.purchases_max)} خرید")
        if self.value_min:
            parts.append(f"خرید دست‌کم {fmt.money(self.value_min)}")
        if self.band:
            parts.append(BANDS.get(self.band, self.band).split(" (")[0])
        if self.owed_min:
            parts.append(f"بدهی دست‌کم {fmt.money(self.owed_min)}")
        return "، ".join(parts) or "همه مشتریان"


def _invoices():
    from models.sales import SalesDocument

    return SalesDocument, ((SalesDocument.doc_type == "invoice") & (SalesDocument.state == "issued"))


def query(seg: Segment) -> pw.ModelSelect:
    base = Filter(kind=seg.kind, stage=seg.stage, customer_type=seg.customer_type, rank=seg.rank,
                  status=seg.status, source=seg.source, city=seg.city)
    q = customers._filtered(base, text=False)
    if seg.province:
        q = q.where(Customer.id.in_(Address.select(Address.customer).where(Address.province == seg.province)))
    if seg.tags:
        q = q.where(Customer.id.in_(CustomerTag.select(CustomerTag.customer).join(Tag).where(Tag.name.in_(seg.tags))))
    if seg.gender in GENDERS:
        q = q.where(Customer.title.in_(GENDERS[seg.gender]), Customer.kind == "person")
    t = today()
    if seg.age_min is not None:
        q = q.where(Customer.birthday <= _years_ago(t, seg.age_min))
    if seg.age_max is not None:
        q = q.where(Customer.birthday > _years_ago(t, seg.age_max + 1))
    Doc, issued = _invoices()
    if seg.bought_within_days is not None:
        since = t - dt.timedelta(days=seg.bought_within_days)
        q = q.where(Customer.id.in_(Doc.select(Doc.customer).where(issued, Doc.date >= since)))
    if seg.not_bought_days is not None:
        since = t - dt.timedelta(days=seg.not_bought_days)
        q = q.where(Customer.id.not_in(Doc.select(Doc.customer).where(issued, Doc.date >= since)))
    period = issued
    if seg.period_from:
        period = period & (Doc.date >= seg.period_from)
    if seg.period_to:
        period = period & (Doc.date <= seg.period_to)
    if seg.purchases_min or seg.value_min:          # "at least 0 purchases" is everyone: no condition
        having = pw.fn.COUNT(Doc.id) >= (seg.purchases_min or 1)
        if seg.value_min:
            having = having & (pw.fn.SUM(Doc.total) >= seg.value_min)
        q = q.where(Customer.id.in_(Doc.select(Doc.customer).where(period).group_by(Doc.customer).having(having)))
    if seg.purchases_max is not None:
        over = Doc.select(Doc.customer).where(period).group_by(Doc.customer).having(
            pw.fn.COUNT(Doc.id) > seg.purchases_max)
        q = q.where(Customer.id.not_in(over))
    if seg.band:
        q = q.where(Customer.id.in_(_band(seg.band, t)))
    if seg.owed_min:
        q = q.where(Customer.id.in_(_owing(seg.owed_min)))
    return q


def _years_ago(t: dt.date, years: int) -> dt.date:
    try:
        return t.replace(year=t.year - years)
    except ValueError:
        return t.replace(year=t.year - years, day=28)


def _band(band: str, t: dt.date):
    Doc, issued = _invoices()
    stats = Doc.select(Doc.customer).where(issued).group_by(Doc.customer)
    last, n = pw.fn.MAX(Doc.date), pw.fn.COUNT(Doc.id)
    d90, d180, d365 = (t - dt.timedelta(days=x) for x in (90, 180, 365))
    if band == "loyal":
        return stats.having((last >= d90) & (n >= 3))
    if band == "new":
        return stats.having((pw.fn.MIN(Doc.date) >= d90) & (n == 1))
    if band == "at_risk":
        return stats.having((last < d180) & (n >= 3))
    if band == "lost":
        return stats.having(last < d365)
    if band == "never":
        return Customer.select(Customer.id).where(Customer.id.not_in(Doc.select(Doc.customer).where(issued)))
    raise ValidationError({"band": "دسته خرید شناخته نیست."})


def _owing(minimum: int):
    """Customers whose balance (issued invoices − counting payments) is at least `minimum`."""
    from app.sales.paid import counting_payments
    from models.sales import Payment

    Doc, issued = _invoices()
    inv = Doc.select(pw.fn.COALESCE(pw.fn.SUM(Doc.total), 0)).where(issued, Doc.customer == Customer.id)
    paid = Payment.select(pw.fn.COALESCE(pw.fn.SUM(Payment.amount), 0)).where(
        counting_payments(), Payment.customer == Customer.id)
    debtors = Doc.select(Doc.customer).where(issued)
    return (Customer.select(Customer.id)
            .where(Customer.id.in_(debtors), pw.NodeList((inv, pw.SQL("-"), paid)) >= minimum))


def ids(seg: Segment) -> list[int]:
    return [r[0] for r in query(seg).order_by(Customer.id).tuples()]


def count(seg: Segment) -> int:
    return query(seg).count()


def save(name: str, seg: Segment, owner: int | None = None):
    from models.writer import writer

    return writer.run(customers.save_filter, name, Filter(extra={"segment": seg.to_dict()}), owner)


def saved() -> list[tuple[int, str, Segment | Filter]]:
    """Saved filters: segments as Segment, plain customer filters as Filter (both can be sent to)."""
    out = []
    for fid, name, f in customers.saved_filters():
        seg = (f.extra or {}).get("segment")
        out.append((fid, name, Segment.from_dict(seg) if seg is not None else f))
    return out


def ids_of(target) -> list[int]:
    if isinstance(target, Segment):
        return ids(target)
    return customers.search_ids(target)
