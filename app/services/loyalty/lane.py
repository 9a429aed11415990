"""The cart's points lane, after the coupon lane (and the rebate balance): the retailer ticks
"use points" and pays up to `max_redeem_pct` % of what the order still costs with points, at
`redeem_points_per_yuan` points per ¥1.

    apply(quote, buyer, use, row)      quote_cart: pure, adds no query (the balance, pending gifts
                                       and settings ride as columns of the cart query: `columns`)
    consume(order_id, quote, buyer_id) submit_order: the points by conditional UPDATE (refused,
                                       nothing saved, when the balance fell meanwhile) and the
                                       pending gifts as zero-priced lines of the order
    release(order_id)                  cancel/reject: the points back into the same lots, the
                                       gifts pending again for the next order

Maths: amount = min(floor(paid × max share / 100), floor(balance × 100 / rate)) fen, spread over
the paid lines in proportion to what they still cost by largest remainder (each line ≥ 0, the
lines sum to the amount); points used = ceil(amount × rate / 100) ≤ balance.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, insert, select, update

from app.extensions import db
from app.models import LoyaltySettings, Order, OrderLine, PointsAccount, PointsEntry, PointsGiftClaim, Product
from app.services.loyalty import ledger
from app.services.loyalty.settings import Settings
from app.services.promotions.engine import spread


@dataclass
class PendingGift:
    claim_id: int
    product: Product
    qty: int


@dataclass
class PointsLane:
    balance: int = 0
    rate: int = Settings.redeem_points_per_yuan  # points per ¥1
    max_pct: int = Settings.max_redeem_pct
    requested: bool = False
    amount_fen: int = 0  # taken off the order
    points: int = 0  # what the order spends
    pending_gifts: list[PendingGift] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.balance > 0 and self.max_pct > 0


def columns(buyer_id: int) -> list:
    """Scalar subqueries for the cart query: balance, pending gift count, rate, max share, and
    the member tier (promotion targeting)."""
    def setting(column):
        return select(column).where(LoyaltySettings.id == 1).scalar_subquery()

    return [select(PointsAccount.balance).where(PointsAccount.retailer_id == buyer_id).scalar_subquery()
            .label("points_balance"),
            select(func.count()).select_from(PointsGiftClaim).where(
                PointsGiftClaim.retailer_id == buyer_id, PointsGiftClaim.status == "pending").scalar_subquery()
            .label("points_gifts"),
            setting(LoyaltySettings.redeem_points_per_yuan).label("points_rate"),
            setting(LoyaltySettings.max_redeem_pct).label("points_max_pct"),
            select(PointsAccount.tier).where(PointsAccount.retailer_id == buyer_id).scalar_subquery()
            .label("points_tier")]


def member_tier(retailer_id: int) -> str:
    """The retailer's member tier for promotion targeting ("member" without an account)."""
    return db.session.scalar(select(PointsAccount.tier).where(PointsAccount.retailer_id == retailer_id)) or "member"


def apply(quote, buyer, use: bool, row) -> None:
    """The lane over a priced quote (`row`: the first row of the cart query, None for an empty
    cart). Only retailers have points."""
    if buyer.kind != "retailer" or row is None:
        return
    lane = PointsLane(balance=int(row.points_balance or 0), requested=bool(use))
    if row.points_rate is not None:
        lane.rate, lane.max_pct = int(row.points_rate), int(row.points_max_pct)
    if row.points_gifts:
        lane.pending_gifts = pending_gifts(buyer.id)
    quote.points = lane
    if not use or not lane.usable:
        return
    paid = [line for line in quote.lines if line.available and line.line_total_fen > 0]
    weights = [line.line_total_fen for line in paid]
    amount = min(sum(weights) * lane.max_pct // 100, lane.balance * 100 // lane.rate)
    if amount <= 0:
        return
    for line, share in zip(paid, spread(amount, weights)):
        line.discount_fen += share
    lane.amount_fen = amount
    lane.points = -(-amount * lane.rate // 100)


def pending_gifts(retailer_id: int, lock: bool = False) -> list[PendingGift]:
    query = (select(PointsGiftClaim, Product).join(Product, Product.id == PointsGiftClaim.product_id)
             .where(PointsGiftClaim.retailer_id == retailer_id, PointsGiftClaim.status == "pending")
             .order_by(PointsGiftClaim.id))
    if lock:
        query = query.with_for_update(of=PointsGiftClaim)
    return [PendingGift(claim.id, product, claim.qty) for claim, product in db.session.execute(query).all()]


def consume(order_id: int, quote, buyer_id: int) -> None:
    """Inside submit_order's transaction, after the order row exists."""
    lane = getattr(quote, "points", None)
    if lane is None:
        return
    if lane.points > 0:
        # value_fen: the yuan off, so the order page can show what the points paid
        ledger.spend(buyer_id, lane.points, "redeem", f"redeem:order:{order_id}", order_id=order_id,
                     value_fen=lane.amount_fen)
    gifts = pending_gifts(buyer_id, lock=True) if lane.pending_gifts else []
    taken = []
    for gift in gifts:
        moved = db.session.execute(update(PointsGiftClaim).where(
            PointsGiftClaim.id == gift.claim_id, PointsGiftClaim.status == "pending")
            .values(status="ordered", order_id=order_id).execution_options(synchronize_session=False)).rowcount
        if moved:
            taken.append(gift)
    if taken:
        db.session.execute(insert(OrderLine), [
            dict(order_id=order_id, product_id=g.product.id, qty=g.qty, unit_price_fen=0, price_reason="",
                 price_basis=None, tax_rate=g.product.tax_rate, line_total_fen=0, tax_fen=0, discount_fen=0,
                 is_gift=True) for g in taken])
        products = (select(func.count(func.distinct(OrderLine.product_id))).where(OrderLine.order_id == order_id)
                    .scalar_subquery())  # a gift of a product also bought is not one more 种
        db.session.execute(update(Order).where(Order.id == order_id)
                           .values(line_count=products).execution_options(synchronize_session=False))


def order_columns(order_id) -> dict:
    """Correlated subqueries for an order query (`order_id`: its id column): the points it spent,
    the fen they paid, and the points given back since (cancel, reject, returns). Orders placed
    before the redeem entry kept its value read it back at the current rate."""
    def entry(column, kind):
        return select(column).where(PointsEntry.order_id == order_id, PointsEntry.kind == kind)

    rate = select(LoyaltySettings.redeem_points_per_yuan).where(LoyaltySettings.id == 1).scalar_subquery()
    value = case((PointsEntry.value_fen > 0, PointsEntry.value_fen),
                 else_=-PointsEntry.points * 100 / func.coalesce(rate, Settings.redeem_points_per_yuan))
    return {"points_used": -entry(PointsEntry.points, "redeem").scalar_subquery(),
            "points_fen": entry(value, "redeem").scalar_subquery(),
            "points_back": select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                PointsEntry.order_id == order_id, PointsEntry.kind == "release").scalar_subquery()}


def release(order_id: int) -> None:
    """The order was cancelled or rejected: its points and gifts go back (once)."""
    buyer_id = db.session.scalar(select(Order.buyer_id).where(Order.id == order_id))
    ledger.give_back(buyer_id, f"redeem:order:{order_id}", "release", f"release:order:{order_id}", order_id=order_id)
    db.session.execute(update(PointsGiftClaim).where(PointsGiftClaim.order_id == order_id,
                                                     PointsGiftClaim.status == "ordered")
                       .values(status="pending", order_id=None).execution_options(synchronize_session=False))
