"""Benchmark: the project's catalog page next to a bare Flask page, and checkout's statements.

    .venv/bin/python bench/baseline.py [--database-url URL] [--workers 3] [--clients 6]
                                       [--seconds 10] [--rounds 3] [--lines 3,20]

Inputs: a PostgreSQL database with demo data (default lianying_bench at `full` scale).

1. Requests per second. Two gunicorns with the same settings (`--workers` sync workers,
   production config) run side by side on free ports of 127.0.0.1: the project (`wsgi:app`)
   and the bare page (`bench/bare_app.py`: one SELECT of 50 products, a 50-row Jinja table,
   gzip). The same load generator (`--clients` threads, stdlib http.client, gzip asked, a new
   connection per request since sync workers close it) then hits them in turn, interleaved:
   bare, project, bare, project ... `--rounds` times for `--seconds` each. Each project client
   is signed in (through the login form) as a different random retailer and asks for
   /retailer/catalog (50 products); the bare clients ask for /. Printed: requests/s per round,
   the medians and the project/bare ratio, with the load average. Clients and servers share
   the machine's cores, the same way for both. `--compare-with /work/main` serves a third
   gunicorn from another checkout (before/after in the same run).
2. Checkout statements: in-process (production config), checkouts of carts of each `--lines`
   size by different retailers, counting the SQL statements each runs (a SQLAlchemy
   `before_cursor_execute` listener); the count should not depend on the size.

A database not migrated to h15_price_book or h16_catalog_version (the shared lianying_bench stays at
the main line's revision) gets the price book's or the catalog's token table and triggers for the
run, dropped at the end.
Writes undone at the end: the orders (their reserved stock, ledger rows, notifications, audit
rows, via benchlib.delete_bench_orders), cart lines, and the login sessions the clients opened.
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import threading
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import psycopg
from benchlib import (BENCH_DATABASE, BENCH_SECRET_KEY, DEMO_PASSWORD, ROOT, CpuMeter, check_nothing_left, create_bench_app,
                      csrf_token, delete_bench_orders, hidden_value, order_id_from, print_table)


# The token tables the project's code reads, each with the tables whose writes change it (migrations
# h15_price_book and h16_catalog_version).
TOKEN_TABLES = {"price_book_version": ("price_book", ("price_lists", "price_list_items", "contract_prices")),
                "catalog_version": ("catalog", ("products", "product_visibility", "categories"))}


def add_tokens_if_missing(database_url: str) -> list[str]:
    """The token tables and triggers of migrations h15_price_book and h16_catalog_version, added
    for the run where the database has not been migrated that far (the shared lianying_bench is
    kept at the main line's revision); the names of those added, for drop_tokens."""
    added = []
    with psycopg.connect(database_url, autocommit=True) as connection:
        for name, (short, tables) in TOKEN_TABLES.items():
            if connection.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0] is not None:
                continue
            with connection.transaction():
                connection.execute(f"CREATE TABLE {name} (id integer PRIMARY KEY, token varchar(40) NOT NULL)")
                connection.execute(f"""
                    CREATE FUNCTION {short}_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        INSERT INTO {name} (id, token) VALUES (1, md5(random()::text || clock_timestamp()::text))
                        ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token;
                        RETURN NULL;
                    END $$""")
                for table in tables:
                    connection.execute(f"CREATE TRIGGER {table}_{short} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {short}_changed()")
                connection.execute(f"INSERT INTO {name} VALUES (1, md5(random()::text))")
            added.append(name)
    return added


def drop_tokens(database_url: str, names: list[str]) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection, connection.transaction():
        for name in names:
            short, tables = TOKEN_TABLES[name]
            for table in tables:
                connection.execute(f"DROP TRIGGER IF EXISTS {table}_{short} ON {table}")
            connection.execute(f"DROP FUNCTION IF EXISTS {short}_changed()")
            connection.execute(f"DROP TABLE IF EXISTS {name}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(app_spec: str, database_url: str, workers: int, port: int, chdir: str = ".",
                   root=ROOT) -> subprocess.Popen:
    env = {**os.environ, "LIANYING_ENV": "production", "SECRET_KEY": os.environ.get("SECRET_KEY", BENCH_SECRET_KEY),
           "DATABASE_URL": database_url, "PYTHONPATH": str(root)}
    env.pop("REDIS_URL", None)
    return subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers), "--bind",
                             f"127.0.0.1:{port}", "--log-level", "warning", "--chdir", str(chdir), app_spec],
                            cwd=root, env=env)


def wait_for(port: int, path: str) -> None:
    deadline = time.monotonic() + 180  # three gunicorns starting at load 10-15 took over 60 s
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


