"""The simulated month behind bench/approval_month.py: preparing the copy of the demo database,
simulated time (office hours, departures), and replaying orders through the real services.
See approval_month.py for what is simulated and why."""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.services.core.clock import LOCAL

SHIFT = timedelta(days=35)  # five weeks: weekdays stay weekdays, and the demo's last in-flight events are past
OFFICE_OPEN, OFFICE_CLOSE = (8, 30), (18, 0)
SUNDAY = 6
LEAN_SHARE = 0.05
SEED = 20261124


# --- simulated time ------------------------------------------------------------------------------

def _at(day: datetime, hm: tuple[int, int]) -> datetime:
    return day.replace(hour=hm[0], minute=hm[1], second=0, microsecond=0)


def next_office_time(at: datetime) -> datetime:
    """`at`, or the next moment a desk is staffed (Mon–Sat 08:30–18:00, Asia/Shanghai)."""
    local = at.astimezone(LOCAL)
    while True:
        if local.weekday() != SUNDAY:
            if local < _at(local, OFFICE_OPEN):
                return _at(local, OFFICE_OPEN)
            if local < _at(local, OFFICE_CLOSE):
                return local
        local = _at(local + timedelta(days=1), (0, 0))


def add_office_hours(at: datetime, hours: float) -> datetime:
    local, left = next_office_time(at), timedelta(hours=hours)
    while True:
        room = _at(local, OFFICE_CLOSE) - local
        if left <= room:
            return local + left
        left -= room
        local = next_office_time(_at(local + timedelta(days=1), (0, 0)))


def next_departure(at: datetime, leaves: tuple[int, int], cutoff: tuple[int, int]) -> datetime:
    """The first departure (a working day at `leaves`) taking an order approved at `at`: the
    same day when approved before `cutoff`, else the next working day."""
    local = at.astimezone(LOCAL)
    day = local if local < _at(local, cutoff) else local + timedelta(days=1)
    while day.weekday() == SUNDAY:
        day += timedelta(days=1)
    return _at(day, leaves)


# --- preparing the copy --------------------------------------------------------------------------

def settle_history(db, text) -> int:
    """A paid invoice for every past order a dealer placed with the brand."""
    return db.session.execute(text("""
        INSERT INTO invoices (number, order_id, seller_id, buyer_id, total_fen, tax_fen, paid_fen, status, issued_at, due_on)
        SELECT 'HIST' || o.id, o.id, o.seller_id, o.buyer_id, o.total_fen, o.tax_fen, o.total_fen, 'paid', o.created_at,
               CAST(o.created_at + interval '30 days' AS date)
        FROM orders o JOIN organisations b ON b.id = o.buyer_id
        WHERE b.kind = 'dealer' AND o.status IN ('approved', 'picking', 'partly_shipped', 'shipped', 'delivered', 'completed')
          AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = o.id)""")).rowcount


def make_warehouses(db, text) -> int:
    """A default warehouse for each seller without one, and every warehouse's weekly target per
    product: the level the demo left it at, or for a new warehouse 1.5–3 weeks of recent demand."""
    db.session.execute(text("SELECT setseed(0.4242)"))
    db.session.execute(text("""
        CREATE TABLE bench_sim_demand AS
        SELECT o.seller_id, l.product_id, sum(l.qty) / 8.0 AS weekly
        FROM orders o JOIN order_lines l ON l.order_id = o.id
        WHERE o.created_at >= now() - interval '56 days' AND o.status NOT IN ('cancelled', 'rejected')
        GROUP BY o.seller_id, l.product_id"""))
    made = db.session.execute(text("""
        INSERT INTO warehouses (code, name, owner_id, region_id, address, is_default, active, created_at)
        SELECT 'SIM' || org.id, left(org.name, 60) || '仓', org.id, COALESCE(org.region_id, (SELECT min(id) FROM regions)),
               '', true, true, now()
        FROM organisations org
        WHERE org.id IN (SELECT DISTINCT seller_id FROM bench_sim_demand)
          AND NOT EXISTS (SELECT 1 FROM warehouses w WHERE w.owner_id = org.id AND w.active)""")).rowcount
    db.session.execute(text("""
        CREATE TABLE bench_sim_targets AS
        SELECT b.warehouse_id, b.product_id, b.on_hand AS target
        FROM stock_balances b JOIN warehouses w ON w.id = b.warehouse_id
        WHERE w.active AND b.on_hand > 0"""))
    db.session.execute(text("CREATE TABLE bench_sim_backorders (warehouse_id integer, product_id integer, qty integer)"))
    db.session.execute(text(f"""
        INSERT INTO bench_sim_targets (warehouse_id, product_id, target)
        SELECT w.id, d.product_id,
               CEIL(d.weekly * CASE WHEN random() < {LEAN_SHARE} THEN 0.8 + random() * 0.4 ELSE 1.5 + random() * 1.5 END)
        FROM bench_sim_demand d JOIN warehouses w ON w.owner_id = d.seller_id AND w.code = 'SIM' || d.seller_id"""))
    return made


