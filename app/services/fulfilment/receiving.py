"""Goods in from the brand: what a dealer signs for on a replenishment order goes into the
dealer's warehouse, in the batches and with the expiry dates the brand shipped, less what
arrived short or damaged. The dealer no longer retypes the delivery as a manual receipt.

    receiving_warehouses(buyer_id)            the dealer's active warehouses, default first
    stock_delivery(order, sign_off, ...)      called by delivery._sign: the receipts, once
    booked_for(order)                         what the sign-off booked, per warehouse and product

Exactly once: delivery._sign calls stock_delivery inside the sign-off's transaction, after it
locked the order row and checked that the order is still "shipped". A second sign-off (a double
submit, two tabs, the brand entering the driver's code while the dealer confirms) waits on that
lock, then finds the order delivered and is refused before anything is booked; the one
sign-off per order (unique order_id) backs that up.

Which warehouse: the one chosen on the receipt form (an active warehouse of the dealer), else
the dealer's default (inventory.orders.default_warehouse: the default, else its first active
one; also for the brand signing with the driver's code). A dealer with no active warehouse keeps
no stock in the system, like a seller without one (lifecycle.tracks_stock): the sign-off goes
ahead without stock, and the page says so before and after. Refusing it would hold the credit
notes for short or damaged goods, and the order's completion, hostage to a warehouse set-up.

Lots: each lot of each shipment is received into the dealer's lot of the same batch (created with
the brand's expiry date and the production date of the brand's lot, or, when that is not known,
the expiry date less the product's shelf life), by
inventory.operations.receive_stock, the manual receipt's own service, so balances, lots and the
ledger move together, and what waits for the stock (a held backorder) is released as after a
manual receipt; an open low-stock alert resolves at the next scan, as after a manual receipt.
The ledger line names the shipment (document: its number) and the reason "补货签收 <order
number>". Short and damaged are recorded per order line, not per lot: a product's shortfall is
taken from its lots with the latest expiry first, so the books never claim fresher stock than
may have arrived. A shipment without lots (the brand shipped without stock in the system) has no
batch to book: those quantities are left out and reported as not booked.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import MovementKind, Order, OrderLine, Product, StockLot, StockMovement, Warehouse
from app.models.fulfilment import DeliverySignOff, Shipment, ShipmentLine, ShipmentLot
from app.models.vocabulary import OrgKind
from app.services.core.errors import DomainError
from app.services.core.messages import message
from app.services.inventory import operations
from app.services.inventory.freed import stock_became_available
from app.services.inventory.orders import default_warehouse


@dataclass(frozen=True)
class Booked:
    """What a sign-off put into stock: `qty` in `warehouse`, and `not_booked` left out (no lots)."""
    warehouse: Warehouse | None
    qty: int
    not_booked: int = 0


def receives_stock(order: Order) -> bool:
    """A dealer signing for the brand's delivery: the goods go into its stock."""
    return order.buyer.kind == OrgKind.DEALER.value and order.seller.kind == OrgKind.BRAND.value


def receiving_warehouses(buyer_id: int) -> list[Warehouse]:
    """The buyer's active warehouses, the one receipts go to by default first."""
    default = default_warehouse(buyer_id)
    others = db.session.scalars(select(Warehouse).where(Warehouse.owner_id == buyer_id, Warehouse.active.is_(True))
                                .order_by(Warehouse.code))
    return ([default] if default else []) + [w for w in others if w is not default]


def _warehouse(order: Order, warehouse_id: int | None) -> Warehouse | None:
    if warehouse_id is None:
        return default_warehouse(order.buyer_id)
    warehouse = db.session.scalar(select(Warehouse).where(Warehouse.id == warehouse_id,
                                                          Warehouse.owner_id == order.buyer_id,
                                                          Warehouse.active.is_(True)))
    if warehouse is None:
        raise DomainError(_("请选择本单位的可用仓库。"), field="warehouse_id")
    return warehouse


def _received_lots(order: Order, missing: dict[int, int]) -> tuple[list[tuple[Shipment, ShipmentLot, int]], int]:
    """(shipment, lot, qty received) per shipment lot, after taking each product's `missing`
    (short + damaged) first from what shipped without a lot, then from the lots with the latest
    expiry; and the quantity received without a lot (not bookable)."""
    shipments = db.session.scalars(select(Shipment).where(Shipment.order_id == order.id)
                                   .options(selectinload(Shipment.lots)).order_by(Shipment.id))
    lots = [(shipment, lot) for shipment in shipments for lot in shipment.lots]
    shipped = db.session.execute(
        select(ShipmentLine.product_id, func.sum(ShipmentLine.qty)).join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id == order.id).group_by(ShipmentLine.product_id))
    received = {lot.id: lot.qty for _s, lot in lots}
    left = dict(missing)
    not_booked = 0
    for product_id, qty in shipped:
        without_lot = max(int(qty) - sum(lot.qty for _s, lot in lots if lot.product_id == product_id), 0)
        taken = min(without_lot, left.get(product_id, 0))
        left[product_id] = left.get(product_id, 0) - taken
        not_booked += without_lot - taken
    for _s, lot in sorted(lots, key=lambda x: (x[1].expiry_date, x[0].id, x[1].id), reverse=True):
        taken = min(received[lot.id], left.get(lot.product_id, 0))
        left[lot.product_id] = left.get(lot.product_id, 0) - taken
        received[lot.id] -= taken
    return [(shipment, lot, received[lot.id]) for shipment, lot in lots if received[lot.id] > 0], not_booked


