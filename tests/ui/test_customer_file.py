"""The customer file window on a real SQLite file: header, details, timeline, actions, refresh, merges."""
from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from app import settings
from app.core import clock
from app.core.jalali import format_datetime, from_jalali
from app.customers import service as cs
from app.customers import timeline
from app.demo.customers import ensure_users
from ui.context import AppContext
from ui.customers import file as customer_file
from ui.customers.file import CustomerFileWindow, NoteDialog, open_customer_file, phone_display
from ui.customers.form import CustomerFormDialog

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture(autouse=True)
def _close_customer_files(persian_app):
    yield
    for w in list(customer_file._open_windows.values()):
        w.close()


@pytest.fixture
def ctx(db):
    users = ensure_users()
    return AppContext(user_id=users[1])


@pytest.fixture
def customer(ctx):
    users = ensure_users()
    clock.set_now(dt.datetime(2026, 11, 24, 10, 30))
    c = cs.create_customer({
        "first_name": "مریم", "last_name": "احمدی", "title": "خانم", "company": "بازرگانی پارس الکتریک",
        "job": "مدیر خرید", "customer_type": "عمده‌فروش", "rank": "A", "national_id": "0013542419",
        "birthday": from_jalali(1360, 9, 21), "assigned_to": users[2], "tags": ["VIP", "خوش‌حساب"],
        "phones": [{"raw": "0912 345 6789"}, {"raw": "021-88765432", "extension": "214"}],
        "addresses": [{"province": "تهران", "city": "تهران", "line": "خیابان ولیعصر، پلاک 12",
                       "postal_code": "1969834511"}],
    }, users[1])
    clock.set_now(dt.datetime(2026, 11, 25, 9, 5))
    cs.add_note(c.id, "قرار شد پیش‌فاکتور تا شنبه فرستاده شود.\nتخفیف ۵٪ برای خرید نقدی.", users[2])
    timeline.record(c.id, "call_in", "تماس ورودی از 09123456789 — ۳ دقیقه", user=users[1],
                    at=dt.datetime(2026, 11, 26, 11, 42))
    timeline.record(c.id, "call_out", "تماس خروجی به 02188765432", user=users[2], at=dt.datetime(2026, 11, 27, 16, 10))
    clock.set_now(dt.datetime(2026, 11, 28, 12, 0))
    return c


def open_file(qtbot, ctx, cid) -> CustomerFileWindow:
    w = open_customer_file(ctx, cid)
    qtbot.addWidget(w)
    return w


def timeline_rows(w: CustomerFileWindow) -> list[tuple[str, str, str, str]]:
    m = w.timeline.model()
    return [tuple(m.index(i, c).data() for c in range(4)) for i in range(m.rowCount())]


def test_header_and_details(qtbot, ctx, customer):
    w = open_file(qtbot, ctx, customer.id)
    assert w.windowTitle() == "پرونده مشتری — مریم احمدی"
    assert w.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert w.name_label.text() == "خانم مریم احمدی"
    badges = [w.badges.itemAt(i).widget().text() for i in range(w.badges.count())]
    assert badges == ["حقیقی", "مشتری", "رتبه A", "عمده‌فروش"]
    assert "مدیر خرید، بازرگانی پارس الکتریک" in w.sub_label.text()
    assert "کارشناس مسئول: رضا کریمی" in w.sub_label.text()
    tags = [w.tags_row.itemAt(i).widget().text() for i in range(w.tags_row.count())
            if w.tags_row.itemAt(i).widget()]
    assert tags == ["VIP", "خوش‌حساب"]
    texts = [lab.text() for lab in w.findChildren(type(w.name_label)) if lab.isVisibleTo(w)]
    # phones grouped for reading, Persian digits, the extension after the number
    assert phone_display("09123456789") in texts
    assert "\u2066۰۹۱۲ ۳۴۵ ۶۷۸۹\u2069" in texts
    assert "\u2066۰۲۱ ۸۸۷۶ ۵۴۳۲\u2069 داخلی ۲۱۴" in texts
    # Jalali dates with Persian digits; age and days to the next birthday from the office clock
    assert "۱۳۶۰/۰۹/۲۱ (۴۴ ساله؛ تولد بعدی ۱۴ روز دیگر)" in texts
    assert "۰۰۱۳۵۴۲۴۱۹" in texts
    assert any("خیابان ولیعصر، پلاک ۱۲" in t and "۱۹۶۹۸۳۴۵۱۱" in t for t in texts)


