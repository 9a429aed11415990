"""Benchmark: server time of the retailer catalog and checkout at full demo scale on PostgreSQL.

    .venv/bin/python bench/server_time.py [--database-url URL] [--retailers 40] [--checkouts 200]

Inputs: a PostgreSQL database holding the `full` demo data (default lianying_bench, built by
bench/seed_full.py: 100,000 retailers, two years of orders). The app runs in this process with
production settings and is driven by the Flask test client, so a figure is the server's own
time for one request (routing, session, queries, templates, compression; no network, no HTTP
parsing). Each sampled retailer's client is signed in by writing its session, not through the
login form (whose password hashing is not what is measured here): the bench starts a server-side
session with the sessions service, as the login view does, and puts its token in the cookie.

Measured, after a warm-up that is not counted:
  catalog  `--retailers` random retailers × 10 catalog URLs (pages 1-3, searches by name,
           pinyin initials, barcode prefix and code, a category, and two htmx fragments):
           p50 / p95 / max, budget p95 ≤ 50 ms;
  checkout `--checkouts` different random retailers, each with a cart of 20 lines of products
           it may order (filled through the cart service, not timed): the cart page (info) and
           the checkout POST, budget p95 ≤ 150 ms;
and the SQL queries each request ran (the same number every time: they do not grow with data).
The orders the run creates are deleted at the end, with their lines, history and audit rows,
so the database is back at its demo state (checked: no order and no cart line of the sampled
retailers' users since the start).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import defaultdict

import psycopg
from benchlib import (BENCH_DATABASE, check_nothing_left, create_bench_app, csrf_token, delete_bench_orders,
                      hidden_value, order_id_from, print_table, summary_ms, verdict)
from sqlalchemy import event, select

CATALOG_BUDGET_MS = 50
CHECKOUT_BUDGET_MS = 150
CART_LINES = 20
CATALOG_URLS = [
    ("/retailer/catalog", False),
    ("/retailer/catalog?page=2", False),
    ("/retailer/catalog?page=3", False),
    ("/retailer/catalog?q=%E8%8C%B6", False),        # 茶
    ("/retailer/catalog?q=pgz", False),              # pinyin initials of 苹果汁
    ("/retailer/catalog?q=6923456000", False),       # barcode prefix
    ("/retailer/catalog?q=TEA-0", False),            # product code
    ("/retailer/catalog?category=6", False),
    ("/retailer/catalog?q=%E6%B0%B4", True),         # 水, as htmx asks while typing
    ("/retailer/catalog?page=2", True),              # the htmx pager
]


class QueryCounter:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *args) -> None:
        self.count += 1


class Bench:
    def __init__(self, app):
        self.app = app
        from app.extensions import db

        self.db = db
        with app.app_context():
            self.queries = QueryCounter(db.engine)
        self.times: dict[str, list[float]] = defaultdict(list)
        self.cpu: dict[str, list[float]] = defaultdict(list)  # this process's CPU time (Python side)
        self.query_counts: dict[str, set[int]] = defaultdict(set)
        self.order_ids: list[int] = []
        self.user_ids: list[int] = []

    def client_for(self, user_id: int, session_version: int):
        from app.models import User
        from app.services.accounts import sessions
        from app.web.auth.views import SESSION_TOKEN

        with self.app.app_context():
            token = sessions.start(self.db.session.get(User, user_id))
            self.db.session.commit()
        client = self.app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = f"{user_id}:{session_version}"
            session["_fresh"] = True
            session[SESSION_TOKEN] = token
        self.user_ids.append(user_id)
        return client

    def timed(self, kind: str | None, client, method: str, url: str, **kw):
        """One request; its time and query count go under `kind` (None: warm-up, not kept)."""
        self.queries.count = 0
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.open(url, method=method, **kw)
        response.get_data()
        elapsed = time.perf_counter() - started
        if kind:
            self.times[kind].append(elapsed)
            self.cpu[kind].append(time.process_time() - cpu_started)
            self.query_counts[kind].add(self.queries.count)
        return response

    def catalog_round(self, client, kind: str | None) -> None:
        for url, htmx in CATALOG_URLS:
            response = self.timed(kind and (kind + (" (htmx fragment)" if htmx else "")), client, "GET", url,
                                  headers={"HX-Request": "true", "Accept-Encoding": "gzip"} if htmx
                                  else {"Accept-Encoding": "gzip"})
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code}")

    def fill_cart(self, user_id: int, rng: random.Random) -> None:
        """A cart of CART_LINES products the retailer may order, each at its minimum quantity."""
        from app.models import User
        from app.services.ordering import cart
        from app.services.catalog import storefront

        with self.app.app_context():
            session = self.db.session
            user = session.get(User, user_id)
            listing = storefront.browse_catalog(user, user.org, per_page=500)
            for product in rng.sample(listing.page.items, CART_LINES):
                cart.add_to_cart(user, user.org, product.id, product.min_order_qty)
            session.commit()

    def checkout(self, client, kind: str | None) -> None:
        page = self.timed(kind and "cart page (20 lines)", client, "GET", "/retailer/cart",
                          headers={"Accept-Encoding": "gzip"})
        body = client.get("/retailer/cart").get_data(as_text=True)  # identity, to read the form
        if page.status_code != 200:
            raise RuntimeError(f"cart page: {page.status_code}")
        form = {"csrf_token": csrf_token(body), "idempotency_key": hidden_value(body, "idempotency_key"),
                "fingerprint": hidden_value(body, "fingerprint"), "accept_changes": "", "note": ""}
        response = self.timed(kind and "checkout (20 lines)", client, "POST", "/retailer/cart/checkout", data=form)
        if response.status_code != 303:
            raise RuntimeError(f"checkout: {response.status_code} {response.get_data(as_text=True)[-400:]}")
        self.order_ids.append(order_id_from(response.headers["Location"]))


def sample_retailers(app, count: int, seed: int) -> list[tuple[int, int]]:
    from app.extensions import db
    from app.models import User

    with app.app_context():
        rows = db.session.execute(select(User.id, User.session_version).where(User.role == "retailer",
                                                                              User.active.is_(True))
                                  .order_by(User.id)).all()
    return random.Random(seed).sample([tuple(row) for row in rows], count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=BENCH_DATABASE)
    parser.add_argument("--retailers", type=int, default=40, help="retailers browsing the catalog (10 pages each)")
    parser.add_argument("--checkouts", type=int, default=200, help="checkouts, each by a different retailer")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()

    app = create_bench_app(args.database_url)
    bench = Bench(app)
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        retailers_total = connection.execute("SELECT count(*) FROM organisations WHERE kind = 'retailer'").fetchone()[0]
        orders_total = connection.execute("SELECT count(*) FROM orders").fetchone()[0]
        print(f"database {args.database_url.rsplit('/', 1)[-1]}: {retailers_total:,} retailers, "
              f"{orders_total:,} orders; {connection.info.server_version // 10000} PostgreSQL")
        if retailers_total < 100_000:
            print("WARNING: this is not the full demo scale (bench/seed_full.py builds it)")
        since = connection.execute("SELECT now()").fetchone()[0]

    load_before = os.getloadavg()[0]
    warm = 5
    sample = sample_retailers(app, args.retailers + args.checkouts + warm, args.seed)
    browsers, buyers, warmers = sample[:args.retailers], sample[args.retailers:-warm], sample[-warm:]
    rng = random.Random(args.seed)
    try:
        for user_id, version in warmers:  # warm-up: connections, templates, caches; not counted
            client = bench.client_for(user_id, version)
            bench.catalog_round(client, None)
            bench.fill_cart(user_id, rng)
            bench.checkout(client, None)
        started = time.perf_counter()
        for user_id, version in browsers:
            bench.catalog_round(bench.client_for(user_id, version), "catalog page")
        for user_id, version in buyers:
            client = bench.client_for(user_id, version)
            bench.fill_cart(user_id, rng)
            bench.checkout(client, "checkout")
        print(f"{sum(len(t) for t in bench.times.values())} timed requests in {time.perf_counter() - started:.1f} s "
              f"(including filling the carts)\n")
    finally:
        with psycopg.connect(args.database_url, autocommit=True) as connection:
            deleted = delete_bench_orders(connection, bench.user_ids, since, bench.order_ids)
            connection.execute("DELETE FROM user_sessions WHERE user_id = ANY(%s) AND created_at >= %s",
                               (bench.user_ids, since))
            restored = check_nothing_left(connection, bench.user_ids, since, deleted)

    budgets = {"catalog page": CATALOG_BUDGET_MS, "checkout (20 lines)": CHECKOUT_BUDGET_MS}
    rows, failures = [], 0
    catalog_all = bench.times["catalog page"] + bench.times["catalog page (htmx fragment)"]
    catalog_cpu = bench.cpu["catalog page"] + bench.cpu["catalog page (htmx fragment)"]
    series = [("catalog page, all", catalog_all, catalog_cpu, bench.query_counts["catalog page"]
               | bench.query_counts["catalog page (htmx fragment)"], CATALOG_BUDGET_MS)]
    series += [(kind, samples, bench.cpu[kind], bench.query_counts[kind], budgets.get(kind))
               for kind, samples in bench.times.items()]
    for kind, samples, cpu, counts, budget in series:
        p50, p95, worst = summary_ms(samples)
        result = verdict(p95, budget)
        failures += result == "FAIL"
        queries = "/".join(str(n) for n in sorted(counts))
        rows.append([kind, len(samples), f"{p50:.1f}", f"{p95:.1f}", f"{worst:.1f}", f"≤ {budget}" if budget else "",
                     result or "info", f"{sum(cpu) / len(cpu) * 1000:.1f}", queries])
    print_table(["request", "n", "p50 ms", "p95 ms", "max ms", "p95 budget", "result", "CPU ms", "SQL queries"], rows)
    print(f"\nin-process (Flask test client), production settings. CPU ms: mean Python CPU time per request "
          f"(the database's own time not included). SQL queries: the counts seen (one number: every request "
          f"alike). Load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} cores: other work on the machine shows in the wall-clock figures.")
    return 1 if failures or not restored else 0


if __name__ == "__main__":
    sys.exit(main())
