"""The customer list sorts by family name, then first name (the way Iranian office lists are kept): every
customer's sort key is rewritten from «first last» to «last first». Organisations keep their name."""

NUMBER = 7
NAME = "customers: sort key family name first"


def up(database):
    from app.core.text import sort_key

    rows = database.execute_sql("SELECT id, kind, first_name, last_name, company FROM customer").fetchall()
    updates = []
    for cid, kind, first, last, company in rows:
        person = " ".join(p for p in (last or "", first or "") if p)
        name = (company or person) if kind == "organisation" else (person or company or "")
        updates.append((sort_key(name)[:300], cid))
    p = database.param
    cur = database.cursor()
    for i in range(0, len(updates), 1000):
        cur.executemany(f"UPDATE customer SET sort_key = {p} WHERE id = {p}", updates[i:i + 1000])
