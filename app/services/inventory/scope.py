"""Who sees and manages which warehouses.

The brand sees every warehouse, its dealers' included (sell-through visibility); a dealer sees
only its own. Each organisation manages (receives, adjusts, counts, transfers) only the
warehouses it owns. Every page and API call finds warehouses through these helpers, so an id
outside the caller's scope is simply not found.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select, true

from app.extensions import db
from app.models import User, Warehouse
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
