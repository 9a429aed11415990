"""Daily stock snapshots (`StockSnapshot`) by day × warehouse × product, and their per-owner sums
(`StockSnapshotOwner`) that the channel report reads for stock-out days and days of supply.

- `snapshot_today()` copies the live balances (`stock_balances`) as the day's snapshot; the
  nightly facts refresh calls it, so each day from the first run on has the stock as the job found
  it (about 02:30 in Shanghai: the stock the previous day ended with, plus that night's changes).
- `backfill(first, last)` rebuilds past days from the stock ledger: the ledger is append-only and
  every change of a balance writes a movement (app/services/inventory/ledger.py), so a balance as
  a day ended is the sum of its movements before the next day began. A warehouse × product pair
  counts from its first movement on. It reaches back as far as the ledger does (the demo data
  keeps about fifteen weeks); before that, no snapshot.
Both replace whole days, so re-running any day or range changes nothing.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Date, case, delete, func, insert, literal, select

from app.extensions import db
from app.models import Product, StockBalance, StockMovement, Warehouse
from app.models.analytics import StockSnapshot, StockSnapshotOwner
from app.services.analytics.facts import day_bounds
from app.services.core.clock import today_local

COLUMNS = ("day", "warehouse_id", "product_id", "owner_id", "on_hand", "reserved", "available", "value_fen")


def _write(day: date, pairs) -> None:
    """Replace the day's snapshot by `pairs` (a subquery of warehouse_id, product_id, on_hand,
    reserved), and the day's per-owner sums."""
    db.session.execute(delete(StockSnapshot).where(StockSnapshot.day == day))
    query = (select(literal(day, Date), pairs.c.warehouse_id, pairs.c.product_id, Warehouse.owner_id, pairs.c.on_hand,
                    pairs.c.reserved, pairs.c.on_hand - pairs.c.reserved, pairs.c.on_hand * Product.base_price_fen)
             .join(Warehouse, Warehouse.id == pairs.c.warehouse_id)
             .join(Product, Product.id == pairs.c.product_id))
    db.session.execute(insert(StockSnapshot).from_select(COLUMNS, query))
    s = StockSnapshot
    db.session.execute(delete(StockSnapshotOwner).where(StockSnapshotOwner.day == day))
    sums = (select(s.day, s.owner_id, func.count(), func.sum(case((s.available <= 0, 1), else_=0)), func.sum(s.on_hand),
                   func.sum(s.available), func.sum(s.value_fen))
            .where(s.day == day).group_by(s.day, s.owner_id))
    db.session.execute(insert(StockSnapshotOwner).from_select(
        ("day", "owner_id", "pairs", "out_pairs", "on_hand", "available", "value_fen"), sums))


def snapshot_today(day: date | None = None) -> date:
    """Today's snapshot (Asia/Shanghai) from the live balances."""
    day = day or today_local()
    b = StockBalance
    _write(day, select(b.warehouse_id, b.product_id, b.on_hand, b.reserved).subquery("pairs"))
    return day


def backfill(first: date, last: date) -> int:
    """Rebuild the snapshots of the days `first`…`last` from the stock ledger; returns the days
    written."""
    if last < first:
        raise ValueError("the range ends before it starts")
    m = StockMovement
    day = first
    while day <= last:
        _start, end = day_bounds(day)
        pairs = (select(m.warehouse_id, m.product_id, func.sum(m.on_hand_delta).label("on_hand"),
                        func.sum(m.reserved_delta).label("reserved"))
                 .where(m.at < end).group_by(m.warehouse_id, m.product_id).subquery("pairs"))
        _write(day, pairs)
        day += timedelta(days=1)
    return (last - first).days + 1


def ledger_start() -> date | None:
    """The first business day the ledger holds a movement on."""
    from app.services.analytics.facts import local_day

    first = db.session.scalar(select(func.min(StockMovement.at)))
    return None if first is None else local_day(first)
