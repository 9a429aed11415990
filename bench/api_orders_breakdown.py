"""Where the wall time of POST /api/v1/orders goes: api_orders.py's requests, with clocks around
the pieces that wait (a companion to api_orders.py, same inputs and the same undo at the end).

    REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python bench/api_orders_breakdown.py \
        --database-url URL [--orders 100] [--checkout /work/main] [--top 12]

Per request (median over the timed orders, first placements only): wall, Python CPU, the time
spent in the database driver executing statements (client side: send, server work, answer),
in COMMIT (the WAL flush), in Redis commands (rate limiter, RQ enqueue: counted per command),
and what is left (Python between round trips, waiting for a core). Then the statements ranked by
their median time per request, with their count. Statements are keyed by their first 70
characters, so bound values do not split them.
"""
from __future__ import annotations

import argparse
import collections
import os
import secrets
import statistics
import time

import psycopg
import redis
import redis.client

from api_orders import ROOT_ARG, orders_to_place, start_run, undo_run  # noqa: F401 (ROOT_ARG: --checkout path set up)
from benchlib import BENCH_DATABASE
from sqlalchemy import event

WARM = 5


class Clocks:
    def __init__(self):
        self.reset()

    def reset(self):
        self.totals = collections.Counter()  # category -> seconds
        self.counts = collections.Counter()
        self.statements = collections.Counter()  # statement key -> seconds
        self.statement_counts = collections.Counter()

    def add(self, category: str, seconds: float, key: str | None = None):
        self.totals[category] += seconds
        self.counts[category] += 1
        if key is not None:
            self.statements[key] += seconds
            self.statement_counts[key] += 1


CLOCKS = Clocks()


def timed(category: str, original, key_of=None):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            CLOCKS.add(category, time.perf_counter() - started, key_of(*args) if key_of else None)
    return wrapper


def instrument(engine):
    psycopg.Connection.commit = timed("COMMIT", psycopg.Connection.commit, lambda *_: "COMMIT")
    psycopg.Connection.rollback = timed("ROLLBACK", psycopg.Connection.rollback, lambda *_: "ROLLBACK")
    redis.Redis.execute_command = timed("redis", redis.Redis.execute_command,
                                        lambda _self, *args, **_kw: "redis " + str(args[0]))
    redis.client.Pipeline.execute = timed("redis", redis.client.Pipeline.execute,
                                          lambda self, *_a, **_k: "redis pipeline " + " ".join(
                                              str(c[0][0]) for c in self.command_stack))

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        key = " ".join(statement.split())[:70]
        CLOCKS.add("SQL", time.perf_counter() - conn.info.pop("bench_started"), key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=BENCH_DATABASE)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--checkout", help="another checkout of the project to measure")
    parser.add_argument("--top", type=int, default=14)
    args = parser.parse_args()

    since, undo, app = start_run(args.database_url, args.redis_url)
    client_id = user_id = None
    order_ids: list[int] = []
    rows: list[dict] = []
    per_statement: dict[str, list[float]] = collections.defaultdict(list)
    per_statement_count: dict[str, list[int]] = collections.defaultdict(list)
    try:
        from app.extensions import db
        from app.services.accounts.api_clients import create_api_client

        with app.app_context():
            instrument(db.engine)
            client, token = create_api_client(f"bench-{secrets.token_hex(4)}", scopes="orders")
            client_id, user_id = client.id, client.user_id
            db.session.commit()
        bodies = orders_to_place(app, args.orders + WARM, args.seed)
        http = app.test_client()
        load_before = os.getloadavg()
        for number, body in enumerate(bodies):
            CLOCKS.reset()
            started, cpu_started = time.perf_counter(), time.process_time()
            response = http.post("/api/v1/orders", json=body, headers={
                "Authorization": f"Bearer {token}", "Idempotency-Key": f"bench-{secrets.token_hex(12)}"})
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            if response.status_code not in (200, 201):
                raise SystemExit(f"order refused: {response.status_code} {response.get_json()}")
            order_ids.append(response.get_json()["id"])
            if number < WARM:
                continue
            waits = sum(CLOCKS.totals[c] for c in ("SQL", "COMMIT", "ROLLBACK", "redis"))
            rows.append(dict(wall=wall, cpu=cpu, sql=CLOCKS.totals["SQL"], sql_n=CLOCKS.counts["SQL"],
                             commit=CLOCKS.totals["COMMIT"], commit_n=CLOCKS.counts["COMMIT"],
                             redis=CLOCKS.totals["redis"], redis_n=CLOCKS.counts["redis"], rest=wall - waits))
            keys = set(CLOCKS.statements) | set(per_statement)
            for key in keys:
                per_statement[key].append(CLOCKS.statements.get(key, 0.0))
                per_statement_count[key].append(CLOCKS.statement_counts.get(key, 0))
        load_after = os.getloadavg()
    finally:
        undo_run(args.database_url, args.redis_url, since, user_id, client_id, order_ids, undo)

    def med(name):
        return statistics.median(r[name] for r in rows)

    def p95(name):
        values = sorted(r[name] for r in rows)
        return values[int(0.95 * (len(values) - 1))]

    print(f"{len(rows)} timed orders; medians per request (p95 in brackets), ms")
    for name, label in (("wall", "wall"), ("cpu", "Python CPU (whole process)"),
                        ("sql", "SQL statements, driver wall"), ("commit", "COMMITs, driver wall"),
                        ("redis", "Redis commands, wall"), ("rest", "wall outside SQL/COMMIT/Redis")):
        print(f"  {label:34} {med(name) * 1000:7.1f}  ({p95(name) * 1000:6.1f})")
    print(f"  counts: {med('sql_n'):g} statements, {med('commit_n'):g} commits, {med('redis_n'):g} Redis calls")
    print("statements and Redis commands by median time per request (ms), with count per request:")
    ranked = sorted(per_statement, key=lambda k: -statistics.median(per_statement[k]))
    for key in ranked[:args.top]:
        print(f"  {statistics.median(per_statement[key]) * 1000:6.2f}  x{statistics.median(per_statement_count[key]):g}"
              f"  {key}")
    print(f"{ROOT_ARG or 'this checkout'}; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
