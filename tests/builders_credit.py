"""Builders for credit tests: orders and invoices made directly with the models."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

from app.extensions import db
from app.models import Invoice, Order, Organisation

_seq = itertools.count(1)


def order(buyer: Organisation, seller: Organisation, total_fen: int, status: str = "approved") -> Order:
    n = next(_seq)
    o = Order(number=f"T{n:08d}", buyer_id=buyer.id, seller_id=seller.id, status=status, line_count=1,
              total_fen=total_fen, tax_fen=total_fen * 13 // 113)
    db.session.add(o)
    db.session.flush()
    return o


def invoice(buyer: Organisation, seller: Organisation, total_fen: int, *, paid_fen: int = 0,
            issued_at: datetime | None = None, due_on: date | None = None, status: str | None = None,
            order_status: str = "shipped") -> Invoice:
    """An invoice for a new order of the same total (issued now unless told)."""
    o = order(buyer, seller, total_fen, status=order_status)
    issued_at = issued_at or datetime.now(timezone.utc)
    inv = Invoice(number=f"INV{o.id:08d}", order_id=o.id, seller_id=seller.id, buyer_id=buyer.id,
                  total_fen=total_fen, tax_fen=o.tax_fen, paid_fen=paid_fen,
                  status=status or ("paid" if paid_fen == total_fen else "open"), issued_at=issued_at,
                  due_on=due_on if due_on is not None else (issued_at + timedelta(days=30)).date())
    db.session.add(inv)
    db.session.flush()
    return inv


def days_ago(n: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=n)