def top_up(db, text, week: int, at: datetime, backorders: dict[tuple[int, int], int]) -> int:
    """The weekly delivery: every warehouse back to its target, product by product, plus what the
    orders waiting for stock need (`backorders`: {(warehouse_id, product_id): qty}), in the ledger
    (a new lot, the balance and a receipt movement for each line received)."""
    db.session.execute(text("DELETE FROM bench_sim_backorders"))
    if backorders:
        db.session.execute(text("INSERT INTO bench_sim_backorders (warehouse_id, product_id, qty) VALUES (:w, :p, :q)"),
                           [{"w": w, "p": p, "q": q} for (w, p), q in backorders.items()])
    return db.session.execute(text("""
        WITH wanted AS (
            SELECT warehouse_id, product_id, sum(qty) AS qty FROM (
                SELECT warehouse_id, product_id, target AS qty FROM bench_sim_targets
                UNION ALL SELECT warehouse_id, product_id, qty FROM bench_sim_backorders) w
            GROUP BY warehouse_id, product_id),
        need AS (
            SELECT t.warehouse_id, t.product_id, t.qty - COALESCE(b.on_hand - b.reserved, 0) AS qty,
                   GREATEST(p.shelf_life_days, 90) AS shelf
            FROM wanted t JOIN products p ON p.id = t.product_id
            LEFT JOIN stock_balances b ON b.warehouse_id = t.warehouse_id AND b.product_id = t.product_id
            WHERE t.qty > COALESCE(b.on_hand - b.reserved, 0)),
        lots AS (
            INSERT INTO stock_lots (warehouse_id, product_id, batch_no, production_date, expiry_date, on_hand, received_at)
            SELECT warehouse_id, product_id, 'SIM-W' || :week, CAST(:at AS date), CAST(:at AS date) + shelf, qty, :at
            FROM need RETURNING id, warehouse_id, product_id, on_hand),
        balances AS (
            INSERT INTO stock_balances (warehouse_id, product_id, on_hand, reserved, updated_at)
            SELECT warehouse_id, product_id, on_hand, 0, :at FROM lots
            ON CONFLICT (warehouse_id, product_id)
            DO UPDATE SET on_hand = stock_balances.on_hand + excluded.on_hand, updated_at = excluded.updated_at
            RETURNING 1)
        INSERT INTO stock_movements (at, warehouse_id, product_id, lot_id, kind, on_hand_delta, reserved_delta,
                                     actor_id, reason, document)
        SELECT :at, warehouse_id, product_id, id, 'receipt', on_hand, 0, NULL, '模拟每周到货', 'bench:week' || :week
        FROM lots"""), {"week": week, "at": at}).rowcount


# --- the month -----------------------------------------------------------------------------------

@dataclass
class Waiting:
    """A held order whose stock was still short when a person looked: it waits for the next
    weekly delivery."""

    order_id: int
    row: object
    buyer_user: int
    times: dict


def _in_sample(key: int, share: float) -> bool:
    return share >= 1 or random.Random(f"{SEED}:{key}").random() < share


