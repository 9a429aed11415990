"""Benchmark: POST /api/v1/orders (3 lines) at full demo scale on PostgreSQL, budget p95 ≤ 60 ms.

    REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/api_orders.py [--database-url URL] [--orders 200]
        [--checkout /work/main]

Inputs: a PostgreSQL database holding the `full` demo data (default lianying_bench). The app runs
in this process with production settings, driven by the Flask test client (the server's own time:
token check, rate limit, Idempotency-Key claim, validation, the checkout with its automatic
review, the answer stored for replays; no network), and the Python CPU time of each request
(what the machine's load does not inflate as much). A brand API client orders for `--orders`
different random retailers, 3 products each that the retailer may order, each with a fresh
Idempotency-Key; then the same requests are repeated once (replays: no second order) and timed
apart. After a warm-up of 5 orders that is not counted. Printed too: the SQL statements of each
request (median). `--checkout PATH` measures another checkout of the project instead (before/after,
run alternately).

Redis: with REDIS_URL set (or `--redis-url`) the app enqueues its jobs as production does (the
webhook fan-out of the order's events goes to RQ); without it they run inline after the commit,
which adds their statements and time to every request. No worker runs meanwhile: the fan-out jobs
the orders queued are removed at the end.

Undone at the end: the orders with their stock reservations, ledger rows, notifications and audit
rows (benchlib.delete_bench_orders), the idempotency keys, the API client and its service user.
If the database predates the API migration (h14_api_idempotency), its table and the two
api_clients columns are added for the run and dropped again afterwards.
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import time

import statistics
import sys

import psycopg
from benchlib import (BENCH_DATABASE, check_nothing_left, create_bench_app, delete_bench_orders,
                      forget_queued_fan_outs, print_table, summary_ms, verdict)
from sqlalchemy import event, select

ROOT_ARG = sys.argv[sys.argv.index("--checkout") + 1] if "--checkout" in sys.argv else None
if ROOT_ARG:  # the other checkout's app (imported by create_bench_app), not this one's
    sys.path.insert(0, os.path.abspath(ROOT_ARG))

BUDGET_MS = 60
LINES = 3


def ensure_schema(connection) -> list[str]:
    """Add what the API migration adds when it is missing; returns the undo statements."""
    undo = []
    has_table = connection.execute("SELECT to_regclass('api_idempotency_keys')").fetchone()[0]
    if has_table is None:
        connection.execute("""
            CREATE TABLE api_idempotency_keys (
                id serial PRIMARY KEY, client_id integer NOT NULL REFERENCES api_clients(id) ON DELETE CASCADE,
                key varchar(64) NOT NULL, request_hash varchar(64) NOT NULL, status_code integer,
                response_body text, created_at timestamptz NOT NULL, UNIQUE (client_id, key))""")
        undo.append("DROP TABLE api_idempotency_keys")
    columns = {row[0] for row in connection.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'api_clients'")}
    if "read_only" not in columns:
        connection.execute("ALTER TABLE api_clients ADD COLUMN read_only boolean NOT NULL DEFAULT false")
        undo.append("ALTER TABLE api_clients DROP COLUMN read_only")
    if "user_id" not in columns:
        connection.execute("ALTER TABLE api_clients ADD COLUMN user_id integer REFERENCES users(id)")
        undo.append("ALTER TABLE api_clients DROP COLUMN user_id")
    return undo


def start_run(database_url: str, redis_url: str | None):
    """The run's start time (what undo_run deletes from), the schema undo statements and the app."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        since = connection.execute("SELECT now()").fetchone()[0]
        undo = ensure_schema(connection)
    app = create_bench_app(database_url, API_RATE_LIMIT="100000 per minute", REDIS_URL=redis_url)
    print(f"app from {sys.modules['app'].__file__}; jobs {'to RQ at ' + redis_url if redis_url else 'inline'}")
    return since, undo, app


