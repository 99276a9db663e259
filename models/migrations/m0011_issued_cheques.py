"""Cheques the office issues (چک‌های پرداختی): number, bank, amount, payee, due date and state, so the
dashboard can say what leaves the account this week and the cash forecast can subtract it."""
from models.sales import ISSUED_CHEQUE_MODELS

NUMBER = 11
NAME = "sales: cheques the office issues"


def up(database):
    database.create_tables(ISSUED_CHEQUE_MODELS, safe=True)