class Month:
    """Replays the source window's orders week by week: the weekly delivery, then the orders
    waiting for it, then the week's new orders in the order they were placed."""

    def __init__(self, db, text, sample: float, limit: int | None):
        from sqlalchemy import select

        from app.models import Organisation, Product, User

        self.db, self.text, self.rng = db, text, random.Random(SEED)
        today = datetime.now(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
        self.source_start, self.source_end = today - timedelta(days=30), today
        self.sim_start = self.source_start + SHIFT
        self.kinds = dict(db.session.execute(select(Organisation.id, Organisation.kind)).all())
        rows = db.session.execute(text("""
            SELECT o.id, o.buyer_id, o.seller_id, o.placed_by_id, o.channel, o.created_at
            FROM orders o WHERE o.created_at >= :start AND o.created_at < :end ORDER BY o.created_at, o.id"""),
            {"start": self.source_start, "end": self.source_end}).all()
        # Sample whole dealers (their retailers' orders and their own replenishment), so each
        # sampled warehouse sees its full demand; retailers the brand serves, by retailer.
        picked = [r for r in rows if _in_sample(r.seller_id if self.kinds.get(r.seller_id) == "dealer" else r.buyer_id,
                                                sample)]
        self.orders = picked[:limit] if limit else picked
        self.source_count = len(rows)
        self.person, self.first_user = {}, {}
        for org_id, user_id, role in db.session.execute(select(User.org_id, User.id, User.role).where(
                User.role.in_(("dealer", "admin", "retailer"))).order_by(User.id)).all():
            if role in ("dealer", "admin"):
                self.person.setdefault(org_id, user_id)  # who decides at each seller's desk
            if role in ("dealer", "retailer"):
                self.first_user.setdefault(org_id, user_id)
        self.products = {p.id: p for p in db.session.scalars(select(Product))}
        self.users, self.orgs = User, Organisation
        self.review_seconds: Counter = Counter()
        self.reviewed: Counter = Counter()
        self.submit_seconds = 0.0
        self.outcomes: Counter = Counter()
        self.decisions: Counter = Counter()
        self.skipped = 0
        self.waiting: list[Waiting] = []

    def buyer_kind(self, row) -> str:
        return "replenishment" if self.kinds.get(row.buyer_id) == "dealer" else "retail"

    def lines_of(self, order_ids: list[int]) -> dict[int, list[tuple[int, int]]]:
        found: dict[int, list[tuple[int, int]]] = {}
        for order_id, product_id, qty in self.db.session.execute(self.text(
                "SELECT order_id, product_id, qty FROM order_lines WHERE order_id = ANY(:ids) ORDER BY id"),
                {"ids": order_ids}):
            found.setdefault(order_id, []).append((product_id, qty))
        return found

    def run(self) -> None:
        started = time.perf_counter()
        by_week: dict[int, list] = {}
        for row in self.orders:
            by_week.setdefault(((row.created_at + SHIFT) - self.sim_start).days // 7, []).append(row)
        done = 0
        for week in range(0, max(by_week, default=0) + 2):
            week_start = self.sim_start + timedelta(days=7 * week)
            received = top_up(self.db, self.text, week, week_start, self.backorders())
            self.db.session.commit()
            self.release_waiting(week_start)
            rows = by_week.get(week, [])
            for start in range(0, len(rows), 500):
                chunk = rows[start:start + 500]
                lines = self.lines_of([r.id for r in chunk])
                for row in chunk:
                    self.replay(row, lines.get(row.id, []))
            done += len(rows)
            if rows or received:
                reviews = sum(self.reviewed.values())
                print(f"  week {week}: {received:>7,} lines received, {len(rows):>6,} orders "
                      f"({done:,} / {len(self.orders):,}), {time.perf_counter() - started:7.0f} s, "
                      f"review {reviews / max(sum(self.review_seconds.values()), 1e-9):5.1f} orders/s", flush=True)

    def replay(self, row, lines: list[tuple[int, int]]) -> None:
        from app.services.approval import automatic as approval
        from app.services.ordering import cart
        from app.services.ordering import orders as ordering
        from app.services.core.errors import DomainError

        db = self.db
        submitted_at = row.created_at.astimezone(LOCAL) + SHIFT
        owner_id = row.placed_by_id or self.first_user.get(row.buyer_id)
        owner = db.session.get(self.users, owner_id) if owner_id else None
        buyer = db.session.get(self.orgs, row.buyer_id)
        wanted = [(self.products[pid], qty) for pid, qty in lines if pid in self.products]
        if owner is None or not wanted:
            self.skipped += 1
            return
        try:
            if not cart.refill_cart(owner, buyer, wanted).added:
                raise DomainError("nothing orderable")
            t0 = time.perf_counter()
            submission = ordering.submit_order(owner, buyer, f"bench-month-{row.id}", None, accept_changes=True,
                                               channel=row.channel)
            t1 = time.perf_counter()
            review = approval.auto_review(submission.order.id)
            t2 = time.perf_counter()
            db.session.commit()
        except DomainError:
            db.session.rollback()
            self.skipped += 1
            return
        kind = self.buyer_kind(row)
        self.submit_seconds += t1 - t0
        self.review_seconds[kind] += t2 - t1
        self.reviewed[kind] += 1
        self.outcomes[review.outcome] += 1
        times = {"submitted": submitted_at}
        reviewed_at = submitted_at + timedelta(seconds=t2 - t0)
        if review.outcome == "approved":
            times["approved"] = reviewed_at
        elif review.outcome == "held":
            times["on_hold"] = reviewed_at
            self.decide(submission.order.id, row, owner.id, times, add_office_hours(reviewed_at,
                                                                                  self.rng.uniform(0.5, 3.0)))
            return
        self.finish(submission.order.id, row, owner.id, times)

    def decide(self, order_id: int, row, buyer_user: int, times: dict, at: datetime, last_try: bool = False) -> None:
        """A person approves the held order; when the stock is still short it waits for the next
        weekly delivery, and is rejected if even that does not cover it."""
        from app.services.ordering import lifecycle
        from app.services.inventory import StockShortage

        person = self.person.get(row.seller_id)
        try:
            with self.db.session.begin_nested():
                lifecycle.transition(order_id, "approved", person, "")
        except StockShortage:
            if not last_try:
                self.waiting.append(Waiting(order_id, row, buyer_user, times))
                self.db.session.commit()
                return
            lifecycle.transition(order_id, "rejected", person, "库存不足")
            times["rejected"] = at
            self.decisions["rejected: stock short after the next delivery"] += 1
            self.finish(order_id, row, buyer_user, times)
            return
        times["approved"] = at
        self.decisions["approved by a person after the next delivery" if last_try else "approved by a person"] += 1
        self.finish(order_id, row, buyer_user, times)

    def backorders(self) -> dict[tuple[int, int], int]:
        """What the orders waiting for stock need, per (seller's default warehouse, product)."""
        from sqlalchemy import select

        from app.models import OrderLine
        from app.services.inventory.orders import default_warehouse

        need: dict[tuple[int, int], int] = {}
        for item in self.waiting:
            warehouse = default_warehouse(item.row.seller_id)
            for product_id, qty in self.db.session.execute(select(OrderLine.product_id, OrderLine.qty)
                                                           .where(OrderLine.order_id == item.order_id)):
                key = (warehouse.id, product_id)
                need[key] = need.get(key, 0) + qty
        return need

    def release_waiting(self, week_start: datetime) -> None:
        waiting, self.waiting = self.waiting, []
        for item in waiting:
            at = add_office_hours(week_start, self.rng.uniform(0.5, 3.0))
            self.decide(item.order_id, item.row, item.buyer_user, item.times, at, last_try=True)

    def finish(self, order_id: int, row, buyer_user: int, times: dict) -> None:
        """Ship and deliver an approved order in simulated time, then date its events."""
        from sqlalchemy import bindparam, select, update

        from app.models import OrderEvent, OrderLine
        from app.models.approval import OrderReviewReason
        from app.services.ordering import lifecycle
        from app.services.inventory import ship_order_lines

        db, rng = self.db, self.rng
        person = self.person.get(row.seller_id)
        if "approved" in times:
            brand_sells = self.kinds.get(row.seller_id) == "brand"
            leaves = next_departure(times["approved"], (10, 0) if brand_sells else (9, 0),
                                    (8, 0) if brand_sells else (8, 30))
            times["shipped"] = leaves
            times["delivered"] = leaves + timedelta(hours=rng.uniform(20, 56) if brand_sells else rng.uniform(2, 8))
            if lifecycle.tracks_stock(row.seller_id):
                quantities = dict(db.session.execute(
                    select(OrderLine.product_id, OrderLine.qty).where(OrderLine.order_id == order_id)).all())
                ship_order_lines(order_id, quantities, person)
            lifecycle.transition(order_id, "shipped", person, "")
            lifecycle.transition(order_id, "delivered", buyer_user, "")
        events = OrderEvent.__table__
        db.session.execute(update(events).where(events.c.order_id == order_id, events.c.to_status == bindparam("status"))
                           .values(at=bindparam("at")), [{"status": s, "at": at} for s, at in times.items()])
        db.session.execute(self.text("UPDATE orders SET created_at = :at, updated_at = :last WHERE id = :id"),
                           {"at": times["submitted"], "last": max(times.values()), "id": order_id})
        if "on_hold" in times:
            db.session.execute(update(OrderReviewReason).where(OrderReviewReason.order_id == order_id)
                               .values(created_at=times["on_hold"]))
        db.session.commit()
