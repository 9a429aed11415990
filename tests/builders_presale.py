"""Builders for presale tests: a campaign with one product, and money in a shop's prepayment."""
from __future__ import annotations

import itertools
from datetime import timedelta

from app.extensions import db
from app.models.presale import PresaleCampaign, PresaleItem
from app.services.core.clock import today_local
from app.services.credit import payments
from tests import factories

_seq = itertools.count(1)


def campaign(product=None, *, deposit_pct=30, planned=100, limit=None, price_fen=10_001, status="open",
             non_payment="refund", release_in=10, balance_days=5) -> PresaleItem:
    """An open campaign taking deposits today, released in `release_in` days; its one item."""
    today = today_local()
    row = PresaleCampaign(code=f"PS{next(_seq):04d}", name="新品预售", status=status, deposit_pct=deposit_pct,
                          non_payment=non_payment, deposit_opens_on=today - timedelta(days=1),
                          deposit_closes_on=today + timedelta(days=release_in - 1),
                          release_on=today + timedelta(days=release_in),
                          balance_opens_on=today + timedelta(days=release_in),
                          balance_closes_on=today + timedelta(days=release_in + balance_days))
    db.session.add(row)
    db.session.flush()
    item = PresaleItem(campaign_id=row.id, product_id=(product or factories.product()).id, price_fen=price_fen,
                       planned_qty=planned, committed_qty=0, per_customer_limit=limit)
    db.session.add(item)
    db.session.flush()
    return item


def top_up(world, customer_key="retailer", seller_key="dealer", amount_fen=1_000_000):
    admin = world.users["admin"]
    return payments.top_up_prepayment(admin, seller=world.orgs[seller_key], customer=world.orgs[customer_key],
                                      amount_fen=amount_fen, received_on=today_local())