def test_timeline_newest_first_jalali_and_filter(qtbot, ctx, customer):
    w = open_file(qtbot, ctx, customer.id)
    rows = timeline_rows(w)
    assert [r[1] for r in rows] == ["تماس خروجی", "تماس ورودی", "یادداشت", "ایجاد پرونده"]
    assert rows[0][0] == "۱۴۰۵/۰۹/۰۶ ۱۶:۱۰" == format_datetime(dt.datetime(2026, 11, 27, 16, 10))
    assert rows[1][2] == "تماس ورودی از ۰۹۱۲۳۴۵۶۷۸۹ — ۳ دقیقه"
    assert rows[2][2] == "قرار شد پیش‌فاکتور تا شنبه فرستاده شود."     # first line only
    assert rows[2][3] == "رضا کریمی"
    # the full note in the pane under the list
    w.timeline.setCurrentIndex(w.timeline.model().index(2, 0))
    assert "تخفیف ۵٪ برای خرید نقدی." in w.entry_view.toPlainText()
    assert "چهارشنبه ۴ آذر ۱۴۰۵" in w.entry_view.toPlainText()
    # filter by kind
    labels = [w.kind_filter.itemText(i) for i in range(w.kind_filter.count())]
    assert labels[0] == "همه (۴)" and "یادداشت (۱)" in labels
    w.set_kind_filter("note")
    assert [r[1] for r in timeline_rows(w)] == ["یادداشت"]
    w.set_kind_filter(None)
    assert len(timeline_rows(w)) == 4


def test_add_note_from_the_file(qtbot, ctx, customer):
    w = open_file(qtbot, ctx, customer.id)
    w.set_kind_filter("note")
    dlg = w.add_note()
    assert isinstance(dlg, NoteDialog)
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)      # empty: refused
    assert dlg.error.isVisible() and dlg.error.text() == "متن یادداشت خالی است."
    assert dlg.note_id is None
    dlg.body.setPlainText("مشتری برای بازدید از نمایشگاه دعوت شد.")
    with qtbot.waitActive(dlg):
        dlg.activateWindow()
    qtbot.keyClick(dlg.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)    # Ctrl+Enter saves
    assert dlg.note_id is not None
    qtbot.waitUntil(lambda: len(timeline_rows(w)) == 2)
    assert timeline_rows(w)[0][2] == "مشتری برای بازدید از نمایشگاه دعوت شد."
    assert timeline_rows(w)[0][3] == "سارا محمدی"
    assert w.kind_filter.currentData() == "note"          # the chosen filter survives the refresh


def test_edit_from_the_file_refreshes_it(qtbot, ctx, customer):
    w = open_file(qtbot, ctx, customer.id)
    form = w.edit()
    assert isinstance(form, CustomerFormDialog) and form.customer_id == customer.id
    form.last_name.setText("احمدی‌نژاد")
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.name_label.text() == "خانم مریم احمدی‌نژاد")
    assert timeline_rows(w)[0][1] == "ویرایش پرونده"


def test_log_call_button_asks_the_bus(qtbot, ctx, customer):
    w = open_file(qtbot, ctx, customer.id)
    with qtbot.waitSignal(ctx.bus.log_call) as sig:
        qtbot.mouseClick(w.call_button, Qt.MouseButton.LeftButton)
    assert sig.args == [customer.id, 0]


def test_sms_button_opens_the_message_dialog_for_this_customer(qtbot, ctx, customer):
    w = open_file(qtbot, ctx, customer.id)
    qtbot.mouseClick(w.sms_button, Qt.MouseButton.LeftButton)
    [dlg] = [d for d in w.child_dialogs if type(d).__name__ == "SendSmsDialog"]
    assert dlg.isVisible() and dlg.customer_id == customer.id and dlg.chosen_number() == "09123456789"
    dlg.close()


