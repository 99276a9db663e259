"""Sales documents (proformas, invoices), payments and cheques, products, the printed invoice."""
