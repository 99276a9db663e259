from models.sales import SALES_MODELS

NUMBER = 4
NAME = "sales: products, proformas and invoices, payments"


def up(database):
    database.create_tables(SALES_MODELS)
