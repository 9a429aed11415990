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
expire on or after c (Hall's condition for these nested sets). `unfit_products` checks exactly
that (for many products at once), and shipping FEFO among each customer's acceptable lots keeps
it true (it always uses the lots the fewest other reservations could use).

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

import functools
import math
from dataclasses import dataclass
from datetime import date, timedelta
from collections.abc import Iterable

from sqlalchemy import bindparam, func, or_, select

from app.extensions import db
from app.models import Organisation, Product, ShelfLifeRule, StockBalance, StockLot, StockReservation
from app.services.core.clock import LOCAL
from app.services.inventory import ledger


def min_remaining_pct(customer: Organisation | None) -> int:
    """The strictest shelf-life rule that matches the customer (0 when none does)."""
    params = rule_params(customer)
    if params is None:
        return 0
    return int(db.session.scalar(strictest_rule(), params) or 0)


def rule_params(customer: Organisation | None) -> dict | None:
    """The parameters of `strictest_rule` for the customer; None when no rule can apply to it
    (only dealers and retailers have shelf-life rules)."""
    if customer is None or customer.kind not in ("dealer", "retailer"):
        return None
    return {"kind": customer.kind, "tier": customer.tier, "channel": customer.channel}


@functools.cache
def strictest_rule():
    """The highest min_remaining_pct among the rules matching a customer (`rule_params`), built
    once: every approval reads it."""
    return select(func.max(ShelfLifeRule.min_remaining_pct)).where(
        or_(ShelfLifeRule.audience.is_(None), ShelfLifeRule.audience == bindparam("kind")),
        or_(ShelfLifeRule.tier.is_(None), ShelfLifeRule.tier == bindparam("tier")),
        or_(ShelfLifeRule.channel.is_(None), ShelfLifeRule.channel == bindparam("channel")))


def earliest_acceptable_expiry(shelf_life_days: int, pct: int, today: date) -> date:
    return today + timedelta(days=max(math.ceil(shelf_life_days * pct / 100), 1))


def cutoffs_for(product_ids, pct: int, today: date, shelf_life: dict[int, int] | None = None) -> dict[int, date]:
    """Earliest acceptable expiry per product for a customer whose rule is `pct`. `shelf_life`
    ({product_id: days}, every product) when the caller has the products loaded: no query."""
    shelf = shelf_life if shelf_life is not None else dict(db.session.execute(
        select(Product.id, Product.shelf_life_days).where(Product.id.in_(list(product_ids)))).all())
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


def expiry_bounds(warehouse_id: int, product_ids, document: str) -> dict[int, tuple[date | None, date | None, int | None]]:
    """{product_id: (earliest expiry among lots with stock, latest cut-off among open
    reservations, id of `document`'s reservation or None)} for the products that have a balance
    row in the warehouse: one query whatever the number of products."""
    ids = sorted(product_ids)
    params: dict = {"w": warehouse_id, "document": document}
    params.update({f"p{i}": pid for i, pid in enumerate(ids)})
    rows = ledger.connection().execute(_expiry_bounds_statement(len(ids)), params)
    return {pid: (lots, cutoffs, own_id) for pid, lots, cutoffs, own_id in rows}


_EXPIRY_BOUNDS: dict[int, object] = {}


def _expiry_bounds_statement(n: int):
    """expiry_bounds' query for `n` products, built once per size with bound parameters (w,
    document, p0..pn-1): no statement building per call, SQLAlchemy's compiled cache hit."""
    if n not in _EXPIRY_BOUNDS:
        balance = StockBalance.__table__
        warehouse = bindparam("w")
        lot_min = (select(func.min(StockLot.expiry_date))
                   .where(StockLot.warehouse_id == warehouse, StockLot.product_id == balance.c.product_id,
                          StockLot.on_hand > 0).scalar_subquery())
        cutoff_max = (select(func.max(StockReservation.min_expiry_date))
                      .where(StockReservation.warehouse_id == warehouse,
                             StockReservation.product_id == balance.c.product_id, StockReservation.qty > 0)
                      .scalar_subquery())
        own = (select(StockReservation.id)
               .where(StockReservation.document == bindparam("document"), StockReservation.warehouse_id == warehouse,
                      StockReservation.product_id == balance.c.product_id).scalar_subquery())
        _EXPIRY_BOUNDS[n] = (select(balance.c.product_id, lot_min, cutoff_max, own)
                             .where(balance.c.warehouse_id == warehouse,
                                    balance.c.product_id.in_([bindparam(f"p{i}") for i in range(n)])))
    return _EXPIRY_BOUNDS[n]


def unfit_products(warehouse_id: int, extra: dict[int, tuple[date, int]],
                   bounds: dict[int, tuple[date | None, date | None, int | None]]) -> set[int]:
    """The products whose reservations plus `extra` ({product_id: (cutoff, qty)} not yet
    written) fail Hall's condition against their lots. `bounds` (expiry_bounds) settles the
    usual case, where every lot suits every reservation and the balance check already decided;
    the other products are checked together in two more queries."""
    doubtful = []
    for product_id, (cutoff, _qty) in extra.items():
        lot_min, cutoff_max, _own = bounds.get(product_id, (None, None, None))
        latest = max(c for c in (cutoff_max, cutoff) if c is not None)
        if lot_min is None or lot_min < latest:
            doubtful.append(product_id)
    if not doubtful:
        return set()
    demand: dict[int, list[tuple[date, int]]] = {pid: [extra[pid]] for pid in doubtful}
    for pid, cutoff, qty in db.session.execute(
            select(StockReservation.product_id, StockReservation.min_expiry_date, StockReservation.qty).where(
                StockReservation.warehouse_id == warehouse_id, StockReservation.product_id.in_(doubtful),
                StockReservation.qty > 0)):
        demand[pid].append((cutoff, qty))
    supply: dict[int, list[tuple[date, int]]] = {pid: [] for pid in doubtful}
    for pid, expiry, qty in db.session.execute(
            select(StockLot.product_id, StockLot.expiry_date, StockLot.on_hand).where(
                StockLot.warehouse_id == warehouse_id, StockLot.product_id.in_(doubtful), StockLot.on_hand > 0)):
        supply[pid].append((expiry, qty))
    return {pid for pid in doubtful if not _fits(demand[pid], supply[pid])}


def _fits(demand: list[tuple[date, int]], supply: list[tuple[date, int]]) -> bool:
    for cutoff in {c for c, _ in demand}:
        if sum(q for c, q in demand if c >= cutoff) > sum(q for e, q in supply if e >= cutoff):
            return False
    return True
