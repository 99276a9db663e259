"""A believable demo pipeline for `crm demo-data`: opportunities over the last eight months spread over the
stages (most early, fewer late), each with its stage history; about a quarter won (their leads converted) and
a fifth lost with a reason; competitors in some deals, next steps due around today, a few rotting deals, and
monthly sales targets for the reps. Bulk inserts, so tens of thousands take seconds."""
from __future__ import annotations

import datetime as dt
import logging
import random

from app.clock import now
from app.pipeline.stages import funnel_order, list_stages, lost_reasons
from models.base import db
from models.core import Activity, Customer, User
from models.pipeline import (
    Competitor,
    CustomerConversion,
    Opportunity,
    OpportunityCompetitor,
    SalesTarget,
    StageChange,
)

logger = logging.getLogger(__name__)

COMPETITORS = (("الکتریک پارس", "قیمت پایین، تحویل سریع"), ("نورگستر البرز", "برند شناخته‌شده"),
               ("روشنایی آریا", "گارانتی طولانی"), ("تابان نور", "نصب رایگان"),
               ("صنایع برق زاگرس", "اعتبار و فروش اقساطی"), ("دیجی‌برق", "فروش اینترنتی ارزان"))
TITLES = ("سیم‌کشی ساختمان اداری", "روشنایی پارکینگ", "تابلو برق کارخانه", "دوربین مداربسته فروشگاه",
          "پشتیبانی سالانه سامانه", "روشنایی نمای ساختمان", "نوسازی تأسیسات برقی", "تجهیز دفتر جدید",
          "لامپ‌های LED انبار", "سیستم ضبط تصویر شعبه", "قرارداد نگهداری تأسیسات", "برق‌کشی سوله",
          "پروژکتورهای محوطه", "کابل‌کشی شبکه طبقه دوم", "روشنایی سالن همایش")
NEXT_STEPS = ("تماس برای پیگیری پیش‌فاکتور", "ارسال نمونه کار", "جلسه حضوری با مدیر خرید", "بازدید از محل پروژه",
              "ارسال کاتالوگ", "پیگیری تأیید مالی", "هماهنگی زمان نصب", "ارسال پیش‌فاکتور اصلاحی")
CAMPAIGNS = ("", "", "", "نمایشگاه ساختمان ۱۴۰۵", "کمپین پیامکی بهار", "تخفیف پایان سال")
VALUES = (15_000_000, 45_000_000, 80_000_000, 120_000_000, 250_000_000, 480_000_000, 900_000_000, 1_600_000_000)


def _fix_sequence(model) -> None:
    from models.base import is_postgres

    if is_postgres():
        table = model._meta.table_name
        db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                       f"(SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")


def ensure_competitors() -> list[int]:
    ids = []
    for name, strengths in COMPETITORS:
        c, _ = Competitor.get_or_create(name=name, defaults={"strengths": strengths})
        ids.append(c.id)
    return ids