def undo_run(database_url: str, redis_url: str | None, since, user_id: int | None, client_id: int | None,
             order_ids: list[int], undo: list[str]) -> bool:
    """Put the database back as the run found it: the fan-out jobs it queued, its orders, the API
    client with its keys and service user, and the schema ensure_schema added; True when nothing
    was left (check_nothing_left)."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        forget_queued_fan_outs(redis_url, connection, since)
        deleted = delete_bench_orders(connection, [user_id] if user_id else [], since, order_ids)
        if client_id:
            connection.execute("DELETE FROM api_idempotency_keys WHERE client_id = %s", (client_id,))
            connection.execute("DELETE FROM api_clients WHERE id = %s", (client_id,))
        if user_id:
            connection.execute("DELETE FROM users WHERE id = %s", (user_id,))
        restored = check_nothing_left(connection, [user_id] if user_id else [], since, deleted)
        for statement in undo:
            connection.execute(statement)
        if undo:
            print(f"schema put back: {'; '.join(undo)}")
    return restored


def orders_to_place(app, count: int, seed: int) -> list[dict]:
    """(retailer code, 3 products it may order at a valid quantity) for `count` random retailers."""
    from app.extensions import db
    from app.models import Organisation, Product
    from app.services.catalog.visibility import visible_clause
    from app.services.pricing.prices import region_profile

    rng = random.Random(seed)
    with app.app_context():
        codes = db.session.scalars(select(Organisation.code).where(Organisation.kind == "retailer",
                                                                   Organisation.active.is_(True))).all()
        bodies = []
        for code in rng.sample(codes, count):
            retailer = db.session.scalar(select(Organisation).where(Organisation.code == code))
            products = db.session.scalars(select(Product).where(visible_clause(region_profile(retailer)))).all()
            chosen = rng.sample(products, LINES)
            bodies.append({"customer_code": code, "lines": [
                {"product_code": p.code, "qty": -(-p.min_order_qty // p.order_multiple) * p.order_multiple}
                for p in chosen]})
        return bodies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=BENCH_DATABASE)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"),
                        help="Redis for the app's jobs, as in production (default: $REDIS_URL; none: jobs inline)")
    parser.add_argument("--checkout", help="another checkout of the project to measure (e.g. /work/main)")
    args = parser.parse_args()

    warm = 5
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        retailers = connection.execute("SELECT count(*) FROM organisations WHERE kind = 'retailer'").fetchone()[0]
        orders_total = connection.execute("SELECT count(*) FROM orders").fetchone()[0]
        print(f"database {args.database_url.rsplit('/', 1)[-1]}: {retailers:,} retailers, {orders_total:,} orders")
        if retailers < 100_000:
            print("WARNING: this is not the full demo scale (bench/seed_full.py builds it)")
    since, undo, app = start_run(args.database_url, args.redis_url)
    client_id = user_id = None
    order_ids: list[int] = []
    times: dict[str, list[float]] = {"POST /orders (3 lines)": [], "POST /orders, replayed key": []}
    cpu: dict[str, list[float]] = {kind: [] for kind in times}
    statements: dict[str, list[int]] = {kind: [] for kind in times}
    executed = [0]
    try:
        from app.extensions import db
        from app.services.accounts.api_clients import create_api_client

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", lambda *_args: executed.__setitem__(0, executed[0] + 1))
            client, token = create_api_client(f"bench-{secrets.token_hex(4)}", scopes="orders")
            client_id, user_id = client.id, client.user_id
            db.session.commit()
        bodies = orders_to_place(app, args.orders + warm, args.seed)
        http = app.test_client()
        keys = [f"bench-{secrets.token_hex(12)}" for _ in bodies]
        load_before = os.getloadavg()

        def post(body, key, kind):
            executed[0] = 0
            started, cpu_started = time.perf_counter(), time.process_time()
            response = http.post("/api/v1/orders", json=body,
                                 headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
            elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu_started
            if response.status_code not in (200, 201):
                raise SystemExit(f"order refused: {response.status_code} {response.get_json()}")
            order_ids.append(response.get_json()["id"])
            if kind:
                times[kind].append(elapsed)
                cpu[kind].append(cpu_used)
                statements[kind].append(executed[0])

        for body, key in zip(bodies[:warm], keys[:warm]):
            post(body, key, None)
        started = time.perf_counter()
        for body, key in zip(bodies[warm:], keys[warm:]):
            post(body, key, "POST /orders (3 lines)")
        for body, key in zip(bodies[warm:], keys[warm:]):
            post(body, key, "POST /orders, replayed key")
        wall = time.perf_counter() - started
        load_after = os.getloadavg()
    finally:
        restored = undo_run(args.database_url, args.redis_url, since, user_id, client_id, order_ids, undo)

    distinct = len(set(order_ids))
    print(f"{len(order_ids)} answers for {distinct} orders ({args.orders} timed, {warm} warm-up; every replay "
          f"returned its first order) in {wall:.1f} s")
    rows = []
    for kind, samples in times.items():
        p50, p95, worst = summary_ms(samples)
        cpu_p50 = summary_ms(cpu[kind])[0]
        rows.append([kind, len(samples), f"{p50:.1f}", f"{p95:.1f}", f"{worst:.1f}", f"{cpu_p50:.1f}",
                     f"{statistics.median(statements[kind]):g}",
                     BUDGET_MS if "3 lines" in kind else "", verdict(p95, BUDGET_MS) if "3 lines" in kind else ""])
    print_table(["request", "n", "p50 ms", "p95 ms", "max ms", "Python CPU p50 ms", "statements", "budget p95", ""],
                rows)
    print(f"{ROOT_ARG or 'this checkout'}")
    print(f"load average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} on {os.cpu_count()} cores")
    ok = distinct == args.orders + warm and restored
    return 0 if ok and summary_ms(times["POST /orders (3 lines)"])[1] <= BUDGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
