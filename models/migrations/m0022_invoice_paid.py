"""Each sales document keeps what has been paid on it (`sales_document.paid`), and the open invoices have an index
of their own.

The dashboard's money cards, the collection list, the cash forecast and the «سررسیدگذشته» filter all ask which
invoices still have money owed. Before this they summed every allocation of every payment the office ever received
and compared it with every invoice ever issued: at 50,000 documents the manager's money cards took about 320 ms, and
grew with the years. Now they read the index of open invoices alone.

The database keeps the column in step itself (triggers on SQLite and on PostgreSQL), so every path that writes a
payment, an allocation, a void or a bounced cheque leaves it right, and a document saved whole with the figure it
was read with (an invoice cancelled after its allocations were released) gets the right one back:
    paid = Σ allocations of payments that count (not voided, not a bounced cheque)   (app.sales.paid)

    sales_document_open (doc_type, state, due_date, customer_id, total, paid, date)
        WHERE doc_type = 'invoice' AND state = 'issued' AND total > paid

(the first two columns repeat its condition: SQLite's planner otherwise prefers looking the invoices up by type
to scanning this smaller index whole, unless the query groups them)

The received cheques the same cards list (due this week, bounced, the forecast's pending ones) were found by reading
every payment: most payments are cash, cards and transfers.

    payment_cheque (kind, cheque_state, state, cheque_due) WHERE kind = 'cheque'

The collection list looked up each debtor's open follow-ups (30,000 debtors at a million customers). The open tasks'
titles now have an index, and the follow-ups are found by their title's prefix:

    task_open_title (title, customer_id, due_at) WHERE status = 'open'      (PostgreSQL: title text_pattern_ops)
"""
from __future__ import annotations

NUMBER = 22
NAME = "sales: what is paid on each document; indexes of the open invoices, received cheques and open tasks' titles"

# what the counting payments have allocated to document `doc` (an SQL expression over its id)
_PAID = ("(SELECT COALESCE(SUM(a.amount), 0) FROM payment_allocation a JOIN payment p ON p.id = a.payment_id "
         "WHERE a.document_id = {doc} AND p.state = 'active' AND p.cheque_state <> 'bounced')")
OPEN_INVOICE = "doc_type = 'invoice' AND state = 'issued' AND total > paid"


def _sqlite_triggers() -> list[str]:
    def refresh(doc: str) -> str:
        return f"UPDATE sales_document SET paid = {_PAID.format(doc=doc)} WHERE id = {doc};"

    kept = _PAID.format(doc="NEW.id")
    return [
        "CREATE TRIGGER IF NOT EXISTS payment_allocation_paid_ai AFTER INSERT ON payment_allocation "
        f"BEGIN {refresh('NEW.document_id')} END",
        "CREATE TRIGGER IF NOT EXISTS payment_allocation_paid_ad AFTER DELETE ON payment_allocation "
        f"BEGIN {refresh('OLD.document_id')} END",
        "CREATE TRIGGER IF NOT EXISTS payment_allocation_paid_au AFTER UPDATE OF document_id, payment_id, amount "
        f"ON payment_allocation BEGIN {refresh('OLD.document_id')} {refresh('NEW.document_id')} END",
        "CREATE TRIGGER IF NOT EXISTS payment_paid_au AFTER UPDATE OF state, cheque_state ON payment "
        f"BEGIN UPDATE sales_document SET paid = {_PAID.format(doc='sales_document.id')} "
        "WHERE id IN (SELECT document_id FROM payment_allocation WHERE payment_id = NEW.id); END",
        # a document written whole (the ORM's save() writes every column, paid as it was read) keeps the figure
        # its allocations give; SQLite does not fire a trigger from its own statement again
        f"CREATE TRIGGER IF NOT EXISTS sales_document_paid_au AFTER UPDATE OF paid ON sales_document "
        f"WHEN NEW.paid IS NOT {kept} BEGIN UPDATE sales_document SET paid = {kept} WHERE id = NEW.id; END",
        f"CREATE TRIGGER IF NOT EXISTS sales_document_paid_ai AFTER INSERT ON sales_document "
        f"WHEN NEW.paid IS NOT {kept} BEGIN UPDATE sales_document SET paid = {kept} WHERE id = NEW.id; END",
    ]


