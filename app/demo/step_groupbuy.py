"""Demo step "groupbuy" (the last step): three territory group-buys, built through the
group-buy services themselves (commitments are real orders; the close posts real credit notes):

- running: dealer001's 夏季集单 for the shops it serves, pool 412 / 500 箱 (还差 88 箱), its ¥-tier
  at 300 unlocked and the next at 500 in reach; retailer000001 has not joined, so the demo
  login can join and watch the pool move;
- succeeded: the brand's 全省团购 for dealer002's province, closed on the top tier, every
  commitment re-priced with a credit note for the difference;
- failed: dealer003's campaign, closed below its minimum, its orders cancelled with notices.

A few dozen shops each, at every scale (the step takes well under a second)."""
from __future__ import annotations

import random
from datetime import timedelta

from app.demo.builder import register_step
from app.extensions import db
from app.models import Organisation, User
from app.models.groupbuy import GroupBuyCampaign, GroupBuyTier
from app.services.campaigns import groupbuy
from app.services.campaigns.groupbuy_close import close_campaign
from app.services.core.clock import now_utc
from app.services.promotions.engine import spread


def _product(ctx):
    """A popular product every shop may order (not regional, not a gift)."""
    candidates = [p for p in ctx.products if p.status == "active" and not p.only and not p.gift]
    return sorted(candidates, key=lambda p: (-p.popularity, p.id))[1]


def _price(fen: int, share: float) -> int:
    return int(fen * share) // 10 * 10


def _campaign(ctx, name, owner_id, product, *, region_id=None, min_pool, tiers, days_left) -> GroupBuyCampaign:
    now = now_utc()
    row = GroupBuyCampaign(name=name, owner_id=owner_id, region_id=region_id, product_id=product.id,
                           starts_at=now - timedelta(days=12), ends_at=now + timedelta(days=days_left),
                           base_price_fen=_price(product.base_price_fen, 0.98), min_pool_qty=min_pool,
                           min_per_retailer=5, max_per_retailer=200, pool_qty=0, status="open",
                           created_by_id=ctx.admin_user_id)
    row.tiers = [GroupBuyTier(min_qty=qty, unit_price_fen=_price(product.base_price_fen, share)) for qty, share in tiers]
    db.session.add(row)
    db.session.flush()
    return row


def _quantities(rng: random.Random, total: int, shops: int) -> list[int]:
    """`shops` quantities summing to `total`, in random proportions (largest remainder)."""
    return spread(total, [rng.randint(3, 10) for _ in range(shops)])


def _join(campaign, retailers, quantities) -> None:
    for info, qty in zip(retailers, quantities):
        user = db.session.get(User, info.user_id)
        groupbuy.commit_quantity(user, db.session.get(Organisation, info.id), campaign.id, qty)


def _end(campaign) -> None:
    campaign.ends_at = now_utc() - timedelta(days=2)
    db.session.flush()
    close_campaign(campaign.id)


def build_groupbuy(ctx) -> None:
    rng = ctx.rng
    product = _product(ctx)
    dealers = ctx.dealers
    by_dealer: dict[int, list] = {}
    for r in ctx.retailers:
        by_dealer.setdefault(r.dealer_index, []).append(r)

    running = _campaign(ctx, "夏季集单：满500箱全员特价", dealers[0].id, product, min_pool=500,
                        tiers=[(300, 0.95), (500, 0.90)], days_left=5)
    shops = [r for r in by_dealer[0] if r.code != "R000001"][:6]
    _join(running, shops, [80, 75, 70, 65, 62, 60])  # 412 / 500

    province = ctx.regions[dealers[1].region_id].province_id
    in_province = [r for r in by_dealer[1] if ctx.regions[r.region_id].province_id == province]
    won = _campaign(ctx, "全省团购：国庆备货", ctx.brand_id, product, region_id=province, min_pool=300,
                    tiers=[(200, 0.94), (400, 0.88)], days_left=1)
    joined = rng.sample(in_province, min(12, len(in_province)))  # 460 cases: at least 3 shops under 200 each
    _join(won, joined, _quantities(rng, 460, len(joined)))
    _end(won)

    lost = _campaign(ctx, "春节集单", dealers[2].id, product, min_pool=600, tiers=[(600, 0.90)], days_left=1)
    _join(lost, by_dealer[2][:4], [40, 35, 30, 25])
    _end(lost)
    ctx.echo(f"  group-buys: running 412/500, succeeded 460 (province {province}), failed 130/600")


register_step("groupbuy", build_groupbuy)  # last: on top of everything the other steps built
