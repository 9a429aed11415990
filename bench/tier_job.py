"""The nightly member-tier job over 100,000 retailers (issue 12 target: ≤ 60 s).

Builds its own PostgreSQL database (default `bench_loyalty`, recreated each run with --fresh or
when missing): the schema by the migrations, then only the rows the job reads, in bulk SQL:
100,000 retailer organisations, 12 earn entries each spread over the last 14 months (1.2 M ledger
rows; the older ones fall out of the 12-month window) and one account each with a random current
tier (so the run upgrades, starts grace periods and keeps tiers). Then it times
`recompute_all` twice (the second run: what a quiet night changes) and prints the wall time, the
Python peak memory (tracemalloc) and the process's max RSS.

    .venv/bin/python bench/tier_job.py [--retailers N] [--database NAME] [--fresh]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import create_engine, text  # noqa: E402

BASE = "postgresql+psycopg://postgres@127.0.0.1:5432"


def ensure_database(name: str, fresh: bool) -> bool:
    """Create the database (dropping it first with `fresh`); True when it must be filled."""
    admin = create_engine(f"{BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        if exists and fresh:
            conn.execute(text(f'DROP DATABASE "{name}"'))
            exists = False
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return not exists


def fill(url: str, retailers: int) -> None:
    env = dict(os.environ, DATABASE_URL=url)
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env=env, check=True,
                   capture_output=True)
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO organisations (id, kind, code, name, credit_limit_fen, payment_terms_days, active)
            SELECT 1000000 + g, 'retailer', 'BR' || lpad(g::text, 7, '0'), '门店' || g, 0, 0, true
            FROM generate_series(1, :n) g"""), {"n": retailers})
        # 12 deliveries per retailer, one every ~35 days back from today, values 0-¥3,000 each
        conn.execute(text("""
            INSERT INTO points_entries (retailer_id, at, kind, points, balance_after, value_fen, shortfall, order_id, ref)
            SELECT 1000000 + g, now() - make_interval(days => k * 35 + (g % 30)), 'earn', v / 100, 0, v, 0, NULL,
                   'bench:' || g || ':' || k
            FROM generate_series(1, :n) g, generate_series(0, 11) k,
                 LATERAL (SELECT ((g * 7919 + k * 104729) % 300000)::bigint AS v) val"""), {"n": retailers})
        conn.execute(text("""
            INSERT INTO points_accounts (retailer_id, balance, tier, spend_12m_fen)
            SELECT 1000000 + g, 0, 'member', 0 FROM generate_series(1, :n) g"""), {"n": retailers})
        conn.execute(text("ANALYZE organisations; ANALYZE points_entries; ANALYZE points_accounts"))
    print(f"filled {retailers:,} retailers, {retailers * 12:,} ledger rows in {time.perf_counter() - started:.1f} s")


RESET = """
    UPDATE points_accounts SET tier = (ARRAY['member', 'silver', 'gold', 'diamond'])[1 + retailer_id % 4],
           spend_12m_fen = 0, tier_changed_at = NULL,
           below_since = CASE WHEN retailer_id % 10 = 0 THEN current_date - 90 END
    WHERE retailer_id > 1000000"""


def run(url: str) -> None:
    """Reset the accounts to the generated state (random tiers, some grace periods long run),
    then time the job twice."""
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    from app import create_app
    from app.extensions import db
    from app.services.core.clock import today_local
    from app.services.loyalty import settings, tiers

    app = create_app()
    with app.app_context():
        db.session.execute(text(RESET))
        db.session.execute(text("ANALYZE points_accounts"))
        db.session.commit()
        for attempt in ("first run", "second run"):
            tracemalloc.start()
            started = time.perf_counter()
            result = tiers.recompute_all(today_local(), settings.current())
            db.session.commit()
            elapsed = time.perf_counter() - started
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{attempt}: {elapsed:.1f} s for {result.accounts:,} accounts ({result.changed:,} changed, "
                  f"{result.upgraded:,} up, {result.downgraded:,} down, {result.in_grace:,} in grace); "
                  f"Python peak {peak / 2**20:.0f} MiB, max RSS {rss:.0f} MiB; load {os.getloadavg()[0]:.2f}"
                  f"  {'OK' if elapsed <= 60 else 'OVER the 60 s target'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--retailers", type=int, default=100_000)
    parser.add_argument("--database", default="bench_loyalty")
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    url = f"{BASE}/{args.database}"
    if ensure_database(args.database, args.fresh):
        fill(url, args.retailers)
    run(url)


if __name__ == "__main__":
    main()
