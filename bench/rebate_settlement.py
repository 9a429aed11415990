"""Benchmark: a dealer rebate settlement for 500 dealers over a quarter at full scale.

    .venv/bin/python bench/rebate_settlement.py [--database postgresql://postgres@127.0.0.1:5432/bench_rebates]

The full demo database has no rebate tables and is shared, so this builds its own: a database
(created and migrated when missing) holding only what a quarter of rebates reads, generated with
bulk SQL: the brand, 500 dealers (tiers A/B/C), 200 products in 10 categories, and per dealer 13
weekly replenishment orders of 12 lines (6,500 orders, 78,000 lines) with their invoices,
shipments, payments received and a return credit note on every twentieth order; the agreements of
the demo (one per tier) plus 50 dealers with a category agreement that excludes promoted volume.

Measured, in one transaction rolled back at the end (so the run can be repeated):
1. rebuild: the quarter's accruals computed from the documents (what the demo and a rebuild do);
2. run: the settlement run as of the quarter's last day (grouped accruals → drafts);
3. approve: every draft approved and posted (credit notes, balance credits).
Prints wall and CPU seconds per phase, the Python heap peak (tracemalloc) and the process's peak
RSS. Target: run ≤ 60 s and ≤ 300 MiB."""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchlib import create_bench_app  # noqa: E402

DEFAULT = "postgresql://postgres@127.0.0.1:5432/bench_rebates"
DEALERS, WEEKS, LINES, PRODUCTS = 500, 13, 12, 200

GENERATE = """
INSERT INTO organisations (kind, code, name, credit_limit_fen, payment_terms_days, active)
VALUES ('brand', 'BRAND', '联营品牌总部', 0, 0, true);
INSERT INTO organisations (kind, code, name, tier, credit_limit_fen, payment_terms_days, active)
SELECT 'dealer', 'BD' || lpad(g::text, 3, '0'), '经销商' || g, (ARRAY['A','B','B','C','C'])[1 + g % 5],
       100000000, 30, true FROM generate_series(1, :dealers) g;
INSERT INTO categories (code, name_zh, name_en, sort_order)
SELECT 'C' || g, '品类' || g, 'Category ' || g, g FROM generate_series(1, 10) g;
INSERT INTO products (code, category_id, name_zh, name_en, pinyin, spec, unit, pack_size, min_order_qty,
                      order_multiple, shelf_life_days, tax_rate, status, base_price_fen, image_version, updated_at)
SELECT 'P' || lpad(g::text, 4, '0'), (SELECT min(id) FROM categories) + g % 10, '商品' || g, 'Product ' || g, 'sp',
       '500ml×24', '箱', 24, 1, 1, 365, 13, 'active', 3000 + (g % 40) * 250, 1, now()
FROM generate_series(1, :products) g;
CREATE TEMP TABLE bench_dealers AS
SELECT row_number() OVER (ORDER BY id) - 1 AS k, id FROM organisations WHERE kind = 'dealer';
INSERT INTO orders (buyer_id, seller_id, channel, status, line_count, total_fen, tax_fen, note, idempotency_key,
                    created_at, updated_at)
SELECT d.id, (SELECT id FROM organisations WHERE kind = 'brand'), 'web', 'completed', :lines, 0, 0, '',
       'bench-' || g, t, t
FROM generate_series(0, :dealers * :weeks - 1) g
JOIN bench_dealers d ON d.k = g % :dealers
CROSS JOIN LATERAL (SELECT (:start)::timestamptz + ((g / :dealers) * 7 + g % 5) * interval '1 day'
                    + interval '10 hours' AS t) w;
INSERT INTO order_lines (order_id, product_id, qty, unit_price_fen, price_reason, tax_rate, line_total_fen, tax_fen)
SELECT o.id, p.id, q, p.base_price_fen, '', 13, q * p.base_price_fen, (q * p.base_price_fen * 13) / 113
FROM orders o CROSS JOIN generate_series(0, :lines - 1) k
CROSS JOIN LATERAL (SELECT 1 + (o.id + k * 7) % 30 AS q) qty
JOIN products p ON p.code = 'P' || lpad((1 + (o.id * 13 + k * 17) % :products)::text, 4, '0');
UPDATE orders o SET total_fen = s.t, tax_fen = s.x
FROM (SELECT order_id, sum(line_total_fen) t, sum(tax_fen) x FROM order_lines GROUP BY order_id) s WHERE s.order_id = o.id;
INSERT INTO invoices (number, order_id, seller_id, buyer_id, total_fen, tax_fen, paid_fen, status, issued_at)
SELECT 'INV' || o.id, o.id, o.seller_id, o.buyer_id, o.total_fen, o.tax_fen, o.total_fen, 'paid',
       o.created_at + interval '2 days' FROM orders o;
INSERT INTO shipments (order_id, seller_id, carrier, tracking_no, note, shipped_at, number)
SELECT o.id, o.seller_id, '品牌物流', '', '', o.created_at + interval '1 day', 'SH' || o.id FROM orders o;
INSERT INTO shipment_lines (shipment_id, order_line_id, product_id, qty)
SELECT s.id, l.id, l.product_id, l.qty FROM shipments s JOIN order_lines l ON l.order_id = s.order_id;
INSERT INTO payments (number, customer_id, seller_id, method, amount_fen, received_on, reference, note, recorded_at)
SELECT 'SK' || i.id, i.buyer_id, i.seller_id, 'bank_transfer', i.total_fen,
       least((i.issued_at AT TIME ZONE 'Asia/Shanghai')::date + 20, (:end)::date), '', '', now() FROM invoices i;
INSERT INTO payment_allocations (payment_id, invoice_id, amount_fen)
SELECT p.id, i.id, p.amount_fen FROM payments p JOIN invoices i ON 'SK' || i.id = p.number;
INSERT INTO credit_notes (number, customer_id, seller_id, order_id, invoice_id, reason, source_ref, note, amount_fen,
                          remaining_fen, issued_on, issued_at)
SELECT 'CN' || i.id, i.buyer_id, i.seller_id, i.order_id, i.id, 'return', '', '', i.total_fen / 10, i.total_fen / 10,
       (i.issued_at AT TIME ZONE 'Asia/Shanghai')::date + 5, i.issued_at + interval '5 days'
FROM invoices i WHERE i.order_id % 20 = 0;
"""


