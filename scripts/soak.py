"""Soak test (not part of the test suite): N desks (processes) write to one SQLite file for T minutes, while an
Excel/CSV import and a restore are attempted from other processes; then every acknowledged write is looked for.

    python scripts/soak.py --desks 3 --minutes 3 [--db /tmp/soak.sqlite3] [--json]

Each desk opens the database the ordinary way and loops over mixed work: create a customer, edit one of its own
customers, log a call, add a task, search. Every write the service acknowledged is appended to the desk's log.
Half-way through, `crm import customers` runs in its own process and `crm restore` is attempted (it must refuse
while desks have the file open). At the end the file is read and the report says:

    lost      acknowledged writes that are neither in the database nor in a safety copy (must be 0)
    failed    operations that raised; `generic` among them are the ones whose message hides the cause
              (the catch-all "unexpected error", "cannot rollback", a traceback) — must be 0
    restore   whether the restore during the run was refused (it must be) and the one after it succeeded

Exit status 0 when nothing was lost, nothing failed generically and the restore behaved; 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERIC = ("پیش‌بینی‌نشده", "cannot rollback", "Traceback", "no transaction is active")


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.pop("CRM_DATABASE_URL", None)
    return env


# --- one desk ------------------------------------------------------------------------------------------------

def desk(index: int, db: str, seconds: float, log_path: str) -> None:
    sys.path.insert(0, str(ROOT))
    from app.calls import log as call_log
    from app.core.errors import UserError
    from app.customers import service as cs
    from app.tasks import service as tasks
    from models.connection import open_database

    open_database(db)
    rng = random.Random(index)
    mine: list[int] = []
    deadline = time.monotonic() + seconds
    n = 0
    with open(log_path, "a", encoding="utf-8") as log:
        def ack(kind: str, **kw) -> None:
            log.write(json.dumps({"kind": kind, **kw}, ensure_ascii=False) + "\n")
            log.flush()

        while time.monotonic() < deadline:
            n += 1
            token = f"d{index}-{n}"
            op = rng.choice(["create", "create", "edit", "call", "call", "task", "search"]) if mine else "create"
            try:
                if op == "create":
                    c = cs.create_customer({"first_name": f"میز{index}", "last_name": token,
                                            "phones": [{"number": f"0912{index}{n % 1000000:06d}"}]})
                    mine.append(c.id)
                    ack("create", id=c.id, token=token)
                elif op == "edit":
                    cid = rng.choice(mine)
                    data = cs.customer_data(cid)
                    data["description"] = token
                    cs.update_customer(cid, data)
                    ack("edit", id=cid, token=token)
                elif op == "call":
                    res = call_log.log_call({"customer_id": rng.choice(mine), "direction": "in",
                                             "result": "answered", "note": token})
                    ack("call", id=getattr(getattr(res, "call", None), "id", None), token=token)
                elif op == "task":
                    t = tasks.create_task({"title": f"پیگیری {token}", "customer_id": rng.choice(mine)})
                    ack("task", id=t.id, token=token)
                else:
                    cs.search_ids(cs.Filter(text=f"میز{index}"))
            except UserError as e:
                ack("error", op=op, message=e.message, generic=any(g in e.message for g in GENERIC))
            except Exception as e:  # noqa: BLE001 - counted, not hidden
                ack("error", op=op, message=f"{type(e).__name__}: {e}", generic=True)
            time.sleep(rng.uniform(0.0, 0.05))


# --- the run -------------------------------------------------------------------------------------------------

def _crm(db: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", db, *args], capture_output=True,
                          text=True, cwd=ROOT, env=_env(), timeout=600)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--desks", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--db", default=None, help="the SQLite file (default: a new one in a temporary folder)")
    ap.add_argument("--json", action="store_true", help="print the report as one JSON object")
    ap.add_argument("--desk", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--log", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.desk is not None:
        desk(args.desk, args.db, args.seconds, args.log)
        return 0

    work = Path(tempfile.mkdtemp(prefix="crm-soak-"))
    os.environ["CRM_DATA_DIR"] = str(work / "data")
    db = args.db or str(work / "soak.sqlite3")
    seconds = args.minutes * 60
    made = _crm(db, "demo-data", "--customers", "200", "--calls", "200", "--tasks", "50", "--invoices", "10")
    if made.returncode != 0:
        print(made.stderr, file=sys.stderr)
        return 1
    backup_file = str(work / "start.sqlite3")
    b = _crm(db, "backup", "--out", backup_file)
    if b.returncode != 0:
        print(b.stderr, file=sys.stderr)
        return 1

    logs = [str(work / f"desk{i}.jsonl") for i in range(args.desks)]
    procs = [subprocess.Popen([sys.executable, __file__, "--db", db, "--desk", str(i), "--seconds", str(seconds),
                               "--log", logs[i]], cwd=ROOT, env={**_env(), "CRM_DATA_DIR": str(work / "data")})
             for i in range(args.desks)]
    time.sleep(seconds / 2)
    sheet = work / "import.csv"
    rows = ["نام,نام خانوادگی,موبایل"] + [f"وارد{k},ورودی-{k},0935{k:07d}" for k in range(100)]
    sheet.write_text("\n".join(rows) + "\n", encoding="utf-8")
    imp = _crm(db, "import", "customers", str(sheet), "--duplicates", "add")
    restore_during = _crm(db, "restore", backup_file)
    for p in procs:
        p.wait()

    acked = {"create": [], "edit": {}, "call": [], "task": []}
    errors = []
    for path in logs:
        if not Path(path).exists():
            continue
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec["kind"] == "error":
                errors.append(rec)
            elif rec["kind"] == "edit":
                acked["edit"][rec["id"]] = rec["token"]         # the last acknowledged edit of each customer
            else:
                acked[rec["kind"]].append(rec["token"])

    # A write is lost when it is neither in the database nor in a safety copy (a restore that went ahead keeps
    # what it replaced in a safety copy; anything in neither is gone).
    names, notes, titles, descs = set(), set(), set(), set()
    for path in [Path(db), *sorted((work / "data" / "backups" / "safety").glob("*.sqlite3"))]:
        con = sqlite3.connect(path)
        names |= {r[0] for r in con.execute("SELECT last_name FROM customer")}
        descs |= set(con.execute("SELECT id, description FROM customer"))
        notes |= {r[0] for r in con.execute('SELECT note FROM "call"')}
        titles |= {r[0] for r in con.execute("SELECT title FROM task")}
        con.close()
    lost = {
        "create": [t for t in acked["create"] if t not in names],
        "edit": [f"{cid}:{t}" for cid, t in acked["edit"].items() if (cid, t) not in descs],
        "call": [t for t in acked["call"] if t not in notes],
        "task": [t for t in acked["task"] if f"پیگیری {t}" not in titles],
        "import": ([f"ورودی-{k}" for k in range(100) if f"ورودی-{k}" not in names] if imp.returncode == 0 else []),
    }
    restore_after = _crm(db, "restore", backup_file)
    report = {
        "desks": args.desks, "minutes": args.minutes,
        "acknowledged": {"create": len(acked["create"]), "edit": len(acked["edit"]), "call": len(acked["call"]),
                         "task": len(acked["task"]), "import": 100 if imp.returncode == 0 else 0},
        "lost": sum(len(v) for v in lost.values()),
        "lost_detail": {k: v[:5] for k, v in lost.items() if v},
        "failed": len(errors),
        "failed_generic": sum(1 for e in errors if e["generic"]),
        "failed_messages": sorted({e["message"][:120] for e in errors})[:10],
        "import_exit": imp.returncode,
        "import_stderr": imp.stderr.strip()[:300],
        "restore_during_refused": restore_during.returncode != 0 and "Traceback" not in restore_during.stderr,
        "restore_during_message": restore_during.stderr.strip()[:300],
        "restore_after_ok": restore_after.returncode == 0,
        "folder": str(work),
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        for k, v in report.items():
            print(f"{k}: {v}")
    ok = (report["lost"] == 0 and report["failed_generic"] == 0 and report["restore_during_refused"]
          and report["restore_after_ok"] and imp.returncode == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
