"""Reservations per second through the stock service, next to the bare conditional UPDATE.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/lianying_bench_stock \\
        .venv/bin/python bench/reserve_rate.py --clients 8 --seconds 15 [--rounds 3] [--checkout DIR]

Use a database of its own: the script migrates it if it has no schema yet (a database with one
is left as it is: upgrade it yourself, so that checkouts of other revisions can share it) and
adds a "BENCH" warehouse with 200 products holding plenty of stock. Each of N client processes
(own connection, like a gunicorn worker) repeats for the given time:

- service: `reserve_stock(warehouse, {random product: 1})` + COMMIT — the conditional UPDATE
  of the balance, the shelf-life check, the reservation row and the ledger row (on PostgreSQL
  one call of the `stock_reserve` function where the checkout has it);
- bare:    `UPDATE stock_balances SET reserved = reserved + 1 WHERE ... AND on_hand - reserved >= 1`
  + COMMIT through psycopg — the ceiling the service could approach.

The two alternate in `--rounds` slices of `--seconds / --rounds` each (bare, service, bare, ...),
so that load from elsewhere on the machine falls on both alike. It prints both rates, their
ratio, and the clients' own CPU time per operation (time.process_time: steadier than rates on a
shared machine) with their PostgreSQL backends' (read from /proc: a server on this machine).
`--checkout DIR` runs the service from another checkout of the project (e.g. /work/main, to
compare branches on one database in one run of this script). Before every slice
the bench's reservations are released and the stock tables vacuumed and analysed, so the numbers
do not drift with table size or dead row versions.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import time
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PRODUCTS = 200
STOCK = 100_000_000


def _app(url: str):
    from app import create_app

    return create_app("production" if os.environ.get("SECRET_KEY") else "development",
                      SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})


def prepare(url: str) -> tuple[int, list[int]]:
    """Migrate if needed and make sure the bench warehouse and products exist."""
    from flask_migrate import upgrade
    from sqlalchemy import delete, inspect, select, update

    from app.extensions import db
    from app.models import (Category, Organisation, Product, Region, StockBalance, StockLot, StockMovement,
                            StockReservation, Warehouse)

    app = _app(url)
    with app.app_context():
        if not inspect(db.engine).has_table("alembic_version"):
            upgrade()
        warehouse = db.session.scalar(select(Warehouse).where(Warehouse.code == "BENCH"))
        if warehouse is None:
            region = Region(code="BENCH", name="基准", level=1, path="/")
            owner = Organisation(kind="dealer", code="BENCH-ORG", name="基准测试经销商")
            category = Category(code="BENCH", name_zh="基准", name_en="Bench")
            db.session.add_all([region, owner, category])
            db.session.flush()
            warehouse = Warehouse(code="BENCH", name="基准仓", owner_id=owner.id, region_id=region.id)
            db.session.add(warehouse)
            db.session.flush()
            expiry = date.today() + timedelta(days=3650)
            for n in range(PRODUCTS):
                product = Product(code=f"BENCH-{n:04d}", name_zh=f"基准商品{n}", name_en=f"Bench {n}",
                                  category_id=category.id, status="active", shelf_life_days=3650)
                db.session.add(product)
                db.session.flush()
                lot = StockLot(warehouse_id=warehouse.id, product_id=product.id, batch_no="BENCH", expiry_date=expiry,
                               on_hand=STOCK)
                db.session.add(lot)
                db.session.flush()
                db.session.add(StockBalance(warehouse_id=warehouse.id, product_id=product.id, on_hand=STOCK, reserved=0))
                db.session.flush()  # before its ledger line, which refers to it
                db.session.add(StockMovement(warehouse_id=warehouse.id, product_id=product.id, lot_id=lot.id,
                                             kind="receipt", on_hand_delta=STOCK, document="bench"))
        # Start each run from the same state: nothing reserved by earlier runs.
        db.session.execute(delete(StockReservation).where(StockReservation.warehouse_id == warehouse.id))
        db.session.execute(delete(StockMovement).where(StockMovement.warehouse_id == warehouse.id,
                                                       StockMovement.kind == "reserve"))
        db.session.execute(update(StockBalance).where(StockBalance.warehouse_id == warehouse.id).values(reserved=0))
        db.session.commit()
        # ... and without the dead row versions and stale statistics of earlier slices (autovacuum
        # may be off, or too slow for a bench that rewrites these rows thousands of times a second)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE) stock_balances, stock_reservations, stock_movements")
        product_ids = list(db.session.scalars(select(StockBalance.product_id).where(
            StockBalance.warehouse_id == warehouse.id)))
        return warehouse.id, product_ids


def _backend_cpu(pid: int) -> float:
    """CPU seconds the PostgreSQL backend `pid` used so far (0 when the server is not on this machine)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def service_client(url, warehouse_id, product_ids, seconds, barrier, results, seed):
    from app.extensions import db
    from app.services.inventory.reservations import reserve_stock

    rng = random.Random(seed)
    app = _app(url)
    far = {p: date.today() + timedelta(days=1) for p in product_ids}
    with app.app_context():
        backend = db.session.execute(db.text("SELECT pg_backend_pid()")).scalar()
        db.session.commit()
        barrier.wait()
        count, end, cpu, server = 0, time.perf_counter() + seconds, time.process_time(), _backend_cpu(backend)
        while time.perf_counter() < end:
            product_id = rng.choice(product_ids)
            reserve_stock(warehouse_id, {product_id: 1}, document=f"bench:{seed}:{count}",
                          min_expiry={product_id: far[product_id]}, actor_id=None)
            db.session.commit()
            count += 1
        results.put((count, time.process_time() - cpu, _backend_cpu(backend) - server))