class Client:
    """One load-generator client: a cookie jar and one GET path; the same code for both servers."""

    def __init__(self, port: int, path: str):
        self.port, self.path, self.cookies = port, path, {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Accept-Encoding": "gzip"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(header).items():
                self.cookies[key] = morsel.value
        if response.getheader("Content-Encoding") == "gzip":
            import gzip

            data = gzip.decompress(data)
        return response.status, data.decode()

    def log_in(self, username: str) -> None:
        _status, page = self.request("GET", "/login")
        status, _body = self.request("POST", "/login", {"csrf_token": csrf_token(page), "username": username,
                                                        "password": DEMO_PASSWORD})
        if status != 303:
            raise RuntimeError(f"login as {username}: {status}")


def run_round(clients: list[Client], seconds: float) -> tuple[float, int]:
    """All clients GET their path for `seconds`; (requests per second, errors)."""
    done, errors = [0] * len(clients), [0] * len(clients)
    stop_at = time.perf_counter() + seconds

    def loop(index: int, client: Client) -> None:
        while time.perf_counter() < stop_at:
            status, _body = client.request("GET", client.path)
            if status == 200:
                done[index] += 1
            else:
                errors[index] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - started), sum(errors)


def sample_retailers(database_url: str, count: int, seed: int) -> list[tuple[int, str, int]]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT id, username, session_version FROM users WHERE role = 'retailer' "
                                  "AND active ORDER BY id").fetchall()
    return random.Random(seed).sample(rows, count)


