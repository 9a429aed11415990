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

Which lots a reservation gets: `plan_fefo`, the one allocation the pick list prints and shipping
takes. The product's open reservations in a warehouse are served in the order they were made
(first reserved, first served), each first-expiry-first-out among the lots it accepts on the
day (`cutoff_on`: the cut-off stored at reservation moved on by the days since, so the customer
still gets its share of shelf life on the shipping day), from what earlier ones left. Shipping
an order takes the lots its plan names, so the pick list printed that day shows the lots that
leave, whichever of the orders ships first (shipping one reservation its planned lots leaves the
others' plans as they were).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from collections.abc import Iterable

from sqlalchemy import and_, bindparam, func, or_, select

from app.extensions import db
from app.models import Organisation, Product, ShelfLifeRule, StockLot, StockReservation
from app.services.core.clock import LOCAL
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


def cutoff_on(reservation: StockReservation, day: date) -> date:
    """The earliest expiry `reservation` accepts on `day`: its stored cut-off (from the day it
    was made) moved on by the days since, and never a lot expired by then."""
    made_on = reservation.created_at.astimezone(LOCAL).date() if reservation.created_at else day
    moved = reservation.min_expiry_date + timedelta(days=max((day - made_on).days, 0))
    return max(moved, day + timedelta(days=1))


def plan_fefo(reservations: Iterable[StockReservation], lots: list[StockLot], day: date) -> dict[int, list[Pick]]:
    """{reservation id: picks} for one warehouse and product: `reservations` served in the order
    given (callers pass them by id: first reserved, first served), each taking its quantity
    first-expiry-first-out (`lots` sorted so) among the lots it accepts on `day`, from what the
    earlier ones left. A reservation the lots cannot cover gets what there is."""
    left = {lot.id: lot.on_hand for lot in lots}
    plan: dict[int, list[Pick]] = {}
    for reservation in reservations:
        cutoff, need, picks = cutoff_on(reservation, day), reservation.qty, []
        for lot in lots:
            if need == 0:
                break
            if lot.expiry_date < cutoff or left[lot.id] == 0:
                continue
            take = min(need, left[lot.id])
            left[lot.id] -= take
            need -= take
            picks.append(Pick(lot, take))
        plan[reservation.id] = picks
    return plan


def first_of(picks: list[Pick], qty: int) -> list[Pick] | None:
    """The first `qty` units of a plan (a partial shipment takes the earliest); None if short."""
    taken, left = [], qty
    for pick in picks:
        if left == 0:
            break
        take = min(pick.qty, left)
        taken.append(Pick(pick.lot, take))
        left -= take
    return taken if left == 0 else None


def reservation_queue(warehouse_id: int, product_id: int, up_to_id: int | None = None) -> list[StockReservation]:
    """The product's open reservations in the warehouse in the order they were made (up to and
    including `up_to_id`: later ones do not change an earlier one's plan)."""
    query = select(StockReservation).where(StockReservation.warehouse_id == warehouse_id,
                                           StockReservation.product_id == product_id, StockReservation.qty > 0)
    if up_to_id is not None:
        query = query.where(StockReservation.id <= up_to_id)
    return list(db.session.scalars(query.order_by(StockReservation.id).execution_options(populate_existing=True)))


def fefo_lots(warehouse_id: int, product_id: int, min_expiry: date) -> list[StockLot]:
    """Lots with stock that expire on or after `min_expiry`, first expiry first (ties: oldest
    lot first). Read fresh: callers hold the product's balance lock."""
    return list(db.session.scalars(
        select(StockLot).where(StockLot.warehouse_id == warehouse_id, StockLot.product_id == product_id,
                               StockLot.on_hand > 0, StockLot.expiry_date >= min_expiry)
        .order_by(StockLot.expiry_date, StockLot.id).execution_options(populate_existing=True)))


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
