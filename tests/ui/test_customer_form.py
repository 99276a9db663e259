"""The customer form through its widgets, on a real SQLite file: create, edit, validation, duplicates."""
from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog

from app.core.jalali import from_jalali
from app.customers import service as cs
from app.customers import timeline
from app.demo.customers import ensure_users
from ui.context import AppContext
from ui.customers.duplicate_dialog import DuplicateWarningDialog
from ui.customers.form import CustomerFormDialog

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture
def ctx(db):
    users = ensure_users()
    return AppContext(user_id=users[1])


def answer_modal(cls, action, attempts: int = 300):
    """When a modal dialog of `cls` opens (it blocks in exec()), run `action(dialog)` on it."""
    state = {"left": attempts}

    def check():
        w = QApplication.activeModalWidget()
        if isinstance(w, cls):
            action(w)
            return
        state["left"] -= 1
        if state["left"] <= 0:
            if w is not None:
                w.reject()      # never hang the suite; the test's assertions then fail
            return
        QTimer.singleShot(10, check)

    QTimer.singleShot(0, check)


_forms: list[CustomerFormDialog] = []


@pytest.fixture(autouse=True)
def _close_forms(qtbot):
    """Forms a test left with unsaved typing close without the «discard changes?» question."""
    yield
    for dlg in _forms:
        try:
            dlg.confirm_discard = False
            dlg.close()
            dlg.deleteLater()
        except RuntimeError:        # already deleted
            pass
    _forms.clear()


def open_form(qtbot, ctx, **kw) -> CustomerFormDialog:
    dlg = CustomerFormDialog(ctx, **kw)
    _forms.append(dlg)      # closed by _close_forms (pytest-qt's addWidget would close it before that)
    dlg.show()
    return dlg


def fill_person(dlg: CustomerFormDialog, first="علی", last="رضایی", phone="0912 123 4567"):
    dlg.first_name.setText(first)
    dlg.last_name.setText(last)
    dlg.phone_rows[0].number.setText(phone)


def active_customers() -> list[int]:
    return cs.search_ids(cs.Filter())


# --- create ------------------------------------------------------------------------------------------------

def test_create_person_with_everything(qtbot, ctx):
    dlg = open_form(qtbot, ctx)
    assert dlg.windowTitle() == "مشتری جدید"
    assert dlg.layoutDirection() == Qt.LayoutDirection.RightToLeft
    fill_person(dlg, "مریم", "احمدی", "۰۹۱۲ ۳۴۵ ۶۷۸۹")       # Persian digits as typed
    dlg.title.setCurrentText("خانم")
    dlg.job.setText("مدیر خرید")
    dlg.national_id.setText("۰۰۱۳۵۴۲۴۱۹")
    dlg.birthday.setText("1360/06/21")
    dlg.anniversary.setText("۱۳۸۵/۰۲/۱۰")
    dlg.customer_type.setCurrentText("عمده‌فروش")
    dlg.rank.setCurrentText("A")
    dlg.source.setCurrentText("نمایشگاه")
    dlg.tags.setText("VIP، خوش‌حساب، نمایشگاه ۱۴۰۳")
    dlg.stage_potential.setChecked(True)
    second = dlg.add_phone_row()
    second.number.setText("(021) 8876-5432 داخلی 214")
    addr = dlg.address_rows[0]
    addr.province.setText("تهران")
    addr.city.setText("تهران")
    addr.line.setText("خیابان ولیعصر، کوچه نگار، پلاک ۱۲")
    addr.postal_code.setText("۱۹۶۹۸۳۴۵۱۱")
    dlg.add_address_row().city.setText("کرج")
    changed, data_changed = [], []
    ctx.bus.customer_changed.connect(changed.append)
    ctx.bus.data_changed.connect(data_changed.append)

    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)

    assert dlg.result() == QDialog.DialogCode.Accepted
    assert dlg.saved_id is not None
    assert changed == [dlg.saved_id] and "customers" in data_changed
    d = cs.customer_data(dlg.saved_id)
    assert (d["first_name"], d["last_name"], d["title"], d["job"]) == ("مریم", "احمدی", "خانم", "مدیر خرید")
    assert d["kind"] == "person" and d["stage"] == "potential"
    assert d["national_id"] == "0013542419"
    assert d["birthday"] == from_jalali(1360, 6, 21)
    assert d["anniversary"] == from_jalali(1385, 2, 10)
    assert [p["canonical"] for p in d["phones"]] == ["09123456789", "02188765432"]
    assert d["phones"][1]["extension"] == "214"
    assert d["phones"][1]["label"] == "work"       # guessed from the number
    assert [a["city"] for a in d["addresses"]] == ["تهران", "کرج"]
    assert d["addresses"][0]["postal_code"] == "1969834511"
    assert sorted(d["tags"]) == sorted(["VIP", "خوش‌حساب", "نمایشگاه 1403"])
    assert d["assigned_to"] == ctx.user_id          # a new customer goes to whoever created it
    assert d["customer_type"] == "عمده‌فروش" and d["rank"] == "A" and d["source"] == "نمایشگاه"
    assert [e.kind for e in timeline.entries(dlg.saved_id)] == ["created"]


