"""Benchmark: build the full-scale demo data on PostgreSQL and report the figures.

    .venv/bin/python bench/seed_full.py [--database lianying_bench] [--host 127.0.0.1] [--user postgres]

Creates the database if it does not exist, upgrades it to the latest migration, runs
`flask seed-demo --scale full --replace` (which prints each part's time), vacuums, then prints
the total time, the row counts of the main tables and the database size. The database is left in
place: other benchmarks reuse it at full scale.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import time

import psycopg

ROOT = pathlib.Path(__file__).resolve().parent.parent
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
MAIN_TABLES = ("regions", "categories", "products", "product_visibility", "organisations", "dealer_territories",
               "users", "rep_routes", "price_lists", "price_list_items", "contract_prices", "orders",
               "order_lines", "order_events", "shipments", "shipment_lines", "shipment_lots", "invoices",
               "delivery_sign_offs", "payments", "payment_allocations", "credit_notes", "return_requests")


def run(command: list[str], env: dict[str, str]) -> float:
    """Run a command from the project root, its output streaming through; returns seconds."""
    print("$", " ".join(command[2:] if command[:3] == FLASK[:3] else command), flush=True)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="lianying_bench")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--port", default="5432")
    args = parser.parse_args()
    url = f"postgresql://{args.user}@{args.host}:{args.port}/{args.database}"

    created = subprocess.run(["createdb", "-h", args.host, "-p", args.port, "-U", args.user, args.database],
                             capture_output=True, text=True)
    print(f"database {args.database}: " + ("created" if created.returncode == 0 else "exists, reused"))
    env = {**os.environ, "DATABASE_URL": url, "LIANYING_ENV": "development"}
    env.pop("REDIS_URL", None)
    upgrade_seconds = run(FLASK + ["db", "upgrade"], env)
    seed_seconds = run(FLASK + ["seed-demo", "--scale", "full", "--replace"], env)

    with psycopg.connect(url, autocommit=True) as connection:
        # Not part of the build: sets hint bits and the visibility map once, so the benchmarks
        # that reuse this database measure queries, not the first reader cleaning up after COPY.
        started = time.perf_counter()
        connection.execute("VACUUM (ANALYZE)")
        vacuum_seconds = time.perf_counter() - started

    print()
    print(f"migrations upgrade: {upgrade_seconds:7.1f} s")
    print(f"seed-demo full:     {seed_seconds:7.1f} s (wall clock, including interpreter start)")
    print(f"vacuum (analyze):   {vacuum_seconds:7.1f} s (bench only, after the build)")
    with psycopg.connect(url) as connection:
        print("\nrows:")
        for table in MAIN_TABLES:
            count = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            print(f"  {table:<20}{count:>12,}")
        size = connection.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        print(f"\ndatabase size: {size}")
        for table in ("orders", "order_lines", "order_events"):
            total = connection.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", (table,)).fetchone()[0]
            print(f"  {table:<20}{total:>12} (with indexes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