def generate(start: date, end: date) -> None:
    from sqlalchemy import text

    from app.extensions import db
    from app.models.rebates import RebateAgreement

    if db.session.scalar(text("SELECT count(*) FROM organisations")):
        return
    started = time.perf_counter()
    params = dict(dealers=DEALERS, weeks=WEEKS, lines=LINES, products=PRODUCTS, start=f"{start} 00:00+08",
                  end=end.isoformat())
    for statement in GENERATE.split(";\n"):
        if statement.strip():
            db.session.execute(text(statement), params)
    tiers = {"A": dict(period="year", basis="invoiced", mode="retroactive",
                       tiers=[[0, 100], [50_000_000, 200], [100_000_000, 300]], payout="credit_note"),
             "B": dict(period="quarter", basis="payments", mode="flat", rate_bp=150, payout="balance",
                       balance_share_pct=20),
             "C": dict(period="quarter", basis="cases", mode="per_case", per_case_fen=100, payout="balance",
                       balance_share_pct=10)}
    base = dict(scope="all", product_ids=[], category_ids=[], exclude_promoted=False, rate_bp=0, tiers=[],
                per_case_fen=0, balance_share_pct=0, starts_on=start, status="active")
    rows = [RebateAgreement(code=f"RB-{t}", name=f"{t} 级返利", dealer_tier=t, **{**base, **terms})
            for t, terms in tiers.items()]
    dealer_ids = db.session.scalars(text("SELECT id FROM organisations WHERE kind = 'dealer' ORDER BY id LIMIT 50")).all()
    first_category = db.session.scalar(text("SELECT min(id) FROM categories"))
    rows += [RebateAgreement(code=f"RB-D{d}", name="品类返利", dealer_id=d,
                             **{**base, "scope": "categories", "category_ids": [first_category],
                                "exclude_promoted": True, "period": "quarter", "basis": "invoiced",
                                "mode": "incremental", "tiers": [[0, 50], [5_000_000, 100]], "payout": "balance",
                                "balance_share_pct": 30}) for d in dealer_ids]
    db.session.add_all(rows)
    db.session.commit()
    print(f"generated the quarter's documents and {len(rows)} agreements in {time.perf_counter() - started:.1f} s")


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    listed = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc",
                             f"SELECT 1 FROM pg_database WHERE datname = '{name}'"], capture_output=True, text=True)
    if listed.stdout.strip() != "1":
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)


def phase(label: str, work):
    tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<10} {wall:7.2f} s wall {cpu:7.2f} s CPU  heap peak {peak / 2**20:6.1f} MiB  {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=DEFAULT)
    args = parser.parse_args()
    ensure_database(args.database)
    app = create_bench_app(args.database)
    with app.app_context(), app.test_request_context():
        from flask_migrate import upgrade
        from sqlalchemy import select

        from app.extensions import db
        from app.models import User
        from app.models.rebates import RebateSettlement
        from app.services.rebates import accruals, settlement
        from app.services.rebates.maths import period_bounds
        from app.services.core.clock import today_local

        upgrade()
        start, end = period_bounds("quarter", period_bounds("quarter", today_local())[0] - timedelta(days=1))
        generate(start, end)
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        if admin is None:
            from app.models import Organisation

            admin = User(username="bench-admin", password_hash="x", role="admin", permissions="marketing",
                         org_id=db.session.scalar(select(Organisation.id).where(Organisation.kind == "brand")))
            db.session.add(admin)
            db.session.commit()
        import os

        print(f"quarter {start} – {end}, {DEALERS} dealers; load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores (wall figures move with it, CPU figures do not)")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        phase("rebuild", lambda: f"{accruals.rebuild(start, end):,} accruals")
        run = phase("run", lambda: settlement.run_settlement(end, admin.id))
        ids = db.session.scalars(select(RebateSettlement.id).where(RebateSettlement.status == "draft")).all()
        phase("approve", lambda: [settlement.approve(admin, i) for i in ids] and f"{len(ids):,} approved")
        print(f"run: {run.drafted:,} drafts, {run.drafted_fen / 100:,.2f} yuan")
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
              f"(before the phases {rss_before / 1024:.0f} MiB)")
        db.session.rollback()


if __name__ == "__main__":
    main()
