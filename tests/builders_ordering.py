"""Builders for ordering tests: products with prices and visibility, cart lines, orders, and a
query counter. They add and flush; tests commit when a request must see the data."""
from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from app.extensions import db
from app.models import (CartLine, ContractPrice, Order, OrderEvent, OrderLine, Organisation, PriceList,
                        PriceListItem, Product, ProductVisibility, User, utcnow)
from app.services.core.messages import message
from app.services.ordering.cart import tax_included
from tests import factories

_seq = itertools.count(1)


def products(n: int, cat=None, **kw) -> list[Product]:
    cat = cat or factories.category()
    return [factories.product(cat, **kw) for _ in range(n)]


def price_list(items: dict[Product, int], audience="retailer", min_qty=1, **targets) -> PriceList:
    n = next(_seq)
    plist = PriceList(code=f"PL{n}", name=targets.pop("name", f"价目表{n}"), audience=audience, **targets)
    db.session.add(plist)
    db.session.flush()
    db.session.add_all([PriceListItem(price_list_id=plist.id, product_id=p.id, min_qty=min_qty, price_fen=price)
                        for p, price in items.items()])
    db.session.flush()
    return plist


def contract(customer: Organisation, product: Product, price_fen: int, reference="HT-001", min_qty=1) -> ContractPrice:
    row = ContractPrice(customer_id=customer.id, product_id=product.id, price_fen=price_fen, reference=reference,
                        min_qty=min_qty)
    db.session.add(row)
    db.session.flush()
    return row


def only_for(product: Product, **rule) -> ProductVisibility:
    """Restrict `product` to customers matching `rule` (e.g. audience="dealer" hides it from retailers)."""
    row = ProductVisibility(product_id=product.id, **rule)
    db.session.add(row)
    db.session.flush()
    return row


def cart_line(owner: User, buyer: Organisation, product: Product, qty: int = 1, quoted: int | None = None) -> CartLine:
    line = CartLine(owner_id=owner.id, buyer_id=buyer.id, product_id=product.id, qty=qty,
                    quoted_price_fen=product.base_price_fen if quoted is None else quoted)
    db.session.add(line)
    db.session.flush()
    return line


def order(buyer: Organisation, seller: Organisation, lines: list[tuple[Product, int]], status="submitted",
          placed_by: User | None = None, days_ago: int = 0) -> Order:
    """An order made directly with the models (for list and detail pages)."""
    n = next(_seq)
    at = utcnow() - timedelta(days=days_ago)
    total = sum(p.base_price_fen * qty for p, qty in lines)
    tax = sum(tax_included(p.base_price_fen * qty, p.tax_rate) for p, qty in lines)
    row = Order(buyer_id=buyer.id, seller_id=seller.id, placed_by_id=placed_by.id if placed_by else None,
                status=status, line_count=len(lines), total_fen=total, tax_fen=tax, idempotency_key=f"test-key-{n:06d}",
                created_at=at, updated_at=at)
    db.session.add(row)
    db.session.flush()
    row.number = f"SO{at:%y%m%d}{row.id:07d}"
    db.session.add_all([OrderLine(order_id=row.id, product_id=p.id, qty=qty, unit_price_fen=p.base_price_fen,
                                  price_basis=message("price.base"), tax_rate=p.tax_rate,
                                  line_total_fen=p.base_price_fen * qty,
                                  tax_fen=tax_included(p.base_price_fen * qty, p.tax_rate)) for p, qty in lines])
    db.session.add(OrderEvent(order_id=row.id, at=at, to_status="submitted"))
    db.session.flush()
    return row


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    def __len__(self):
        return len(self.statements)


@contextmanager
def count_queries(engine=None):
    """Count the SQL statements run on the engine inside the block."""
    engine = engine or db.engine
    counter = QueryCounter()

    def _count(conn, cursor, statement, parameters, context, executemany):
        counter.statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", _count)