def stock_delivery(order: Order, sign_off: DeliverySignOff, actor_id: int | None,
                   warehouse_id: int | None = None) -> Booked | None:
    """Book what the dealer received into its warehouse (see the module docstring); None when the
    order is not a dealer's replenishment. Runs in the sign-off's transaction, under its lock."""
    if not receives_stock(order):
        return None
    warehouse = _warehouse(order, warehouse_id)
    missing: dict[int, int] = {}
    for d in sign_off.discrepancies:
        missing[d.product_id] = missing.get(d.product_id, 0) + d.qty
    lots, not_booked = _received_lots(order, missing)
    if warehouse is None:
        return Booked(None, 0, not_booked + sum(qty for _s, _lot, qty in lots))
    produced = _production_dates(lots)
    reason = message("stock.replenishment_received", n=order.number or order.id)
    # Balance rows in ascending product order, the ledger's locking order; what waits is freed after.
    for shipment, lot, qty in sorted(lots, key=lambda x: (x[1].product_id, x[0].id, x[1].id)):
        try:
            operations.receive_stock(warehouse.id, lot.product_id, qty, lot.batch_no, actor_id=actor_id,
                                     production_date=produced[lot.id], expiry_date=lot.expiry_date,
                                     reason=reason, document=_document(shipment),
                                     free_waiting=False)
        except DomainError as error:
            raise DomainError(_("批号 %(b)s 无法按发货批次入库到 %(w)s（品牌发货到期日 %(e)s）：%(why)s "
                                "请先核对该批次，或选择其他仓库。", b=lot.batch_no, w=warehouse.name,
                                e=lot.expiry_date.isoformat(), why=error.message), field="warehouse_id") from error
    stock_became_available(warehouse.id, [lot.product_id for _s, lot, _q in lots], actor_id)
    return Booked(warehouse, sum(qty for _s, _lot, qty in lots), not_booked)


def _production_dates(lots) -> dict[int, date | None]:
    """Each shipment lot's production date (by its id): the brand's lot's, else the expiry date
    less the product's shelf life (a lot the brand shipped without its stock lot known, as the
    demo's history does), which is how the expiry date was set."""
    if not lots:
        return {}
    known = dict(db.session.execute(select(StockLot.id, StockLot.production_date).where(
        StockLot.id.in_({lot.lot_id for _s, lot, _q in lots if lot.lot_id}))).all())
    shelf = dict(db.session.execute(select(Product.id, Product.shelf_life_days).where(
        Product.id.in_({lot.product_id for _s, lot, _q in lots}))).all())
    return {lot.id: known.get(lot.lot_id) or (lot.expiry_date - timedelta(days=shelf[lot.product_id])
                                              if lot.expiry_date and shelf.get(lot.product_id) else None)
            for _s, lot, _q in lots}


def _document(shipment: Shipment) -> str:
    """The ledger's document for goods received from a shipment: its number, as printed on the
    delivery note, readable on the stock ledger page."""
    return shipment.number or f"shipment:{shipment.id}"


@dataclass(frozen=True)
class BookedInto:
    """What a sign-off put into one warehouse: (product, qty) per product."""
    warehouse: Warehouse
    lines: list[tuple[Product, int]]


def booked_for(order: Order) -> list[BookedInto]:
    """What the order's sign-off booked into the buyer's stock, per warehouse (from the ledger)."""
    numbers = [_document(s) for s in db.session.scalars(select(Shipment).where(Shipment.order_id == order.id))]
    if not numbers:
        return []
    first_line = select(func.min(OrderLine.id)).where(OrderLine.order_id == order.id,
                                                     OrderLine.product_id == Product.id).scalar_subquery()
    rows = db.session.execute(
        select(Warehouse, Product, func.sum(StockMovement.on_hand_delta))
        .join(StockMovement, StockMovement.warehouse_id == Warehouse.id)
        .join(Product, Product.id == StockMovement.product_id)
        .where(StockMovement.document.in_(numbers), StockMovement.kind == MovementKind.RECEIPT.value,
               Warehouse.owner_id == order.buyer_id)
        # in the order's line order, as the delivery note above the card lists them
        .group_by(Warehouse.id, Product.id).order_by(Warehouse.code, first_line, Product.code)).all()
    booked: dict[int, BookedInto] = {}
    for warehouse, product, qty in rows:
        booked.setdefault(warehouse.id, BookedInto(warehouse, [])).lines.append((product, int(qty)))
    return list(booked.values())
