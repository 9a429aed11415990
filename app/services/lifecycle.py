"""The order lifecycle: which status may follow which, and the one function that moves an order.

    submitted → approved → picking → shipped → delivered → completed
    side exits: on_hold (credit or review), rejected, cancelled

`transition(order_id, to, actor_id, note)` is the only way an order's status changes. It checks the
move is allowed from the CURRENT status with a conditional UPDATE (`... WHERE status = :from`),
so two people acting on the same order at once end in one consistent state: the second gets a
`TransitionRefused`. It records an OrderEvent and an audit event and notifies the buyer (in-app,
stored in the same transaction; e-mail after the commit). Stock side effects (reserve at approval,
release on cancel/reject) are done here through the inventory services; shipping consumes stock in
app/services/shipping.py before it calls `transition(..., "shipped")`.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.extensions import db
from app.models import Order, OrderEvent, OrderStatus, utcnow
from app.services import audit
from app.services.errors import DomainError

S = OrderStatus
ALLOWED: dict[str, frozenset[str]] = {
    S.SUBMITTED.value: frozenset({S.APPROVED.value, S.ON_HOLD.value, S.REJECTED.value, S.CANCELLED.value}),
    S.ON_HOLD.value: frozenset({S.APPROVED.value, S.REJECTED.value, S.CANCELLED.value}),
    S.APPROVED.value: frozenset({S.PICKING.value, S.SHIPPED.value, S.CANCELLED.value}),
    S.PICKING.value: frozenset({S.SHIPPED.value, S.CANCELLED.value}),
    S.SHIPPED.value: frozenset({S.DELIVERED.value}),
    S.DELIVERED.value: frozenset({S.COMPLETED.value}),
    S.COMPLETED.value: frozenset(),
    S.REJECTED.value: frozenset(),
    S.CANCELLED.value: frozenset(),
}
# Statuses in which the seller holds stock reserved for the order.
RESERVED = frozenset({S.APPROVED.value, S.PICKING.value})

STATUS_LABELS = {
    S.SUBMITTED.value: _l("已提交"), S.APPROVED.value: _l("已审核"), S.PICKING.value: _l("拣货中"),
    S.SHIPPED.value: _l("已发货"), S.DELIVERED.value: _l("已签收"), S.COMPLETED.value: _l("已完成"),
    S.ON_HOLD.value: _l("暂停审核"), S.REJECTED.value: _l("已拒绝"), S.CANCELLED.value: _l("已取消"),
}


class TransitionRefused(DomainError):
    pass


def can_move(current: str, to: str) -> bool:
    return to in ALLOWED.get(current, frozenset())


def transition(order_id: int, to: str, actor_id: int | None, note: str = "") -> Order:
    """Move the order to `to`, or raise TransitionRefused (nothing changed)."""
    order = db.session.scalar(select(Order).where(Order.id == order_id).execution_options(populate_existing=True))
    if order is None:
        raise TransitionRefused(_("订单不存在。"))
    current = order.status
    if not can_move(current, to):
        raise TransitionRefused(_("订单当前状态为“%(now)s”，不能改为“%(to)s”。",
                                  now=STATUS_LABELS[current], to=STATUS_LABELS.get(to, to)))
    now = utcnow()
    moved = db.session.execute(
        update(Order).where(Order.id == order_id, Order.status == current)
        .values(status=to, updated_at=now).execution_options(synchronize_session=False)).rowcount
    if moved != 1:  # someone else moved it between our read and our write
        raise TransitionRefused(_("订单刚刚已被他人处理，请刷新后查看。"))
    _stock_side_effects(order_id, current, to, actor_id, note)
    db.session.add(OrderEvent(order_id=order_id, at=now, actor_id=actor_id, from_status=current, to_status=to,
                              note=(note or "")[:500]))
    audit.record(actor_id, "order.status", "order", order_id, {"status": current}, {"status": to, "note": note or ""})
    db.session.flush()
    db.session.refresh(order)
    _notify_buyer(order, current, to, note)
    return order


def _stock_side_effects(order_id: int, current: str, to: str, actor_id: int | None, note: str) -> None:
    from app.services.inventory.orders import release_order, reserve_order

    if to == S.APPROVED.value:
        reserve_order(order_id, actor_id)
    elif to in (S.CANCELLED.value, S.REJECTED.value) and current in RESERVED:
        release_order(order_id, actor_id, reason=note)


def _notify_buyer(order: Order, current: str, to: str, note: str) -> None:
    from flask import has_request_context, url_for

    from app.services.notifications import Audience, notify

    title = _("订单 %(n)s：%(status)s", n=order.number or order.id, status=STATUS_LABELS[to])
    role = "retailer" if order.buyer.kind == "retailer" else "dealer"
    # Outside a request (a job) there is no host to build a link with; the notice goes without.
    link = url_for(f"{role}.order_detail", order_id=order.id) if has_request_context() else ""
    notify(Audience(order.buyer_id, role), kind="order_status", title=title, body=note or "", link=link,
           dedupe_key=f"order:{order.id}:{to}")
