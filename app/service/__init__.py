"""After the sale: service requests (درخواست خدمت), their targets (SLA), KPIs and automatic hand-over.

    app.service.hours     office hours: business minutes between two times, a due time from a target
    app.service.requests  requests, their thread (replies, notes, status, hand-overs), categories, survey
    app.service.reassign  unhandled or overdue requests go to a free colleague (round robin / least loaded)
    app.service.kpi       the seeds' KPIs per Jalali day, week, month and person; Excel export
    app.service.survey    satisfaction by SMS: whom the automatic survey goes to, replies taken as scores
"""
