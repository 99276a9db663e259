"""A small office whose money is worked out by hand (see each comment): the money services must agree exactly.

Today is 2026-11-24 = 1405/09/03 (Tuesday). Azar 1405 runs 2026-11-22 … 2026-12-21, Dey 2026-12-22 … 2027-01-20,
Bahman 2027-01-21 … 2027-02-19. Every line is VAT-exempt, so an invoice's total is its price.
"""
from __future__ import annotations

import datetime as dt

from app.core import clock
from app.money import cheques
from app.sales.documents import create_invoice
from app.sales.payments import record_payment, set_cheque_state
from app.sales.totals import LineInput
from tests.tasks.helpers import customer, user

D = dt.date
TODAY = D(2026, 11, 24)


def _inv(cust: int, amount: int, date: dt.date, due: dt.date) -> int:
    return create_invoice(cust, [LineInput("کالا", 1, amount, vat_exempt=True)], date=date, due_date=due,
                                settlement="credit").id


def build() -> dict:
    clock.set_now(dt.datetime(2026, 11, 24, 9, 0))
    reza = user("رضا کریمی", "reza")
    boss = user("امیر حسینی", "amir", role="manager")
    ali = customer("علی", "رضایی", "09121234567", assigned_to=reza)
    sara = customer("سارا", "محمدی", "09125556677")
    nour = customer("", "", "02188776655", kind="organisation", company="شرکت نور", assigned_to=reza)
    hamid = customer("حمید", "نادری", "09351112233")
    ids = {"reza": reza, "boss": boss, "ali": ali, "sara": sara, "nour": nour, "hamid": hamid}
    # ali: A1 10,000,000 due 10/31 (24 days late), 4,000,000 paid → 6,000,000 owed; A2 3,000,000 due 11/20 (4 late)
    ids["A1"] = _inv(ali, 10_000_000, D(2026, 10, 1), D(2026, 10, 31))
    record_payment(ali, "cash", 4_000_000, date=D(2026, 10, 15))
    ids["A2"] = _inv(ali, 3_000_000, D(2026, 11, 10), D(2026, 11, 20))
    # sara: S1 8,000,000 due 12/01 (Azar); a 5,000,000 cheque due 11/27 pays part of it → 3,000,000 left in Azar
    ids["S1"] = _inv(sara, 8_000_000, D(2026, 11, 1), D(2026, 12, 1))
    ids["sara_cheque"] = record_payment(sara, "cheque", 5_000_000, date=D(2026, 11, 2), cheque_number="111222",
                                              cheque_bank="ملت", cheque_due=D(2026, 11, 27)).id
    # nour: N1 20,000,000 due 09/15 paid by a cheque that bounced → 20,000,000 owed, 70 days late;
    # N2 6,000,000 due 2027-01-05 (Dey)
    ids["N1"] = _inv(nour, 20_000_000, D(2026, 9, 1), D(2026, 9, 15))
    ids["nour_cheque"] = record_payment(nour, "cheque", 20_000_000, date=D(2026, 9, 10),
                                              cheque_number="555666", cheque_bank="صادرات",
                                              cheque_due=D(2026, 10, 1)).id
    set_cheque_state(ids["nour_cheque"], "bounced")
    ids["N2"] = _inv(nour, 6_000_000, D(2026, 11, 24), D(2027, 1, 5))
    # hamid: paid in full, a 2,000,000 cheque on account due 2027-02-01 (Bahman), and a 500,000 cheque that
    # bounced — but he owes nothing (balance −2,000,000), so it is not a debt to chase
    ids["H1"] = _inv(hamid, 1_000_000, D(2026, 11, 1), D(2026, 11, 1))
    record_payment(hamid, "cash", 1_000_000, date=D(2026, 11, 1))
    ids["hamid_cheque"] = record_payment(hamid, "cheque", 2_000_000, date=D(2026, 11, 5),
                                               cheque_number="777", cheque_bank="ملی",
                                               cheque_due=D(2027, 2, 1)).id
    ids["hamid_bounced"] = record_payment(hamid, "cheque", 500_000, date=D(2026, 11, 5),
                                                cheque_number="778", cheque_bank="ملی",
                                                cheque_due=D(2026, 11, 10)).id
    set_cheque_state(ids["hamid_bounced"], "bounced")
    # the office's own cheques
    def out(number, amount, due, state="pending"):
        c = cheques.issue_cheque({"number": number, "bank": "تجارت", "amount": amount, "payee": "پخش البرز",
                                  "due_date": due, "issue_date": D(2026, 11, 1)})
        if state != "pending":
            cheques.set_issued_state(c.id, state)
        return c.id

    ids["O1"] = out("9001", 7_000_000, D(2026, 11, 26))                 # this week
    ids["O2"] = out("9002", 4_000_000, D(2026, 12, 25))                 # Dey
    ids["O3"] = out("9003", 1_500_000, D(2026, 11, 20))                 # day passed, not marked cleared
    ids["O4"] = out("9004", 9_000_000, D(2026, 12, 1), "cleared")       # paid: counts nowhere
    ids["O5"] = out("9005", 2_500_000, D(2026, 11, 15), "bounced")      # our own cheque bounced
    return ids