def seed_pipeline(rng: random.Random, customer_ids: list[int], user_ids: list[int], n: int,
                  open_only: bool = False, batch: int = 2000, open_share: float = 0.55,
                  history_days: int = 240) -> dict[str, int]:
    """n opportunities: `open_share` of them open, the rest won (a quarter) or lost (a fifth) in proportion;
    open_only = open_share 1 (the benchmark's board). Returns counts."""
    if open_only:
        open_share = 1.0
    if not customer_ids or n <= 0:
        return {"opportunities": 0}
    order = funnel_order()
    open_stages = [s for s in order if s.is_open]
    won = next(s for s in order if s.is_won)
    lost = next(s for s in list_stages() if s.is_lost)
    reasons = [rid for rid, _ in lost_reasons()]
    comp_ids = ensure_competitors()
    reps = [u.id for u in User.select().where(User.id.in_(user_ids), User.role.in_(["sales", "manager"]))] \
        or list(user_ids)
    sources = [s for (s,) in Customer.select(Customer.source).where(Customer.source != "").distinct().tuples()] \
        or ["تماس ورودی"]
    moment = now()
    start_id = (Opportunity.select(Opportunity.id).order_by(Opportunity.id.desc()).scalar() or 0) + 1
    stage_weights = [6, 5, 4, 3, 2][:len(open_stages)] + [1] * max(0, len(open_stages) - 5)
    converted: list[tuple[int, int, dt.datetime, int | None]] = []
    made = 0
    for lo in range(0, n, batch):
        opps, hist, comps, acts = [], [], [], []
        for i in range(lo, min(n, lo + batch)):
            oid = start_id + i
            cid = rng.choice(customer_ids)
            owner = rng.choice(reps) if reps else None
            value = rng.choice(VALUES) * rng.choice((1, 1, 2, 3)) // rng.choice((1, 1, 2))
            r = rng.random()
            outcome = "open" if r < open_share else ("won" if rng.random() < 0.55 else "lost")
            # open deals are young (the last three months); closed ones spread over eight
            created = moment - dt.timedelta(days=rng.randrange(1, 90 if outcome == "open" else history_days),
                                            minutes=rng.randrange(0, 600))
            if outcome == "open":
                target = rng.choices(range(len(open_stages)), weights=stage_weights)[0]
                path = [s for k, s in enumerate(open_stages) if k <= target and (k in (0, target) or rng.random() < 0.8)]
            else:
                reach = rng.randrange(0, len(open_stages))
                path = [s for k, s in enumerate(open_stages) if k <= reach and (k == 0 or rng.random() < 0.8)]
                path.append(won if outcome == "won" else lost)
            at = created
            steps = []
            for k, s in enumerate(path):
                if k:
                    at = min(moment - dt.timedelta(hours=1), at + dt.timedelta(days=rng.randrange(1, 12),
                                                                                 hours=rng.randrange(0, 8)))
                steps.append((s, at))
            for k, (s, when) in enumerate(steps):
                hist.append({"opportunity": oid, "from_stage": steps[k - 1][0].id if k else None, "to_stage": s.id,
                             "at": when, "user": owner, "probability": s.probability, "value": value,
                             "note": "ایجاد" if k == 0 else ""})
            last_stage, last_at = steps[-1]
            rec = {"id": oid, "customer": cid, "title": rng.choice(TITLES), "value": value, "stage": last_stage.id,
                   "probability": last_stage.probability, "probability_manual": False, "status": outcome,
                   "owner": owner, "source": rng.choice(sources), "campaign": rng.choice(CAMPAIGNS),
                   "next_step": "", "next_step_date": None, "next_task": None, "notes": "", "lost_reason": None,
                   "close_note": "", "closed_at": None, "stage_changed_at": last_at, "last_activity_at": last_at,
                   "created_by": owner, "created_at": created, "updated_at": last_at,
                   "close_date": None}
            if outcome == "open":
                rec["close_date"] = (moment + dt.timedelta(days=rng.randrange(-20, 150))).date()
                # most deals were touched lately (a call, a note); about one in eight is left idle (rotting)
                if rng.random() > 0.12:
                    rec["last_activity_at"] = max(last_at, moment - dt.timedelta(days=rng.randrange(0, 6),
                                                                                 hours=rng.randrange(0, 8)))
                if rng.random() < 0.7:
                    rec["next_step"] = rng.choice(NEXT_STEPS)
                    rec["next_step_date"] = (moment + dt.timedelta(days=rng.randrange(-4, 15))).date()
            else:
                rec["closed_at"] = last_at.date()
                rec["close_date"] = last_at.date()
                if outcome == "lost":
                    rec["lost_reason"] = rng.choice(reasons) if reasons else None
                else:
                    converted.append((cid, oid, last_at, owner))
            opps.append(rec)
            if rng.random() < 0.4:
                for comp in rng.sample(comp_ids, k=rng.choice((1, 1, 2))):
                    comps.append({"opportunity": oid, "competitor": comp,
                                  "price": value * rng.randrange(80, 115) // 100, "strengths": "", "notes": ""})
            acts.append({"customer": cid, "at": created, "kind": "opportunity",
                         "summary": f"فرصت فروش «{rec['title']}» ثبت شد", "ref_table": "opportunity",
                         "ref_id": oid, "data": ""})
        with db.atomic():
            for chunk in range(0, len(opps), 500):
                Opportunity.insert_many(opps[chunk:chunk + 500]).execute()
            for chunk in range(0, len(hist), 500):
                StageChange.insert_many(hist[chunk:chunk + 500]).execute()
            for chunk in range(0, len(comps), 500):
                OpportunityCompetitor.insert_many(comps[chunk:chunk + 500]).execute()
            for chunk in range(0, len(acts), 500):
                Activity.insert_many(acts[chunk:chunk + 500]).execute()
        made += len(opps)
    _fix_sequence(Opportunity)
    _convert(converted)
    _targets(rng, reps, moment)
    return {"opportunities": made}


def _convert(converted: list[tuple[int, int, dt.datetime, int | None]]) -> None:
    """Leads whose deal was won became customers (the earliest win counts)."""
    first: dict[int, tuple[int, dt.datetime, int | None]] = {}
    for cid, oid, at, owner in converted:
        if cid not in first or at < first[cid][1]:
            first[cid] = (oid, at, owner)
    leads = {c for (c,) in Customer.select(Customer.id).where(Customer.id.in_(list(first)),
                                                              Customer.stage == "potential").tuples()} \
        if first else set()
    rows = [{"customer": cid, "at": first[cid][1], "user": first[cid][2], "via": "opportunity",
             "opportunity": first[cid][0], "document": None, "source": ""} for cid in leads]
    with db.atomic():
        ids = list(leads)
        for lo in range(0, len(ids), 500):
            Customer.update(stage="actual").where(Customer.id.in_(ids[lo:lo + 500])).execute()
        for lo in range(0, len(rows), 500):
            CustomerConversion.insert_many(rows[lo:lo + 500]).execute()


def _targets(rng: random.Random, reps: list[int], moment: dt.datetime) -> None:
    from app.jalali import add_months, to_jalali

    for k in range(-3, 3):
        j = to_jalali(add_months(moment.date(), k))
        for uid in reps:
            if not SalesTarget.select().where(SalesTarget.user == uid, SalesTarget.year == j.year,
                                              SalesTarget.month == j.month).exists():
                SalesTarget.create(user=uid, year=j.year, month=j.month,
                                   amount=rng.choice((500, 750, 1000, 1500, 2000)) * 1_000_000)
