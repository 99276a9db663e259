"""Demo data: a believable Persian office (customers, calls, tasks, sales)."""
