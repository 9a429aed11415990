"""Invoice PDF benchmark (issue 5).

1. Warm worker: the time to build one 20-line invoice PDF (load the order, render the HTML,
   WeasyPrint with the CJK font embedded) after a first render, over --samples runs; the
   Python heap's peak during one render (tracemalloc) and the process's peak RSS.
2. With --redis-url: --orders shipped orders of --lines lines each get their invoice from
   --workers `flask worker --burst` processes (`--simple`: workers that do not fork a work
   horse per job); total wall time and invoices per second.

    .venv/bin/python bench/invoice_pdf.py                                   # part 1, SQLite
    .venv/bin/python bench/invoice_pdf.py --reset \\
        --database-url postgresql://postgres@127.0.0.1:5432/lianying_docs_bench \\
        --redis-url redis://127.0.0.1:6379/12                              # parts 1 and 2

--reset empties the given database (schema rebuilt by the migrations) and Redis db first;
without it the database must be empty. Use a database of your own, never a shared one.
"""
from __future__ import annotations

import argparse
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.config import database_url  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (Base, Category, Document, Invoice, Order, OrderLine, Organisation,  # noqa: E402
                        Product)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--simple", action="store_true", help="workers run jobs without forking (flask worker --simple)")
    return parser.parse_args()


def make_app(url: str, redis_url: str):
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(16))
    return create_app("production", SQLALCHEMY_DATABASE_URI=database_url(url), REDIS_URL=redis_url or None)


def prepare_database(app, reset: bool) -> None:
    with app.app_context():
        engine = db.engine
        tables = set(db.inspect(engine).get_table_names()) - {"alembic_version"}
        if tables and not reset:
            raise SystemExit("the database is not empty: pass --reset to rebuild it (your own database only)")
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"))
        else:
            Base.metadata.drop_all(engine)
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        from app.services.core.redis_conn import redis_connection

        connection = redis_connection()
        if connection is not None:
            connection.flushdb()


def make_parties_and_products(lines: int) -> tuple[int, int, list[tuple[int, int]]]:
    """A dealer, a retailer with 30-day terms, `lines` products at 13% and 9%."""
    dealer = Organisation(kind="dealer", code="BENCH-D", name="杭州联营食品经销有限公司", address="杭州市西湖区文三路 100 号",
                          phone="0571-88000000", contact_name="王经理")
    shop = Organisation(kind="retailer", code="BENCH-R", name="西湖区文一路便民小卖部", address="杭州市西湖区文一路 8 号",
                        phone="13900000000", contact_name="李老板", payment_terms_days=30)
    category = Category(code="BENCH", name_zh="饮料", name_en="Drinks")
    db.session.add_all([dealer, shop, category])
    db.session.flush()
    products = []
    for i in range(lines):
        rate = 13 if i % 3 else 9
        product = Product(code=f"BP{i:04d}", category_id=category.id, name_zh=f"农夫山泉茶π柠檬红茶 {i:02d} 号",
                          name_en=f"Tea {i}", spec="500ml×15", unit="箱", pack_size=15, tax_rate=rate,
                          status="active", base_price_fen=4500 + 35 * i)
        db.session.add(product)
        db.session.flush()
        products.append((product.id, rate))
    return dealer.id, shop.id, products


def add_orders(count: int, seller_id: int, buyer_id: int, products: list[tuple[int, int]], start: int) -> list[int]:
    """`count` shipped orders, every one with a line per product; bulk inserts."""
    order_ids = []
    line_rows = []
    for n in range(start, start + count):
        rows = []
        for i, (product_id, rate) in enumerate(products):
            qty, price = 1 + (n + i) % 9, 4500 + 35 * i
            gross = qty * price
            tax = (gross * rate * 2 + (100 + rate)) // ((100 + rate) * 2)
            rows.append(dict(product_id=product_id, qty=qty, unit_price_fen=price, tax_rate=rate,
                             line_total_fen=gross, tax_fen=tax, price_reason=""))
        order = Order(number=f"BENCH{n:07d}", buyer_id=buyer_id, seller_id=seller_id, status="shipped",
                      line_count=len(rows), total_fen=sum(r["line_total_fen"] for r in rows),
                      tax_fen=sum(r["tax_fen"] for r in rows))
        db.session.add(order)
        db.session.flush()
        order_ids.append(order.id)
        line_rows.extend(dict(r, order_id=order.id) for r in rows)
    db.session.execute(insert(OrderLine), line_rows)
    return order_ids


