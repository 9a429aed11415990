"""Group-buy campaigns as their owner manages them: the form's rules (create or change a draft),
publishing it, and asking for an early close (the close itself is groupbuy_close.py). The
brand's campaigns are for a region; a dealer's for the shops it serves (see groupbuy.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from app.extensions import db
from app.models import OrgKind, Product, Region, User
from app.models.groupbuy import GroupBuyCampaign, GroupBuyStatus, GroupBuyTier
from app.services.campaigns.groupbuy import MAX_PRICE_FEN, MAX_TIERS, campaign_for
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.errors import DomainError, NotFound


@dataclass
class CampaignInput:
    name: str
    product_code: str
    starts_at: datetime  # aware
    ends_at: datetime
    base_price_fen: int
    tiers: list[tuple[int, int]]  # (min_qty, price fen)
    min_pool_qty: int
    min_per_retailer: int = 1
    max_per_retailer: int | None = None
    cap_qty: int | None = None
    region_code: str | None = None  # brand campaigns


def _checked(actor: User, values: CampaignInput) -> dict:
    name = (values.name or "").strip()
    if not name or len(name) > 120:
        raise DomainError(_("请输入名称（最多 120 字）。"), field="name")
    product = db.session.scalar(select(Product).where(Product.code == (values.product_code or "").strip(),
                                                      Product.status == "active"))
    if product is None:
        raise DomainError(_("商品编码不存在或未在售。"), field="product_code")
    region_id = None
    if actor.org.kind == OrgKind.BRAND.value:
        region_id = db.session.scalar(select(Region.id).where(Region.code == (values.region_code or "").strip()))
        if region_id is None:
            raise DomainError(_("请输入区域编码（省、市或县）。"), field="region_code")
    if values.ends_at <= values.starts_at:
        raise DomainError(_("结束时间须晚于开始时间。"), field="ends_at")
    if values.ends_at <= now_utc():
        raise DomainError(_("结束时间须晚于现在。"), field="ends_at")
    if not 0 < values.base_price_fen <= MAX_PRICE_FEN:
        raise DomainError(_("请输入起始团购价。"), field="base_price")
    previous_qty, previous_price = 0, values.base_price_fen
    if len(values.tiers) > MAX_TIERS:
        raise DomainError(_("最多 %(n)d 档价格。", n=MAX_TIERS), field="tiers")
    for min_qty, price in values.tiers:
        if min_qty <= previous_qty or price >= previous_price or price <= 0:
            raise DomainError(_("阶梯须按数量从小到大、价格从高到低排列（如 200:48, 500:45），且低于起始价。"),
                              field="tiers")
        previous_qty, previous_price = min_qty, price
    if values.min_pool_qty <= 0:
        raise DomainError(_("成团数量须大于 0。"), field="min_pool_qty")
    if values.min_per_retailer <= 0:
        raise DomainError(_("每店起订须大于 0。"), field="min_per_retailer")
    if values.max_per_retailer is not None and values.max_per_retailer < values.min_per_retailer:
        raise DomainError(_("每店限购不能少于每店起订。"), field="max_per_retailer")
    if values.cap_qty is not None and values.cap_qty < max([values.min_pool_qty] + [q for q, _p in values.tiers]):
        raise DomainError(_("可供总量不能少于成团数量和最高一档的数量。"), field="cap_qty")
    return dict(name=name, product_id=product.id, region_id=region_id, starts_at=values.starts_at,
                ends_at=values.ends_at, base_price_fen=values.base_price_fen, min_pool_qty=values.min_pool_qty,
                min_per_retailer=values.min_per_retailer, max_per_retailer=values.max_per_retailer,
                cap_qty=values.cap_qty)


def save_campaign(actor: User, values: CampaignInput, campaign_id: int | None = None) -> GroupBuyCampaign:
    """Create a draft campaign of the actor's organisation, or change one still in draft."""
    if actor.role not in ("admin", "dealer"):
        raise NotFound(_("团购不存在。"))
    columns = _checked(actor, values)
    if campaign_id is None:
        campaign = GroupBuyCampaign(owner_id=actor.org_id, created_by_id=actor.id, status=GroupBuyStatus.DRAFT.value,
                                    pool_qty=0, **columns)
        db.session.add(campaign)
        before = None
    else:
        campaign = campaign_for(actor, campaign_id)
        if campaign.status != GroupBuyStatus.DRAFT.value:
            raise DomainError(_("团购已发布，不能再修改。"))
        before = {"name": campaign.name, "base_price_fen": campaign.base_price_fen}
        for key, value in columns.items():
            setattr(campaign, key, value)
        campaign.tiers.clear()
        db.session.flush()
    campaign.tiers.extend(GroupBuyTier(min_qty=q, unit_price_fen=p) for q, p in values.tiers)
    db.session.flush()
    audit.record(actor.id, "groupbuy.save", "groupbuy_campaign", campaign.id, before,
                 {"name": campaign.name, "base_price_fen": campaign.base_price_fen, "tiers": values.tiers,
                  "min_pool_qty": campaign.min_pool_qty})
    return campaign


def publish_campaign(actor: User, campaign_id: int) -> GroupBuyCampaign:
    """draft → open: retailers of the territory see it (and may commit once it starts)."""
    campaign = campaign_for(actor, campaign_id)
    moved = db.session.execute(update(GroupBuyCampaign).where(
        GroupBuyCampaign.id == campaign.id, GroupBuyCampaign.status == GroupBuyStatus.DRAFT.value)
        .values(status=GroupBuyStatus.OPEN.value).execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise DomainError(_("只有草稿可以发布。"))
    if campaign.ends_at <= now_utc():
        raise DomainError(_("结束时间已过，请先修改时间。"))
    db.session.expire(campaign, ["status"])
    audit.record(actor.id, "groupbuy.publish", "groupbuy_campaign", campaign.id, {"status": "draft"}, {"status": "open"})
    return campaign


def request_close(actor: User, campaign_id: int) -> GroupBuyCampaign:
    """The owner (or the brand) closes an open campaign now: the close job runs after the commit."""
    from app.queue import enqueue_after_commit

    campaign = campaign_for(actor, campaign_id)
    if campaign.status != GroupBuyStatus.OPEN.value:
        raise DomainError(_("团购不在进行中。"))
    enqueue_after_commit("jobs.groupbuy.close_campaign_job", campaign.id, actor.id, True,
                         job_id=f"groupbuy-close-{campaign.id}")
    return campaign
