"""Import customers (and their phones, addresses, tags) from .xlsx / .xls / .ods / .csv sheets.

Three steps, each usable alone (the wizard and `crm import customers` both walk them):

1. ``load_table(path, sheet=None) -> Table``: read a sheet (python-calamine, a very large .xlsx as a stream;
   csv with encoding and delimiter sniffing), find the header row under any title rows (one text across the
   sheet, merged or not, several, blank rows between: skipped and named in the dry run; a two-level header
   «تلفن» over «همراه | ثابت» reads as «تلفن همراه»), note the cells whose formula has no saved value, and
   guess each column's field from its Persian or English header. ``Table.mapping`` can be changed before the
   next step.
2. ``analyse(table) -> Report``: the dry run. Every non-blank row is cleaned (Persian/Arabic digits, phones
   in any format including Excel numbers that lost their 0, several phones in one cell, Jalali text or Excel
   dates) and checked with ``app.customers.validate()``; every problem is listed with its spreadsheet row
   number: errors (bad phone, missing name…), duplicates of an existing customer (shared phone or national
   ID) or of an earlier row, warnings (unknown user, a formula without a value…). Nothing is written. Rows are
   checked in batches and set aside in a temporary file: memory stays flat for a million rows.
3. ``import_rows(report, duplicates="skip"|"merge"|"add", skip_invalid=False) -> ImportResult``: the rows
   are decided without any lock, then written as one job through models/writer.py: one transaction, all or
   nothing. Rows with errors make it refuse (UserError) unless ``skip_invalid``. New
   customers go in with bulk inserts (customers, phones, addresses, tags, timeline) whose sort/search keys
   are exactly the customer service's (``app.customers.service.derived_keys``): on SQLite copied by SQLite
   itself from the dry run's stage (attached to the writer's connection, INSERT … SELECT), on PostgreSQL
   through the driver. The same transaction writes
   one entry in the office's audit log (file, added/merged/left-out counts, who), never one per row.
"""

from app.core.errors import UserError
from app.excel.importer.checking import BATCH, Problem, Report, RowResult, analyse
from app.excel.importer.cleaning import (
    address_label_of,
    parse_other_addresses,
    split_full_name,
    split_phones,
    take_honorifics,
)
from app.excel.importer.fields import FIELDS, MULTI, PHONE_FIELDS, guess_field, guess_mapping
from app.excel.importer.reading import MAX_HEADER_SCAN, Table, _blank, _cell_text, load_table
from app.excel.importer.writing import (
    DUPLICATE_CHOICES,
    ImportCancelled,
    ImportResult,
    import_file,
    import_rows,
)

__all__ = ["BATCH", "DUPLICATE_CHOICES", "FIELDS", "MAX_HEADER_SCAN", "MULTI", "PHONE_FIELDS", "ImportCancelled",
           "ImportResult", "Problem", "Report", "RowResult", "Table", "UserError", "_blank", "_cell_text",
           "address_label_of", "analyse", "guess_field", "guess_mapping", "import_file", "import_rows", "load_table",
           "parse_other_addresses", "split_full_name", "split_phones", "take_honorifics"]
