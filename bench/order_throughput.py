"""Benchmark: the project's order cycle through gunicorn next to a bare Flask order loop served
the same way, interleaved, with the ratio (issue 15: order cycle >= 0.05 of the bare order loop).

    .venv/bin/python bench/order_throughput.py [--database-url URL] [--workers 3] [--clients 8] [--checkout PATH]
                                               [--seconds 20] [--rounds 3] [--catalog-pages 0]

Inputs: a PostgreSQL database with demo data (default lianying_bench at `full` scale). Starts two
gunicorns with the same settings (`--workers` sync workers, default cores + 1, the production
setting; production config) on free ports of 127.0.0.1: the project (`wsgi:app`) and the bare app
(`bench/bare_app.py`). The same `--clients` threads and HTTP client (stdlib http.client, gzip
asked, like a browser without JavaScript) then hit them in turn, project round, bare round, ...
`--rounds` times for `--seconds` each, after a short warm-up round of each (not counted; on a server
without autovacuum the tables a round rewrites are vacuumed before each round, as autovacuum would):

- project: each client is signed in through the login form as a different random retailer and
  loops: add 3 products to the cart (plain POSTs), open the cart, check out (5 requests per
  order; checkout approves automatically and reserves stock). `--catalog-pages N` makes each
  order a realistic visit: N catalog pages first (pages 1, 2, 3 ... of the retailer's catalog,
  50 products each), so the orders/s printed is what one node serves with that mix.
- bare: each client loops `POST /order` with 3 random products, quantities and prices: one
  transaction of Core SQL inserting the order and its 3 lines into scratch tables of the
  orders/order_lines shape (no login, no ORM, 303 with a small HTML confirmation).

Printed: orders/s of each side per round and their medians, the ratio, the request timings and
the load average. Clients and servers share this machine's cores, the same way for both.
Undone at the end: the project's orders (with their reserved stock, ledger rows, notifications,
audit rows: benchlib.delete_bench_orders), the cart lines left by the last unfinished loops, the
clients' sign-in sessions; the scratch tables are dropped; both gunicorns are stopped.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import psycopg
from benchlib import (vacuum_when_autovacuum_is_off, BARE_LINES_TABLE as LINES_TABLE, BARE_ORDERS_TABLE as ORDERS_TABLE, BENCH_DATABASE,
                      BENCH_SECRET_KEY, CpuMeter, DEMO_PASSWORD, ROOT, add_forms, check_nothing_left,
                      csrf_token, delete_bench_orders, hidden_value, order_id_from, print_table, summary_ms)

LINES_PER_ORDER = 3


class Browser:
    """One retailer's HTTP client: keeps its session cookie, asks for gzip, records timings."""

    def __init__(self, port: int, timings: dict[str, list[float]]):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.timings = timings

    def request(self, kind: str, method: str, path: str, form: dict | list | None = None) -> tuple[int, dict, str]:
        headers = {"Accept-Encoding": "gzip", "Connection": "keep-alive"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        self.timings[kind].append(time.perf_counter() - started)
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()  # gunicorn's sync workers answer one request per connection
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        if response.getheader("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return response.status, dict(response.getheaders()), data.decode()

    def log_in(self, username: str) -> list[tuple[int, int]]:
        """Sign in through the form; returns the (product, minimum quantity) of catalog page 1."""
        _status, _h, page = self.request("login", "GET", "/login")
        status, _h, _b = self.request("login", "POST", "/login", {"csrf_token": csrf_token(page), "username": username,
                                                                  "password": DEMO_PASSWORD})
        if status != 303:
            raise RuntimeError(f"login as {username}: {status}")
        _status, _h, catalog = self.request("catalog", "GET", "/retailer/catalog")
        self.csrf = csrf_token(catalog)
        return add_forms(catalog)

    def place_order(self, products: list[tuple[int, int]], catalog_pages: int = 0) -> int:
        for page in range(catalog_pages):
            status, _h, _body = self.request("catalog page", "GET", f"/retailer/catalog?page={page % 4 + 1}")
            if status != 200:
                raise RuntimeError(f"catalog page: {status}")
        for product_id, qty in products:
            status, _h, body = self.request("add to cart", "POST", "/retailer/cart/add", {
                "csrf_token": self.csrf, "product_id": product_id, "qty": qty, "next": "/retailer/catalog"})
            if status != 303:
                raise RuntimeError(f"add to cart: {status} {body[-300:]}")
        status, _h, cart = self.request("cart page", "GET", "/retailer/cart")
        status, headers, body = self.request("checkout", "POST", "/retailer/cart/checkout", {
            "csrf_token": self.csrf, "idempotency_key": hidden_value(cart, "idempotency_key"),
            "fingerprint": hidden_value(cart, "fingerprint"), "accept_changes": "", "note": ""})
        if status != 303:
            raise RuntimeError(f"checkout: {status} {body[-300:]}")
        return order_id_from(headers["Location"])

    def place_bare_order(self, form: list[tuple[str, object]]) -> int:
        status, headers, body = self.request("bare order", "POST", "/order", form)
        if status != 303:
            raise RuntimeError(f"bare order: {status} {body[-300:]}")
        return int(headers["Location"].rsplit("/", 1)[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(app_spec: str, database_url: str, workers: int, port: int, chdir: str = ".",
                   root=ROOT) -> subprocess.Popen:
    """The project (`wsgi:app`, from `root`) or the bare app (`bare_app:app`, chdir bench) with the same settings."""
    env = {**os.environ, "LIANYING_ENV": "production", "SECRET_KEY": os.environ.get("SECRET_KEY", BENCH_SECRET_KEY),
           "DATABASE_URL": database_url, "PYTHONPATH": str(root)}
    env.pop("REDIS_URL", None)
    return subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers), "--bind",
                             f"127.0.0.1:{port}", "--log-level", "warning", "--chdir", chdir, app_spec],
                            cwd=root, env=env)


def wait_for(server: subprocess.Popen, port: int, path: str) -> None:
    deadline = time.monotonic() + 180  # two gunicorns starting at load 10-15 can take over 60 s
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn on port {port} did not answer within 180 s")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def create_scratch_tables(database_url: str) -> None:
    """The bare app's orders and order lines: the real tables' columns, indexes and constraints but
    the foreign keys (`LIKE ... INCLUDING ALL` copies none), ids from sequences of their own."""
    with psycopg.connect(database_url, autocommit=True) as connection, connection.transaction():
        for scratch, real in ((ORDERS_TABLE, "orders"), (LINES_TABLE, "order_lines")):
            connection.execute(f"DROP TABLE IF EXISTS {scratch}")
            connection.execute(f"CREATE TABLE {scratch} (LIKE {real} INCLUDING ALL)")
            connection.execute(f"CREATE SEQUENCE {scratch}_id_seq OWNED BY {scratch}.id")
            connection.execute(f"ALTER TABLE {scratch} ALTER COLUMN id SET DEFAULT nextval('{scratch}_id_seq')")


def drop_scratch_tables(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        for scratch in (LINES_TABLE, ORDERS_TABLE):
            connection.execute(f"DROP TABLE IF EXISTS {scratch}")  # drops its sequence too


def sample_retailers(database_url: str, count: int, seed: int) -> list[tuple[int, str]]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT id, username FROM users WHERE role = 'retailer' AND active "
                                  "ORDER BY id").fetchall()
    return random.Random(seed).sample(rows, count)


def run_round(clients: list, seconds: float, seed: str, place) -> tuple[int, list[int], dict, list[float], list[str]]:
    """Every client loops `place(client, rng)` (one order, returns its id) for `seconds`, all
    starting together; returns (orders finished within the time, every order id, timings per
    request kind, each counted order's time, errors)."""
    timings: dict[str, list[float]] = defaultdict(list)
    order_ids: list[int] = []
    order_times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    end = time.perf_counter() + seconds

    def loop(index: int, client) -> None:
        rng = random.Random(f"{seed}:{index}")
        client.timings = own = defaultdict(list)
        try:
            while time.perf_counter() < end:
                started = time.perf_counter()
                order_id = place(client, rng)
                finished = time.perf_counter()
                with lock:
                    order_ids.append(order_id)
                    if finished <= end:
                        order_times.append(finished - started)
        except Exception as error:  # noqa: BLE001 (reported by the caller)
            errors.append(f"client {index}: {error}")
        with lock:
            for kind, samples in own.items():
                timings[kind].extend(samples)

    threads = [threading.Thread(target=loop, args=(i, client)) for i, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(order_times), order_ids, timings, order_times, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=BENCH_DATABASE)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3, help="project and bare rounds, interleaved")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--catalog-pages", type=int, default=0, help="catalog pages viewed before each order")
    parser.add_argument("--checkout", metavar="PATH", default=str(ROOT),
                        help="the checkout of the project to serve (e.g. /work/main: before/after with this script)")
    args = parser.parse_args()

    retailers = sample_retailers(args.database_url, args.clients, args.seed)
    user_ids = [uid for uid, _name in retailers]
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        since = connection.execute("SELECT now()").fetchone()[0]
        buyers = [row[0] for row in connection.execute("SELECT org_id FROM users WHERE id = ANY(%s)", (user_ids,))]
        seller = connection.execute("SELECT id FROM organisations WHERE kind = 'brand' LIMIT 1").fetchone()[0]
        products = connection.execute("SELECT id, base_price_fen FROM products WHERE status = 'active' "
                                      "ORDER BY code LIMIT 200").fetchall()

    def project_order(browser: Browser, rng: random.Random) -> int:
        return browser.place_order(rng.sample(browser.products, LINES_PER_ORDER), args.catalog_pages)

    def bare_order(browser: Browser, rng: random.Random) -> int:
        form = [("buyer_id", rng.choice(buyers)), ("seller_id", seller)]
        for product_id, price in rng.sample(products, LINES_PER_ORDER):
            form += [("product_id", product_id), ("qty", rng.randint(1, 12)), ("price_fen", price)]
        return browser.place_bare_order(form)

    ports = {"project": free_port(), "bare": free_port()}
    print(f"gunicorn: {args.workers} sync workers each for the project (port {ports['project']}) and the bare app "
          f"(port {ports['bare']}); {args.clients} clients; {args.rounds} rounds of {args.seconds:g} s each, "
          f"project and bare interleaved; {args.catalog_pages} catalog pages per project order; "
          f"{os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f}")
    create_scratch_tables(args.database_url)
    servers = {"project": start_gunicorn("wsgi:app", args.database_url, args.workers, ports["project"],
                                         root=args.checkout),
               "bare": start_gunicorn("bare_app:app", args.database_url, args.workers, ports["bare"], chdir="bench")}
    order_ids: list[int] = []
    errors: list[str] = []
    rates: dict[str, list[float]] = {"project": [], "bare": []}
    timings: dict[str, dict[str, list[float]]] = {"project": defaultdict(list), "bare": defaultdict(list)}
    order_times: dict[str, list[float]] = {"project": [], "bare": []}
    load: list[float] = []
    cpu: dict[str, list[dict[str, float]]] = {"project": [], "bare": []}  # ms per order, per round
    try:
        wait_for(servers["project"], ports["project"], "/login")
        wait_for(servers["bare"], ports["bare"], "/")
        clients = {"project": [], "bare": [Browser(ports["bare"], defaultdict(list)) for _ in retailers]}
        for _uid, username in retailers:
            browser = Browser(ports["project"], defaultdict(list))
            browser.products = browser.log_in(username)
            clients["project"].append(browser)
        place = {"project": project_order, "bare": bare_order}
        for round_no in range(args.rounds + 1):  # round 0 warms up (imports, templates, connections), not counted
            for name in ("project", "bare"):
                seconds = args.seconds if round_no else min(args.seconds, 3.0)
                vacuum_when_autovacuum_is_off(args.database_url)  # not inside the CPU meter's span
                meter = CpuMeter(servers[name].pid, args.database_url)
                meter.start()
                done, ids, kinds, times, failed = run_round(clients[name], seconds, f"{args.seed}:{round_no}",
                                                            place[name])
                spent = meter.stop()
                errors += [f"{name}: {error}" for error in failed]
                if name == "project":
                    order_ids += ids
                if round_no:
                    rates[name].append(done / seconds)
                    # every order placed in the round (some finish after its end) paid for the CPU
                    cpu[name].append({k: v * 1000 / max(len(ids), 1) for k, v in spent.items()})
                    order_times[name] += times
                    for kind, samples in kinds.items():
                        timings[name][kind] += samples
                    load.append(os.getloadavg()[0])
            if round_no:
                print(f"round {round_no}: project {rates['project'][-1]:.2f} orders/s, bare {rates['bare'][-1]:.1f} "
                      f"orders/s, load {load[-1]:.2f}", flush=True)
    finally:
        for server in servers.values():
            stop(server)
        drop_scratch_tables(args.database_url)
        with psycopg.connect(args.database_url, autocommit=True) as connection:
            deleted = delete_bench_orders(connection, user_ids, since, order_ids)
            connection.execute("DELETE FROM user_sessions WHERE user_id = ANY(%s) AND created_at >= %s",
                               (user_ids, since))
            restored = check_nothing_left(connection, user_ids, since, deleted)
        print(f"scratch tables {ORDERS_TABLE} and {LINES_TABLE} dropped; the clients' sign-in sessions deleted")
    for error in errors:
        print("ERROR:", error)

    print()
    rows = []
    for name in ("project", "bare"):
        for kind in ("catalog page", "add to cart", "cart page", "checkout", "bare order"):
            if timings[name][kind]:
                p50, p95, worst = summary_ms(timings[name][kind])
                rows.append([f"{name}: {kind} (HTTP)", len(timings[name][kind]), f"{p50:.1f}", f"{p95:.1f}",
                             f"{worst:.1f}"])
        if name == "project" and order_times["project"]:
            p50, p95, worst = summary_ms(order_times["project"])
            rows.append([f"project: whole order ({args.catalog_pages} catalog pages, 3 adds, cart, checkout)",
                         len(order_times["project"]), f"{p50:.1f}", f"{p95:.1f}", f"{worst:.1f}"])
    print_table(["request", "n", "p50 ms", "p95 ms", "max ms"], rows)
    print()
    project, bare = statistics.median(rates["project"]), statistics.median(rates["bare"])
    ratios = [p / b if b else 0.0 for p, b in zip(rates["project"], rates["bare"])]
    print_table(["orders per second", "per round", "median"], [
        ["project: 3 adds, cart, checkout (5 requests)" if not args.catalog_pages else
         f"project: {args.catalog_pages} catalog pages, 3 adds, cart, checkout",
         ", ".join(f"{r:.2f}" for r in rates["project"]), f"{project:.2f}"],
        ["bare order loop: POST /order, 1 transaction (order + 3 lines)",
         ", ".join(f"{r:.1f}" for r in rates["bare"]), f"{bare:.1f}"],
        ["project / bare (per round; of the medians)", ", ".join(f"{r:.4f}" for r in ratios), f"{project / bare:.4f}" if bare else "n/a"],
    ])
    print(f"\norder cycle / bare order loop = {project / bare if bare else 0:.4f}   (issue 15 target: >= 0.05, "
          "without catalog pages)")
    print(f"load average (1 min) after each round: {min(load):.2f}-{max(load):.2f}" if load else "no round ran")
    if cpu["project"] and cpu["bare"]:
        cost = {name: {k: statistics.median(r[k] for r in cpu[name]) for k in ("workers", "postgres", "client")}
                for name in cpu}
        for name in cost:
            cost[name]["total"] = sum(cost[name].values())
        print()
        print_table(["our processes' CPU per order, ms (median of rounds)", "gunicorn workers", "PostgreSQL",
                     "load generator", "total"],
                    [[name, *(f"{cost[name][k]:.2f}" for k in ("workers", "postgres", "client", "total"))]
                     for name in ("project", "bare")])
        print(f"bare / project by CPU = {cost['bare']['total'] / cost['project']['total']:.4f}  (what the order costs "
              "our processes; orders/s also follow the machine's other work)")
    return 1 if errors or not restored or not project else 0


if __name__ == "__main__":
    sys.exit(main())
