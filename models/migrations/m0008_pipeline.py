"""Sales pipeline: stages, opportunities, competitors, stage history, conversions, targets; the office gets
Persian default stages and lost reasons (it may rename, reorder or add to them)."""
from models.pipeline import PIPELINE_MODELS, LostReason, PipelineStage

NUMBER = 8
NAME = "sales pipeline: stages, opportunities, competitors, history, conversions, targets"

# name, default probability %, won, lost, rotting days
DEFAULT_STAGES = (
    ("سرنخ جدید", 10, False, False, 7),
    ("تماس اولیه", 20, False, False, 10),
    ("نیازسنجی", 40, False, False, 14),
    ("ارسال پیش‌فاکتور", 60, False, False, 14),
    ("مذاکره", 80, False, False, 10),
    ("برنده", 100, True, False, 0),
    ("ازدست‌رفته", 0, False, True, 0),
)
DEFAULT_LOST_REASONS = ("قیمت بالاتر از رقبا", "انتخاب رقیب", "نبود بودجه", "نیاز مشتری منتفی شد",
                        "زمان تحویل طولانی", "پاسخ ندادن مشتری", "سایر")


def up(database):
    database.create_tables(PIPELINE_MODELS)
    if not PipelineStage.select().exists():
        PipelineStage.insert_many([
            {"name": n, "position": i, "probability": p, "is_won": w, "is_lost": lo, "rot_days": r}
            for i, (n, p, w, lo, r) in enumerate(DEFAULT_STAGES)]).execute()
    if not LostReason.select().exists():
        LostReason.insert_many([{"name": n, "position": i} for i, n in enumerate(DEFAULT_LOST_REASONS)]).execute()
