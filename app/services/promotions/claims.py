"""Claimable coupons (领券): a coupon promotion marked `claimable` in its rule is listed on the
retailer's coupons page while it is live and targets the shop; claiming makes one code issued to
that shop (one use), up to the promotion's `claim_limit` codes per customer (default 1). Claims
of one shop run one after another under the shop's row lock, so the limit holds under double
clicks and two devices. The claimed code is then entered on the cart like any code."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import CouponCode, Organisation
from app.services.core.clock import now_utc
from app.services.core.errors import DomainError, NotFound
from app.services.promotions import index as promo_index
from app.services.promotions.admin import CODE_ALPHABET
from app.services.promotions.engine import COUPON, Buyer, CompiledPromotion


@dataclass
class Claimable:
    promotion: CompiledPromotion
    claimed: int
    limit: int

    @property
    def can_claim(self) -> bool:
        return self.claimed < self.limit


def claim_limit(promo: CompiledPromotion) -> int:
    return int(promo.rule.get("claim_limit") or 1)


def _claimed(buyer_id: int, promotion_ids: list[int]) -> dict[int, int]:
    if not promotion_ids:
        return {}
    return dict(db.session.execute(select(CouponCode.promotion_id, func.count()).where(
        CouponCode.customer_id == buyer_id, CouponCode.promotion_id.in_(promotion_ids))
        .group_by(CouponCode.promotion_id)).all())


def claimable_for(buyer: Buyer) -> list[Claimable]:
    """The live claimable coupons that target this buyer, with how many it has claimed."""
    index = promo_index.index_for(promo_index.current_version())
    now = now_utc()
    promos = [p for p in index.by_id.values()
              if p.lane == COUPON and p.rule.get("claimable") and p.live_at(now) and p.targets(buyer)]
    counts = _claimed(buyer.id, [p.id for p in promos])
    return [Claimable(p, counts.get(p.id, 0), claim_limit(p)) for p in sorted(promos, key=lambda p: p.ends_at)]


def my_codes(buyer_id: int) -> list[CouponCode]:
    """The codes issued to this customer, newest first (with their promotion)."""
    from sqlalchemy.orm import joinedload

    return list(db.session.scalars(select(CouponCode).where(CouponCode.customer_id == buyer_id)
                                   .options(joinedload(CouponCode.promotion)).order_by(CouponCode.id.desc()).limit(100)))


def claim(buyer: Organisation, facts: Buyer, promotion_id) -> CouponCode:
    """One code of a claimable coupon for `buyer`; NotFound when the coupon is not one this buyer
    may see; DomainError when its limit is reached."""
    index = promo_index.index_for(promo_index.current_version())
    promo = index.by_id.get(promotion_id) if isinstance(promotion_id, int) else None
    if promo is None or promo.lane != COUPON or not promo.rule.get("claimable") or not promo.live_at(now_utc()) \
            or not promo.targets(facts):
        raise NotFound(_("优惠券不存在或已结束。"))
    db.session.execute(select(Organisation.id).where(Organisation.id == buyer.id).with_for_update())
    if _claimed(buyer.id, [promo.id]).get(promo.id, 0) >= claim_limit(promo):
        raise DomainError(_("这张优惠券您已领过，不能再领。"))
    row = CouponCode(promotion_id=promo.id, customer_id=buyer.id, max_uses=1,
                     code=promo.code[:8] + "".join(secrets.choice(CODE_ALPHABET) for _ in range(10)))
    db.session.add(row)
    db.session.flush()
    return row