def test_create_organisation_adapts_fields(qtbot, ctx):
    dlg = open_form(qtbot, ctx)
    assert not dlg.economic_code.isVisibleTo(dlg) and dlg.birthday.isVisibleTo(dlg)
    dlg.kind_org.setChecked(True)
    assert dlg.economic_code.isVisibleTo(dlg) and dlg.registration_no.isVisibleTo(dlg)
    assert not dlg.birthday.isVisibleTo(dlg) and not dlg.anniversary.isVisibleTo(dlg)
    assert dlg.labels["national_id"].text() == "شناسه ملی"
    # an organisation needs its name
    dlg.first_name.setText("رضا")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert dlg.errors.message("company")
    assert dlg.focusWidget() is dlg.company
    assert active_customers() == []
    dlg.company.setText("شرکت کاوه الکتریک")
    dlg.economic_code.setText("۴۱۱۱۱۶۸۷۳۶۵۸")
    dlg.national_id.setText("10100345678")
    dlg.registration_no.setText("۳۴۵۶۷")
    dlg.phone_rows[0].number.setText("02144556677")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    d = cs.customer_data(dlg.saved_id)
    assert d["kind"] == "organisation" and d["company"] == "شرکت کاوه الکتریک"
    assert d["economic_code"] == "411116873658" and d["registration_no"] == "34567"
    assert d["display_name"] == "شرکت کاوه الکتریک"


def test_prefill_from_caller_id(qtbot, ctx):
    dlg = open_form(qtbot, ctx, prefill={"phones": [{"raw": "02122514321"}]})
    assert len(dlg.phone_rows) == 1
    assert dlg.phone_rows[0].number.text() == "۰۲۱۲۲۵۱۴۳۲۱"
    assert dlg.phone_rows[0].label.currentData() == "work"
    dlg.last_name.setText("کریمی")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert cs.customer_data(dlg.saved_id)["phones"][0]["canonical"] == "02122514321"


def test_enter_saves_and_escape_cancels(qtbot, ctx):
    dlg = open_form(qtbot, ctx)
    fill_person(dlg)
    dlg.last_name.setFocus()
    qtbot.keyClick(dlg.last_name, Qt.Key.Key_Return)
    assert dlg.saved_id is not None and len(active_customers()) == 1

    # Esc on an untouched form closes it at once
    dlg2 = open_form(qtbot, ctx)
    qtbot.keyClick(dlg2.first_name, Qt.Key.Key_Escape)
    assert not dlg2.isVisible() and dlg2.result() == QDialog.DialogCode.Rejected

    # Esc on typed work asks first: «ادامه ویرایش» keeps the form, «بستن بدون ذخیره» closes it
    dlg3 = open_form(qtbot, ctx)
    fill_person(dlg3, "سارا", "نوری", "09351112233")
    qtbot.keyClick(dlg3.last_name, Qt.Key.Key_Escape)
    box = dlg3.discard_box
    assert box.isVisible() and dlg3.isVisible()
    qtbot.mouseClick(box.keep_button, Qt.MouseButton.LeftButton)
    assert dlg3.isVisible() and dlg3.last_name.text() == "نوری"
    qtbot.mouseClick(dlg3.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dlg3.discard_box.discard_button, Qt.MouseButton.LeftButton)
    assert not dlg3.isVisible() and dlg3.saved_id is None
    assert len(active_customers()) == 1


