"""The buyer's earlier quantities that volume tiers count (engine kind `volume_tier`, see
multiline.py): for each tier promotion, the units of its covered products on the buyer's orders
placed in its window before `until`, gift lines left out, cancelled and rejected orders left
out (a line cut at approval counts what was kept). One query per quote whatever the number of
tier promotions: the buyer's units per product since each distinct window start, over its orders
since the earliest one (the orders' (buyer, created_at) index), added up per promotion here."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import bindparam, case, func, select

from app.extensions import db
from app.models import Order, OrderLine, OrderStatus, Product
from app.services.promotions.engine import CompiledPromotion

NOT_COUNTED = (OrderStatus.CANCELLED.value, OrderStatus.REJECTED.value)


def live_tiers(index, buyer, now: datetime) -> list[CompiledPromotion]:
    """The volume tiers of `index` this buyer may get at `now` (no query)."""
    return [p for p in getattr(index, "volume_tiers", ()) if p.live_at(now) and p.targets(buyer)]


@lru_cache(maxsize=64)
def _history_query(starts: int):
    """The buyer's units per product (and its category) since each of `starts` window starts
    (bound parameters s0 ≤ s1 ≤ ...), grouped by product: built once per number of starts, so
    a quote only binds values (SQLAlchemy's statement cache does the rest)."""
    columns = [func.sum(case((Order.created_at >= bindparam(f"s{j}"), OrderLine.qty), else_=0)) for j in range(starts)]
    return (select(OrderLine.product_id, Product.category_id, *columns)
            .join(Order, Order.id == OrderLine.order_id).join(Product, Product.id == OrderLine.product_id)
            .where(Order.buyer_id == bindparam("buyer"), Order.created_at >= bindparam("s0"),
                   Order.created_at < bindparam("until"), Order.status.not_in(NOT_COUNTED), OrderLine.is_gift.is_(False))
            .group_by(OrderLine.product_id, Product.category_id))


def earlier_quantities(buyer_id: int, promos: list[CompiledPromotion], until: datetime) -> dict[int, int]:
    """{promotion id: units} for `promos` (one query; none when `promos` is empty): the rows are
    the buyer's products in the earliest window, each summed since every distinct window start;
    each promotion adds up the products it covers, since its own start."""
    if not promos:
        return {}
    starts = sorted({p.starts_at for p in promos})
    column = {start: 2 + j for j, start in enumerate(starts)}
    params = {f"s{j}": start for j, start in enumerate(starts)}
    rows = db.session.execute(_history_query(len(starts)), dict(params, buyer=buyer_id, until=until)).all()
    return {promo.id: sum(int(row[column[promo.starts_at]] or 0) for row in rows if promo.covers(row[0], row[1]))
            for promo in promos}
