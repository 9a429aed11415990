"""Time and peak memory of the low-stock / near-expiry scan over every warehouse and product.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/lianying_stock_full \\
        .venv/bin/python bench/alert_scan.py

Needs demo data with stock (`flask --app wsgi seed-demo --scale full` builds 500 dealers'
warehouses × the catalogue). Each measurement runs in a transaction that is rolled back, so the
database is left as it was:
- first scan: every alert condition is new, so every alert opens and notifies;
- second scan: the steady state of the recurring job (nothing new, nothing resolved).
Time is measured without tracing; the peak of Python allocations (tracemalloc, which slows
Python down several times) in a separate run of the same two scans; and the process's peak
resident size at the end.
"""
from __future__ import annotations

import os
import resource
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def scan_twice(scan, traced: bool) -> list[tuple[str, float, int, object]]:
    """[(label, seconds, peak traced bytes, result)] for a first and a second scan."""
    from app.extensions import db

    rows = []
    for label in ("first scan (all new)", "second scan (steady)"):
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        result = scan()
        db.session.flush()
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        if traced:
            tracemalloc.stop()
        rows.append((label, elapsed, peak, result))
    db.session.rollback()
    return rows


def main() -> None:
    from sqlalchemy import func, select

    from app import create_app
    from app.config import database_url
    from app.extensions import db
    from app.models import Organisation, ReorderRule, StockBalance, StockLot, Warehouse
    from app.services.inventory.alerts import scan_stock_alerts

    app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url(os.environ.get("DATABASE_URL")),
                     MAIL_SERVER=None)
    with app.app_context():
        counts = {name: db.session.scalar(select(func.count()).select_from(model))
                  for name, model in (("warehouses", Warehouse), ("balances", StockBalance), ("lots", StockLot),
                                      ("reorder rules", ReorderRule))}
        dealers = db.session.scalar(select(func.count()).select_from(Organisation).where(Organisation.kind == "dealer"))
        if not counts["balances"]:
            raise SystemExit("No stock in this database: run `flask --app wsgi seed-demo --scale full` first.")
        print(f"{db.engine.dialect.name}, {dealers} dealers, " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        timed = scan_twice(scan_stock_alerts, traced=False)
        traced = scan_twice(scan_stock_alerts, traced=True)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for (label, seconds, _p, result), (_l, _s, peak, _r) in zip(timed, traced):
            print(f"{label:<22} {seconds:6.2f} s   peak Python allocations {peak / 2**20:6.1f} MiB   "
                  f"opened {result.opened}, resolved {result.resolved}, open {result.still_open}, "
                  f"notifications {result.notifications}")
        print(f"process peak RSS {rss_after / 1024:.0f} MiB (before the scans {rss_before / 1024:.0f} MiB); "
              "rolled back, database unchanged")


if __name__ == "__main__":
    main()
