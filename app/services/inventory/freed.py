"""Stock that becomes available again, and the one call every stock-increasing movement makes
once it is done: a receipt (hand-made or from the ERP), a transfer received, a count or an
adjustment up, a return put back on the shelf, a reservation released (an order cancelled,
rejected or its rest cancelled; a transfer cancelled).

What waits for stock today is a held backorder (ordering.shortage.release_backorders): it is
approved as soon as its seller's stock covers it. The call comes after the whole movement, not
from the ledger's primitives: a return written off goes in and straight out again, and must not
hand the goods to a backorder in between."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from app.extensions import db
from app.models import Warehouse


def stock_became_available(warehouse_id: int, product_ids: Iterable[int], actor_id: int | None) -> list:
    """Release what waits for these products in the warehouse owner's stock; the orders approved."""
    from app.services.ordering.shortage import release_backorders  # ordering uses inventory: a late import

    products = sorted(set(product_ids))
    if not products:
        return []
    owner_id = db.session.scalar(select(Warehouse.owner_id).where(Warehouse.id == warehouse_id))
    if owner_id is None:
        return []
    return release_backorders(owner_id, products, actor_id)
