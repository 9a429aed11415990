"""What the promotion list shows: each promotion with its orders and what it gave, from the
redemption rows not given back (one grouped query for the page)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.models import Promotion, PromotionRedemption


@dataclass
class PromotionRow:
    promotion: Promotion
    orders: int
    discount_fen: int
    gift_fen: int


def promotion_list(scope, limit: int = 500) -> list[PromotionRow]:
    """Two queries: the promotions in `scope` (newest first), their redemption totals."""
    rows = list(db.session.scalars(scope.order_by(Promotion.starts_at.desc(), Promotion.id.desc()).limit(limit)))
    ids = [row.id for row in rows] or [-1]
    totals = {pid: (n, d, g) for pid, n, d, g in db.session.execute(
        select(PromotionRedemption.promotion_id, func.count(), func.coalesce(func.sum(PromotionRedemption.discount_fen), 0),
               func.coalesce(func.sum(PromotionRedemption.gift_fen), 0))
        .where(PromotionRedemption.promotion_id.in_(ids), PromotionRedemption.released_at.is_(None))
        .group_by(PromotionRedemption.promotion_id))}
    return [PromotionRow(row, *totals.get(row.id, (0, 0, 0))) for row in rows]
