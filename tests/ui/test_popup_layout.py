"""The popup's content and layout: a person, an organisation with its contact person, what was said on the last
call that has a note, Persian digits in tags, and a reused popup laid out afresh (no inherited height).
Screenshots (QWidget.grab) go to tmp_path, or to $CRM_SCREENSHOTS when set, to be looked at."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from app import settings
from app.callerid import events as ev
from app.callerid import service as svc
from app.callerid import settings_keys as sk
from app.calls import log as call_log
from app.core import clock
from app.customers import service as customers
from models.core import User
from tests.ui.test_popup import settle

pytestmark = pytest.mark.usefixtures("persian_app")

T0 = dt.datetime(2026, 11, 24, 10, 0, 0)


def E(kind, **kw):
    return ev.CallerIdEvent(kind=kind, **kw)


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("CRM_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def office(qapp, db):
    settings.set("office.area_code", "021")
    settings.set(sk.LINE_LABELS, "خط فروش|خط پشتیبانی")
    clock.set_now(T0)
    rep = User.create(name="سارا احمدی", username="sara")
    person = customers.create_customer({
        "first_name": "علی", "last_name": "رضایی", "company": "بازرگانی رضایی", "title": "آقای", "rank": "A",
        "tags": ["VIP", "نمایشگاه 1404"], "assigned_to": rep.id, "phones": ["021-22514321"]})
    org = customers.create_customer({
        "kind": "organisation", "company": "گروه پیشگامان ساختمان", "title": "خانم", "first_name": "سارا",
        "last_name": "محمدی", "tags": ["پیمانکار"], "phones": ["021-88776655"]})
    call_log.log_manual_call(customer_id=person.id, direction="in", result="answered",
                             started_at=T0 - dt.timedelta(days=6),
                             note="سفارش ۲۰۰ متر کابل افشان ۲٫۵ را خواست؛ قرار شد تا پنجشنبه پیش‌فاکتور "
                                  "تازه با تخفیف ۵ درصد برایش بفرستیم و بعد از ارسال دوباره تماس بگیریم.")
    call_log.log_manual_call(customer_id=person.id, direction="out", result="no_answer",
                             started_at=T0 - dt.timedelta(days=1))
    from ui.calls.controller import CallerIdController
    from ui.context import AppContext

    ctrl = CallerIdController(AppContext())
    ctrl.service = svc.CallerIdService(ring_timeout=8)
    yield ctrl, person, org
    ctrl.stop()
    settle(ctrl)
    for p in ctrl.popups():
        p.close()


def ring(ctrl, number, line, seconds=0):
    clock.set_now(T0 + dt.timedelta(seconds=seconds))
    ctrl.on_event(E(ev.INCOMING, number=number, line=line, source="segal"))
    settle(ctrl)
    return ctrl.stack.popups()[-1]


def text(p, label):
    return p.field_values[label].text().lstrip("\u200f")


def assert_drawn_as_a_new_one(ctrl, p):
    """`p` (a reused or rehearsed popup) is laid out and painted exactly as a popup made for its call."""
    from ui.calls.popup import CallPopup

    fresh = CallPopup(p.ctx, p.view, summary=p.summary)
    fresh.show()
    settle(ctrl)
    try:
        assert (p.height(), p.header.height()) == (fresh.height(), fresh.header.height())
        assert p.grab().toImage() == fresh.grab().toImage()
    finally:
        fresh.close()


def test_person_popup(office, shots):
    ctrl, person, _org = office
    p = ring(ctrl, "22514321", 1)
    assert p.name_label.text() == "آقای علی رضایی" and not p.contact_label.isVisible()
    assert text(p, "شرکت") == "بازرگانی رضایی"
    assert text(p, "برچسب‌ها") == "VIP، نمایشگاه ۱۴۰۴"                  # Persian digits, not «1404»
    assert text(p, "آخرین تماس").startswith("تماس خروجی، ")              # the last call: no note
    said = text(p, "آنچه گفته شد")                                        # …what was said is the call before
    assert said.startswith("۱۴۰۵/۰۸/۲۷: سفارش ۲۰۰ متر کابل") and "تخفیف ۵ درصد" in said
    p.grab().save(str(shots / "popup_person.png"))


def test_organisation_popup(office, shots):
    ctrl, _person, org = office
    p = ring(ctrl, "02188776655", 2)
    assert p.name_label.text() == "گروه پیشگامان ساختمان"                # not «خانم گروه پیشگامان ساختمان»
    assert p.contact_label.isVisible() and p.contact_label.text() == "خانم سارا محمدی"
    assert "شرکت" not in p.field_values and not p._field_labels["شرکت"].isVisible()
    assert text(p, "آنچه گفته شد") == "هنوز ثبت نشده"
    p.grab().save(str(shots / "popup_organisation.png"))


def test_reused_popup_is_laid_out_afresh(office, shots):
    ctrl, _person, _org = office
    tall = ring(ctrl, "22514321", 1)
    tall_height = tall.height()
    tall.close()
    clock.set_now(T0 + dt.timedelta(seconds=1))
    ctrl.on_event(E(ev.INCOMING, number="P", status=ev.PRIVATE, line=2, source="segal"))
    settle(ctrl)
    [short] = ctrl.popups()
    assert short is tall                                                   # the same widget, reused
    assert short.height() < tall_height - 100                              # not the previous call's height
    assert short.header.height() < 40                                      # the header is not a tall band
    short.grab().save(str(shots / "popup_reused_short.png"))
    short.close()
    # and back to a tall one: the note is laid out for its own height, not drawn over itself
    again = ring(ctrl, "22514321", 3, seconds=2)
    assert again is tall and again.height() == tall_height
    from PySide6.QtWidgets import QLabel

    from ui.calls.popup_fields import TextBlock

    texts = [w for w in again.findChildren(QLabel) + again.findChildren(TextBlock) if w.isVisible()]
    assert {again.name_label, again.number_label} <= set(texts)
    bottom = max(w.mapTo(again, w.rect().bottomLeft()).y() for w in texts)
    assert bottom < again.height()
    rows = again.fields_box
    assert rows.height() >= rows.heightForWidth(rows.width())            # room for every wrapped line
    assert rows.geometry().bottom() < again.height()
    again.grab().save(str(shots / "popup_reused_tall.png"))


def test_reused_popup_is_the_image_of_a_new_one(office):
    """A popup kept from a call on a line with no label (no badge in the header) and reused for a call on a
    labelled line is laid out and painted exactly as a popup made for that call: the header grows back to hold
    the badge, and the height is the new popup's."""
    ctrl, _person, _org = office
    first = ring(ctrl, "22514321", None)                                   # a one-line modem: no badge
    assert first.line_label.isHidden()
    first.close()
    reused = ring(ctrl, "22514321", 1, seconds=1)
    assert reused is first and reused.line_label.text() == "خط فروش"
    assert_drawn_as_a_new_one(ctrl, reused)


