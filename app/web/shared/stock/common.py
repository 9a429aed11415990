"""Helpers of the stock views: the caller's scope, warehouses by id (404 outside the scope),
choices for warehouse selects."""
from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from app.extensions import db
from app.models import Product, Warehouse
from app.services.core.errors import NotFound, PermissionDenied
from app.services.inventory import scope as scopes


def caller_scope() -> scopes.StockScope:
    return scopes.scope_for(current_user)


def is_admin() -> bool:
    return request.blueprint == "admin"


def warehouse_or_404(warehouse_id: int, manage: bool = False) -> Warehouse:
    scope = caller_scope()
    try:
        return scopes.managed_warehouse(scope, warehouse_id) if manage else scopes.visible_warehouse(scope, warehouse_id)
    except NotFound:
        abort(404)
    except PermissionDenied:
        abort(403)


def product_or_404(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    return product


def product_by_code(code: str | None) -> Product | None:
    code = (code or "").strip()
    return db.session.scalar(select(Product).where(Product.code == code)) if code else None


def warehouse_choices(managed_only: bool = False, blank: str | None = None) -> list[SelectChoice]:
    scope = caller_scope()
    warehouses = scopes.managed_warehouses(scope) if managed_only else \
        db.session.scalars(scopes.visible_warehouses(scope, active_only=True)).all()
    choices = [SelectChoice(w.id, f"{w.code} {w.name}") for w in warehouses]
    return ([SelectChoice(0, blank or _("全部仓库"))] if blank is not None else []) + choices
