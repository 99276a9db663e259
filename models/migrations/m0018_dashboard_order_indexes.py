"""Indexes that hand the dashboard its first rows already in order, so each card reads its first rows instead
of sorting every candidate:

    task_open_order         (status, assignee_id, due_at, priority DESC, id, all_day, kind)
        replaces task_open_work (status, assignee_id, due_at, all_day, kind) and still covers every count;
        today's tasks come in the inbox's order (time, then the most urgent): a rep with 1,500 all-day tasks
        due today had them all joined and sorted for the first 50 (10 ms → 0.4 ms)
    opportunity_owner_idle  (owner_id, status, last_activity_at)
        a rep's rotting deals, the longest idle first (3,600 open deals sorted → the first 100 read: 16 ms → 0.5 ms)
    opportunity_owner_step  (owner_id, status, next_step_date)
        a rep's deals whose next step is due, soonest first
"""

NUMBER = 18
NAME = "indexes: the dashboard's cards read in order"


def up(database):
    database.execute_sql("CREATE INDEX IF NOT EXISTS task_open_order ON task "
                         "(status, assignee_id, due_at, priority DESC, id, all_day, kind)")
    database.execute_sql("DROP INDEX IF EXISTS task_open_work")
    database.execute_sql("CREATE INDEX IF NOT EXISTS opportunity_owner_idle ON opportunity "
                         "(owner_id, status, last_activity_at)")
    database.execute_sql("CREATE INDEX IF NOT EXISTS opportunity_owner_step ON opportunity "
                         "(owner_id, status, next_step_date)")