def bare_client(url, warehouse_id, product_ids, seconds, barrier, results, seed):
    import psycopg

    rng = random.Random(seed)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        backend = conn.info.backend_pid
        barrier.wait()
        count, end, cpu, server = 0, time.perf_counter() + seconds, time.process_time(), _backend_cpu(backend)
        while time.perf_counter() < end:
            cursor = conn.execute("UPDATE stock_balances SET reserved = reserved + 1 WHERE warehouse_id = %s "
                                  "AND product_id = %s AND on_hand - reserved >= 1",
                                  (warehouse_id, rng.choice(product_ids)))
            assert cursor.rowcount == 1
            conn.commit()
            count += 1
        results.put((count, time.process_time() - cpu, _backend_cpu(backend) - server))


def run(target, url, warehouse_id, product_ids, clients, seconds) -> tuple[int, float, float]:
    """(operations, client CPU seconds, their backends' CPU seconds) of `clients` processes
    running `target` for `seconds`."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(clients + 1), ctx.Queue()
    processes = [ctx.Process(target=target, args=(url, warehouse_id, product_ids, seconds, barrier, results, n))
                 for n in range(clients)]
    for p in processes:
        p.start()
    barrier.wait()
    outcomes = [results.get(timeout=seconds + 120) for _ in processes]
    for p in processes:
        p.join()
    return tuple(sum(column) for column in zip(*outcomes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15, help="per side (bare, service), all rounds together")
    parser.add_argument("--rounds", type=int, default=3, help="bare/service alternations")
    parser.add_argument("--checkout", help="run the service from this checkout of the project")
    args = parser.parse_args()
    if args.checkout:
        sys.path[0] = os.path.abspath(args.checkout)
    raw = os.environ.get("DATABASE_URL", "")
    if not raw.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database of the benchmark's own.")
    from app.config import database_url

    url = database_url(raw)
    warehouse_id, product_ids = prepare(url)
    done = {bare_client: [0, 0.0, 0.0], service_client: [0, 0.0, 0.0]}
    for _ in range(args.rounds):
        for target in (bare_client, service_client):
            outcome = run(target, url, warehouse_id, product_ids, args.clients, args.seconds / args.rounds)
            done[target] = [a + b for a, b in zip(done[target], outcome)]
            prepare(url)
    (bare, bare_cpu, bare_server), (service, service_cpu, service_server) = done[bare_client], done[service_client]
    print(f"PostgreSQL, {args.clients} concurrent clients, {args.seconds:g} s each in {args.rounds} alternating "
          f"rounds, {len(product_ids)} products, {os.cpu_count()} CPU(s), service from {sys.path[0]}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"bare conditional UPDATE + COMMIT : {bare / args.seconds:10.0f} /s  {1000 * bare_cpu / bare:6.3f} ms client "
          f"CPU each, {1000 * bare_server / bare:6.3f} ms PostgreSQL backend CPU")
    print(f"reserve_stock (service) + COMMIT : {service / args.seconds:10.0f} /s  "
          f"{1000 * service_cpu / service:6.3f} ms client CPU each, {1000 * service_server / service:6.3f} ms PostgreSQL "
          f"backend CPU")
    print(f"ratio service / bare             : {service / bare:10.2f}")


if __name__ == "__main__":
    main()
