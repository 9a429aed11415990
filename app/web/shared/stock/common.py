"""Helpers of the stock views: the caller's scope, records loaded within it (a service's NotFound
becomes a 404 and PermissionDenied a 403 centrally), choices for warehouse selects."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from app.extensions import db
from app.models import Product, Warehouse
from app.services.core.errors import NotFound
from app.services.inventory import scope as scopes


def caller_scope() -> scopes.StockScope:
    return scopes.scope_for(current_user)


def is_admin() -> bool:
    return request.blueprint == "admin"


def warehouse_in_scope(warehouse_id: int, manage: bool = False) -> Warehouse:
    """A warehouse the caller sees (or, with `manage`, owns); NotFound / PermissionDenied else.
    For ids from the path, a query string or a form field alike."""
    scope = caller_scope()
    return scopes.managed_warehouse(scope, warehouse_id) if manage else scopes.visible_warehouse(scope, warehouse_id)


def product_in_scope(product_id: int) -> Product:
    return scopes.stock_product(caller_scope(), product_id)


def optional_warehouse_id(warehouse_id: int | None) -> int | None:
    """A filter's warehouse id, checked like a path id: None for "all", NotFound outside the scope."""
    return warehouse_in_scope(warehouse_id).id if warehouse_id else None


def product_by_code(code: str | None) -> Product | None:
    """A product typed by its code in a form field, within the caller's scope (None otherwise)."""
    code = (code or "").strip()
    product_id = db.session.scalar(select(Product.id).where(Product.code == code)) if code else None
    if product_id is None:
        return None
    try:
        return product_in_scope(product_id)
    except NotFound:
        return None


def warehouse_choices(managed_only: bool = False, blank: str | None = None) -> list[SelectChoice]:
    scope = caller_scope()
    warehouses = scopes.managed_warehouses(scope) if managed_only else \
        db.session.scalars(scopes.visible_warehouses(scope, active_only=True)).all()
    choices = [SelectChoice(w.id, f"{w.code} {w.name}") for w in warehouses]
    return ([SelectChoice(0, blank or _("全部仓库"))] if blank is not None else []) + choices
