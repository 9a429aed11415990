"""Which lots may go to which customer, and in what order (first expiry, first out).

Expiry convention: a lot may be sold through the day before its expiry date, so it is
*expired* from its expiry date on (`expiry_date <= today`).

Customer shelf-life rule: a customer group (ShelfLifeRule) can require that at least
`min_remaining_pct` percent of a product's shelf life is left. For a product with shelf life S
days that means at least ceil(S × pct / 100) days left, and never less than one day, so:

    earliest acceptable expiry = today + max(ceil(S × pct / 100), 1)

Lots expiring before that date are never allocated to that customer; expired lots are never
allocated to anyone.

Reserving many customers' orders against one product's lots: the reservations are feasible
when, for every cutoff date c, the reservations that need expiry ≥ c fit in the lots that
expire on or after c (Hall's condition for these nested sets). `reservations_fit` checks exactly
that, and shipping FEFO among each customer's acceptable lots keeps it true (it always uses the
lots the fewest other reservations could use).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, bindparam, func, or_, select

from app.extensions import db
from app.models import Organisation, Product, ShelfLifeRule, StockLot, StockReservation
from app.services.inventory import ledger


def min_remaining_pct(customer: Organisation | None) -> int:
    """The strictest shelf-life rule that matches the customer (0 when none does)."""
    if customer is None or customer.kind not in ("dealer", "retailer"):
        return 0
    rule = ShelfLifeRule
    pct = db.session.scalar(select(func.max(rule.min_remaining_pct)).where(
        or_(rule.audience.is_(None), rule.audience == customer.kind),
        or_(rule.tier.is_(None), rule.tier == customer.tier),
        or_(rule.channel.is_(None), rule.channel == customer.channel)))
    return int(pct or 0)


def earliest_acceptable_expiry(shelf_life_days: int, pct: int, today: date) -> date:
    return today + timedelta(days=max(math.ceil(shelf_life_days * pct / 100), 1))


def cutoffs_for(product_ids, pct: int, today: date) -> dict[int, date]:
    """Earliest acceptable expiry per product for a customer whose rule is `pct`."""
    shelf = dict(db.session.execute(select(Product.id, Product.shelf_life_days).where(Product.id.in_(list(product_ids)))).all())
    return {pid: earliest_acceptable_expiry(shelf.get(pid, 0), pct, today) for pid in product_ids}


@dataclass(frozen=True)
class Pick:
    lot: StockLot
    qty: int


def fefo_lots(warehouse_id: int, product_id: int, min_expiry: date) -> list[StockLot]:
    """Lots with stock that expire on or after `min_expiry`, first expiry first (ties: oldest
    lot first). Read fresh: callers hold the product's balance lock."""
    return list(db.session.scalars(
        select(StockLot).where(StockLot.warehouse_id == warehouse_id, StockLot.product_id == product_id,
                               StockLot.on_hand > 0, StockLot.expiry_date >= min_expiry)
        .order_by(StockLot.expiry_date, StockLot.id).execution_options(populate_existing=True)))


def pick_fefo(lots: list[StockLot], qty: int) -> list[Pick] | None:
    """Take `qty` from `lots` in order; None when they hold too little."""
    picks, left = [], qty
    for lot in lots:
        if left == 0:
            break
        take = min(lot.on_hand, left)
        picks.append(Pick(lot, take))
        left -= take
    return picks if left == 0 else None


_EXPIRY_BOUNDS = select(
    select(func.min(StockLot.expiry_date)).where(
        StockLot.warehouse_id == bindparam("w"), StockLot.product_id == bindparam("p"), StockLot.on_hand > 0
    ).scalar_subquery(),
    select(func.max(StockReservation.min_expiry_date)).where(
        StockReservation.warehouse_id == bindparam("w"), StockReservation.product_id == bindparam("p"),
        StockReservation.qty > 0).scalar_subquery())


def reservations_fit(warehouse_id: int, product_id: int, extra: tuple[date, int] | None = None) -> bool:
    """Hall's condition for the product's reservations (plus `extra` = (cutoff, qty) not yet
    written) against its lots. One query in the usual case where every lot is acceptable to
    every reservation; two more otherwise."""
    lot_min, cutoff_max = ledger.connection().execute(_EXPIRY_BOUNDS, {"w": warehouse_id, "p": product_id}).one()
    cutoffs = [c for c in (cutoff_max, extra[0] if extra else None) if c is not None]
    if not cutoffs:
        return True
    if lot_min is not None and lot_min >= max(cutoffs):
        return True  # every lot suits every reservation: the balance check already decided

    demand = list(db.session.execute(select(StockReservation.min_expiry_date, StockReservation.qty).where(
        StockReservation.warehouse_id == warehouse_id, StockReservation.product_id == product_id,
        StockReservation.qty > 0)).all())
    if extra:
        demand.append(extra)
    supply = list(db.session.execute(select(StockLot.expiry_date, StockLot.on_hand).where(
        and_(StockLot.warehouse_id == warehouse_id, StockLot.product_id == product_id, StockLot.on_hand > 0))).all())
    for cutoff in {c for c, _ in demand}:
        needed = sum(q for c, q in demand if c >= cutoff)
        held = sum(q for e, q in supply if e >= cutoff)
        if needed > held:
            return False
    return True
