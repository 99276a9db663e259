"""Two lists that grew with the years read every row they might show before choosing what to show.

The customer reports («نحوه آشنایی», «نوع», «حقیقی و حقوقی») count the customers registered in a period, grouped by
one column. They went through the list's (merged_into_id, created_at, id) index and read each customer's row for
the grouped column: at a million customers, «امسال» looked up some 300,000 rows and took about a second. This index
holds the grouped columns too, so the count reads the index alone ("USING COVERING INDEX"); one index serves the
three reports, the period being its range:

    customer_report  (merged_into_id, created_at, source, customer_type, kind)

«همه چک‌های دریافتی» lists the received cheques, latest due first, the first 2,000 of them. The cheques' index
starts with their state, so every cheque (27,800 at a million customers) was read and sorted first: 144 ms for the
statement. In due order, the list reads its first 2,000 and stops (10 ms):

    payment_cheque_due  (kind, state, cheque_due, id) WHERE kind = 'cheque'
"""
NUMBER = 23
NAME = "indexes: customers by period with the columns their reports group by; received cheques by due date"


def up(database):
    database.execute_sql("CREATE INDEX IF NOT EXISTS customer_report "
                         "ON customer (merged_into_id, created_at, source, customer_type, kind)")
    database.execute_sql("CREATE INDEX IF NOT EXISTS payment_cheque_due "
                         "ON payment (kind, state, cheque_due, id) WHERE kind = 'cheque'")
