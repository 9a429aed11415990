"""Coupon codes on a cart: entered (checked, with the reason next to the field when refused),
removed, and read back for the quote. A code is compared normalised: full-width characters made
half-width (NFKC), spaces and dashes dropped, upper case."""
from __future__ import annotations

import re
import unicodedata

from flask_babel import gettext as _
from sqlalchemy import String, bindparam, cast, delete, func, literal, select

from app.extensions import db
from app.models import CartCoupon, CouponCode, Organisation, PromotionRedemption, User
from app.services.core.clock import now_utc
from app.services.core.errors import DomainError
from app.services.promotions import index as promo_index
from app.services.promotions.engine import COUPON, Buyer, Coupon

FIELD = "coupon_code"
_DROPPED = re.compile(r"[\s\-_]+")


def normalise_code(raw: str | None) -> str:
    return _DROPPED.sub("", unicodedata.normalize("NFKC", raw or "")).upper()


def entered_coupon(coupon_id: int, buyer_id: int, index: promo_index.PromotionIndex) -> Coupon:
    """The coupon on a cart, for the quote (one query). A code that stopped being usable stays on
    the cart with the reason, so the buyer sees why it no longer applies."""
    row = db.session.get(CouponCode, coupon_id)
    promotion = index.by_id.get(row.promotion_id)
    problem = None
    if promotion is None or promotion.lane != COUPON:
        promotion, problem = None, "promo.coupon_not_live"
    elif row.customer_id is not None and row.customer_id != buyer_id:
        problem = "promo.coupon_not_live"
    elif row.max_uses is not None and row.used_uses >= row.max_uses:
        problem = "promo.coupon_used_up"
    return Coupon(row.id, row.code, promotion, problem)


def apply_coupon(owner: User, buyer: Organisation, raw_code, buyer_facts: Buyer) -> CouponCode:
    """Put a code on the cart `owner` builds for `buyer`, or say why not (field `coupon_code`);
    a refused code changes nothing."""
    code = normalise_code(raw_code if isinstance(raw_code, str) else "")
    if not code:
        raise DomainError(_("请输入优惠券码。"), field=FIELD)
    row = db.session.scalar(select(CouponCode).where(CouponCode.code == code[:40]))
    if row is None:
        raise DomainError(_("优惠券码无效，请核对后重新输入。"), field=FIELD)
    if row.customer_id is not None and row.customer_id != buyer.id:
        raise DomainError(_("这张优惠券不属于您的账户。"), field=FIELD)
    index = promo_index.index_for(promo_index.current_version())
    promotion = index.by_id.get(row.promotion_id)
    now = now_utc()
    if promotion is None or promotion.lane != COUPON or promotion.ends_at <= now:
        raise DomainError(_("优惠券已过期或已停用。"), field=FIELD)
    if promotion.starts_at > now:
        raise DomainError(_("优惠券还未到使用时间。"), field=FIELD)
    if not promotion.targets(buyer_facts):
        raise DomainError(_("这张优惠券不适用于您的账户。"), field=FIELD)
    if (row.max_uses is not None and row.used_uses >= row.max_uses) or not promotion.fits_budget(0):
        raise DomainError(_("优惠券已被用完。"), field=FIELD)
    if promotion.per_customer_limit is not None and customer_uses(promotion.id, buyer.id) >= promotion.per_customer_limit:
        raise DomainError(_("您已用过这张优惠券，不能再次使用。"), field=FIELD)
    entered = db.session.scalar(select(CartCoupon).where(CartCoupon.owner_id == owner.id,
                                                         CartCoupon.buyer_id == buyer.id))
    if entered is None:
        db.session.add(CartCoupon(owner_id=owner.id, buyer_id=buyer.id, coupon_id=row.id))
    else:
        entered.coupon_id = row.id
    db.session.flush()
    return row


def remove_coupon(owner: User, buyer: Organisation) -> None:
    db.session.execute(delete(CartCoupon).where(CartCoupon.owner_id == owner.id, CartCoupon.buyer_id == buyer.id))


def used_up_for(buyer_id: int, limits: dict[int, int]) -> set[int]:
    """Of the promotions with a per-customer limit ({id: limit}), those this buyer has used up
    (one query, run only when such promotions are live)."""
    rows = db.session.execute(_USES, {"promotion_ids": list(limits), "buyer_id": buyer_id})
    return {pid for pid, n in rows if n >= limits[pid]}


def uses_column(dialect: str):
    """used_up_for's counts as one column for the cart query (bound: `uses_ids`, the limited
    promotions' ids, and `uses_buyer`): "promotion:uses" pairs joined by ";" (used_up_from reads it)."""
    counts = (select(PromotionRedemption.promotion_id.label("promotion_id"), func.count().label("n"))
              .where(PromotionRedemption.promotion_id.in_(bindparam("uses_ids", expanding=True)),
                     PromotionRedemption.buyer_id == bindparam("uses_buyer"),
                     PromotionRedemption.released_at.is_(None))
              .group_by(PromotionRedemption.promotion_id).subquery())
    pair = cast(counts.c.promotion_id, String) + literal(":") + cast(counts.c.n, String)
    joined = func.string_agg(pair, literal(";")) if dialect == "postgresql" else func.group_concat(pair, literal(";"))
    return select(joined).scalar_subquery()


def used_up_from(value: str | None, limits: dict[int, int]) -> set[int]:
    """used_up_for from the cart query's `uses_column` value."""
    used = {}
    for part in (value or "").split(";"):
        if part:
            promotion_id, uses = part.split(":")
            used[int(promotion_id)] = int(uses)
    return {pid for pid, n in used.items() if pid in limits and n >= limits[pid]}


# used_up_for's statement, built once (every quote runs it while such promotions are live).
_USES = (select(PromotionRedemption.promotion_id, func.count())
         .where(PromotionRedemption.promotion_id.in_(bindparam("promotion_ids", expanding=True)),
                PromotionRedemption.buyer_id == bindparam("buyer_id"), PromotionRedemption.released_at.is_(None))
         .group_by(PromotionRedemption.promotion_id))


def customer_uses(promotion_id: int, buyer_id: int) -> int:
    """The customer's orders that took the promotion and were not given back."""
    return db.session.scalar(select(func.count()).select_from(PromotionRedemption).where(
        PromotionRedemption.promotion_id == promotion_id, PromotionRedemption.buyer_id == buyer_id,
        PromotionRedemption.released_at.is_(None))) or 0