def _postgres_triggers() -> list[str]:
    # the document's own trigger works the figure out whenever its paid column is written; the others write it
    return [
        "CREATE OR REPLACE FUNCTION sales_document_paid() RETURNS trigger AS $$ BEGIN "
        f"NEW.paid := {_PAID.format(doc='NEW.id')}; RETURN NEW; END $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS sales_document_paid ON sales_document",
        "CREATE TRIGGER sales_document_paid BEFORE INSERT OR UPDATE OF paid ON sales_document "
        "FOR EACH ROW EXECUTE FUNCTION sales_document_paid()",
        # the payment's row is held (FOR SHARE) until this transaction ends: a void or a bounced cheque of the same
        # payment waits for it, and then finds the allocation where this transaction left it
        "CREATE OR REPLACE FUNCTION payment_allocation_paid() RETURNS trigger AS $$ BEGIN "
        "IF TG_OP <> 'INSERT' THEN PERFORM 1 FROM payment WHERE id = OLD.payment_id FOR SHARE; END IF; "
        "IF TG_OP <> 'DELETE' THEN PERFORM 1 FROM payment WHERE id = NEW.payment_id FOR SHARE; END IF; "
        "IF TG_OP <> 'INSERT' THEN UPDATE sales_document SET paid = paid WHERE id = OLD.document_id; END IF; "
        "IF TG_OP <> 'DELETE' THEN UPDATE sales_document SET paid = paid WHERE id = NEW.document_id; END IF; "
        "RETURN NULL; END $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS payment_allocation_paid ON payment_allocation",
        "CREATE TRIGGER payment_allocation_paid AFTER INSERT OR DELETE OR UPDATE OF document_id, payment_id, amount "
        "ON payment_allocation FOR EACH ROW EXECUTE FUNCTION payment_allocation_paid()",
        "CREATE OR REPLACE FUNCTION payment_paid() RETURNS trigger AS $$ BEGIN "
        "UPDATE sales_document SET paid = paid "
        "WHERE id IN (SELECT document_id FROM payment_allocation WHERE payment_id = NEW.id); "
        "RETURN NULL; END $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS payment_paid ON payment",
        "CREATE TRIGGER payment_paid AFTER UPDATE OF state, cheque_state ON payment "
        "FOR EACH ROW EXECUTE FUNCTION payment_paid()",
    ]


def up(database):
    import peewee as pw

    from models.migrations import add_column

    add_column(database, "sales_document", "paid", "BIGINT NOT NULL DEFAULT 0")
    for sql in (_postgres_triggers() if isinstance(database, pw.PostgresqlDatabase) else _sqlite_triggers()):
        database.execute_sql(sql)
    database.execute_sql(f"UPDATE sales_document SET paid = {_PAID.format(doc='sales_document.id')} "
                         "WHERE id IN (SELECT document_id FROM payment_allocation)")
    database.execute_sql("CREATE INDEX IF NOT EXISTS sales_document_open ON sales_document "
                         f"(doc_type, state, due_date, customer_id, total, paid, date) WHERE {OPEN_INVOICE}")
    database.execute_sql("CREATE INDEX IF NOT EXISTS payment_cheque ON payment (kind, cheque_state, state, cheque_due) "
                         "WHERE kind = 'cheque'")
    pattern = " text_pattern_ops" if isinstance(database, pw.PostgresqlDatabase) else ""    # LIKE 'prefix%'
    database.execute_sql(f"CREATE INDEX IF NOT EXISTS task_open_title ON task (title{pattern}, customer_id, due_at) "
                         "WHERE status = 'open'")
