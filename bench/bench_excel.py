"""Excel figures: export 100,000 customers; import 50,000 rows (dry run, and the real all-or-nothing import);
import 1,000,000 rows (`import_1m_rows`, the full run only: peak memory must stay flat; --quick imports a
smaller sheet the same way, read as a stream).

Each import figure reports wall time, `cpu_ms` (user + system CPU of the child: on a shared machine it says more
than the wall clock) and `rss_mb` (the child's own peak). The 50k figures carry their floor measured in the same
child: `floor_read_*` (calamine reading the sheet) and, for the real import, `floor_write_*` (SQLite inserting the
rows the import stored into an empty database with the same indexes and search trigger); `floor_p99_ms` is their
sum (wall) and `floor_cpu_ms` their CPU.

Each measurement runs in a fresh child process so `rss_mb` is that job's own peak memory (not the seeding's).
    python -m bench excel [--quick]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import CACHE, figure, seeded_db

ROOT = Path(__file__).resolve().parent.parent


def _child(args: list[str], timeout: float = 1800) -> dict:
    env = dict(os.environ)
    env.setdefault("CRM_DATA_DIR", tempfile.mkdtemp(prefix="crm-bench-data-"))
    proc = subprocess.run([sys.executable, "-m", "bench.bench_excel", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"bench child failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _sheet(db_path: Path, rows: int) -> Path:
    """An exported customer sheet of `rows` rows (built once, cached)."""
    out = CACHE / f"import-{rows}.xlsx"
    if not out.exists():
        _child(["--export", str(db_path), str(out), str(rows)])
    return out


def run(quick: bool = False) -> list[dict]:
    n_export = 5_000 if quick else 100_000
    n_import = 2_000 if quick else 50_000
    repeats = 2 if quick else 1
    db_path = seeded_db(n_export)
    out = []
    samples, cpu, peak = [], [], 0.0
    for _ in range(repeats):
        r = _child(["--export", str(db_path), str(CACHE / "export-bench.xlsx"), "0"])
        samples.append(r["ms"])
        cpu.append(r["cpu_ms"])
        peak = max(peak, r["peak_mb"])
    out.append(figure(f"export_{n_export // 1000}k_customers", samples, rss_mb=peak, rows=r["rows"],
                      cpu_ms=round(max(cpu))))
    sheet = _sheet(seeded_db(max(n_export, n_import)), n_import)
    for mode in ("dry_run", "import"):
        samples, cpu, peak = [], [], 0.0
        for _ in range(repeats):
            r = _child(["--import", str(sheet), mode])
            samples.append(r["ms"])
            cpu.append(r["cpu_ms"])
            peak = max(peak, r["peak_mb"])
        name = f"import_{n_import // 1000}k_rows" + ("_dry_run" if mode == "dry_run" else "")
        floors = {k: round(v) for k, v in r.items() if k.startswith("floor_") and k != "floor_ms"}
        out.append(figure(name, samples, rss_mb=peak, rows=r["rows"], cpu_ms=round(max(cpu)),
                          floor_p99_ms=round(r["floor_ms"], 1), **floors))
    n_big = 20_000 if quick else 1_000_000
    big = _big_sheet(seeded_db(max(n_export, n_import)), n_big, n_import)
    r = _child(["--import", str(big), "import"] + (["--stream"] if quick else []), timeout=4 * 3600)
    name = "import_1m_rows" if n_big == 1_000_000 else f"import_{n_big // 1000}k_rows_streamed"
    out.append(figure(name, [r["ms"]], rss_mb=r["peak_mb"], rows=r["rows"], cpu_ms=round(r["cpu_ms"])))
    return out


def _big_sheet(db_path: Path, rows: int, base: int) -> Path:
    """A sheet of `rows` customers: the exported `base` customers again and again, each copy with its own phone
    numbers (the last seven digits shifted) and no national IDs, so the copies are new customers."""
    out = CACHE / f"import-big-{rows}.xlsx"
    if not out.exists():
        _child(["--make-big", str(db_path), str(out), str(rows), str(base)])
    return out


# --- child process entry points ---------------------------------------------------------------------------

def _peak_mb() -> float:
    """This process's own peak resident memory. Linux's VmHWM starts afresh at exec; ru_maxrss does not (a
    child forked from the big bench runner would report the runner's peak)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cpu_ms() -> float:
    """User + system CPU of this process: on a shared, busy machine it says more than the wall clock."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return (ru.ru_utime + ru.ru_stime) * 1000


def _do_export(db_path: str, out: str, limit: int) -> dict:
    from app.customers import service as cs
    from app.excel.export import customer_columns, customer_rows, export_customers, write_xlsx
    from models.connection import open_database

    open_database(db_path)
    t, c = time.perf_counter(), _cpu_ms()
    if limit:
        ids = cs.search_ids(cs.Filter())[:limit]
        res = write_xlsx(out, customer_columns(), customer_rows(ids), title="فهرست مشتریان", total=len(ids))
    else:
        res = export_customers(out)
    return {"ms": (time.perf_counter() - t) * 1000, "cpu_ms": _cpu_ms() - c, "rows": res.rows,
            "peak_mb": _peak_mb()}


def _do_make_big(db_path: str, out: str, rows: int, base: int) -> dict:
    import re

    from app.customers import service as cs
    from app.excel.export import customer_columns, customer_rows, write_xlsx
    from models.connection import open_database

    open_database(db_path)
    seed = list(customer_rows(cs.search_ids(cs.Filter())[:base]))
    phone_keys = [k for k in seed[0] if k.startswith("phone_")]
    digits = re.compile(r"0\d{3}(\d{7})")

    def shifted(text: str, k: int) -> str:
        return digits.sub(lambda m: m.group(0)[:4] + f"{(int(m.group(1)) + k * 7919) % 10_000_000:07d}", text)

    def gen():
        for n in range(rows):
            k, r = divmod(n, len(seed))
            r = dict(seed[r])
            if k:
                for key in phone_keys:
                    if r[key]:
                        r[key] = shifted(r[key], k)
                r["national_id"] = r["economic_code"] = ""
            yield r

    res = write_xlsx(out, customer_columns(), gen(), title="فهرست مشتریان", total=rows)
    return {"ms": 0, "cpu_ms": 0, "rows": res.rows, "peak_mb": _peak_mb()}


def _do_import(sheet: str, mode: str, stream: bool = False) -> dict:
    from app.demo import customers as demo
    from app.excel import importer as ei
    from app.excel.importer import reading
    from models.connection import open_database

    if stream:
        reading.STREAM_ABOVE_BYTES = 0

    folder = tempfile.mkdtemp(prefix="crm-bench-import-")
    open_database(str(Path(folder) / "empty.sqlite3"), create=True)
    demo.ensure_users()
    t, c = time.perf_counter(), _cpu_ms()
    report = ei.analyse(ei.load_table(sheet))
    rows = len(report.rows)
    if mode == "import":
        res = ei.import_rows(report)
        rows = res.created
    out = {"ms": (time.perf_counter() - t) * 1000, "cpu_ms": _cpu_ms() - c, "rows": rows, "peak_mb": _peak_mb()}
    if not stream and rows <= 200_000:
        out.update(_floor(sheet, str(Path(folder) / "empty.sqlite3") if mode == "import" else None))
    return out


def _floor(sheet: str, imported: str | None) -> dict:
    """The same work's floor, measured in the same process: calamine reading the sheet into Python lists, and
    (after a real import) SQLite inserting the very rows the import stored (customers, phones, addresses, tags,
    timeline) into an empty database with the same schema, indexes and search-index trigger, in one transaction.
    No checking, no cleaning: what reading and storing cost on this machine."""
    import sqlite3

    import python_calamine as pc

    from models import listcode

    t, c = time.perf_counter(), _cpu_ms()
    wb = pc.CalamineWorkbook.from_path(sheet)
    rows = wb.get_sheet_by_name(wb.sheet_names[0]).to_python(skip_empty_area=False)
    wb.close()
    out = {"floor_read_ms": (time.perf_counter() - t) * 1000, "floor_read_cpu_ms": _cpu_ms() - c}
    del rows
    if imported is None:
        out["floor_ms"], out["floor_cpu_ms"] = out["floor_read_ms"], out["floor_read_cpu_ms"]
        return out
    target = str(Path(imported).with_name("floor.sqlite3"))
    src = sqlite3.connect(imported)
    ddl = [r[0] for r in src.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE "
                                     "'sqlite_%' AND name NOT LIKE '%_fts_data' AND name NOT LIKE '%_fts_idx' AND "
                                     "name NOT LIKE '%_fts_docsize' AND name NOT LIKE '%_fts_config' "
                                     "ORDER BY type = 'trigger', type = 'index'")]
    src.close()
    con = sqlite3.connect(target, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    for sql in ddl:
        con.execute(sql)
    con.execute("ATTACH DATABASE ? AS src", (imported,))
    t, c = time.perf_counter(), _cpu_ms()
    con.execute("BEGIN IMMEDIATE")
    # the search index given the customers at once in its own order, as the import gives it (models.listcode)
    paused = con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (listcode.PAUSED,)).fetchone()
    if paused:
        con.execute(listcode.PAUSE)
    for table in ("customer", "phone_number", "address", "tag", "customer_tag", "activity"):
        cols = ", ".join(f'"{r[1]}"' for r in con.execute(f'PRAGMA main.table_info("{table}")'))
        con.execute(f'INSERT INTO main."{table}" ({cols}) SELECT {cols} FROM src."{table}"')
        if table == "customer" and paused:
            con.execute(listcode.fill())
            con.execute(listcode.RESUME)
    con.execute("COMMIT")
    out["floor_write_ms"], out["floor_write_cpu_ms"] = (time.perf_counter() - t) * 1000, _cpu_ms() - c
    con.close()
    out["floor_ms"] = out["floor_read_ms"] + out["floor_write_ms"]
    out["floor_cpu_ms"] = out["floor_read_cpu_ms"] + out["floor_write_cpu_ms"]
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1] == "--export":
        result = _do_export(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "--make-big":
        result = _do_make_big(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        result = _do_import(sys.argv[2], sys.argv[3], "--stream" in sys.argv[4:])
    print(json.dumps(result))
