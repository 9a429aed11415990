"""Read-only queries behind the stock pages, always narrowed to a StockScope."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select

from app.models import (Organisation, Product, ReorderRule, StockBalance, StockCount, StockLot, StockMovement,
                        Transfer, Warehouse)
from app.services.inventory.scope import StockScope
from app.services.core.clock import today_local


@dataclass(frozen=True)
class BalanceFilter:
    warehouse_id: int | None = None
    owner: str = ""  # "" (all visible), "brand", "dealer"
    q: str = ""  # product code, name or pinyin initials
    low_only: bool = False


def _product_search(q: str):
    like = f"%{q.strip()}%"
    return or_(Product.code.ilike(like), Product.name_zh.ilike(like), Product.name_en.ilike(like),
               Product.pinyin.ilike(like))


def balances_query(scope: StockScope, flt: BalanceFilter):
    """Rows of (StockBalance, Warehouse, Product, ReorderRule | None)."""
    available = StockBalance.on_hand - StockBalance.reserved
    query = (select(StockBalance, Warehouse, Product, ReorderRule)
             .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
             .join(Product, Product.id == StockBalance.product_id)
             .outerjoin(ReorderRule, and_(ReorderRule.warehouse_id == StockBalance.warehouse_id,
                                          ReorderRule.product_id == StockBalance.product_id))
             .where(scope.warehouse_clause()))
    if flt.warehouse_id:
        query = query.where(StockBalance.warehouse_id == flt.warehouse_id)
    if flt.owner in ("brand", "dealer"):
        query = query.join(Organisation, Organisation.id == Warehouse.owner_id).where(Organisation.kind == flt.owner)
    if flt.q.strip():
        query = query.where(_product_search(flt.q))
    if flt.low_only:
        query = query.where(ReorderRule.reorder_point > 0, available <= ReorderRule.reorder_point)
    return query.order_by(Warehouse.code, Product.code)


def lots_of(warehouse_id: int, product_id: int, include_empty: bool = False):
    query = select(StockLot).where(StockLot.warehouse_id == warehouse_id, StockLot.product_id == product_id)
    if not include_empty:
        query = query.where(StockLot.on_hand > 0)
    return query.order_by(StockLot.expiry_date, StockLot.id)


def movements_of(warehouse_id: int, product_id: int):
    return (select(StockMovement).where(StockMovement.warehouse_id == warehouse_id,
                                        StockMovement.product_id == product_id)
            .order_by(StockMovement.at.desc(), StockMovement.id.desc()))


def expiring_lots_query(scope: StockScope, within_days: int, warehouse_id: int | None = None,
                        today: date | None = None):
    """Rows of (StockLot, Warehouse, Product) with stock expiring within `within_days` (or expired)."""
    until = (today or today_local()) + timedelta(days=within_days)
    query = (select(StockLot, Warehouse, Product).join(Warehouse, Warehouse.id == StockLot.warehouse_id)
             .join(Product, Product.id == StockLot.product_id)
             .where(scope.warehouse_clause(), StockLot.on_hand > 0, StockLot.expiry_date <= until))
    if warehouse_id:
        query = query.where(StockLot.warehouse_id == warehouse_id)
    return query.order_by(StockLot.expiry_date, Warehouse.code, Product.code)


def transfers_query(scope: StockScope, status: str = ""):
    query = select(Transfer).join(Warehouse, Warehouse.id == Transfer.source_id).where(scope.warehouse_clause())
    if status:
        query = query.where(Transfer.status == status)
    return query.order_by(Transfer.id.desc())


def counts_query(scope: StockScope):
    return (select(StockCount).join(Warehouse, Warehouse.id == StockCount.warehouse_id)
            .where(scope.warehouse_clause()).order_by(StockCount.id.desc()))


def stock_totals(warehouse_id: int) -> tuple[int, int]:
    """(on hand, reserved) summed over the warehouse's products."""
    from app.extensions import db

    row = db.session.execute(select(func.coalesce(func.sum(StockBalance.on_hand), 0),
                                    func.coalesce(func.sum(StockBalance.reserved), 0))
                             .where(StockBalance.warehouse_id == warehouse_id)).one()
    return int(row[0]), int(row[1])
