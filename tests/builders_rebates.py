"""Builders for rebate tests: agreements through the service, and brand → dealer documents made
through the real credit services (so the accrual hooks run as in production)."""
from __future__ import annotations

from datetime import date

from app.extensions import db
from app.models import Order, Organisation, Product, User
from app.services.core.clock import today_local
from app.services.credit.invoicing import ensure_invoice
from app.services.rebates import agreements
from tests import builders_ordering as bo


def agreement(admin: User, dealer: Organisation | None = None, **kw):
    values = dict(code=kw.pop("code", f"RB-{dealer.id if dealer else kw.get('dealer_tier')}-{kw.get('mode', 'flat')}"),
                  name="年度返利", dealer_id=dealer.id if dealer else None, dealer_tier=None, period="quarter",
                  basis="invoiced", scope="all", mode="flat", rate_bp=200, tiers=[], per_case_fen=0, cap_fen=None,
                  payout="credit_note", balance_share_pct=0, starts_on=date(today_local().year - 1, 1, 1),
                  ends_on=None, status="active", exclude_promoted=False)
    values.update(kw)
    row = agreements.save(admin, values)
    db.session.commit()
    return row


def invoiced(dealer: Organisation, brand: Organisation, lines: list[tuple[Product, int]]) -> Order:
    """A shipped replenishment order and its invoice (which accrues)."""
    order = bo.order(dealer, brand, lines, status="shipped")
    ensure_invoice(order.id)
    db.session.commit()
    return order