def test_dial_without_a_modem_says_why(qtbot, ctx, customer, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    w = open_file(qtbot, ctx, customer.id)
    assert len(w.dial_buttons) == 2
    assert all(b.isEnabled() and "مودم" in b.toolTip() for b in w.dial_buttons)
    said = []
    monkeypatch.setattr(QMessageBox, "information", lambda _parent, _title, text: said.append(text))
    w.dial_buttons[0].click()
    assert said and "شناسه تماس روشن نیست" in said[0]


def test_dial_from_the_file_goes_through_the_listeners_modem(qtbot, db, tmp_path):
    """Click-to-call on a simulated modem: the listener that holds the port dials, then releases the line."""
    from app.callerid import settings_keys as sk
    from app.callerid.simulator import Simulator, SimulatorOptions
    from ui.context import AppContext
    from ui.main_window import MainWindow

    c = cs.create_customer({"first_name": "آرش", "last_name": "کاظمی", "phones": [{"raw": "0912 765 4321"}]})
    sim = Simulator(SimulatorOptions(device="modem", chipset="conexant", link=str(tmp_path / "modem")))
    sim.start()
    try:
        settings.set(sk.DEVICE, "modem")
        settings.set(sk.PORT, str(tmp_path / "modem"))
        settings.set(sk.DIAL_RELEASE_AFTER, 0.2)
        ctx = AppContext()
        win = MainWindow(ctx)
        qtbot.addWidget(win)
        qtbot.waitUntil(lambda: win.callerid is not None and win.callerid.listener.state == "listening",
                        timeout=8000)            # caller ID starts just after the window is shown
        f = CustomerFileWindow(ctx, c.id)
        qtbot.addWidget(f)
        with qtbot.waitSignal(win.callerid.listener.dial_finished, timeout=8000) as done:
            f.dial_buttons[0].click()
        assert done.args[0] is True
        assert "ATDT09127654321;" in sim.at.history and sim.at.history[-1] == "ATH", sim.at.history
    finally:
        win.close()
        sim.close()


def test_refreshes_when_something_is_recorded_elsewhere(qtbot, ctx, customer):
    w = open_file(qtbot, ctx, customer.id)
    timeline.record(customer.id, "call_missed", "تماس بی‌پاسخ از 09123456789")
    ctx.bus.data_changed.emit("calls")
    qtbot.waitUntil(lambda: len(timeline_rows(w)) == 5)
    assert timeline_rows(w)[0][1] == "تماس بی‌پاسخ"


def test_one_window_per_customer(qtbot, ctx, customer):
    w1 = open_file(qtbot, ctx, customer.id)
    w2 = open_customer_file(ctx, customer.id)
    assert w1 is w2


def test_a_merged_customer_opens_the_survivor(qtbot, ctx, customer):
    other = cs.create_customer({"last_name": "احمدی (تکراری)", "phones": [{"raw": "09351234567"}]})
    cs.add_note(other.id, "یادداشت پرونده تکراری")
    cs.merge(customer.id, other.id)
    w = open_file(qtbot, ctx, other.id)
    assert w.customer_id == customer.id
    assert w.name_label.text() == "خانم مریم احمدی"
    assert w.banner.isVisibleTo(w) and "احمدی (تکراری)" in w.banner.text()
    summaries = [r[2] for r in timeline_rows(w)]
    assert "یادداشت پرونده تکراری" in summaries          # the dropped file's history is here
    assert open_customer_file(ctx, customer.id) is w


def test_missing_customer_shows_a_message(qtbot, ctx):
    w = open_file(qtbot, ctx, 98765)
    assert w.name_label.text() == "پرونده پیدا نشد"
    assert not w.edit_button.isEnabled()


def test_main_window_routes_the_bus_to_these_screens(qtbot, ctx, customer):
    from ui.main_window import MainWindow

    main = MainWindow(ctx, start_callerid=False)
    qtbot.addWidget(main)
    ctx.bus.open_customer.emit(customer.id)
    win = customer_file._open_windows[customer.id]
    assert win.isVisible() and win.parent() is main
    ctx.bus.new_customer_with_phone.emit("09127654321")
    forms = [w for w in main.findChildren(CustomerFormDialog) if w.isVisible()]
    assert len(forms) == 1
    assert forms[0].phone_rows[0].number.text() == "۰۹۱۲۷۶۵۴۳۲۱"
    forms[0].close()


def test_file_shows_balance_and_last_invoice_and_opens_a_new_proforma(qtbot, db):
    """The customer file carries the same standing as the caller-ID popup, and starts a proforma from here."""
    from app.customers import service as cs
    from app.sales.documents import create_invoice
    from ui.context import AppContext
    from ui.customers.file import CustomerFileWindow
    from ui.main_window import MainWindow

    c = cs.create_customer({"first_name": "کامران", "last_name": "پورمحمدی", "phones": [{"raw": "09121112233"}]})
    create_invoice(c.id, [{"description": "پنل خورشیدی", "quantity": 2, "unit_price": 5_000_000}])
    ctx = AppContext()
    win = MainWindow(ctx, start_callerid=False)
    qtbot.addWidget(win)
    f = CustomerFileWindow(ctx, c.id)
    qtbot.addWidget(f)
    texts = [f.standing_grid.itemAt(i).widget().text() for i in range(f.standing_grid.count())]
    assert "مانده حساب" in texts
    # 10,000,000 + 10% VAT owed, shown with Persian digits
    assert any("۱۱٬۰۰۰٬۰۰۰" in t for t in texts), texts
    assert not f.proforma_button.isHidden()
    assert "invoices" not in win.pages              # the section's page is built when a document is asked for
    f.proforma_button.click()
    assert win.stack.currentWidget() is win.page("invoices")


def test_timeline_labels_are_persian_without_opening_other_pages(db):
    """A fresh process that opens only a customer file still shows «فاکتور», not the raw kind name."""
    import subprocess
    import sys

    code = (
        "import sys; from models.connection import open_database; open_database(sys.argv[1], create=True);"
        "from app.customers import service as cs, timeline;"
        "c = cs.create_customer({'first_name': 'نگار', 'last_name': 'سلطانی'});"
        "timeline.record(c.id, 'invoice', 'x'); timeline.record(c.id, 'followup', 'y');"
        "print(sorted(e.label for e in timeline.entries(c.id)))")
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code, str(Path(db.replace("sqlite:///", "")).parent / "t2.sqlite3")],
                         capture_output=True, text=True, cwd=root, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "فاکتور" in out.stdout and "'invoice'" not in out.stdout and "'followup'" not in out.stdout


