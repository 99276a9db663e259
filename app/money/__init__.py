"""The office's money: who owes what and since when, the cheques that fall due (received and issued), the
bounced ones, the collection list a rep works through, and a Jalali-month cash-in forecast.

* ``cheques``: cheques the office issues (چک پرداختی) and the cheque lists (due soon, bounced).
* ``collection``: overdue invoices with days overdue, the collection list (پیگیری مطالبات) and its follow-ups.
* ``forecast``: expected money in and out per Jalali month, from due dates and cheques.
* ``summary``: everything the dashboard's money cards show, in one call.

All money is integer Rials. "Whose" money a desk sees: a manager (or a desk with nobody signed in) sees the
office's; anyone else sees the customers assigned to them (``user_id``); issued cheques only the manager.
"""