def test_tab_order_follows_the_form(qtbot, ctx):
    dlg = open_form(qtbot, ctx)
    dlg.first_name.setFocus()
    assert dlg.first_name.nextInFocusChain() is dlg.last_name
    row = dlg.add_phone_row()
    # a new phone row sits after the other rows in the chain, not at the end of the dialog
    assert dlg.phone_rows[0].remove.nextInFocusChain() is row.label
    assert row.remove.nextInFocusChain() is dlg.add_phone_button


def test_add_and_remove_phone_rows(qtbot, ctx):
    dlg = open_form(qtbot, ctx)
    fill_person(dlg)
    r2 = dlg.add_phone_row()
    r2.number.setText("abc")            # would be invalid…
    qtbot.mouseClick(r2.remove, Qt.MouseButton.LeftButton)     # …but the row is removed
    assert len(dlg.phone_rows) == 1
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert dlg.saved_id is not None


# --- validation ---------------------------------------------------------------------------------------------

def test_empty_name_shows_message_and_saves_nothing(qtbot, ctx):
    dlg = open_form(qtbot, ctx)
    dlg.phone_rows[0].number.setText("09121234567")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert dlg.isVisible() and dlg.saved_id is None
    assert dlg.errors.message("last_name")
    label = dlg.cells["last_name"][1].findChild(type(dlg.labels["last_name"]))
    assert label.isVisible() and label.text() == dlg.errors.message("last_name")
    assert dlg.focusWidget() is dlg.last_name
    assert active_customers() == []
    # fixing it and saving again clears the message and saves
    dlg.last_name.setText("رضایی")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert not label.isVisible()
    assert len(active_customers()) == 1


def test_invalid_phone_message_under_its_row(qtbot, ctx):
    dlg = open_form(qtbot, ctx)
    fill_person(dlg, phone="09121234567")
    bad = dlg.add_phone_row()
    bad.number.setText("0912-12")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert dlg.saved_id is None
    assert "رقم" in dlg.errors.message("phones.1")
    assert bad.error.isVisible() and not dlg.phone_rows[0].error.isVisible()
    assert dlg.focusWidget() is bad.number
    assert active_customers() == []


def test_invalid_jalali_date_blocks_saving(qtbot, ctx):
    dlg = open_form(qtbot, ctx)
    fill_person(dlg)
    dlg.birthday.line.setText("1403/13/40")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert dlg.saved_id is None
    assert "ماه" in dlg.errors.message("birthday")
    assert dlg.birthday.error_label.isVisible()
    assert dlg.focusWidget() is dlg.birthday.line
    assert active_customers() == []


def test_several_errors_focus_the_first(qtbot, ctx):
    dlg = open_form(qtbot, ctx)
    dlg.phone_rows[0].number.setText("12")
    dlg.email.setText("not-an-email")
    dlg.national_id.setText("1234567890")
    dlg.address_rows[0].city.setText("تهران")
    dlg.address_rows[0].postal_code.setText("123")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert set(dlg.errors.shown) >= {"last_name", "national_id", "phones.0", "addresses.0", "email"}
    assert dlg.focusWidget() is dlg.last_name
    assert active_customers() == []


def test_future_birthday_refused(qtbot, ctx):
    dlg = open_form(qtbot, ctx)
    fill_person(dlg)
    dlg.birthday.setDate(dt.date.today() + dt.timedelta(days=30))
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert dlg.errors.message("birthday")
    assert active_customers() == []


# --- edit ---------------------------------------------------------------------------------------------------