def checkout_statements(database_url: str, retailers: list[tuple[int, str, int]], sizes: list[int],
                        seed: int) -> tuple[list[tuple[int, int, str, float]], list[int]]:
    """(lines, statements, order status, CPU ms of this process) of one checkout per size, each by another retailer,
    after one warm-up checkout (not counted)."""
    from sqlalchemy import event

    from app.extensions import db
    from app.models import User
    from app.services.catalog import storefront
    from app.services.ordering import cart

    app = create_bench_app(database_url)
    counted: list[str] = []
    results, order_ids = [], []
    rng = random.Random(seed)
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: counted.append(args[2]))
    for index, (user_id, username, _version) in enumerate(retailers):
        size = sizes[index - 1] if index else sizes[0]
        with app.app_context():
            user = db.session.get(User, user_id)
            listing = storefront.browse_catalog(user, user.org, per_page=500)
            for product in rng.sample(listing.page.items, size):
                cart.add_to_cart(user, user.org, product.id, product.min_order_qty)
            db.session.commit()
        client = app.test_client()
        login = client.get("/login").get_data(as_text=True)
        if client.post("/login", data={"csrf_token": csrf_token(login), "username": username,
                                       "password": DEMO_PASSWORD}).status_code != 303:
            raise RuntimeError(f"login as {username}")
        body = client.get("/retailer/cart").get_data(as_text=True)
        form = {"csrf_token": csrf_token(body), "idempotency_key": hidden_value(body, "idempotency_key"),
                "fingerprint": hidden_value(body, "fingerprint"), "accept_changes": "", "note": ""}
        counted.clear()
        cpu = time.process_time()
        response = client.post("/retailer/cart/checkout", data=form)
        cpu = (time.process_time() - cpu) * 1000
        statements = len(counted)
        if response.status_code != 303:
            raise RuntimeError(f"checkout: {response.status_code}")
        order_ids.append(order_id_from(response.headers["Location"]))
        with app.app_context():
            status = db.session.execute(db.text("SELECT status FROM orders WHERE id = :i"),
                                        {"i": order_ids[-1]}).scalar()
        if index:
            results.append((size, statements, status, cpu))
    return results, order_ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=BENCH_DATABASE)
    parser.add_argument("--workers", type=int, default=3, help="sync workers, the same for both servers")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lines", default="3,20", help="cart sizes for the checkout statement counts")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--compare-with", metavar="CHECKOUT",
                        help="another checkout of the project (e.g. /work/main) whose catalog is measured too")
    args = parser.parse_args()
    sizes = [int(n) for n in args.lines.split(",")]

    with psycopg.connect(args.database_url, autocommit=True) as connection:
        retailers_total = connection.execute("SELECT count(*) FROM organisations WHERE kind = 'retailer'").fetchone()[0]
        print(f"database {args.database_url.rsplit('/', 1)[-1]}: {retailers_total:,} retailers")
        since = connection.execute("SELECT now()").fetchone()[0]
    sample = sample_retailers(args.database_url, args.clients + len(sizes) + 1, args.seed)
    browsers, buyers = sample[:args.clients], sample[args.clients:]
    user_ids = [row[0] for row in sample]

    added = add_tokens_if_missing(args.database_url)
    names = ["bare", "project"] + (["other"] if args.compare_with else [])
    ports = {name: free_port() for name in names}
    servers = {"bare": start_gunicorn("bare_app:app", args.database_url, args.workers, ports["bare"], chdir="bench"),
               "project": start_gunicorn("wsgi:app", args.database_url, args.workers, ports["project"])}
    if args.compare_with:
        servers["other"] = start_gunicorn("wsgi:app", args.database_url, args.workers, ports["other"],
                                          root=args.compare_with)
    order_ids: list[int] = []
    try:
        wait_for(ports["bare"], "/")
        clients = {"bare": [Client(ports["bare"], "/") for _ in range(args.clients)]}
        for name in names[1:]:
            wait_for(ports[name], "/login")
            clients[name] = [Client(ports[name], "/retailer/catalog") for _ in range(args.clients)]
            for client, (_id, username, _v) in zip(clients[name], browsers):
                client.log_in(username)
        status, page = clients["project"][0].request("GET", "/retailer/catalog")
        shown = page.count('class="prod"')
        print(f"gunicorn: {args.workers} sync workers each; {args.clients} clients; {args.rounds} rounds of "
              f"{args.seconds:g} s each, interleaved; project catalog page {status}, {shown} products")
        for name in names:  # warm-up: imports, templates, connections, the price book
            run_round(clients[name], 2)
        figures = {name: [] for name in names}
        cpu = {name: [] for name in names}  # per round: {workers, postgres, client} ms per request
        load = []
        for _round in range(args.rounds):
            for name in names:
                meter = CpuMeter(servers[name].pid, args.database_url)
                meter.start()
                started = time.perf_counter()
                rate, errors = run_round(clients[name], args.seconds)
                requests = rate * (time.perf_counter() - started)
                if errors:
                    raise RuntimeError(f"{name}: {errors} requests failed")
                figures[name].append(rate)
                cpu[name].append({k: v * 1000 / max(requests, 1) for k, v in meter.stop().items()})
                load.append(os.getloadavg()[0])
        for server in servers.values():
            stop(server)
        counts, order_ids = checkout_statements(args.database_url, buyers, sizes, args.seed)
    finally:
        for server in servers.values():
            if server.poll() is None:
                stop(server)
        with psycopg.connect(args.database_url, autocommit=True) as connection:
            deleted = delete_bench_orders(connection, user_ids, since, order_ids)
            connection.execute("DELETE FROM user_sessions WHERE user_id = ANY(%s) AND created_at >= %s",
                               (user_ids, since))
            restored = check_nothing_left(connection, user_ids, since, deleted)
        if added:
            drop_tokens(args.database_url, added)

    labels = {"bare": "bare Flask page (1 SELECT, 50-row table)", "project": "catalog, this checkout",
              "other": f"catalog, {args.compare_with}"}
    medians = {name: statistics.median(rates) for name, rates in figures.items()}
    print()
    print_table(["page", "requests/s per round", "median", "/ bare"], [
        [labels[name], ", ".join(f"{r:.0f}" for r in figures[name]), f"{medians[name]:.0f}",
         f"{medians[name] / medians['bare']:.3f}"] for name in names])
    print(f"\ncatalog / bare = {medians['project'] / medians['bare']:.3f}   (issue 15 target: >= 0.35)")
    print(f"load average (1 min) during the rounds: {min(load):.2f}-{max(load):.2f}")
    print()
    cost = {name: {k: statistics.median(r[k] for r in cpu[name]) for k in ("workers", "postgres", "client")}
            for name in names}
    for name in names:
        cost[name]["total"] = sum(cost[name].values())
    print_table(["our processes' CPU per request, ms (median of rounds)", "gunicorn workers", "PostgreSQL",
                 "load generator", "total", "bare / this"],
                [[labels[name], f"{c['workers']:.2f}", f"{c['postgres']:.2f}", f"{c['client']:.2f}",
                  f"{c['total']:.2f}", f"{cost['bare']['total'] / c['total']:.3f}"] for name, c in cost.items()])
    print("(requests/s follow what the machine's other work leaves us; the CPU ratio is what the page costs)")
    print()
    print_table(["checkout", "SQL statements", "order status", "Python CPU ms (in-process)"],
                [[f"{size} lines", statements, status, f"{cpu:.1f}"] for size, statements, status, cpu in counts])
    print(f"\nundone: {len(deleted)} orders deleted, {'nothing left' if restored else 'SOMETHING LEFT'}")
    return 0 if restored else 1


if __name__ == "__main__":
    raise SystemExit(main())
