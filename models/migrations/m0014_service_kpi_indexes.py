"""Indexes for the service dashboard over a year of requests: each per-person and per-category figure reads one
index in its own order (SQLite skips through the few colleagues and categories), so no query sorts 100,000
rows.

    service_kpi_received_by   (assignee, category, received_jd, resolved_jd): received and open per person/category
    service_kpi_resolved_by   (resolved_by, category, resolved_jd, …): closed, service time, SLA, survey per person
    service_kpi_response_by   (first_response_by, response_minutes, received_jd): response-time histograms (p90)
"""

NUMBER = 14
NAME = "indexes: service KPIs per person and category, response-time histograms"

INDEXES = (
    "CREATE INDEX IF NOT EXISTS service_kpi_received_by ON service_request "
    "(assignee_id, category_id, received_jd, resolved_jd)",
    "CREATE INDEX IF NOT EXISTS service_kpi_resolved_by ON service_request "
    "(resolved_by_id, category_id, resolved_jd, service_minutes, sla_met, satisfaction, reply_count)",
    "CREATE INDEX IF NOT EXISTS service_kpi_response_by ON service_request "
    "(first_response_by_id, response_minutes, received_jd)",
)


def up(database):
    for sql in INDEXES:
        database.execute_sql(sql)
