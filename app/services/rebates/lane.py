"""The rebate-balance lane of the cart quote (after the coupon lane: price → item → order →
coupon → rebate balance → points).

A dealer buying from the brand may tick "use my rebate balance" on its replenishment cart (a
RebateCartChoice row). The lane then takes min(balance, share × total after coupons), where
share is the largest `balance_share_pct` of the dealer's active balance-payout agreements
(floored to the fen), and spreads it over the paid lines by largest remainder (each line's
discount grows by its share, so the lines still sum to the header). Quoting writes nothing
and costs one query, for dealers only.

Checkout (`consume`, inside submit_order's transaction) takes the amount from the balance by
one conditional UPDATE; when a concurrent order spent it first, the buyer gets the re-priced
cart to confirm (PricesChanged), exactly as for a promotion budget. A cancel or reject gives
the rest back (`give_back`), a return gives back the returned units' share of each line
(`give_back_returned`, half up, never more than the line took)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, exists, func, or_, select

from app.extensions import db
from app.models import OrderLine, Organisation, OrgKind, User
from app.models.rebates import (AgreementStatus, RebateAccount, RebateAgreement, RebateCartChoice, RebateLedgerEntry,
                                RebatePayout)
from app.services.promotions.engine import half_up_div, spread
from app.services.rebates import balance


@dataclass
class RebateLane:
    balance_fen: int
    share_pct: int
    chosen: bool
    limit_fen: int  # the most this order may take
    amount_fen: int  # what it takes (0 unless chosen)
    shares: dict[int, int] = field(default_factory=dict)  # cart line id → fen


def share_clause(dealer: Organisation):
    return (select(func.max(RebateAgreement.balance_share_pct))
            .where(RebateAgreement.status == AgreementStatus.ACTIVE.value,
                   RebateAgreement.payout == RebatePayout.BALANCE.value,
                   or_(RebateAgreement.dealer_id == dealer.id, RebateAgreement.dealer_tier == (dealer.tier or "-")))
            .scalar_subquery())


def apply(quote, owner: User, buyer: Organisation) -> None:
    """Write the lane onto the quote (`quote.rebate`, the lines' discounts); one query."""
    if getattr(buyer, "kind", None) != OrgKind.DEALER.value:
        return
    row = db.session.execute(select(
        select(RebateAccount.balance_fen).where(RebateAccount.dealer_id == buyer.id).scalar_subquery(),
        share_clause(buyer),
        exists().where(RebateCartChoice.owner_id == owner.id, RebateCartChoice.buyer_id == buyer.id))).one()
    held, share, chosen = int(row[0] or 0), int(row[1] or 0), bool(row[2])
    if not held and not share:
        return
    paid = [line for line in quote.lines if line.available and not line.is_gift and line.line_total_fen > 0]
    limit = min(held, sum(line.line_total_fen for line in paid) * share // 100)
    amount = limit if chosen else 0
    shares = spread(amount, [line.line_total_fen for line in paid])
    for line, fen in zip(paid, shares):
        line.discount_fen += fen
    quote.rebate = RebateLane(held, share, chosen, limit, amount,
                              {line.line_id: fen for line, fen in zip(paid, shares) if fen})


def choose(owner: User, buyer: Organisation, use: bool) -> None:
    """Tick or untick "use my rebate balance" on this cart."""
    db.session.execute(delete(RebateCartChoice).where(RebateCartChoice.owner_id == owner.id,
                                                      RebateCartChoice.buyer_id == buyer.id))
    if use:
        db.session.add(RebateCartChoice(owner_id=owner.id, buyer_id=buyer.id))
    db.session.flush()


def consume(order_id: int, owner: User, buyer: Organisation, quote) -> None:
    """Take the lane's amount from the balance for the new order (its lines are written);
    PricesChanged with the re-priced cart when the balance no longer holds it."""
    lane = getattr(quote, "rebate", None)
    if lane is None or not lane.amount_fen:
        return
    ids = dict(db.session.execute(select(OrderLine.product_id, OrderLine.id).where(
        OrderLine.order_id == order_id, OrderLine.is_gift.is_(False))).all())
    by_line = {line.line_id: line for line in quote.lines}
    shares = {str(ids[by_line[line_id].product.id]): fen for line_id, fen in lane.shares.items()}
    if balance.move(buyer.id, -lane.amount_fen, "spend", order_id=order_id, shares=shares) is None:
        from app.services.core.messages import message
        from app.services.ordering import cart
        from app.services.ordering.orders import PricesChanged

        requote = cart.quote_cart(owner, buyer)
        requote.dropped = [message("rebate.balance_changed")]
        raise PricesChanged(requote)


def order_columns(order_id) -> dict:
    """Correlated subqueries for an order query (`order_id`: its id column): the fen the order
    took from the balance and the fen given back since (cancel, reject, returns)."""
    def total(*kinds):
        return (select(func.coalesce(func.sum(RebateLedgerEntry.amount_fen), 0))
                .where(RebateLedgerEntry.order_id == order_id, RebateLedgerEntry.kind.in_(kinds)).scalar_subquery())

    return {"rebate_fen": -total("spend"), "rebate_back_fen": total("give_back", "return")}


def _spent(order_id: int) -> RebateLedgerEntry | None:
    return db.session.scalar(select(RebateLedgerEntry).where(RebateLedgerEntry.order_id == order_id,
                                                             RebateLedgerEntry.kind == "spend"))


def _given_back(order_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(RebateLedgerEntry.amount_fen), 0)).where(
        RebateLedgerEntry.order_id == order_id, RebateLedgerEntry.kind.in_(("give_back", "return")))) or 0)


def give_back(order_id: int) -> int:
    """A cancelled or rejected order gives back what it spent and returns have not (once)."""
    spent = _spent(order_id)
    if spent is None or db.session.scalar(select(RebateLedgerEntry.id).where(
            RebateLedgerEntry.order_id == order_id, RebateLedgerEntry.kind == "give_back")) is not None:
        return 0
    back = -spent.amount_fen - _given_back(order_id)
    if back > 0:
        balance.move(spent.dealer_id, back, "give_back", order_id=order_id)
    return max(back, 0)


def give_back_returned(order_id: int, quantities: dict[int, int], ref: str) -> int:
    """Returned units ({order line id: qty}) give back their share of each line's rebate."""
    spent = _spent(order_id) if quantities else None
    if spent is None:
        return 0
    ordered = dict(db.session.execute(select(OrderLine.id, OrderLine.qty).where(
        OrderLine.order_id == order_id, OrderLine.id.in_(list(quantities)))).all())
    back = sum(half_up_div(int((spent.shares or {}).get(str(line_id), 0)) * min(qty, ordered[line_id]), ordered[line_id])
               for line_id, qty in quantities.items() if line_id in ordered)
    back = min(back, -spent.amount_fen - _given_back(order_id))
    if back > 0:
        balance.move(spent.dealer_id, back, "return", order_id=order_id, ref=ref)
    return max(back, 0)