def warm_worker_figures(app, lines: int, samples: int) -> tuple[int, int, list[tuple[int, int]]]:
    from app.services.documents import pdf as document_pdf
    from app.services.documents import requests as documents
    from app.services.credit.invoicing import ensure_invoice

    with app.app_context():
        seller_id, buyer_id, products = make_parties_and_products(lines)
        [order_id] = add_orders(1, seller_id, buyer_id, products, start=0)
        ensure_invoice(order_id)
        document = documents.get_or_create_order_document(order_id, "invoice")
        db.session.commit()

        started = time.perf_counter()
        document_pdf.warm_up()
        data, _ = document_pdf.build_pdf(document)
        first = time.perf_counter() - started
        times, cpu_times = [], []
        for _ in range(samples):
            db.session.expire_all()  # each run loads the order again, as a job does
            started, cpu_started = time.perf_counter(), time.process_time()
            data, _ = document_pdf.build_pdf(document)
            times.append(time.perf_counter() - started)
            cpu_times.append(time.process_time() - cpu_started)
        tracemalloc.start()
        db.session.expire_all()
        document_pdf.build_pdf(document)
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        db.session.rollback()

    times.sort()
    print(f"warm worker, {lines}-line invoice PDF ({len(data) / 1024:.0f} KB), {samples} runs:")
    print(f"  first render (cold fonts): {first * 1000:.0f} ms")
    print(f"  min {times[0] * 1000:.0f} ms · median {statistics.median(times) * 1000:.0f} ms · p95 {times[int(len(times) * .95) - 1] * 1000:.0f} ms"
          f" · max {times[-1] * 1000:.0f} ms   (target ≤ 300 ms)")
    print(f"  CPU time per render: min {min(cpu_times) * 1000:.0f} ms · median {statistics.median(cpu_times) * 1000:.0f} ms"
          f" (wall above includes waiting for a busy machine; load average {os.getloadavg()[0]:.1f})")
    print(f"  peak Python heap during one render: {heap_peak / 2**20:.1f} MiB (tracemalloc)")
    print(f"  peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return seller_id, buyer_id, products


def queue_figures(app, args, seller_id: int, buyer_id: int, products) -> None:
    from app.services.documents import requests as documents

    with app.app_context():
        started = time.perf_counter()
        order_ids = add_orders(args.orders, seller_id, buyer_id, products, start=1)
        db.session.commit()
        print(f"\n{args.orders} shipped orders × {len(products)} lines created in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        for order_id in order_ids:
            documents.request_order_document(order_id, "invoice")
        db.session.commit()  # the jobs go to Redis after this commit
        print(f"  {args.orders} invoice jobs requested and enqueued in {time.perf_counter() - started:.1f} s")

    env = dict(os.environ, LIANYING_ENV="production", DATABASE_URL=args.database_url, REDIS_URL=args.redis_url)
    started = time.perf_counter()
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"] + (["--simple"] if args.simple else [])
    workers = [subprocess.Popen(command, cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for _ in range(args.workers)]
    for worker in workers:
        _, errors = worker.communicate()
        if worker.returncode != 0:
            raise SystemExit(errors.decode(errors="replace")[-3000:])
    wall = time.perf_counter() - started

    with app.app_context():
        batch = Document.order_id.in_(order_ids)
        ready = db.session.scalar(select(func.count(Document.id)).where(batch, Document.status == "ready"))
        failed = db.session.scalar(select(func.count(Document.id)).where(batch, Document.status != "ready"))
        invoices = db.session.scalar(select(func.count(Invoice.id)).where(Invoice.order_id.in_(order_ids)))
        numbers = db.session.scalar(select(func.count(func.distinct(Invoice.number)))
                                    .where(Invoice.order_id.in_(order_ids)))
        first_claim, last_ready = db.session.execute(
            select(func.min(Document.started_at), func.max(Document.ready_at)).where(batch)).one()
    busy = (last_ready - first_claim).total_seconds()
    children_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"  {args.workers} `flask {' '.join(command[5:])}` processes: {wall:.1f} s wall (start-up included), "
          f"{busy:.1f} s from first claim to last PDF")
    print(f"  → {args.orders / busy:.1f} invoices/s, {busy / args.orders * args.workers * 1000:.0f} ms per invoice per worker")
    print(f"  ready documents {ready} (not ready: {failed}), invoices {invoices}, distinct numbers {numbers}")
    print(f"  peak RSS of a worker process: {children_rss:.0f} MiB")


def main() -> None:
    args = parse_args()
    if args.redis_url and not args.database_url.startswith(("postgresql://", "postgres://")):
        raise SystemExit("the queue part needs --database-url of your own PostgreSQL database")
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-invoice-')}/bench.db"
    app = make_app(url, args.redis_url)
    prepare_database(app, reset=args.reset or not args.database_url)
    seller_id, buyer_id, products = warm_worker_figures(app, args.lines, args.samples)
    if args.redis_url:
        queue_figures(app, args, seller_id, buyer_id, products)


if __name__ == "__main__":
    main()
