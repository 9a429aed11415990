"""Points earned on delivered orders and clawed back on returns.

Earning (`earn_for_order`, called by the delivery sign-off in its transaction): a retailer's
order earns on what it paid after every discount (promotions, coupon, points) for what was
delivered: the lines' totals less what was credited at sign-off (cancelled rest, short, damaged).
points = floor(value × earn rate / 100), one lot expiring `lot_life_days` after the sign-off
day. The delivered value also counts at once towards the member tier (an upgrade is immediate).

Clawback (`claw_back_for_return`, called when a return is accepted, in its transaction): the
order keeps the points its remaining value deserves, in proportion to what it earned:
deserved(v) = floor(earned points × v / earned value); a return from value b to value a takes
deserved(b) − deserved(a), so successive returns add up to exactly what the whole would take.
The points come from the lots expiring first (unspent points of this order or any other);
what the balance cannot cover because it was already spent is recorded as the entry's
`shortfall` and written off: the balance absorbs a clawback only down to 0, never below.

Points spent on the order come back for what is returned (`refund_for_return`, same call): the
order paid P points for value V (its total after the points lane); once returns took back value
r, the buyer has had floor(P × r / V) points back, as a new lot with a fresh lifetime (the lots
they came from may have expired since), so successive returns again add up to the whole.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, PointsEntry, ReturnRequest
from app.services.core.clock import today_local
from app.services.fulfilment.progress import line_value, progress
from app.services.loyalty import ledger, settings, tiers


def delivered_value(order: Order) -> int:
    """What the buyer paid for what it kept: line totals less what was credited so far."""
    return sum(row.line.line_total_fen - line_value(row.line, row.credited) for row in progress(order))


def earn_for_order(order: Order) -> ledger.Change | None:
    """Points for a retailer's order just signed for (once per order)."""
    if order.buyer.kind != "retailer":
        return None
    config = settings.current()
    value = delivered_value(order)
    change = ledger.earn(order.buyer_id, config.points_for(value), f"earn:order:{order.id}",
                         today_local() + timedelta(days=config.lot_life_days), order_id=order.id, value_fen=value)
    if change is not None:
        tiers.note_spend(order.buyer_id, value, config)
    return change


def claw_back_for_return(order: Order, return_id: int, returned_value_fen: int) -> ledger.Change | None:
    """Take back the points the returned value had earned (see the module's rule)."""
    earned = db.session.scalar(select(PointsEntry).where(PointsEntry.ref == f"earn:order:{order.id}"))
    if earned is None or returned_value_fen <= 0 or earned.value_fen <= 0:
        return None
    clawed_value = -(db.session.scalar(select(func.coalesce(func.sum(PointsEntry.value_fen), 0)).where(
        PointsEntry.order_id == order.id, PointsEntry.kind == "clawback")) or 0)
    before = max(0, earned.value_fen - clawed_value)
    after = max(0, before - returned_value_fen)

    def deserved(value: int) -> int:
        return earned.points * value // earned.value_fen

    points = deserved(before) - deserved(after)
    change = ledger.spend(order.buyer_id, points, "clawback", f"claw:return:{return_id}", order_id=order.id,
                          value_fen=-(before - after), partial=True)
    if change is not None:
        tiers.note_spend(order.buyer_id, -(before - after), settings.current())
    return change


def refund_for_return(order: Order, return_id: int, returned_value_fen: int) -> ledger.Change | None:
    """Give back the points spent on the returned value (see the module's rule)."""
    spent = db.session.scalar(select(PointsEntry.points).where(PointsEntry.ref == f"redeem:order:{order.id}"))
    if not spent or order.total_fen <= 0 or returned_value_fen <= 0:
        return None
    returned = db.session.scalar(select(func.coalesce(func.sum(ReturnRequest.amount_fen), 0)).where(
        ReturnRequest.order_id == order.id, ReturnRequest.status == "accepted")) or 0
    after = min(returned, order.total_fen)
    before = max(0, min(returned - returned_value_fen, order.total_fen))
    points = -spent * after // order.total_fen - (-spent * before // order.total_fen)
    if points <= 0:
        return None
    life = settings.current().lot_life_days
    return ledger.earn(order.buyer_id, points, f"refund:return:{return_id}", today_local() + timedelta(days=life),
                       kind="release", order_id=order.id)
