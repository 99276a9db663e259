"""The dashboard's money cards: overdue invoices, cheques due this week, bounced cheques, today's collection
calls, and the cash forecast. The dashboard builds them with `build()` and fills them with `fill()`; each item
carries a payload the dashboard opens with `open_payload()`."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from app import fmt
from app.money.summary import MoneySummary

RED = QColor("#b91c1c")

SECTIONS = (
    ("money_overdue", "فاکتورهای سررسیدگذشته", "فاکتور سررسیدگذشته‌ای نیست."),
    ("money_cheques", "چک‌های سررسید این هفته", "این هفته چکی سررسید نمی‌شود."),
    ("money_bounced", "چک‌های برگشتی", "چک برگشتی پیگیری‌نشده‌ای نیست."),
    ("money_collection", "پیگیری مطالبات امروز", "امروز پیگیری مطالباتی نمانده است."),
)
MORE = ("more", "money")


def cheque_text(c, on) -> str:
    what = "دریافتی" if c.direction == "in" else "پرداختی"
    party = f"از {c.party}" if c.direction == "in" else f"در وجه {c.party}"
    late = " (سررسید گذشته)" if c.state == "pending" and c.due < on else ""
    return f"{fmt.date(c.due)}  چک {what} {fmt.digits(c.number)} {c.bank} {party} — {fmt.money(c.amount)}{late}"


def fill(cards: dict, forecast_table, s: MoneySummary) -> None:
    from ui.money.page import fill_forecast

    c = cards["money_overdue"]
    c.title.setText(f"فاکتورهای سررسیدگذشته — {fmt.money(s.overdue_total)}")
    for o in s.overdue:
        c.add(f"{fmt.digits(o.number)}  {o.customer_name} — {fmt.money(o.remaining)} — "
              f"{fmt.count(o.days_late, 'روز')} دیرکرد", ("invoice", o.id, o.customer_id), RED,
              f"سررسید {fmt.date(o.due_date)}؛ مبلغ فاکتور {fmt.money(o.total)}")
    c.set_count(s.overdue_count, alert=True)
    c.finish(s.overdue_count, MORE)
    c = cards["money_cheques"]
    title = f"چک‌های سررسید این هفته — دریافتی {fmt.money(s.week_in)}"
    if s.issued_visible:
        title += f"، پرداختی {fmt.money(s.week_out)}"
    c.title.setText(title)
    for ch in s.week:
        c.add(cheque_text(ch, s.on), ("cheque", ch.id, ch.customer_id or 0, ch.direction),
              RED if ch.due < s.on else None)
    c.set_count(s.week_count)
    c.finish(s.week_count, MORE)
    c = cards["money_bounced"]
    c.title.setText(f"چک‌های برگشتی — {fmt.money(s.bounced_total)}")
    for ch in s.bounced:
        c.add(cheque_text(ch, s.on), ("cheque", ch.id, ch.customer_id or 0, ch.direction), RED)
    c.set_count(s.bounced_count, alert=True)
    c.finish(s.bounced_count, MORE)
    c = cards["money_collection"]
    for r in s.collection:
        phone = f" — {fmt.phone(r.phone)}" if r.phone else ""
        c.add(f"{r.name} — {fmt.money(r.amount)}{phone}", ("collection", r.customer_id, r.customer_id), None,
              r.reason())
    c.set_count(s.collection_due)
    c.finish(s.collection_due, MORE)
    fill_forecast(forecast_table, s.forecast)


def open_payload(page, payload: tuple) -> bool:
    """Open a money item from the dashboard; False when the payload is not a money one."""
    kind = payload[0]
    ctx = page.ctx
    if kind == "invoice":
        from ui.sales.payments_dialog import PaymentsDialog

        dlg = PaymentsDialog(ctx, payload[2], invoice_id=payload[1], parent=page)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        return True
    if kind in ("cheque", "collection") or payload == MORE:
        ctx.bus.show_section.emit("money")
        mw = ctx.main_window
        money = mw.page("money") if mw is not None and hasattr(mw, "page") else None
        if money is not None:
            if kind == "collection":
                money.show_collection(payload[1])
            elif kind == "cheque":
                money.show_cheques("week")
        return True
    return False
