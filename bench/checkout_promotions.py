"""Benchmark (issue 11's budget): checkout of a 20-line cart with promotions against the same
checkout without, at full demo scale on PostgreSQL; budget p95 with ≤ 1.2 × p95 without.

    .venv/bin/python bench/checkout_promotions.py --database-url postgresql://postgres@127.0.0.1:5432/COPY
        [--checkouts 100] [--promotions 300] [--seed 7]

Use a copy of the full demo database (`createdb -T lianying_bench COPY`): the run writes to it
and puts it back. It makes `--promotions` live promotions of the usual mix (percent and amount
off, buy X get Y, 满减 and 满折 ladders, bundles; some narrowed to a channel), owned by the brand
and targeted at the named retailers of the "with" arm, on products spread over the catalog, and
pauses the demo's own live promotions for the run, so the "without" arm's retailers have none.
Then, in this process with production settings (Flask test client, as server_time.py), it
alternates one checkout of each arm (the order switching every round), each by another random
retailer whose cart holds 20 random products it may order (filled through the cart service,
not timed): the cart page, then the checkout POST (timed: wall clock, Python CPU, SQL
statements). It prints p50/p95/max of both arms, the p95 ratio, how many promotions the
promoted checkouts applied, and the load average.

At the end it deletes its orders (with their reserved stock, ledger rows, redemptions,
notifications and audit rows, benchlib.delete_bench_orders), its promotions and their audit
rows and sessions, and restores the demo promotions' status (checked: nothing of the run is left).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta

import psycopg
from benchlib import BENCH_DATABASE, check_nothing_left, create_bench_app, delete_bench_orders, print_table, summary_ms
from server_time import Bench, sample_retailers

CODE_PREFIX = "CKBENCH"
KINDS = ["percent_off", "amount_off", "buy_x_get_y", "spend_off", "spend_percent", "bundle"]
BUDGET_RATIO = 1.2


def make_promotions(app, count: int, customer_ids: list[int]) -> None:
    """`count` live promotions of the usual mix for `customer_ids`, on products across the catalog."""
    from app.extensions import db
    from app.models import Organisation, Product, User
    from app.services.core.clock import now_utc
    from app.services.promotions import admin
    from sqlalchemy import select

    with app.app_context(), app.test_request_context():
        admin_user = db.session.scalar(select(User).where(User.role == "admin").order_by(User.id).limit(1))
        brand = db.session.scalar(select(Organisation).where(Organisation.kind == "brand").limit(1))
        products = list(db.session.scalars(select(Product).where(Product.status == "active").order_by(Product.id)))
        now = now_utc()
        for i in range(count):
            kind = KINDS[i % len(KINDS)]
            a, b = products[i % len(products)], products[(i * 7 + 1) % len(products)]
            rule = {"percent_off": {"percent_x100": 100 + i % 900}, "amount_off": {"off_fen": 10 + i % 50},
                    "buy_x_get_y": {"buy": 5 + i % 10, "get": 1},
                    "spend_off": {"ladder": [[20_000 + i * 100, 1_000], [80_000 + i * 100, 5_000]]},
                    "spend_percent": {"ladder": [[30_000 + i * 100, 300]]},
                    "bundle": {"items": [[a.id, 2], [b.id, 1]],
                               "price_fen": (2 * a.base_price_fen + b.base_price_fen) * 9 // 10}}[kind]
            audience = {"customer_ids": customer_ids}
            if i % 7 == 0:
                audience["channels"] = ["supermarket"]  # narrower: only the arm's supermarkets
            admin.save_promotion(admin_user, brand, dict(
                code=f"{CODE_PREFIX}{i}", name=f"结账基准促销{i}", kind=kind, rule=rule,
                product_ids=[a.id] if kind in KINDS[:3] or i % 2 else [],
                starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30), status="active",
                audience=audience, exclusive_group="g%d" % (i % 4) if i % 13 == 0 else None))
        db.session.commit()


def bump_version(app) -> None:
    from app.extensions import db
    from app.services.promotions import index

    with app.app_context():
        index.bump_version()
        db.session.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=BENCH_DATABASE)
    parser.add_argument("--checkouts", type=int, default=100, help="checkouts per arm")
    parser.add_argument("--promotions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    app = create_bench_app(args.database_url, PROMOTION_APPROVAL_ABOVE_FEN=None)
    bench = Bench(app)
    warm = 4
    sample = sample_retailers(app, 2 * (args.checkouts + warm), args.seed)
    with_arm, without_arm = sample[0::2], sample[1::2]
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        retailers_total = connection.execute("SELECT count(*) FROM organisations WHERE kind = 'retailer'").fetchone()[0]
        if retailers_total < 100_000:
            print("WARNING: this is not the full demo scale (bench/seed_full.py builds it)")
        since = connection.execute("SELECT now()").fetchone()[0]
        with_orgs = [row[0] for row in connection.execute("SELECT org_id FROM users WHERE id = ANY(%s)",
                                                          ([uid for uid, _v in with_arm],))]
        paused = [row[0] for row in connection.execute(
            "UPDATE promotions SET status = 'paused' WHERE status IN ('approved', 'active') RETURNING id")]
    load_before = os.getloadavg()
    rng = random.Random(args.seed)
    arm_of: list[str] = []  # the arm of each timed checkout, in the order they ran
    statements: list[int] = []
    order_ids: dict[str, list[int]] = {"with": [], "without": []}
    try:
        started = time.perf_counter()
        make_promotions(app, args.promotions, with_orgs)  # bumps the promotions' version
        print(f"{args.promotions} promotions made in {time.perf_counter() - started:.1f} s; "
              f"{len(paused)} demo promotions paused for the run")
        for round_no, pair in enumerate(zip(with_arm, without_arm)):
            arms = [("with", pair[0]), ("without", pair[1])]
            if round_no % 2:
                arms.reverse()
            for arm, (user_id, version) in arms:
                client = bench.client_for(user_id, version)
                bench.fill_cart(user_id, rng)
                counted = round_no >= warm  # the first rounds warm up: not counted
                bench.checkout(client, "checkout" if counted else None)
                if counted:
                    arm_of.append(arm)
                    statements.append(bench.queries.count)  # of the POST, the last request
                    order_ids[arm].append(bench.order_ids[-1])
    finally:
        from app.extensions import db

        with psycopg.connect(args.database_url, autocommit=True) as connection:
            applied = dict(connection.execute(
                "SELECT order_id IN (SELECT unnest(%s::int[])), count(*) FROM promotion_redemptions "
                "WHERE order_id = ANY(%s) GROUP BY 1", (order_ids["with"], bench.order_ids)).fetchall())
            deleted = delete_bench_orders(connection, bench.user_ids, since, bench.order_ids)
            connection.execute("DELETE FROM user_sessions WHERE user_id = ANY(%s) AND created_at >= %s",
                               (bench.user_ids, since))
            ids = [row[0] for row in connection.execute("SELECT id FROM promotions WHERE code LIKE %s",
                                                        (CODE_PREFIX + "%",))]
            connection.execute("DELETE FROM audit_events WHERE entity = 'promotion' AND entity_id = ANY(%s)", (ids,))
            connection.execute("DELETE FROM promotions WHERE id = ANY(%s)", (ids,))
            connection.execute("UPDATE promotions SET status = 'active' WHERE id = ANY(%s)", (paused,))
            restored = check_nothing_left(connection, bench.user_ids, since, deleted)
            left = connection.execute("SELECT count(*) FROM promotions WHERE code LIKE %s",
                                      (CODE_PREFIX + "%",)).fetchone()[0]
            print(f"{len(ids)} bench promotions deleted ({left} left); {len(paused)} demo promotions active again")
        bump_version(app)
        with app.app_context():
            db.engine.dispose()

    rows, p95 = [], {}
    posts, cpus = bench.times["checkout (20 lines)"], bench.cpu["checkout (20 lines)"]
    for arm in ("with", "without"):
        times = [t for t, a in zip(posts, arm_of) if a == arm]
        cpu = [c for c, a in zip(cpus, arm_of) if a == arm]
        counts = sorted({n for n, a in zip(statements, arm_of) if a == arm})
        p50, p95[arm], worst = summary_ms(times)
        rows.append([f"checkout, 20 lines, {arm} promotions", len(times), f"{p50:.1f}", f"{p95[arm]:.1f}",
                     f"{worst:.1f}", f"{sorted(cpu)[len(cpu) // 2] * 1000:.1f}", "/".join(map(str, counts))])
    print_table(["request", "n", "p50 ms", "p95 ms", "max ms", "CPU ms (median)", "SQL statements"], rows)
    ratio = p95["with"] / p95["without"]
    print(f"\np95 ratio with / without promotions: {ratio:.2f} (budget ≤ {BUDGET_RATIO}) "
          f"{'PASS' if ratio <= BUDGET_RATIO else 'FAIL'}; promotions applied per promoted checkout: "
          f"{applied.get(True, 0) / max(len(order_ids['with']), 1):.1f}")
    print(f"load average before {' '.join(f'{x:.2f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    return 0 if restored and ratio <= BUDGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