def test_edit_existing_customer(qtbot, ctx):
    c = cs.create_customer({"first_name": "حمید", "last_name": "موسوی", "phones": [{"raw": "09121110000"}],
                            "tags": ["قدیمی"], "birthday": from_jalali(1355, 1, 5)}, ctx.user_id)
    dlg = open_form(qtbot, ctx, customer_id=c.id)
    assert dlg.last_name.text() == "موسوی"
    assert dlg.birthday.text() == "۱۳۵۵/۰۱/۰۵"
    assert dlg.tags.tags() == ["قدیمی"]
    assert dlg.phone_rows[0].number.text() == "۰۹۱۲۱۱۱۰۰۰۰"
    dlg.last_name.setText("موسوی‌نژاد")
    dlg.tags.setText(dlg.tags.text() + "، همکار")
    dlg.add_phone_row().number.setText("021-66554433")
    changed = []
    ctx.bus.customer_changed.connect(changed.append)
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert changed == [c.id]
    d = cs.customer_data(c.id)
    assert d["last_name"] == "موسوی‌نژاد"
    assert sorted(d["tags"]) == ["قدیمی", "همکار"]
    assert [p["canonical"] for p in d["phones"]] == ["09121110000", "02166554433"]
    assert d["birthday"] == from_jalali(1355, 1, 5)
    assert [e.kind for e in timeline.entries(c.id)][0] == "edited"


def test_edit_without_changes_to_phones_does_not_warn(qtbot, ctx):
    a = cs.create_customer({"last_name": "الف", "phones": [{"raw": "09120000001"}]})
    # b shares a's number already (saved anyway earlier); editing b's job must not nag again
    b = cs.create_customer({"last_name": "ب", "phones": [{"raw": "09120000001"}]})
    dlg = open_form(qtbot, ctx, customer_id=b.id)
    dlg.job.setText("حسابدار")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert dlg.saved_id == b.id
    assert cs.customer_data(b.id)["job"] == "حسابدار"
    assert a.id != b.id


# --- duplicates ---------------------------------------------------------------------------------------------

@pytest.fixture
def existing(ctx):
    return cs.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": [{"raw": "09123456789"}],
                               "national_id": "0013542419", "tags": ["VIP"]}, ctx.user_id)


def test_duplicate_warning_lists_the_match_and_back_keeps_the_form(qtbot, ctx, existing):
    dlg = open_form(qtbot, ctx)
    fill_person(dlg, "علی", "رضائی", "+98 912 345 6789")      # same number, another format
    seen = {}

    def back(w: DuplicateWarningDialog):
        seen["ids"] = [d.customer_id for d in w.duplicates]
        seen["text"] = w.list.item(0).text()
        w.back_button.click()

    answer_modal(DuplicateWarningDialog, back)
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert seen["ids"] == [existing.id]
    assert "علی رضایی" in seen["text"] and "۰۹۱۲۳۴۵۶۷۸۹" in seen["text"]
    assert dlg.isVisible() and dlg.saved_id is None
    assert active_customers() == [existing.id]


def test_duplicate_by_national_id(qtbot, ctx, existing):
    dlg = open_form(qtbot, ctx)
    fill_person(dlg, "علی", "رضایی", "09350000000")
    dlg.national_id.setText("001-354241-9")
    seen = {}
    answer_modal(DuplicateWarningDialog, lambda w: (seen.setdefault("ids", [d.customer_id for d in w.duplicates]),
                                                    w.save_button.click()))
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert seen["ids"] == [existing.id]
    assert dlg.saved_id not in (None, existing.id)      # saved anyway, as a second customer
    assert len(active_customers()) == 2


def test_duplicate_open_existing_saves_nothing(qtbot, ctx, existing):
    dlg = open_form(qtbot, ctx)
    fill_person(dlg, "علی", "رضایی", "9123456789")
    opened = []
    ctx.bus.open_customer.connect(opened.append)
    answer_modal(DuplicateWarningDialog, lambda w: w.open_button.click())
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert opened == [existing.id]
    assert dlg.result() == QDialog.DialogCode.Rejected
    assert active_customers() == [existing.id]


def test_duplicate_merge_into_existing(qtbot, ctx, existing):
    dlg = open_form(qtbot, ctx)
    fill_person(dlg, "علی", "رضایی", "09123456789")
    dlg.job.setText("پیمانکار")
    dlg.add_phone_row().number.setText("02188001122")
    dlg.tags.setText("همکار")
    answer_modal(DuplicateWarningDialog, lambda w: w.merge_button.click())
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert dlg.saved_id == existing.id
    assert active_customers() == [existing.id]
    d = cs.customer_data(existing.id)
    assert {p["canonical"] for p in d["phones"]} == {"09123456789", "02188001122"}
    assert sorted(d["tags"]) == ["VIP", "همکار"]
    assert d["job"] == "پیمانکار"          # an empty field of the survivor took the new value
    kinds = [e.kind for e in timeline.entries(existing.id)]
    assert "merged" in kinds and kinds.count("created") == 2    # both histories kept


