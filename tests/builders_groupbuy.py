"""Group-buy test data: a campaign (dealer's or brand's) with its ladder, and shops that join it."""
from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.models.groupbuy import GroupBuyCampaign, GroupBuyTier
from app.services.core.clock import now_utc
from tests import factories


def campaign(owner, product, *, region=None, base=5000, tiers=((200, 4800), (500, 4500)), min_pool=500,
             status="open", cap=None, min_per=1, max_per=None, name=None) -> GroupBuyCampaign:
    row = GroupBuyCampaign(name=name or f"夏季集单{product.code}", owner_id=owner.id, region_id=region.id if region else None,
                           product_id=product.id, starts_at=now_utc() - timedelta(hours=1),
                           ends_at=now_utc() + timedelta(days=1), base_price_fen=base, min_pool_qty=min_pool,
                           cap_qty=cap, min_per_retailer=min_per, max_per_retailer=max_per, pool_qty=0, status=status)
    row.tiers = [GroupBuyTier(min_qty=q, unit_price_fen=p) for q, p in tiers]
    db.session.add(row)
    db.session.flush()
    return row


def shop_of(world, dealer_key="dealer", region_key="hz"):
    """A new retailer served by the dealer, with its user: (user, organisation)."""
    dealer = world.orgs[dealer_key]
    org = factories.org("retailer", region_id=world.regions[region_key].id, channel="kiosk", dealer_id=dealer.id)
    return factories.user("retailer", org), org


def end_window(campaign_row) -> None:
    """Move the window's end into the past (the schedule's close then applies)."""
    campaign_row.ends_at = now_utc() - timedelta(minutes=1)
    db.session.flush()
