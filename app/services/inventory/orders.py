"""The interface the order lifecycle uses. Every function takes ids and plain values plus the
acting user's id, flushes but never commits, and raises DomainError (StockShortage for stock)
with a message fit to show. Stock documents are named "order:<id>".

- reserve_order(order_id, actor_id, warehouse_id=None)  at approval: reserves every line in the
  seller's warehouse (the given one, else the seller's default, else its first active one),
  from lots the buyer's shelf-life rule accepts. All or nothing: StockShortage names the short
  products and nothing is reserved. Calling it again for an order already reserved changes
  nothing (reservations_of(order_document(id)) lists them). Two statements in all (what it
  reads first, then the reservation: reservations.reserve_stock) whatever the number of lines.
- release_order(order_id, actor_id, reason="")  on cancel or reject: releases what is still
  reserved; {product_id: qty}. Safe to repeat.
- ship_order_lines(order_id, quantities, actor_id)  at shipment: {product_id: qty} taken out of
  the reservation, from the lots its plan names today (allocation.plan_fefo, the plan the pick
  list prints: first expiry first out among the lots the buyer accepts); returns the ShippedLot
  list (which lots went out, how many). Partial shipments are allowed; release_order
  frees the rest.
- receive_return(order_id, lines, actor_id, reason="")  goods coming back: each ReturnLine puts
  qty back into a lot this order was shipped from (the named lot, else the shipped lots with
  the latest expiry first); refuses more than was shipped and not yet returned.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import bindparam, exists, func, select

from app.extensions import db
from app.models import MovementKind, Order, StockLot, StockMovement, StockReservation, Warehouse
from app.services.core.messages import message
from app.services.core.errors import DomainError, NotFound
from app.services.inventory import allocation, ledger
from app.services.inventory.freed import stock_became_available
from app.services.inventory.reservations import (ShippedLot, release_document, reservations_of,
                                                 reserve_stock, ship_reserved)
from app.services.core.clock import today_local


def order_document(order_id: int) -> str:
    return f"order:{order_id}"


def _order(order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("订单不存在。"))
    return order


def default_warehouse_select(owner_id, *columns):
    """The select of `columns` (the id when none) of the owner's default warehouse, else its first
    active one: the warehouse an approval reserves from. `owner_id` a value or a bound parameter."""
    return (select(*(columns or (Warehouse.id,))).where(Warehouse.owner_id == owner_id, Warehouse.active.is_(True))
            .order_by(Warehouse.is_default.desc(), Warehouse.id).limit(1))


def default_warehouse(owner_id: int) -> Warehouse | None:
    """The owner's default warehouse, else its first active one."""
    return db.session.scalars(_DEFAULT_WAREHOUSE, {"owner_id": owner_id}).first()


# Built once (every approval runs it): all values bound.
_DEFAULT_WAREHOUSE = default_warehouse_select(bindparam("owner_id"), Warehouse)


@functools.cache
def _reservation_facts(given_warehouse: bool):
    """What reserve_order reads before reserving, in one statement built once: the warehouse (the
    given one when the seller owns it, else the seller's default_warehouse; NULL when none),
    whether the document holds reservations already, and the strictest shelf-life rule matching
    the buyer (allocation.min_remaining_pct)."""
    if given_warehouse:
        warehouse = select(Warehouse.id).where(Warehouse.id == bindparam("warehouse_id"),
                                               Warehouse.owner_id == bindparam("owner_id"))
    else:
        warehouse = default_warehouse_select(bindparam("owner_id"))
    return select(warehouse.scalar_subquery().label("warehouse_id"),
                  exists().where(StockReservation.document == bindparam("document")).label("reserved"),
                  allocation.strictest_rule().scalar_subquery().label("pct"))


def _order_quantities(order: Order) -> dict[int, int]:
    quantities: dict[int, int] = {}
    for line in order.lines:
        quantities[line.product_id] = quantities.get(line.product_id, 0) + line.qty
    return quantities


def _buyer_cutoffs(order: Order, product_ids, pct: int) -> dict:
    """The earliest expiry the buyer accepts per product (`pct`: its shelf-life rule); the
    products' shelf lives come from the order's lines when they are loaded with their products
    (checkout's automatic review)."""
    loaded = {line.product_id: line.product.shelf_life_days for line in order.lines if "product" in line.__dict__}
    shelf_life = loaded if set(product_ids) <= set(loaded) else None
    return allocation.cutoffs_for(product_ids, pct, today_local(), shelf_life)


