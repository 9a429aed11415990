"""Benchmark: the automatic approval rate and the order cycle time over a simulated month on the
full demo data, and the throughput of the automatic review.

    .venv/bin/python bench/approval_month.py [--source lianying_bench] [--copy lianying_bench_j1]
                                             [--sample 0.25] [--quantity-factor 3] [--limit N] [--keep]

Everything happens in a COPY of the source database (`createdb -T`, which needs nobody connected
to the source); the source is never written and the copy is dropped at the end unless --keep.

1. Checks the source holds the full demo data (≥ 100,000 retailers and ≥ 1,000,000 orders; a
   smaller database is used all the same, with a warning), clones and migrates it.
2. Prepares in the copy what the demo history lacks for a month of trading:
   - the history is settled: a paid invoice for every past order the dealers placed with the brand
     (the demo data has no invoices, so two years of completed orders would count as open credit
     exposure and hold every replenishment order for its credit limit);
   - weekly deliveries: at the start of each simulated week every warehouse is topped up, product
     by product, to the level the demo data left it at (the demo's stock step builds realistic
     levels, some lines low), plus what the orders waiting for stock need (the seller orders the
     shortfall); a seller without any warehouse gets one, with 1.5–3 weeks of its recent demand
     (one product line in twenty kept lean at about one week).
3. Replays the last 30 days of demo orders five weeks later (same weekdays): the same buyers
   (retailers, orders reps placed for them, dealers' replenishment), products and quantities,
   through the real services: the cart (cart.refill_cart), checkout (ordering.submit_order) and the
   automatic review (approval.auto_review), which is timed. `--sample` replays the orders of that
   share of the dealers (their retailers' orders and their own replenishment, so each sampled
   warehouse sees its whole demand) and of the retailers the brand serves.
4. Moves each order on in simulated time: a held order is decided by a person in office hours
   (Mon–Sat 08:30–18:00) 0.5–3 h after it is held and approved; if its stock is still short it
   waits for the next weekly delivery (which brings the shortfall) and is approved then. A dealer's van leaves at 09:00 on working days with the orders approved before 08:30
   and delivers 2–8 h later; the brand ships replenishment at 10:00 on working days (orders
   approved before 08:00) and delivers 20–56 h later. Stock is reserved at approval and taken out
   at shipping through the inventory services (first expiry first out); the events get the
   simulated times.
5. Prints the report for the simulated month (app.services.approval.reports) for all orders and by
   seller kind: automatic approval rate, median and 90th-percentile time from submit to delivery,
   share delivered within 48 h, hold reasons; and the automatic review's throughput.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sh(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True)


def clone(source: str, copy: str, host: str, user: str) -> None:
    if copy == source or not copy.startswith("lianying_bench_"):
        sys.exit(f"refusing to (re)create {copy!r}: the copy must be named lianying_bench_<something>")
    sh("dropdb", "--if-exists", "--force", "-h", host, "-U", user, copy)
    started = time.perf_counter()
    while True:  # cloning needs the source to be idle: wait up to 20 minutes for other sessions to end
        made = sh("createdb", "-h", host, "-U", user, "-T", source, copy)
        if made.returncode == 0:
            break
        if "being accessed by other users" not in made.stderr or time.perf_counter() - started > 1200:
            sys.exit(f"could not clone {source}: {made.stderr.strip()}")
        time.sleep(5)
    print(f"cloned {source} → {copy} in {time.perf_counter() - started:.1f} s")


def make_app(url: str):
    from app import create_app

    return create_app("production" if os.environ.get("SECRET_KEY") else "development",
                      SQLALCHEMY_DATABASE_URI=url, REDIS_URL=None, MAIL_SERVER=None)


def print_report(report, title: str) -> None:
    from app.services.approval.automatic import REASON_LABELS

    rate = f"{report.auto_rate * 100:.1f}%" if report.auto_rate is not None else "—"
    print(f"\n{title}")
    print(f"  submitted {report.submitted:,}: automatic {report.auto_approved:,} ({rate}), by a person "
          f"{report.approved_by_person:,}, held {report.held:,}, rejected {report.rejected:,}, waiting {report.waiting:,}")
    if report.delivered:
        print(f"  delivered {report.delivered:,}: median {report.median_hours:.1f} h, 90th percentile "
              f"{report.p90_hours:.1f} h, within 48 h {report.within_target_rate * 100:.1f}%")
    for code, count in report.reasons:
        print(f"  held for {code} ({REASON_LABELS.get(code, code)}): {count:,}")


def simulate(url: str, args) -> int:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db
    from app.services.approval import automatic as approval
    from app.services.approval.reports import approval_report
    from bench.month_sim import SHIFT, Month, make_warehouses, settle_history

    app = make_app(url)
    with app.app_context(), app.test_request_context():
        started = time.perf_counter()
        upgrade()
        settled = settle_history(db, text)
        warehouses = make_warehouses(db, text)
        if args.quantity_factor is not None:
            from app.models import User

            admin = db.session.scalar(db.select(User).where(User.role == "admin").order_by(User.id))
            policy = approval.current_policy()
            values = {name: getattr(policy, name) for name in approval.POLICY_FIELDS}
            approval.update_policy(admin, **dict(values, quantity_factor_pct=round(args.quantity_factor * 100)))
        db.session.commit()
        policy = approval.current_policy()
        print(f"prepared in {time.perf_counter() - started:.1f} s: {settled:,} past dealer orders settled, "
              f"{warehouses:,} warehouses made; rules: quantity factor {policy.quantity_factor_pct / 100:g}×, "
              f"{policy.quantity_window_days} days, at least {policy.quantity_min_orders} past orders")

        month = Month(db, text, args.sample, args.limit)
        print(f"replaying {len(month.orders):,} of the {month.source_count:,} orders of "
              f"{month.source_start:%Y-%m-%d} – {month.source_end - timedelta(days=1):%Y-%m-%d} "
              f"(sample {args.sample:g}), five weeks later")
        started = time.perf_counter()
        month.run()
        wall = time.perf_counter() - started
        replayed = sum(month.outcomes.values())
        print(f"\nreplayed {replayed:,} orders in {wall:.0f} s ({month.skipped:,} skipped: nothing orderable any more)")
        for kind, count in month.reviewed.items():
            seconds = month.review_seconds[kind]
            print(f"automatic review, {kind} orders: {count / seconds:.1f} orders/s ({seconds / count * 1000:.1f} ms each, "
                  f"one process)")
        total = sum(month.review_seconds.values())
        print(f"automatic review, all: {replayed / total:.1f} orders/s; checkout before it "
              f"{month.submit_seconds / replayed * 1000:.1f} ms per order")
        print(f"review outcomes: {dict(month.outcomes)}; held orders: {dict(month.decisions)}")
        first, last = month.sim_start.date(), (month.sim_start + timedelta(days=29)).date()
        print_report(approval_report(first, last), f"simulated month {first} – {last}, all orders")
        print_report(approval_report(first, last, "dealer"), "orders sold by dealers (retailers' orders)")
        print_report(approval_report(first, last, "brand"), "orders sold by the brand (dealers' replenishment, "
                                                              "retailers the brand serves)")
        assert SHIFT.days % 7 == 0
        db.session.remove()
        db.engine.dispose()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="lianying_bench")
    parser.add_argument("--copy", default="lianying_bench_j1")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--sample", type=float, default=0.25, help="share of the dealers (and brand-served "
                                                                    "retailers) whose orders are replayed")
    parser.add_argument("--quantity-factor", type=float, default=None, help="set the rule's factor (default 3)")
    parser.add_argument("--limit", type=int, default=None, help="replay at most this many orders")
    parser.add_argument("--keep", action="store_true", help="keep the copy afterwards")
    args = parser.parse_args()

    import psycopg

    with psycopg.connect(f"postgresql://{args.user}@{args.host}:5432/{args.source}") as connection:
        retailers, orders = connection.execute(
            "SELECT (SELECT count(*) FROM organisations WHERE kind = 'retailer'), (SELECT count(*) FROM orders)").fetchone()
    full = retailers >= 100_000 and orders >= 1_000_000
    print(f"source {args.source}: {retailers:,} retailers, {orders:,} orders"
          + ("" if full else "  (NOT the full demo data: figures are for a smaller set)"))
    clone(args.source, args.copy, args.host, args.user)
    try:
        return simulate(f"postgresql+psycopg://{args.user}@{args.host}:5432/{args.copy}", args)
    finally:
        if not args.keep:
            sh("dropdb", "--if-exists", "--force", "-h", args.host, "-U", args.user, args.copy)
            print(f"dropped {args.copy}")


if __name__ == "__main__":
    sys.exit(main())
