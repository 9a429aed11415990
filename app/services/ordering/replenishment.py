"""Replenishment: a dealer orders from the brand (dealer as buyer, brand as seller).

It is the same cart and checkout as a retailer's (app/services/ordering/cart.py, approval.place_order
→ ordering.submit_order): the dealer's own prices (dealer price lists by tier, its contracts),
the products the brand shows to dealers, routing to the brand, the automatic review and the
same lifecycle. This module adds what is particular to a dealer buying:

- the scope of its replenishment orders (orders it bought; the seller is always the brand);
- withdrawing an order the brand has not accepted yet;
- reorder suggestions from its own stock: for every product whose available stock in the
  dealer's active warehouses (on hand − reserved, all warehouses together) plus what is already
  on order from the brand is at or below the summed reorder points, order up to twice the
  reorder point (a simple order-up-to level: one reorder point of cover on top of the point
  itself), at least the product's minimum and in its multiple, less what is already in the cart.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from app.extensions import db
from app.models import (Order, OrderLine, OrderStatus, Organisation, OrgKind, Product, ReorderRule, StockBalance,
                        User, Warehouse)
from app.services.approval import automatic as approval
from app.services.ordering import cart
from app.services.ordering import lifecycle
from app.services.ordering import orders as ordering
from app.services.core.errors import DomainError, NotFound
from app.services.pricing.prices import region_profile
from app.services.catalog.visibility import visible_clause

S = OrderStatus
# Ordered from the brand and not yet in the dealer's warehouse.
ON_ORDER_STATUSES = (S.SUBMITTED.value, S.ON_HOLD.value, S.APPROVED.value, S.PICKING.value, S.PARTLY_SHIPPED.value,
                     S.SHIPPED.value)
MAX_SUGGESTIONS = 200


def _require_dealer(buyer: Organisation) -> None:
    if buyer.kind != OrgKind.DEALER.value:
        raise NotFound(_("只有经销商可以向品牌方补货。"))


def replenishment_orders(dealer_id: int):
    """The dealer's own orders to the brand (the one scope of the replenishment pages)."""
    return ordering.orders_bought_by(dealer_id)


def place_replenishment(user: User, dealer: Organisation, idempotency_key: str, fingerprint: str | None,
                        accept_changes: bool = False, note: str = "", terms=None) -> ordering.Submission:
    """Check out the dealer's cart to the brand, with the automatic review."""
    _require_dealer(dealer)
    return approval.place_order(user, dealer, idempotency_key, fingerprint, accept_changes=accept_changes, note=note,
                                terms=terms)


def cancel_replenishment(user: User, order_id: int, note: str):
    """The dealer withdraws its order while the brand has not accepted it (NotFound for
    another dealer's order)."""
    return lifecycle.cancel_as_buyer(user.org_id, order_id, user.id, note)


@dataclass
class Suggestion:
    product: Product
    available: int  # on hand − reserved in the dealer's warehouses
    on_order: int  # ordered from the brand, not yet delivered
    reorder_point: int
    in_cart: int
    qty: int  # suggested quantity to add


def _rounded(product: Product, qty: int) -> int:
    qty = max(qty, product.min_order_qty)
    return min(-(-qty // product.order_multiple) * product.order_multiple, cart.MAX_LINE_QTY)


def reorder_suggestions(user: User, dealer: Organisation) -> list[Suggestion]:
    """What the dealer should order now (three queries), products it may order only."""
    return reorder_plan(user, dealer)[0]


def reorder_plan(user: User, dealer: Organisation) -> tuple[list[Suggestion], int]:
    """The suggestions, and how many products at or under their reorder point the dealer's cart
    already covers (so an empty list can say why)."""
    _require_dealer(dealer)
    available = func.coalesce(StockBalance.on_hand - StockBalance.reserved, 0)
    rows = db.session.execute(
        select(ReorderRule.product_id, func.sum(ReorderRule.reorder_point), func.sum(available))
        .join(Warehouse, Warehouse.id == ReorderRule.warehouse_id)
        .outerjoin(StockBalance, and_(StockBalance.warehouse_id == ReorderRule.warehouse_id,
                                      StockBalance.product_id == ReorderRule.product_id))
        .where(Warehouse.owner_id == dealer.id, Warehouse.active.is_(True), ReorderRule.reorder_point > 0)
        .group_by(ReorderRule.product_id)).all()
    levels = {pid: (int(point), int(have)) for pid, point, have in rows}
    if not levels:
        return [], 0
    on_order = dict(db.session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.qty)).join(Order, Order.id == OrderLine.order_id)
        .where(Order.buyer_id == dealer.id, Order.status.in_(ON_ORDER_STATUSES),
               OrderLine.product_id.in_(list(levels)))
        .group_by(OrderLine.product_id)).all())
    products = {p.id: p for p in db.session.scalars(
        select(Product).where(Product.id.in_(list(levels)), visible_clause(region_profile(dealer))))}
    in_cart = cart.cart_quantities(user, dealer)
    suggestions, covered = [], 0
    for pid, (point, have) in sorted(levels.items()):
        product = products.get(pid)
        ordered = int(on_order.get(pid, 0))
        if product is None or have + ordered > point:
            continue
        wanted = 2 * point - have - ordered - in_cart.get(pid, 0)
        if wanted > 0:
            suggestions.append(Suggestion(product, have, ordered, point, in_cart.get(pid, 0), _rounded(product, wanted)))
        else:
            covered += 1
    return suggestions[:MAX_SUGGESTIONS], covered


def add_suggestions_to_cart(user: User, dealer: Organisation) -> cart.Refill:
    """Put every current suggestion in the dealer's cart."""
    suggestions, covered = reorder_plan(user, dealer)
    if not suggestions and covered:
        raise DomainError(_("补货建议的 %(n)d 种商品都已在购物车中。", n=covered))
    if not suggestions:
        raise DomainError(_("目前没有需要补货的商品。"))
    return cart.refill_cart(user, dealer, [(s.product, s.qty) for s in suggestions])
