"""What the promotion list shows: each promotion with its orders and what it gave, from the
redemption rows not given back (one grouped query for the page); and one promotion's effect."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, distinct, func, or_, select

from app.extensions import db
from app.models import Promotion, PromotionRedemption
from app.services.core.clock import LOCAL
from app.services.forecasting.baseline import ForecastBaseline, promotion_baseline


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


@dataclass
class Effect:
    """One promotion's effect, measured two ways: a simple before/after comparison (the buyers who
    took it, their gross sales, every order not rejected or cancelled, any seller, during the
    window so far versus the same length of time just before it), and, once a forecast covers the
    window, the promoted products' demand against the forecast for those days (`forecast`)."""
    promotion: Promotion
    orders: int
    buyers: int
    units: int
    discount_fen: int
    gift_fen: int
    window_start: datetime
    window_end: datetime
    before_start: datetime
    sales_during_fen: int
    sales_before_fen: int
    # The promoted products' demand against the forecast for the window, when a forecast run made
    # before the promotion covers it (app/services/forecasting/baseline.py).
    forecast: ForecastBaseline | None = None

    @property
    def cost_fen(self) -> int:
        return self.discount_fen + self.gift_fen

    @property
    def extra_fen(self) -> int:
        return self.sales_during_fen - self.sales_before_fen

    @property
    def return_on_spend(self) -> float | None:
        """Extra gross sales ÷ cost (None without cost)."""
        return self.extra_fen / self.cost_fen if self.cost_fen else None


def effect(promotion: Promotion, now: datetime | None = None) -> Effect:
    """Three queries whatever the number of orders (redemption totals, units, the buyers' sales),
    and a fixed few for the forecast baseline (one when no forecast run covers the window)."""
    from app.models import Order, OrderLine, OrderStatus, Product
    from app.services.core.clock import now_utc

    now = now or now_utc()
    kept = and_(PromotionRedemption.promotion_id == promotion.id, PromotionRedemption.released_at.is_(None))
    orders, buyers, discount, gift = db.session.execute(
        select(func.count(), func.count(distinct(PromotionRedemption.buyer_id)),
               func.coalesce(func.sum(PromotionRedemption.discount_fen - PromotionRedemption.released_fen), 0),
               func.coalesce(func.sum(PromotionRedemption.gift_fen), 0)).where(kept)).one()
    units_query = (select(func.coalesce(func.sum(OrderLine.qty), 0))
                   .join(PromotionRedemption, and_(PromotionRedemption.order_id == OrderLine.order_id, kept))
                   .where(OrderLine.is_gift.is_(False)))
    if promotion.product_ids or promotion.category_ids:
        units_query = units_query.join(Product, Product.id == OrderLine.product_id).where(or_(
            OrderLine.product_id.in_(promotion.product_ids or [-1]),
            Product.category_id.in_(promotion.category_ids or [-1])))
    units = db.session.scalar(units_query)
    start = promotion.starts_at
    end = max(start, min(promotion.ends_at, now))
    before = start - (end - start)
    took = select(PromotionRedemption.buyer_id).where(kept).distinct()
    during_fen, before_fen = db.session.execute(
        select(func.coalesce(func.sum(case((Order.created_at >= start, Order.total_fen), else_=0)), 0),
               func.coalesce(func.sum(case((Order.created_at < start, Order.total_fen), else_=0)), 0))
        .where(Order.buyer_id.in_(took), Order.created_at >= before, Order.created_at < end,
               Order.status.not_in((OrderStatus.REJECTED.value, OrderStatus.CANCELLED.value)))).one()
    first_day = start.astimezone(LOCAL).date()
    last_day = min((promotion.ends_at - timedelta(microseconds=1)).astimezone(LOCAL).date(),
                   now.astimezone(LOCAL).date() - timedelta(days=1))  # the facts run to yesterday
    baseline = promotion_baseline(promotion.product_ids or [], promotion.category_ids or [], first_day, last_day,
                                  promotion.owner_id)
    return Effect(promotion, int(orders), int(buyers), int(units), int(discount), int(gift), start, end, before,
                  int(during_fen), int(before_fen), baseline)
