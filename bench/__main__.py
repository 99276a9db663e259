"""python -m bench [NAME…] [--quick] [--json]: runs every bench/bench_*.py (or those named) and prints a table."""
from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
import traceback
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("names", nargs="*", help="benchmark modules (e.g. customers callerid) or figure names")
    p.add_argument("--quick", action="store_true", help="small data: the whole run under a minute")
    p.add_argument("--json", action="store_true", help="one JSON object per figure")
    p.add_argument("--customers", type=int, default=None,
                   help="customers of the full run's datasets (e.g. 1000000; built once, cached)")
    p.add_argument("--db", default=None,
                   help="postgresql://… : run the database figures (search, look-up, popup, dashboard) there")
    args = p.parse_args(argv)
    if args.customers:
        os.environ["CRM_BENCH_CUSTOMERS"] = str(args.customers)
    if args.db:
        if not args.db.startswith(("postgresql://", "postgres://")):
            p.error("--db takes a postgresql:// address (the SQLite figures are the default)")
        os.environ["CRM_BENCH_DB"] = args.db
    here = Path(__file__).parent
    modules = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    wanted = [m for m in modules if not args.names or m[len("bench_"):] in args.names or m in args.names]
    figures = [n for n in args.names if f"bench_{n}" not in modules and n not in modules]
    if figures:
        # a figure name runs the module that reports it (its name is written in that module's source); a name
        # found in none (one made up at run time, such as import_50k_rows) runs every module
        sources = {m: (here / f"{m}.py").read_text(encoding="utf-8") for m in modules}
        found = {n: [m for m in modules if f'"{n}"' in sources[m]] for n in figures}
        if all(found.values()):
            wanted = sorted(set(wanted) | {m for ms in found.values() for m in ms})
        else:
            wanted = modules
    os.environ.setdefault("CRM_DATA_DIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / "crm-bench-data"))
    rows: list[dict] = []
    failed = 0
    for name in wanted:
        try:
            mod = importlib.import_module(f"bench.{name}")
            figures = mod.run(quick=args.quick)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            failed += 1
            continue
        for f in figures:
            if args.names and f["bench"] not in args.names and name[len("bench_"):] not in args.names \
                    and name not in args.names:
                continue
            rows.append(f)
            if args.json:
                print(json.dumps(f, ensure_ascii=False), flush=True)
    if not args.json:
        cols = ["bench", "db", "n", "p50_ms", "p95_ms", "p99_ms", "floor_p99_ms", "cpu_p99_ms", "rss_mb"]
        widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) if rows else len(c) for c in cols]
        print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
        for r in rows:
            print("  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(cols, widths, strict=True)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
