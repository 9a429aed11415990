"""Benchmark: orders per second through gunicorn against PostgreSQL, next to the machine's
plain INSERT rate.

    .venv/bin/python bench/order_throughput.py [--database-url URL] [--workers 5] [--clients 8] [--seconds 20]
                                               [--catalog-pages 0]

Inputs: a PostgreSQL database with demo data (default lianying_bench at `full` scale). Starts
gunicorn (`wsgi:app`, production settings, `--workers` sync workers, default cores + 1, the production setting) on a
free port of 127.0.0.1, then `--clients` threads, each signed in through the login form as a
different random retailer, loop for `--seconds`: add 3 products to the cart (plain POSTs),
open the cart, check out (5 requests per order, over stdlib http.client with gzip, like a
browser without JavaScript). `--catalog-pages N` makes each order a realistic visit: N catalog
pages first (pages 1, 2, 3 ... of the signed-in retailer's catalog, 50 products each), so the
orders/s printed is what one node serves with that mix. Clients and server share this machine's
cores.

For scale, the same number of threads then insert rows of the orders table's shape (same
columns, indexes and constraints but the foreign keys, one row per transaction, psycopg) into a
scratch table for the same time: the plain INSERT rate. The figure printed is orders/s and its
ratio to that rate. The orders, the scratch table and any cart lines left by the last unfinished
loops are deleted at the end; gunicorn is stopped.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import os
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import psycopg
from benchlib import (BENCH_DATABASE, BENCH_SECRET_KEY, DEMO_PASSWORD, ROOT, add_forms, check_nothing_left,
                      csrf_token, delete_bench_orders, hidden_value, order_id_from, print_table, summary_ms)

LINES_PER_ORDER = 3
SCRATCH_TABLE = "bench_plain_insert_orders"


class Browser:
    """One retailer's HTTP client: keeps its session cookie, asks for gzip, records timings."""

    def __init__(self, port: int, timings: dict[str, list[float]]):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.timings = timings

    def request(self, kind: str, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(database_url: str, workers: int, port: int) -> subprocess.Popen:
    env = {**os.environ, "LIANYING_ENV": "production", "SECRET_KEY": os.environ.get("SECRET_KEY", BENCH_SECRET_KEY),
           "DATABASE_URL": database_url}
    env.pop("REDIS_URL", None)
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers), "--bind",
                               f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/login")
            if connection.getresponse().status == 200:
                connection.close()
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def sample_retailers(database_url: str, count: int, seed: int) -> list[tuple[int, str]]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT id, username FROM users WHERE role = 'retailer' AND active "
                                  "ORDER BY id").fetchall()
    return random.Random(seed).sample(rows, count)


