"""Benchmark: Python CPU of each request of one retailer's order, in-process (the capacity plan's
cost of one order).

    .venv/bin/python bench/order_cpu.py [--database-url URL] [--retailers 6] [--lines 3] [--checkout PATH]
        [--redis-url URL] [--htmx]

Inputs: a PostgreSQL database with demo data (default lianying_bench at `full` scale). The app
with production settings (Flask test client, no gunicorn or HTTP: this process's CPU time only,
so the figures move less with the machine's load than wall-clock ones). Each of `--retailers`
random retailers signs in through the form and, like a phone without JavaScript, opens the
catalog (5 times, 2 of them warm-up), adds 3 products (plain POSTs, each followed to the page it
lands on), opens the cart and checks out (automatic approval reserves stock). `--lines N` adds N
products instead of 3 (the checkout of an N-line cart). The first retailer warms up and is not
counted. `--htmx` adds as htmx does (an HX-Request header; the answer is the product's row and
the cart bar, nothing to follow). Printed: the median per request kind, the checkout's SQL statements and the load
average. `--checkout /work/main` measures another checkout of the project instead (before/after).
`--redis-url` (default $REDIS_URL): jobs go to RQ as in production (the checkout's webhook
fan-out); without it they run inline after the commit, inside the checkout's time. The fan-out
jobs the orders queued are removed at the end (no worker runs meanwhile).

Writes undone at the end (benchlib.delete_bench_orders: orders, reserved stock, ledger rows,
notifications, audit rows, cart lines) and the sign-in sessions it opened.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

import psycopg
from benchlib import (BENCH_DATABASE, DEMO_PASSWORD, add_forms, check_nothing_left, create_bench_app, csrf_token,
                      delete_bench_orders, forget_queued_fan_outs, hidden_value, order_id_from, print_table)
from sqlalchemy import event

ROOT_ARG = sys.argv[sys.argv.index("--checkout") + 1] if "--checkout" in sys.argv else None
if ROOT_ARG:  # the other checkout's app (imported by create_bench_app), not this one's
    sys.path.insert(0, os.path.abspath(ROOT_ARG))



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=BENCH_DATABASE)
    parser.add_argument("--retailers", type=int, default=6)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--checkout", help="another checkout of the project to measure (e.g. /work/main)")
    parser.add_argument("--lines", type=int, default=3, help="products added before the checkout")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"),
                        help="Redis for the app's jobs, as in production (default: $REDIS_URL; none: jobs inline)")
    parser.add_argument("--htmx", action="store_true", help="add to cart as htmx does, not by plain POSTs")
    args = parser.parse_args()
    add_kind = "add to cart (htmx)" if args.htmx else "add to cart (plain POST)"
    checkout_kind = f"checkout, {args.lines} lines"
    kinds = ("catalog page", add_kind, "the page it lands on", "cart page", checkout_kind)
    with psycopg.connect(args.database_url) as connection:
        users = connection.execute("SELECT username, id FROM users WHERE role = 'retailer' AND active "
                                   "ORDER BY id").fetchall()
        since = connection.execute("SELECT now()").fetchone()[0]
    picked = random.Random(args.seed).sample(users, args.retailers)
    app = create_bench_app(args.database_url, REDIS_URL=args.redis_url)
    print(f"app from {sys.modules['app'].__file__}; jobs {'to RQ at ' + args.redis_url if args.redis_url else 'inline'}")
    cpu: dict[str, list[float]] = {kind: [] for kind in kinds}
    statements: dict[str, list[int]] = {kind: [] for kind in kinds}
    executed = [0]
    from app.extensions import db

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *_args: executed.__setitem__(0, executed[0] + 1))
    order_ids: list[int] = []

    def timed(kind, call):
        executed[0] = 0
        started = time.process_time()
        response = call()
        response.get_data()
        cpu[kind].append((time.process_time() - started) * 1000)
        statements[kind].append(executed[0])
        return response

    try:
        for index, (username, _user_id) in enumerate(picked):
            client = app.test_client()
            login = client.get("/login").get_data(as_text=True)
            client.post("/login", data={"csrf_token": csrf_token(login), "username": username,
                                        "password": DEMO_PASSWORD})
            for _ in range(2):
                client.get("/retailer/catalog")
            for _ in range(3):
                page = timed("catalog page", lambda: client.get("/retailer/catalog")).get_data(as_text=True)
            token = csrf_token(page)
            for product_id, qty in add_forms(page)[5:5 + args.lines]:
                response = timed(add_kind, lambda: client.post("/retailer/cart/add", data={
                    "csrf_token": token, "product_id": product_id, "qty": qty, "next": "/retailer/catalog"},
                    headers={"HX-Request": "true"} if args.htmx else {}))
                if args.htmx:
                    assert response.status_code == 200, response.status_code
                else:
                    timed("the page it lands on", lambda: client.get(response.headers["Location"].split("#")[0]))
            cart = timed("cart page", lambda: client.get("/retailer/cart")).get_data(as_text=True)
            response = timed(checkout_kind, lambda: client.post("/retailer/cart/checkout", data={
                "csrf_token": token, "idempotency_key": hidden_value(cart, "idempotency_key"),
                "fingerprint": hidden_value(cart, "fingerprint"), "accept_changes": "", "note": ""}))
            order_ids.append(order_id_from(response.headers["Location"]))
            if index == 0:
                for samples in (*cpu.values(), *statements.values()):
                    samples.clear()
    finally:
        ids = [user_id for _name, user_id in picked]
        with psycopg.connect(args.database_url, autocommit=True) as connection:
            forget_queued_fan_outs(args.redis_url, connection, since)
            deleted = delete_bench_orders(connection, ids, since, order_ids)
            connection.execute("DELETE FROM user_sessions WHERE user_id = ANY(%s) AND created_at >= %s", (ids, since))
            restored = check_nothing_left(connection, ids, since, deleted)
    print_table(["request", "n", "Python CPU ms (median)", "statements (median)"],
                [[kind, len(cpu[kind]), f"{statistics.median(cpu[kind]):.1f}", f"{statistics.median(statements[kind]):g}"]
                 for kind in kinds if cpu[kind]])
    print(f"\n{ROOT_ARG or 'this checkout'}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if restored else 1


if __name__ == "__main__":
    raise SystemExit(main())
