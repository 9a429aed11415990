"""Builders for inventory tests: warehouses, stock in lots, orders built straight from models."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

from app.extensions import db
from app.models import Order, OrderLine, Warehouse
from app.services.inventory import operations
from app.services.core.clock import today_local

_seq = itertools.count(1)


def warehouse(owner, region, code: str | None = None, name: str | None = None, is_default: bool = False) -> Warehouse:
    n = next(_seq)
    w = Warehouse(code=code or f"WH{n:04d}", name=name or f"仓库{n}", owner_id=owner.id, region_id=region.id,
                  is_default=is_default)
    db.session.add(w)
    db.session.flush()
    return w


def stock(wh: Warehouse, product, qty: int, batch: str | None = None, expires_in_days: int = 300,
          actor_id: int | None = None):
    """Receive `qty` into a lot expiring `expires_in_days` from today."""
    return operations.receive_stock(wh.id, product.id, qty, batch or f"B{next(_seq):05d}", actor_id=actor_id,
                                    expiry_date=today_local() + timedelta(days=expires_in_days))


def order(buyer, seller, lines: dict, number: str | None = None) -> Order:
    """An order with {product: qty} lines (prices are irrelevant to stock)."""
    n = next(_seq)
    o = Order(number=number or f"SO{n:06d}", buyer_id=buyer.id, seller_id=seller.id, status="submitted",
              line_count=len(lines))
    o.lines = [OrderLine(product_id=p.id, qty=q, unit_price_fen=100, tax_rate=13, line_total_fen=100 * q, tax_fen=0)
               for p, q in lines.items()]
    db.session.add(o)
    db.session.flush()
    return o


def days(n: int) -> date:
    return today_local() + timedelta(days=n)