def reserve_order(order_id: int, actor_id: int | None, warehouse_id: int | None = None, *,
                  skip_without_warehouse: bool = False) -> bool:
    """See the module docstring. `skip_without_warehouse`: a seller with no active warehouse keeps
    no stock in the system (lifecycle.tracks_stock): nothing is reserved and False is returned,
    instead of the DomainError. True otherwise (reserved now or before)."""
    order = _order(order_id)
    document = order_document(order.id)
    buyer = order.buyer
    rule = allocation.rule_params(buyer)
    facts = db.session.execute(_reservation_facts(warehouse_id is not None), dict(
        rule or {"kind": None, "tier": None, "channel": None}, document=document, owner_id=order.seller_id,
        **({"warehouse_id": warehouse_id} if warehouse_id is not None else {}))).one()
    if facts.reserved:
        return True  # reserved already: a second call changes nothing
    if facts.warehouse_id is None:
        if skip_without_warehouse and warehouse_id is None:
            return False
        raise DomainError(_("卖方没有可用的仓库，无法预留库存。"), field="warehouse_id")
    quantities = _order_quantities(order)
    pct = int(facts.pct or 0) if rule is not None else 0
    reserve_stock(facts.warehouse_id, quantities, document=document, min_expiry=_buyer_cutoffs(order, quantities, pct),
                  actor_id=actor_id, reason=message("stock.order_approved", n=order.number or order.id))
    return True


def release_order(order_id: int, actor_id: int | None, reason: str = "") -> dict[int, int]:
    """Release what the order still holds (cancel, reject, rest cancelled); what waits for that
    stock (a backorder) gets it at once."""
    order = _order(order_id)
    document = order_document(order.id)
    warehouses = {row.warehouse_id for row in reservations_of(document) if row.qty > 0}
    released = release_document(document, actor_id=actor_id,
                                reason=reason or message("stock.order_cancelled", n=order.number or order.id))
    for warehouse_id in sorted(warehouses):
        stock_became_available(warehouse_id, released, actor_id)
    return released


def ship_order_lines(order_id: int, quantities: dict[int, int], actor_id: int | None) -> list[ShippedLot]:
    order = _order(order_id)
    return ship_reserved(order_document(order.id), quantities, kind=MovementKind.SHIP.value,
                         on=today_local(), actor_id=actor_id,
                         reason=message("stock.order_shipped", n=order.number or order.id))


@dataclass(frozen=True)
class ReturnLine:
    product_id: int
    qty: int
    lot_id: int | None = None


def _returnable_by_lot(document: str) -> dict[int, int]:
    """Per lot: shipped for the document minus already returned."""
    rows = db.session.execute(
        select(StockMovement.lot_id, func.sum(StockMovement.on_hand_delta))
        .where(StockMovement.document == document, StockMovement.lot_id.is_not(None),
               StockMovement.kind.in_((MovementKind.SHIP.value, MovementKind.RETURN.value)))
        .group_by(StockMovement.lot_id)).all()
    return {lot_id: -total for lot_id, total in rows if total < 0}


def receive_return(order_id: int, lines: list[ReturnLine], actor_id: int | None, reason: str = "") -> list[ShippedLot]:
    order = _order(order_id)
    document = order_document(order.id)
    returnable = _returnable_by_lot(document)
    lots = {lot.id: lot for lot in db.session.scalars(select(StockLot).where(StockLot.id.in_(list(returnable))))}
    plan: list[tuple[StockLot, int]] = []
    for line in sorted(lines, key=lambda x: x.product_id):
        if line.qty <= 0:
            continue
        candidates = [lots[i] for i in returnable if lots[i].product_id == line.product_id
                      and (line.lot_id is None or i == line.lot_id)]
        candidates.sort(key=lambda lot: (lot.expiry_date, lot.id), reverse=True)
        left = line.qty
        for lot in candidates:
            take = min(left, returnable[lot.id])
            if take:
                plan.append((lot, take))
                returnable[lot.id] -= take
                left -= take
        if left:
            raise DomainError(_("退货数量超过该订单已发货未退回的数量。"), field="lines")
    returned = []
    for lot, qty in plan:
        ledger.add_to_lot(MovementKind.RETURN.value, lot, qty, actor_id=actor_id,
                          reason=reason or message("stock.order_returned", n=order.number or order.id),
                          document=document)
        returned.append(ShippedLot(lot.product_id, lot.id, lot.batch_no, lot.expiry_date, qty))
    return returned