def run_orders(port: int, retailers: list[tuple[int, str]], seconds: float, seed: int, catalog_pages: int = 0):
    """The client threads; returns (orders, order ids, elapsed seconds, timings, errors)."""
    timings: dict[str, list[float]] = defaultdict(list)
    order_ids: list[int] = []
    order_times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    clock = {}

    def start_the_clock() -> None:  # run once, when every client has signed in
        clock["end"] = time.perf_counter() + seconds

    ready = threading.Barrier(len(retailers), action=start_the_clock)

    def client(index: int, username: str) -> None:
        rng = random.Random(f"{seed}:{index}")
        own: dict[str, list[float]] = defaultdict(list)
        browser = Browser(port, own)
        try:
            products = browser.log_in(username)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(f"{username}: {error}")
            products = []
        ready.wait()
        try:
            while products and time.perf_counter() < clock["end"]:
                started = time.perf_counter()
                order_id = browser.place_order(rng.sample(products, LINES_PER_ORDER), catalog_pages)
                finished = time.perf_counter()
                with lock:
                    order_ids.append(order_id)
                    if finished <= clock["end"]:
                        order_times.append(finished - started)
        except Exception as error:  # noqa: BLE001
            errors.append(f"{username}: {error}")
        with lock:
            for kind, samples in own.items():
                timings[kind].extend(samples)

    threads = [threading.Thread(target=client, args=(i, name)) for i, (_uid, name) in enumerate(retailers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(order_times), order_ids, seconds, timings, order_times, errors


def plain_insert_rate(database_url: str, threads: int, seconds: float, buyers: list[int], seller: int) -> float:
    """Rows per second inserted into a scratch copy of the orders table, one per transaction."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
        connection.execute(f"CREATE TABLE {SCRATCH_TABLE} (LIKE orders INCLUDING ALL)")
        connection.execute(f"ALTER TABLE {SCRATCH_TABLE} ALTER COLUMN id DROP DEFAULT")
        connection.execute(f"ALTER TABLE {SCRATCH_TABLE} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")
    counts = [0] * threads
    end = time.perf_counter() + seconds

    def insert(index: int) -> None:
        with psycopg.connect(database_url, autocommit=True) as connection:
            n = 0
            while time.perf_counter() < end:
                n += 1
                connection.execute(
                    f"INSERT INTO {SCRATCH_TABLE} (number, buyer_id, seller_id, placed_by_id, channel, status, "
                    "line_count, total_fen, tax_fen, idempotency_key, cart_fingerprint, note, created_at, updated_at) "
                    "VALUES (%s, %s, %s, NULL, 'web', 'submitted', 3, 123400, 14196, %s, %s, '', now(), now())",
                    (f"BP{index:02d}{n:09d}", buyers[index % len(buyers)], seller, secrets.token_urlsafe(18),
                     secrets.token_hex(16)))
            counts[index] = n

    try:
        workers = [threading.Thread(target=insert, args=(i,)) for i in range(threads)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
    finally:
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
    return sum(counts) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=BENCH_DATABASE)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--catalog-pages", type=int, default=0, help="catalog pages viewed before each order")
    args = parser.parse_args()

    retailers = sample_retailers(args.database_url, args.clients, args.seed)
    user_ids = [uid for uid, _name in retailers]
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        since = connection.execute("SELECT now()").fetchone()[0]
        buyers = [row[0] for row in connection.execute("SELECT org_id FROM users WHERE id = ANY(%s)", (user_ids,))]
        seller = connection.execute("SELECT id FROM organisations WHERE kind = 'brand' LIMIT 1").fetchone()[0]

    port = free_port()
    print(f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}; {args.clients} clients for {args.seconds:g} s; "
          f"{args.catalog_pages} catalog pages per order; {os.cpu_count()} cores; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    server = start_gunicorn(args.database_url, args.workers, port)
    order_ids = []
    try:
        orders, order_ids, elapsed, timings, order_times, errors = run_orders(port, retailers, args.seconds, args.seed,
                                                                           args.catalog_pages)
    finally:
        stop(server)
        with psycopg.connect(args.database_url, autocommit=True) as connection:
            deleted = delete_bench_orders(connection, user_ids, since, order_ids)
            restored = check_nothing_left(connection, user_ids, since, deleted)
    for error in errors:
        print("ERROR:", error)

    insert_rate = plain_insert_rate(args.database_url, args.clients, args.seconds, buyers, seller)
    order_rate = orders / elapsed
    requests_in_window = orders * (LINES_PER_ORDER + 2 + args.catalog_pages)
    print()
    rows = []
    for kind in ("catalog page", "add to cart", "cart page", "checkout"):
        if not timings[kind]:
            continue
        p50, p95, worst = summary_ms(timings[kind])
        rows.append([f"{kind} (HTTP)", len(timings[kind]), f"{p50:.1f}", f"{p95:.1f}", f"{worst:.1f}"])
    if order_times:
        p50, p95, worst = summary_ms(order_times)
        rows.append([f"whole order: {args.catalog_pages} catalog pages, 3 adds, cart, checkout", len(order_times), f"{p50:.1f}", f"{p95:.1f}", f"{worst:.1f}"])
    print_table(["request", "n", "p50 ms", "p95 ms", "max ms"], rows)
    print()
    print_table(["figure", "value"], [
        ["orders per second (gunicorn, PostgreSQL)", f"{order_rate:.1f}"],
        ["HTTP requests per second in the orders", f"{requests_in_window / elapsed:.1f}"],
        ["plain INSERTs per second (same threads, one row per transaction)", f"{insert_rate:.0f}"],
        ["orders / plain INSERTs", f"{order_rate / insert_rate:.3f} (1 order per {insert_rate / order_rate:.0f} inserts)"
         if insert_rate else "n/a"],
    ])
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 1 if errors or not restored or not orders else 0


if __name__ == "__main__":
    sys.exit(main())