def test_an_idle_desk_imports_the_customer_file_ahead(qtbot, db, monkeypatch, caplog):
    """Once the desk is idle after its start, the customer file's modules are imported ahead of the first customer
    opened (the first opening took twice the next ones, most of it importing); an import that fails is logged and
    the desk goes on."""
    import builtins

    import ui.main_window as mw
    from ui.context import AppContext

    wanted = {"ui.customers.file", "ui.pipeline.customer_box", "ui.service.customer_tabs", "ui.calls.dialing"}
    seen: list[str] = []
    failing: set[str] = set()
    real_import = builtins.__import__

    def spy(name, *args, **kwargs):
        seen.append(name)
        if name in failing:
            raise ImportError(f"no module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", spy)
    monkeypatch.setattr(mw, "WARM_AFTER_MS", 10)
    for name in ("_start_callerid", "_start_reminders", "_start_live", "_start_service", "_start_sms"):
        monkeypatch.setattr(mw.MainWindow, name, lambda self: None)
    win = mw.MainWindow(AppContext(), start_callerid=True)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: wanted <= set(seen), timeout=3000)
    failing.add("ui.pipeline.customer_box")
    win._warm_screens()
    assert "could not import the customer file ahead of use" in caplog.text


def test_running_text_gets_persian_digits_except_in_latin_words():
    from ui.customers.file import fa_text

    assert fa_text("سفارش 12 عدد\nپرداخت 3 قسط") == "سفارش ۱۲ عدد\nپرداخت ۳ قسط"          # no Latin word at all
    assert fa_text("لامپ LED-40W برای ali2@x.com، 25 عدد") == "لامپ LED-40W برای ali2@x.com، ۲۵ عدد"
    assert fa_text("") == "" and fa_text(None) == ""


def test_the_timeline_model_gives_each_cell_its_text_and_tooltip(qtbot, qtmodeltester, ctx, customer):
    """The timeline is a model whose cells are made when asked: the Qt model tester, the first line of a summary
    with Persian digits but Latin codes kept, the whole summary and the long date as tooltips, the entry's id."""
    timeline.record(customer.id, "note", "سفارش 12 عدد LED-40W\nتحویل 3 روز دیگر", at=dt.datetime(2026, 11, 28, 9, 5))
    w = open_file(qtbot, ctx, customer.id)
    m = w.timeline.model()
    qtmodeltester.check(m)
    i = next(r for r in range(m.rowCount()) if m.index(r, 1).data() == "یادداشت" and "LED" in m.index(r, 2).data())
    assert m.index(i, 2).data() == "سفارش ۱۲ عدد LED-40W"
    assert m.index(i, 2).data(Qt.ItemDataRole.ToolTipRole) == "سفارش ۱۲ عدد LED-40W\nتحویل ۳ روز دیگر"
    assert "۱۴۰۵" in m.index(i, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert m.index(i, 0).data(Qt.ItemDataRole.UserRole) == w.entries[i].id
    assert m.column_texts(1) == [m.index(r, 1).data() for r in range(m.rowCount())]
    w.timeline.setCurrentIndex(m.index(i, 0))
    assert "تحویل ۳ روز دیگر" in w.entry_view.toPlainText()


def test_a_long_history_fits_its_columns(qtbot, ctx, customer):
    """A customer with years of history: the time, kind and colleague columns are as wide as their widest entry
    (measured from a few cells, not every one)."""
    users = ensure_users()
    kinds = ("note", "call_in", "invoice", "payment", "task")
    for i in range(300):
        timeline.record(customer.id, kinds[i % 5], f"رویداد {i}", user=users[i % 3],
                        at=dt.datetime(2024, 1, 1) + dt.timedelta(hours=7 * i))
    w = open_file(qtbot, ctx, customer.id)
    qtbot.waitExposed(w)
    assert w.timeline.model().rowCount() > 300
    header = w.timeline.header()
    for col in (0, 1, 3):
        assert header.sectionSize(col) >= w.timeline.sizeHintForColumn(col) > 0, col
