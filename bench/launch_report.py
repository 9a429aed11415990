"""Benchmark: server time of the new-product launch report at `full` scale (p95 over 100 requests).

    .venv/bin/python bench/launch_report.py [--database bench_launches] [--requests 100] [--rebuild]

The report reads only the daily sales facts, the products and a count of the retailers, so this
builds (once, or again with --rebuild) a dedicated database holding just those at the design
scale with bulk SQL: 100,000 retailers under 500 dealers, 200 products of which 20 launched in
the last two years (one every five weeks), and the facts of 1,000,000 retailer orders of about
seven lines over two years (≈ 7 M fact rows, one order in twenty cancelled), plus a plan per
launch. Then it signs in as the brand's admin and as a dealer through the login form and asks
for the page over the default two years of launches and a one-year range, with and without a
category; the first round is a warm-up. Budget: p95 ≤ 300 ms.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta

from sqlalchemy import create_engine, text

from benchlib import DEMO_PASSWORD, create_bench_app, csrf_token, percentile, print_table, verdict

BUDGET_MS = 300
RETAILERS, DEALERS, PRODUCTS, LAUNCHES, ORDERS, DAYS = 100_000, 500, 200, 20, 1_000_000, 730


def create_database(name: str, rebuild: bool) -> bool:
    """Create the database; True when it has to be filled."""
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and rebuild:
            conn.execute(text(f'DROP DATABASE "{name}"'))
        if not exists or rebuild:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            return True
    engine.dispose()
    return False


def fill(app, name: str) -> None:
    from app.extensions import db
    from app.models import User
    from app.services.accounts.users import hash_password

    today = date.today()
    with app.app_context():
        db.create_all()
        run = lambda sql, **p: db.session.execute(text(sql), p)  # noqa: E731
        run("INSERT INTO categories (id, code, name_zh, name_en, sort_order) VALUES (1, 'C1', '饮料', 'Drinks', 0)")
        # Products 181–200 are the launches, one every 35 days back from 20 days ago.
        run("""INSERT INTO products (id, code, category_id, name_zh, name_en, pinyin, pinyin_full, spec, unit, pack_size,
                 min_order_qty, order_multiple, shelf_life_days, tax_rate, status, launch_date, base_price_fen,
                 image_version, updated_at)
               SELECT n, 'P' || n, 1, '商品' || n, 'Product ' || n, '', '', '500ml×24', '箱', 24, 1, 1, 365, 13,
                      'active', CASE WHEN n > :old THEN CAST(:today AS date) - 20 - (n - :old - 1) * 35
                                     ELSE DATE '2018-01-01' END, 5000, 0, now()
               FROM generate_series(1, :products) n""", old=PRODUCTS - LAUNCHES, today=today, products=PRODUCTS)
        run("""INSERT INTO organisations (id, kind, code, name, credit_limit_fen, payment_terms_days, active)
               SELECT n, CASE WHEN n = 1 THEN 'brand' ELSE 'dealer' END, 'D' || n, 'dealer ' || n, 0, 0, true
               FROM generate_series(1, :dealers + 1) n""", dealers=DEALERS)
        run("""INSERT INTO organisations (id, kind, code, name, channel, dealer_id, credit_limit_fen, payment_terms_days,
                 active)
               SELECT 1000 + n, 'retailer', 'R' || n, 'shop ' || n, 'kiosk', 2 + n % :dealers, 0, 0, n % 53 <> 0
               FROM generate_series(1, :retailers) n""", dealers=DEALERS, retailers=RETAILERS)
        db.session.add_all([User(username=name, password_hash=hash_password(DEMO_PASSWORD), role=role, org_id=org,
                                 permissions="reports") for name, role, org in (("admin", "admin", 1),
                                                                               ("dealer001", "dealer", 2))])
        # Order n: a day of the two years, a shop (and its dealer), seven products it could buy that day.
        run("""INSERT INTO sales_daily (day, product_id, buyer_id, seller_id, region_id, province_id, channel, orders, qty,
                 value_fen, lost_qty, lost_fen)
               SELECT o.day, p.id, o.buyer, 2 + (o.buyer - 1000) % :dealers, NULL, NULL, 'kiosk', 1, o.qty,
                      o.qty * 5000, CASE WHEN o.n % 20 = 0 THEN o.qty ELSE 0 END,
                      CASE WHEN o.n % 20 = 0 THEN o.qty * 5000 ELSE 0 END
               FROM (SELECT n, j, CAST(:today AS date) - 1 - n % :days AS day, CAST(1001 + (CAST(n AS bigint) * 7919) % :retailers AS integer) AS buyer,
                            1 + (n * 31 + j * 37) % :products AS product, 1 + (n + j) % 5 AS qty
                     FROM generate_series(1, :orders) n CROSS JOIN generate_series(1, 7) j) o
               JOIN products p ON p.id = o.product AND p.launch_date <= o.day
               ON CONFLICT DO NOTHING""", dealers=DEALERS, today=today, days=DAYS, retailers=RETAILERS,
            products=PRODUCTS, orders=ORDERS)
        run("""INSERT INTO launch_plans (product_id, target_reach_bp, target_cases, updated_at)
               SELECT id, 300 + id % 4 * 50, 9000 + id % 3 * 1000, now() FROM products WHERE id > :old""",
            old=PRODUCTS - LAUNCHES)
        db.session.commit()
    # Index-only scans need the visibility map the nightly job's autovacuum would keep.
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    with app.app_context():
        print("facts:", db.session.scalar(text("SELECT count(*) FROM sales_daily")), "rows")


def login(app, username: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                           "csrf_token": csrf_token(page)})
    assert response.status_code in (302, 303), response.status_code
    return client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_launches")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rebuild", action="store_true")
    options = parser.parse_args()
    fresh = create_database(options.database, options.rebuild)
    app = create_bench_app(f"postgresql://postgres@127.0.0.1:5432/{options.database}")
    if fresh:
        started = time.perf_counter()
        fill(app, options.database)
        print(f"built in {time.perf_counter() - started:.0f} s")
    admin, dealer = login(app, "admin"), login(app, "dealer001")
    end = date.today()
    rng = random.Random(13)
    pages = {
        "admin launch report, 2 years": lambda: (admin, "/admin/reports/launches" + rng.choice(["", "?category=1"])),
        "admin launch report, 1 year": lambda: (admin, f"/admin/reports/launches?start={end - timedelta(days=364)}"),
        "dealer launch report, 2 years": lambda: (dealer, "/dealer/reports/launches"),
    }
    rows, ok = [], True
    for name, make in pages.items():
        samples = []
        for i in range(options.requests + 1):
            client, url = make()
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if i:
                samples.append(elapsed)
        p95 = percentile(samples, 0.95)
        ok &= p95 <= BUDGET_MS
        rows.append((name, f"{percentile(samples, 0.5):.0f}", f"{p95:.0f}", verdict(p95, BUDGET_MS)))
    print_table(("page", "p50 ms", "p95 ms", "budget 300 ms"), rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
