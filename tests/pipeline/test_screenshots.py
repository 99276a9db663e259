"""Screenshots of the board, an opportunity, the funnel and the forecast on demo data, grabbed offscreen to
PNG (into CRM_SCREENSHOT_DIR when set, to look at them) and checked for content: a picture of a real screen
has many colours; an empty or failed one has a handful."""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from app.core import clock
from tests.pipeline.helpers import freeze

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture
def demo(db):
    from app.demo.customers import ensure_users, seed_customers
    from app.pipeline.demo import seed_pipeline

    freeze("1405/03/05")
    rng = random.Random(1405)
    users = ensure_users()
    customers = seed_customers(80, rng, users)
    seed_pipeline(rng, customers, users, 70)
    yield users
    clock.set_now(None)


def _out(tmp_path) -> Path:
    folder = Path(os.environ.get("CRM_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _check(widget, path: Path, qtbot) -> None:
    qtbot.wait(80)                       # let layouts settle before the picture is taken
    pixmap = widget.grab()
    assert pixmap.save(str(path), "PNG")
    img = pixmap.toImage()
    colours = {img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    assert path.stat().st_size > 20_000 and len(colours) > 40, (path, len(colours))


def test_screenshots(qtbot, demo, tmp_path):
    from ui.context import AppContext
    from ui.pipeline.dialog import OpportunityDialog
    from ui.pipeline.page import PipelinePage

    out = _out(tmp_path)
    reza = demo[2]
    page = PipelinePage(AppContext(user_id=reza))
    qtbot.addWidget(page)
    page.resize(1500, 860)
    page.show()
    qtbot.waitUntil(lambda: not page._stale)
    _check(page, out / "pipeline_board.png", qtbot)

    from models.pipeline import Opportunity, OpportunityCompetitor

    opp = (Opportunity.select().join(OpportunityCompetitor).where(Opportunity.status == "open")
           .order_by(Opportunity.id).first())
    dlg = OpportunityDialog(AppContext(user_id=reza), opp.id)
    qtbot.addWidget(dlg)
    dlg.show()
    _check(dlg, out / "pipeline_opportunity.png", qtbot)
    dlg.tabs.setCurrentIndex(2)
    _check(dlg, out / "pipeline_opportunity_competitors.png", qtbot)
    dlg.tabs.setCurrentIndex(3)
    _check(dlg, out / "pipeline_opportunity_history.png", qtbot)

    page.period.setCurrentIndex(page.period.findData("this_year"))
    page.tabs.setCurrentIndex(2)
    for key, name in (("funnel", "pipeline_funnel.png"), ("forecast", "pipeline_forecast.png"),
                      ("targets", "pipeline_targets.png")):
        page.reports.select_report(key)
        qtbot.waitUntil(lambda k=key: page.reports.result is not None and page.reports.result.key == k)
        assert page.reports.result.rows
        _check(page, out / name, qtbot)