def test_action_buttons_blitted_look_as_the_style_draws_them(office):
    """The popup's buttons are drawn once per look and blitted after (PopupButton): pixel for pixel what a plain
    QPushButton with the popup's style sheet draws, hovered, pressed and disabled too, and redrawn after a change."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QPushButton

    ctrl, _person, _org = office
    p = ring(ctrl, "22514321", 1)
    assert set(p.action_buttons) == {"open", "note", "sms", "follow_up", "refer", "service"}

    def same(b) -> bool:
        plain = QPushButton(b.text(), p.card)
        plain.setGeometry(b.geometry())
        plain.setDown(b.isDown())
        plain.setEnabled(b.isEnabled())
        plain.setAttribute(Qt.WidgetAttribute.WA_UnderMouse, b.underMouse())
        plain.show()
        QApplication.processEvents()
        try:
            return plain.grab().toImage() == b.grab().toImage()
        finally:
            plain.deleteLater()

    for b in p.action_buttons.values():
        assert same(b)
    b = p.action_buttons["open"]
    first = b.grab().toImage()
    assert b.grab().toImage() == first and len(b._looks) == 1          # the second paint is the blit
    b.setDown(True)
    assert same(b) and b.grab().toImage() != first                     # pressed: its own look
    b.setDown(False)
    b.setAttribute(Qt.WidgetAttribute.WA_UnderMouse, True)
    assert same(b)
    b.setAttribute(Qt.WidgetAttribute.WA_UnderMouse, False)
    b.setEnabled(False)
    assert same(b)
    b.setEnabled(True)
    b.setText("پرونده")                                                 # another text: drawn afresh
    assert same(b)
    b.grab()
    b.setStyleSheet("QPushButton { background: #fee2e2; }")                 # restyled: not the old pixmap
    assert b.grab().toImage().pixelColor(b.width() // 2, 2).name() == "#fee2e2"


def test_a_long_name_wraps_inside_the_popup(office, shots):
    """The name, number and notice are painted from kept layouts (TextBlock): a name too long for one line wraps
    onto a second one, the popup grows to hold it, and what is drawn is the text on the right (reading) side, with
    the notice on its own background."""
    from PySide6.QtGui import QColor

    ctrl, _person, _org = office
    long_name = "عبدالله‌زاده طباطبایی نژاد اصفهانی قاجار"
    customers.create_customer({"first_name": "محمدامیرحسین", "last_name": long_name, "phones": ["09351112233"]})
    customers.create_customer({"first_name": "رضا", "last_name": "نوری", "phones": ["09351112233"]})
    p = ring(ctrl, "09351112233", 2)
    name, number, notice = p.name_label, p.number_label, p.notice
    assert long_name in name.text() and name.accessibleName() == name.text()
    one_line = number.heightForWidth(number.width())
    assert name.height() == name.heightForWidth(name.width()) > 1.6 * one_line      # two lines of a bigger font
    assert notice.isVisible() and "۱ مشتری دیگر" in notice.text()
    below = [w.mapTo(p, w.rect().topLeft()).y() for w in (name, number, notice, p.fields_box)]
    assert below == sorted(below) and p.fields_box.geometry().bottom() < p.height()
    shot = p.grab()
    shot.save(str(shots / "popup_long_name.png"))
    image = shot.toImage()

    def inked(w, right: bool) -> int:
        """Dark pixels in the outer quarter of the widget's first line (right or left end)."""
        top = w.mapTo(p, w.rect().topLeft())
        xs = range(top.x() + w.width() * 3 // 4, top.x() + w.width()) if right else \
            range(top.x(), top.x() + w.width() // 4)
        return sum(1 for x in xs for y in range(top.y(), top.y() + one_line)
                   if QColor(image.pixel(x, y)).lightness() < 110)

    assert inked(name, right=True) > 20 and inked(number, right=True) > 10
    box = notice.mapTo(p, notice.rect().topLeft())
    assert QColor(image.pixel(box.x() + 2, box.y() + notice.height() // 2)).name() == "#fef3c7"


def test_the_first_popup_is_rehearsed_and_shows_only_its_own_call(office):
    """Caller ID's start rehearses a spare popup (laid out and painted hidden, with a made-up customer) and
    prepares the look-up, so the first call of the day is not the slowest: the rehearsal is never shown, leaves
    nothing in the database, and the first real call on that popup is the image of a popup made for that call."""
    from app.calls import log as calls
    from models import sqlcache
    from models.calls import Call
    from ui.calls.popup import _DIGITS, _GLYPHS

    ctrl, _person, _org = office
    before = (Call.select().count(), len(calls.missed_call_ids()))
    sqlcache._cache.clear()
    ctrl.stack.prewarm(1)
    svc.prewarm()
    [spare] = ctrl.stack._spare
    assert spare.view is None and spare.summary is None and not spare.isVisible()
    assert all(len(b._looks) == 2 for b in spare.action_buttons.values())     # active and inactive, drawn
    assert {k[0] for k in sqlcache._cache} >= {"callerid.lookup.1", "callerid.lookup.2"}
    assert (Call.select().count(), len(calls.missed_call_ids())) == before     # reads only
    looks = {k: dict(b._looks) for k, b in spare.action_buttons.items()}
    p = ring(ctrl, "22514321", 1)
    assert p is spare and p.name_label.text() == "آقای علی رضایی" and text(p, "شرکت") == "بازرگانی رضایی"
    shown = [v.text() for v in p.field_values.values()] + [p.name_label.text(), p.number_label.text()]
    assert not any(_GLYPHS in t or _DIGITS in t for t in shown)
    assert not p.notice.isVisible() and not p.contact_label.isVisible()
    assert_drawn_as_a_new_one(ctrl, p)
    for k, b in p.action_buttons.items():             # the ring's paints were blits of the looks drawn ahead
        assert {key: pm.cacheKey() for key, pm in b._looks.items()} == \
            {key: pm.cacheKey() for key, pm in looks[k].items()}


def test_a_spare_popup_is_made_again_after_a_call_takes_it(office, qtbot, monkeypatch):
    """A multi-line box's calls come in bursts: the spare a call took is made (and rehearsed) again in the gap
    after its popup shows, so the next line's call finds one ready; never beyond the popups the stack may show."""
    from ui.calls import popup_stack

    ctrl, _person, _org = office
    ctrl.stack.prewarm(1)
    [spare] = ctrl.stack._spare
    first = ring(ctrl, "22514321", 1)
    assert first is spare
    qtbot.waitUntil(lambda: len(ctrl.stack._spare) == 1, timeout=2000)
    [again] = ctrl.stack._spare
    assert again is not first and again.view is None and not again.isVisible()
    assert all(len(b._looks) == 2 for b in again.action_buttons.values())
    second = ring(ctrl, "02188776655", 2, seconds=1)
    assert second is again and second.name_label.text() == "گروه پیشگامان ساختمان"
    qtbot.waitUntil(lambda: len(ctrl.stack._spare) == 1, timeout=2000)
    ctrl.stack._spare.clear()
    monkeypatch.setattr(popup_stack, "MAX_POPUPS", len(ctrl.stack.popups()))
    ctrl.stack._make_spare()
    assert ctrl.stack._spare == []                      # as many popups as the stack shows: none made ahead


def test_popups_share_their_laid_out_texts_per_font(office, monkeypatch):
    """Two calls at once: what the second popup shows that the first has shown already (the labels, the colleague's
    name, «هنوز ثبت نشده»…) is not shaped again, and it is drawn as a popup made alone. Texts in another font (the name's
    bigger one) are kept apart, and once more than the limit are kept the oldest go, not all of them."""
    from PySide6.QtGui import QTextLayout

    from ui.calls import popup_fields as pf

    ctrl, person, _org = office
    customers.create_customer({"first_name": "مهدی", "last_name": "رضایی", "company": "بازرگانی رضایی",
                               "assigned_to": person.assigned_to_id, "phones": ["02122514399"]})
    shaped: list[str] = []
    real = QTextLayout.__init__

    def counting(self, *args):
        shaped.append(args[0] if args else "")
        real(self, *args)

    monkeypatch.setattr(pf, "QTextLayout", type("Counting", (QTextLayout,), {"__init__": counting}))
    monkeypatch.setattr(pf, "_KEPT", {})                # nothing kept from an earlier test
    first = ring(ctrl, "22514321", 1)
    before = list(shaped)
    second = ring(ctrl, "22514399", 2, seconds=1)
    assert second is not first and text(second, "مسئول") == text(first, "مسئول") == "سارا احمدی"
    again = shaped[len(before):]
    assert "\u200fسارا احمدی" in before and "\u200fسارا احمدی" not in again    # shaped once, for both popups
    assert not [t for t in again if t.endswith(":")]                          # the labels too
    assert_drawn_as_a_new_one(ctrl, second)

    name_font = pf._KEPT[(second.name_label.font().key(), True)]
    fields_font = pf._KEPT[(second.fields_box.font().key(), True)]
    assert name_font is not fields_font
    assert any("رضایی" in t for t in name_font.one_line) and not any(t.endswith(":") for t in name_font.one_line)

    monkeypatch.setattr(pf.TextLayouts, "LIMIT", 12)
    oldest = next(iter(fields_font.one_line))
    for i in range(20):
        second.fields_box._texts.get(f"متن {i}", 300)
    second.fields_box._texts.trim()
    kept = list(fields_font.one_line)
    assert len(kept) + len(fields_font.wrapped) <= 9
    assert "متن 19" in kept and oldest not in kept                 # the newest stay, the oldest went