def test_edit_with_new_shared_phone_warns(qtbot, ctx, existing):
    other = cs.create_customer({"last_name": "نوری", "phones": [{"raw": "09350001111"}]})
    dlg = open_form(qtbot, ctx, customer_id=other.id)
    dlg.add_phone_row().number.setText("0912 345 6789")
    seen = {}
    answer_modal(DuplicateWarningDialog, lambda w: (seen.setdefault("n", w.list.count()), w.back_button.click()))
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert seen["n"] == 1
    assert len(cs.customer_data(other.id)["phones"]) == 1    # nothing saved


@pytest.mark.parametrize("field", ["customer_type", "rank", "status", "birthday", "tags", "phone"])
def test_enter_saves_from_any_kind_of_field(qtbot, ctx, field):
    dlg = open_form(qtbot, ctx)
    dlg.last_name.setText("رضایی")
    w = {"customer_type": dlg.customer_type.lineEdit(), "rank": dlg.rank.lineEdit(), "status": dlg.status,
         "birthday": dlg.birthday.line, "tags": dlg.tags, "phone": dlg.phone_rows[0].number}[field]
    w.setFocus()
    qtbot.keyClick(w, Qt.Key.Key_Return)
    assert dlg.saved_id is not None


def test_tags_complete_from_existing_ones(qtbot, ctx):
    cs.create_customer({"last_name": "الف", "tags": ["خوش‌حساب", "VIP", "نمایشگاه ۱۴۰۳"]})
    dlg = open_form(qtbot, ctx)
    fill_person(dlg)
    dlg.tags.setFocus()
    dlg.tags.insert("VIP، نمایش")            # as typed; the completer offers the existing tag
    completer = dlg.tags._completer
    assert completer.popup().isVisible()
    assert completer.currentCompletion() == "نمایشگاه 1403"
    completer.popup().setCurrentIndex(completer.completionModel().index(0, 0))
    qtbot.keyClick(completer.popup(), Qt.Key.Key_Return)
    assert dlg.tags.tags() == ["VIP", "نمایشگاه 1403"]
    assert dlg.isVisible() and dlg.saved_id is None      # Enter in the completer picks, it does not save
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert sorted(cs.customer_data(dlg.saved_id)["tags"]) == ["VIP", "نمایشگاه 1403"]


def test_suggestions_from_existing_customers(qtbot, ctx):
    cs.create_customer({"last_name": "الف", "activity_field": "تجهیزات پزشکی", "customer_type": "پخش‌کننده"})
    dlg = open_form(qtbot, ctx)
    # office-defined lists plus what other customers already use
    types = [dlg.customer_type.itemText(i) for i in range(dlg.customer_type.count())]
    assert "عمده‌فروش" in types and "پخش‌کننده" in types
    # the slow DISTINCT over activity fields runs only when the field is used
    assert dlg.activity_field.findText("تجهیزات پزشکی") < 0
    dlg.activity_field.showPopup()          # the user opens the list (focusing it loads too)
    dlg.activity_field.hidePopup()
    assert dlg.activity_field.findText("تجهیزات پزشکی") >= 0


def test_editing_a_merged_customer_edits_the_survivor(qtbot, ctx, existing):
    other = cs.create_customer({"last_name": "تکراری", "phones": [{"raw": "09350001111"}]})
    cs.merge(existing.id, other.id)
    dlg = open_form(qtbot, ctx, customer_id=other.id)
    assert dlg.customer_id == existing.id
    assert dlg.last_name.text() == "رضایی"
    assert {r.number.text() for r in dlg.phone_rows} == {"۰۹۱۲۳۴۵۶۷۸۹", "۰۹۳۵۰۰۰۱۱۱۱"}


def test_ctrl_s_saves(qtbot, ctx):
    dlg = open_form(qtbot, ctx)
    with qtbot.waitActive(dlg):
        dlg.activateWindow()
    fill_person(dlg)
    dlg.description.setFocus()
    qtbot.keyClick(dlg.description, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert dlg.saved_id is not None
