"""Safety-stock and near-expiry alerts (the scan the RQ job and `flask stock scan-alerts` run).

An alert is open while its condition holds, per warehouse, product and kind:
- low_stock: available (on hand − reserved, 0 when never stocked) ≤ the reorder point of a
  rule with a reorder point above 0;
- near_expiry: some lot with stock expires within the window (STOCK_EXPIRY_WINDOW_DAYS,
  default 30), or has expired.

A scan opens alerts whose condition appeared and resolves those whose condition went away.
Only an opening notifies (the warehouse owner's stock admins, or the dealer's users), so there
is one notice per product and warehouse until it recovers, however often the scan runs. Opening
is a conditional write (insert-if-absent, or reopen-if-closed) and the notice carries a dedupe
key (alert id and episode), so overlapping or repeated scans cannot notify twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import and_, func, select, update

from app.extensions import db
from app.models import Organisation, Product, ReorderRule, StockAlert, StockBalance, StockLot, Warehouse, utcnow
from app.services.inventory.ledger import insert_ignoring_conflicts
from app.services.notifications import Audience, Notice, Subject, notify_all
from app.services.core.clock import today_local

LOW, NEAR_EXPIRY = "low_stock", "near_expiry"
CHUNK = 1000


@dataclass
class ScanResult:
    opened: dict[str, int]
    resolved: int
    still_open: int
    notifications: int


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def low_stock_keys() -> set[tuple[int, int]]:
    available = func.coalesce(StockBalance.on_hand - StockBalance.reserved, 0)
    rows = db.session.execute(
        select(ReorderRule.warehouse_id, ReorderRule.product_id)
        .join(Warehouse, Warehouse.id == ReorderRule.warehouse_id)
        .outerjoin(StockBalance, and_(StockBalance.warehouse_id == ReorderRule.warehouse_id,
                                      StockBalance.product_id == ReorderRule.product_id))
        .where(Warehouse.active.is_(True), ReorderRule.reorder_point > 0, available <= ReorderRule.reorder_point))
    return set(map(tuple, rows))


def near_expiry_keys(until: date) -> set[tuple[int, int]]:
    rows = db.session.execute(
        select(StockLot.warehouse_id, StockLot.product_id).join(Warehouse, Warehouse.id == StockLot.warehouse_id)
        .where(Warehouse.active.is_(True), StockLot.on_hand > 0, StockLot.expiry_date <= until).distinct())
    return set(map(tuple, rows))


def _open_alerts(current: dict[str, set], now) -> list[tuple[int, int, int, str, int]]:
    """Open the alerts in `current` that are not open yet; (id, wh, product, kind, episode) of
    those this call opened (the rows whose opened_at is this scan's `now`)."""
    known = {(w, p, k): (i, is_open) for i, w, p, k, is_open in db.session.execute(
        select(StockAlert.id, StockAlert.warehouse_id, StockAlert.product_id, StockAlert.kind, StockAlert.is_open))}
    to_reopen, to_insert = [], []
    for kind, keys in current.items():
        for w, p in keys:
            entry = known.get((w, p, kind))
            if entry is None:
                to_insert.append(dict(warehouse_id=w, product_id=p, kind=kind, is_open=True, episode=1, opened_at=now))
            elif not entry[1]:
                to_reopen.append(entry[0])
    table = StockAlert.__table__
    for ids in _chunks(to_reopen):
        db.session.execute(update(table).where(table.c.id.in_(ids), table.c.is_open.is_(False))
                           .values(is_open=True, episode=table.c.episode + 1, opened_at=now, resolved_at=None))
    if to_insert:  # plain executemany (no RETURNING): one prepared statement, pipelined
        db.session.execute(insert_ignoring_conflicts(table), to_insert)
    if not (to_reopen or to_insert):
        return []
    return [tuple(row) for row in db.session.execute(
        select(table.c.id, table.c.warehouse_id, table.c.product_id, table.c.kind, table.c.episode)
        .where(table.c.opened_at == now, table.c.is_open.is_(True)))]


def _resolve_alerts(current: dict[str, set], now) -> int:
    open_rows = db.session.execute(select(StockAlert.id, StockAlert.warehouse_id, StockAlert.product_id,
                                          StockAlert.kind).where(StockAlert.is_open.is_(True))).all()
    gone = [i for i, w, p, k in open_rows if (w, p) not in current[k]]
    resolved = 0
    for ids in _chunks(gone):
        resolved += db.session.execute(
            update(StockAlert).where(StockAlert.id.in_(ids), StockAlert.is_open.is_(True))
            .values(is_open=False, resolved_at=now).execution_options(synchronize_session=False)).rowcount
    return resolved


def _notices(now, until: date) -> list[Notice]:
    """The notices for the alerts this scan opened (opened_at = now): two joined queries,
    whatever the number of alerts."""
    alert = StockAlert
    opened = and_(alert.opened_at == now, alert.is_open.is_(True))
    base = (select(alert.id, alert.episode, alert.warehouse_id, alert.product_id, Warehouse.name, Warehouse.owner_id,
                   Organisation.kind, Product.code + " " + Product.name_zh)
            .join(Warehouse, Warehouse.id == alert.warehouse_id)
            .join(Organisation, Organisation.id == Warehouse.owner_id)
            .join(Product, Product.id == alert.product_id))
    low = base.add_columns(func.coalesce(StockBalance.on_hand - StockBalance.reserved, 0), ReorderRule.reorder_point) \
        .join(ReorderRule, and_(ReorderRule.warehouse_id == alert.warehouse_id, ReorderRule.product_id == alert.product_id)) \
        .outerjoin(StockBalance, and_(StockBalance.warehouse_id == alert.warehouse_id,
                                      StockBalance.product_id == alert.product_id)) \
        .where(opened, alert.kind == LOW)
    lots = (select(StockLot.warehouse_id, StockLot.product_id, func.min(StockLot.expiry_date).label("first"),
                   func.sum(StockLot.on_hand).label("qty"))
            .where(StockLot.on_hand > 0, StockLot.expiry_date <= until)
            .group_by(StockLot.warehouse_id, StockLot.product_id).subquery())
    expiring = base.add_columns(lots.c.first, lots.c.qty) \
        .join(lots, and_(lots.c.warehouse_id == alert.warehouse_id, lots.c.product_id == alert.product_id)) \
        .where(opened, alert.kind == NEAR_EXPIRY)
    notices = []
    for kind, query in ((LOW, low), (NEAR_EXPIRY, expiring)):
        for alert_id, episode, w, p, warehouse_name, owner_id, owner_kind, product, x, y in db.session.execute(query):
            brand = owner_kind == "brand"
            audience = Audience(owner_id, "admin", "stock") if brand else Audience(owner_id, "dealer")
            place = f"{product} @ {warehouse_name}"
            if kind == LOW:
                params = {"what": place, "a": int(x or 0), "r": int(y or 0)}
            else:
                params = {"what": place, "q": int(y or 0), "d": str(x)}
            notices.append(Notice(audience, f"stock.{kind}", f"stock.{kind}", params, Subject("stock", p, w),
                                  f"stock-alert:{alert_id}:{episode}"))
    return notices


def scan_stock_alerts(today: date | None = None, expiry_window_days: int | None = None) -> ScanResult:
    """Open, resolve and notify; flushes (the caller commits)."""
    today = today or today_local()
    window = expiry_window_days if expiry_window_days is not None else current_app.config.get(
        "STOCK_EXPIRY_WINDOW_DAYS", 30)
    until = today + timedelta(days=window)
    current = {LOW: low_stock_keys(), NEAR_EXPIRY: near_expiry_keys(until)}
    now = utcnow()
    opened = _open_alerts(current, now)
    resolved = _resolve_alerts(current, now)
    created = notify_all(_notices(now, until)) if opened else []
    return ScanResult(opened={LOW: sum(1 for o in opened if o[3] == LOW),
                              NEAR_EXPIRY: sum(1 for o in opened if o[3] == NEAR_EXPIRY)},
                      resolved=resolved, still_open=sum(len(v) for v in current.values()),
                      notifications=len(created))
