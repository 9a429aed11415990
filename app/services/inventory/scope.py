"""Who sees and manages which warehouses.

The brand sees every warehouse, its dealers' included (sell-through visibility); a dealer sees
only its own. Each organisation manages (receives, adjusts, counts, transfers) only the
warehouses it owns. Every page and API call finds warehouses through these helpers, so an id
outside the caller's scope is simply not found.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import exists, or_, select, true
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (ImportBatch, Product, ProductStatus, StockBalance, StockCount, StockCountLine, StockLot,
                        Transfer, User, Warehouse)
from app.services.core.errors import NotFound, PermissionDenied


@dataclass(frozen=True)
class StockScope:
    org_id: int
    sees_all: bool

    def warehouse_clause(self):
        return true() if self.sees_all else Warehouse.owner_id == self.org_id

    def can_manage(self, warehouse: Warehouse) -> bool:
        return warehouse.owner_id == self.org_id


def scope_for(user: User) -> StockScope:
    return StockScope(org_id=user.org_id, sees_all=user.role == "admin")


def scope_for_org(org_id: int, is_brand: bool) -> StockScope:
    return StockScope(org_id=org_id, sees_all=is_brand)


def visible_warehouses(scope: StockScope, active_only: bool = False):
    query = select(Warehouse).where(scope.warehouse_clause()).order_by(Warehouse.code)
    return query.where(Warehouse.active.is_(True)) if active_only else query


def managed_warehouses(scope: StockScope) -> list[Warehouse]:
    return list(db.session.scalars(select(Warehouse).where(Warehouse.owner_id == scope.org_id,
                                                           Warehouse.active.is_(True)).order_by(Warehouse.code)))


def visible_warehouse(scope: StockScope, warehouse_id: int) -> Warehouse:
    warehouse = db.session.scalar(select(Warehouse).where(Warehouse.id == warehouse_id, scope.warehouse_clause()))
    if warehouse is None:
        raise NotFound(_("仓库不存在。"))
    return warehouse


def managed_warehouse(scope: StockScope, warehouse_id: int) -> Warehouse:
    warehouse = visible_warehouse(scope, warehouse_id)
    if not scope.can_manage(warehouse):
        raise PermissionDenied(_("只能管理本单位的仓库。"))
    return warehouse


def stock_product(scope: StockScope, product_id: int) -> Product:
    """A product the caller may keep stock of: for the brand any product; for a dealer an active
    product or one its warehouses already hold (drafts stay unseen)."""
    query = select(Product).where(Product.id == product_id)
    if not scope.sees_all:
        held = exists().where(StockBalance.product_id == Product.id,
                              StockBalance.warehouse_id.in_(select(Warehouse.id)
                                                            .where(Warehouse.owner_id == scope.org_id)))
        query = query.where(or_(Product.status == ProductStatus.ACTIVE.value, held))
    product = db.session.scalar(query)
    if product is None:
        raise NotFound(_("商品不存在。"))
    return product


def visible_count(scope: StockScope, count_id: int) -> StockCount:
    count = db.session.scalar(
        select(StockCount).join(Warehouse, Warehouse.id == StockCount.warehouse_id)
        .where(StockCount.id == count_id, scope.warehouse_clause())
        .options(selectinload(StockCount.lines).selectinload(StockCountLine.lot).selectinload(StockLot.product)))
    if count is None:
        raise NotFound(_("盘点单不存在。"))
    return count


def managed_count(scope: StockScope, count_id: int) -> StockCount:
    count = visible_count(scope, count_id)
    if not scope.can_manage(count.warehouse):
        raise PermissionDenied(_("只能管理本单位的仓库。"))
    return count


def visible_transfer(scope: StockScope, transfer_id: int) -> Transfer:
    transfer = db.session.scalar(select(Transfer).join(Warehouse, Warehouse.id == Transfer.source_id)
                                 .where(Transfer.id == transfer_id, scope.warehouse_clause()))
    if transfer is None:
        raise NotFound(_("调拨单不存在。"))
    return transfer


def managed_transfer(scope: StockScope, transfer_id: int) -> Transfer:
    transfer = visible_transfer(scope, transfer_id)
    if not scope.can_manage(transfer.source):
        raise PermissionDenied(_("只能管理本单位的仓库。"))
    return transfer


def own_import_batch(org_id: int, batch_id: int, kind: str) -> ImportBatch:
    """An upload of the given kind made by someone of the caller's organisation."""
    batch = db.session.scalar(select(ImportBatch).join(User, User.id == ImportBatch.created_by)
                              .where(ImportBatch.id == batch_id, ImportBatch.kind == kind, User.org_id == org_id))
    if batch is None:
        raise NotFound(_("导入记录不存在。"))
    return batch
