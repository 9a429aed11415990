"""Loading one record by id, or NotFound: the one generic loader behind the views' 404s.

`require(Product, product_id)` for records every caller of a page may see (brand-wide admin
pages); `require(Order, order_id, buyer_id=org_id)` narrows it to the caller's organisation with
column values. Loaders of records whose scope is a rule of its own (warehouses, orders visible to
a dealer) live in their domain's service and raise the same NotFound."""
from __future__ import annotations

from typing import TypeVar

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.services.core.errors import NotFound

T = TypeVar("T")
MAX_ID = 2**63 - 1


def require(model: type[T], record_id, message: str | None = None, **columns) -> T:
    """The `model` row with this id (and these column values), or NotFound."""
    record = None
    if isinstance(record_id, int) and 0 < record_id <= MAX_ID:
        query = select(model).where(model.id == record_id)
        for name, value in columns.items():
            query = query.where(getattr(model, name) == value)
        record = db.session.scalar(query)
    if record is None:
        raise NotFound(message or _("记录不存在。"))
    return record
