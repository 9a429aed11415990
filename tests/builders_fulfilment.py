"""Builders for shipping, delivery, returns and order-desk tests: a dealer with stock in two lots
per product, approved orders (stock reserved through the real lifecycle), and shortcuts that
ship / sign / return through the real services. They flush; tests commit when a request must
see the data."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import (Order, OrderStatus, Organisation, Product, StockBalance, StockLot, StockMovement, User,
                        Warehouse)
from app.models.credit import CreditNote
from app.models.fulfilment import Shipment
from app.services.fulfilment import delivery
from app.services.ordering import lifecycle
from app.services.fulfilment import shipping
from tests import builders_documents, builders_lifecycle, builders_stock, factories  # noqa: F401  (tests use them)

S = OrderStatus


def products(n: int = 2, **kw) -> list[Product]:
    cat = factories.category()
    prices = [2400, 5650, 1800, 3300]
    return [factories.product(cat, name_zh=f"出货商品{i + 1}", base_price_fen=prices[i % len(prices)], **kw)
            for i in range(n)]


def warehouse_with_lots(owner: Organisation, region, stock: dict[Product, list[tuple[str, int, int]]]) -> Warehouse:
    """The owner's default warehouse; `stock` = {product: [(batch, qty, expires in days)]}."""
    warehouse = builders_stock.warehouse(owner, region, is_default=True)
    for product, lots in stock.items():
        for batch, qty, days in lots:
            builders_stock.stock(warehouse, product, qty, batch=batch, expires_in_days=days)
    db.session.flush()
    return warehouse


def stocked_dealer(world, items: list[Product], qty: int = 50) -> Warehouse:
    """dealer's warehouse: for each product a late lot (L-...) and an early lot (E-...), so
    first-expiry-first-out must take E first."""
    return warehouse_with_lots(world.orgs["dealer"], world.regions["hz"], {
        p: [(f"L-{p.code}", qty, 300), (f"E-{p.code}", qty, 120)] for p in items})


def approved_order(world, lines: list[tuple[Product, int]], buyer: Organisation | None = None,
                   seller: Organisation | None = None) -> Order:
    """An order approved by the dealer through the lifecycle (reserving stock if it keeps any)."""
    order = builders_lifecycle.order(buyer or world.orgs["retailer"], seller or world.orgs["dealer"], lines)
    lifecycle.transition(order.id, S.APPROVED.value, world.users["dealer"].id)
    db.session.flush()
    return order


def ship_all(world, order: Order, carrier: str = "顺丰", tracking: str = "SF100") -> Order:
    quantities = {line.id: line.qty for line in order.lines}
    result = shipping.ship(order.seller_id, order.id, world.users["dealer"].id, carrier=carrier, tracking_no=tracking,
                           quantities=quantities)
    db.session.flush()
    return result.order


def delivered_order(world, lines: list[tuple[Product, int]], discrepancies: dict | None = None) -> Order:
    order = approved_order(world, lines)
    ship_all(world, order)
    delivery.confirm_receipt(order.buyer_id, order.id, world.users["retailer"].id, discrepancies or {})
    db.session.flush()
    return db.session.get(Order, order.id)


def balance(warehouse: Warehouse, product: Product) -> tuple[int, int]:
    row = db.session.get(StockBalance, (warehouse.id, product.id), populate_existing=True)
    return (row.on_hand, row.reserved) if row else (0, 0)


def lot_on_hand(warehouse: Warehouse, batch: str) -> int:
    return db.session.scalar(select(StockLot.on_hand).where(StockLot.warehouse_id == warehouse.id,
                                                            StockLot.batch_no == batch))


def credit_notes(order: Order) -> list[CreditNote]:
    return list(db.session.scalars(select(CreditNote).where(CreditNote.order_id == order.id).order_by(CreditNote.id)))


def shipments(order: Order) -> int:
    return db.session.scalar(select(func.count()).select_from(Shipment).where(Shipment.order_id == order.id))


def movements(kind: str, document: str | None = None) -> int:
    query = select(func.count()).select_from(StockMovement).where(StockMovement.kind == kind)
    if document:
        query = query.where(StockMovement.document == document)
    return db.session.scalar(query)


def status_of(order: Order) -> str:
    return db.session.scalar(select(Order.status).where(Order.id == order.id))


def seen(page: str) -> str:
    match = re.search(r'id="seen" name="seen" type="hidden" value="([^"]*)"', page)
    return match.group(1) if match else ""


def user(world, key: str) -> User:
    return world.users[key]
