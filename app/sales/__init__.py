"""Sales: proformas and invoices, payments and cheques, products, the printed invoice. All money is integer Rials.

    app.sales.common      limits, the state and kind labels, the write transaction, date fields
    app.sales.totals      line arithmetic (pure): quantities and money parsed, discounts, VAT per line, totals
    app.sales.vat         the dated VAT rates and the rate in force on a day
    app.sales.numbering   document numbers ({Jalali year}{seq:04d}), taken inside the writing transaction
    app.sales.products    the product and service catalogue
    app.sales.documents   writing documents: save, issue, convert a proforma, cancel, correct, find by number
    app.sales.paid        what counts as paid (active payments, not bounced cheques) and what a document has had
    app.sales.views       reading documents: one with its lines, the filtered list and its totals, customer names
    app.sales.payments    payments and cheques: record (allocated oldest due first), void, cheque states
    app.sales.balances    balance, debt, overdue invoices, and the snapshot the popup and the customer file show
    app.sales.reports     sales figures for the reports: rows, top customers, by Jalali month, by rep
    app.sales.invoice_pdf the printed invoice (`crm invoice pdf`)

The modules import one another only downwards in this list (documents never imports payments), so a newcomer can
read them top to bottom.
"""
