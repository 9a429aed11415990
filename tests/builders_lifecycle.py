"""Builders for lifecycle, approval, desk and replenishment tests: orders in any status, a buying
history for the "usual quantities" rule, a seller's stock, and carts checked out through the
real services. They add and flush; tests commit when a request must see the data."""
from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Notification, Order, OrderEvent, Organisation, Product, User, utcnow
from app.services.approval import automatic as approval
from app.services.ordering import cart
from tests import builders_ordering, builders_stock

_seq = itertools.count(1)


def order(buyer: Organisation, seller: Organisation, lines: list[tuple[Product, int]], status: str = "submitted",
          days_ago: float = 0, placed_by: User | None = None) -> Order:
    """An order made with the models (prices = base prices), created `days_ago` days ago."""
    made = builders_ordering.order(buyer, seller, lines, status=status, placed_by=placed_by)
    if days_ago:
        at = utcnow() - timedelta(days=days_ago)
        made.created_at = made.updated_at = at
        for event in made.events:
            event.at = at
        db.session.flush()
    return made


def history(buyer: Organisation, seller: Organisation, product: Product, quantities: list[int],
            days_ago: int = 10, status: str = "completed") -> list[Order]:
    """Past orders of `product`, one per quantity, all `days_ago` days old."""
    return [order(buyer, seller, [(product, qty)], status=status, days_ago=days_ago) for qty in quantities]


def stocked_warehouse(owner: Organisation, region, stock: dict[Product, int]):
    """A default warehouse of `owner` holding `stock` ({product: qty})."""
    warehouse = builders_stock.warehouse(owner, region, is_default=True)
    for product, qty in stock.items():
        builders_stock.stock(warehouse, product, qty)
    db.session.flush()
    return warehouse


def checkout(user: User, buyer: Organisation, lines: list[tuple[Product, int]], key: str | None = None):
    """Fill `user`'s cart for `buyer` and check it out through approval.place_order."""
    for product, qty in lines:
        cart.add_to_cart(user, buyer, product.id, qty)
    quote = cart.quote_cart(user, buyer)
    return approval.place_order(user, buyer, key or f"test-checkout-{next(_seq):06d}", quote.fingerprint)


def events_of(order_id: int) -> list[tuple[str | None, str, int | None, str]]:
    """(from, to, actor, note as shown in Chinese: typed text, or the system's message rendered)."""
    return [(e.from_status, e.to_status, e.actor_id, str(e.note_message) if e.note_message else e.note)
            for e in db.session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))]


def status_audits(order_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "order.status", AuditEvent.entity_id == order_id))


def shown(notice: Notification):
    """The notice as its reader sees it (title, body, link), in the current language."""
    from flask import current_app

    from app.web.shared.notifications.views import shown as shown_notice

    with current_app.test_request_context():
        return shown_notice(notice)


def notices_for(user: User, kind: str | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))
