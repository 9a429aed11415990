"""The order lifecycle: which status may follow which, and the one function that moves an order.

    submitted → approved → picking → shipped → delivered → completed
    side exits: on_hold (credit or review), rejected, cancelled

`transition(order_id, to, actor_id, note)` is the only way an order's status changes. It checks the
move is allowed from the CURRENT status with a conditional UPDATE (`... WHERE status = :from`),
so two people acting on the same order at once end in one consistent state: the second gets a
`TransitionRefused`. It records an OrderEvent and an audit event and notifies the buyer (in-app,
stored in the same transaction; e-mail after the commit). Stock side effects (reserve at approval,
release on cancel/reject) are done here through the inventory services; shipping consumes stock in
app/services/fulfilment/shipping.py before it calls `transition(..., "shipped")`.

A seller with no active warehouse does not keep its stock in the system (a dealer that has not
set up the inventory pages): its orders are approved without a reservation, and nothing is
released later (`tracks_stock`). A seller with a warehouse always reserves at approval, and a
shortage refuses the approval (StockShortage, nothing changed once the caller rolls back).

If the side effects fail after the status UPDATE (a stock shortage), the exception propagates
and the caller rolls back (a view) or rolls back to its savepoint (the automatic review).
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.extensions import db
from app.models import Order, OrderEvent, OrderStatus, utcnow
from app.services.core import audit
from app.services.core.errors import DomainError, NotFound
from app.services.core.messages import Message

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


def transition(order_id: int, to: str, actor_id: int | None, note: str | Message = "", *,
               expected: frozenset[str] | set[str] | None = None) -> Order:
    """Move the order to `to`, or raise TransitionRefused (nothing changed). `note`: the reason a
    person typed (kept as typed), or a Message the system writes (kept as code + parameters, read
    in each reader's language). `expected`: the statuses the caller saw or accepts (e.g. the page
    a person acted on); any other current status is refused even where the move itself would be
    allowed."""
    order = db.session.scalar(select(Order).where(Order.id == order_id).execution_options(populate_existing=True))
    if order is None:
        raise TransitionRefused(_("订单不存在。"))
    current = order.status
    if expected is not None and current not in expected:
        raise TransitionRefused(_("订单状态已变为“%(now)s”，请刷新后查看。", now=STATUS_LABELS[current]))
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
    system_note = note if isinstance(note, Message) else None
    db.session.add(OrderEvent(order_id=order_id, at=now, actor_id=actor_id, from_status=current, to_status=to,
                              note="" if system_note else (note or "")[:500], note_message=system_note))
    audit.record(actor_id, "order.status", "order", order_id, {"status": current}, {"status": to, "note": note or ""})
    db.session.flush()
    db.session.refresh(order)
    _notify_buyer(order, current, to, note)
    return order


def tracks_stock(seller_id: int) -> bool:
    """Whether the seller keeps stock in the system (has an active warehouse)."""
    from app.services.inventory.orders import default_warehouse

    return default_warehouse(seller_id) is not None


def _stock_side_effects(order_id: int, current: str, to: str, actor_id: int | None, note: str | Message) -> None:
    from app.services.inventory.orders import release_order, reserve_order

    if to == S.APPROVED.value:
        seller_id = db.session.scalar(select(Order.seller_id).where(Order.id == order_id))
        if tracks_stock(seller_id):
            reserve_order(order_id, actor_id)
    elif to in (S.CANCELLED.value, S.REJECTED.value) and current in RESERVED:
        release_order(order_id, actor_id, reason=note)  # releases nothing when nothing was reserved


# Where each party opens an order: the buyer's page and the seller's desk, by organisation kind.
BUYER_PAGES = {"retailer": ("retailer", "retailer.order_detail"), "dealer": ("dealer", "dealer.replenishment_detail")}
SELLER_PAGES = {"dealer": ("dealer", "dealer.order_detail"), "brand": ("admin", "admin.order_detail")}


def order_path(endpoint: str, order_id: int) -> str:
    """The page's path, also outside a request (a job, the automatic review in a script)."""
    from flask import current_app

    return current_app.url_map.bind("localhost").build(endpoint, {"order_id": order_id})


def _notify_buyer(order: Order, current: str, to: str, note: str | Message) -> None:
    from app.services.notifications import Audience, notify

    if order.buyer.kind not in BUYER_PAGES:
        return
    role, endpoint = BUYER_PAGES[order.buyer.kind]
    title = _("订单 %(n)s：%(status)s", n=order.number or order.id, status=STATUS_LABELS[to])
    notify(Audience(order.buyer_id, role), kind="order_status", title=title, body=str(note or ""),
           link=order_path(endpoint, order.id), dedupe_key=f"order:{order.id}:{to}")


def notify_seller(order: Order, *, kind: str, title: str, body: str = "", dedupe: str = "") -> None:
    """Tell the seller's order desk: the dealer's users, or the brand's admins holding "orders"."""
    from app.services.notifications import Audience, notify

    if order.seller.kind not in SELLER_PAGES:
        return
    role, endpoint = SELLER_PAGES[order.seller.kind]
    audience = Audience(order.seller_id, role, "orders" if role == "admin" else None)
    notify(audience, kind=kind, title=title, body=body, link=order_path(endpoint, order.id),
           dedupe_key=f"order:{order.id}:{dedupe or kind}")


# --- the parties' actions on an order ---------------------------------------------------------

# Decisions a seller takes on its order desk, in the order the buttons are shown.
SELLER_ACTIONS = (S.APPROVED.value, S.PICKING.value, S.ON_HOLD.value, S.REJECTED.value, S.CANCELLED.value)
# A buyer may withdraw an order until the seller has accepted it.
BUYER_MAY_CANCEL = frozenset({S.SUBMITTED.value, S.ON_HOLD.value})
# Saying no (or "wait") needs a reason the other party can read.
NOTE_REQUIRED = frozenset({S.ON_HOLD.value, S.REJECTED.value, S.CANCELLED.value})
MAX_NOTE = 500


def seller_actions(status: str) -> list[str]:
    """The statuses a seller may move an order to from `status` on its desk (shipping and
    delivery have their own pages)."""
    return [to for to in SELLER_ACTIONS if can_move(status, to)]


def _clean_note(to: str, note: str | None) -> str:
    note = (note or "").strip()
    if to in NOTE_REQUIRED and not note:
        raise DomainError(_("请填写原因。"), field="note")
    if len(note) > MAX_NOTE:
        raise DomainError(_("说明最多 %(n)d 个字。", n=MAX_NOTE), field="note")
    return note


def act_as_seller(seller_id: int, order_id: int, to: str, actor_id: int, note: str = "",
                  seen: str | None = None) -> Order:
    """The seller `seller_id` moves its order to `to` (approve, start picking, hold, reject,
    cancel). NotFound for another seller's order. `seen` is the status the person's page showed:
    if the order has moved since, nothing happens (TransitionRefused). A hold records the note
    as the review reason. An order partly shipped cannot be cancelled as a whole (its rest is
    cancelled through shipping)."""
    if to not in SELLER_ACTIONS:
        raise TransitionRefused(_("不支持的操作。"))
    if db.session.scalar(select(Order.id).where(Order.id == order_id, Order.seller_id == seller_id)) is None:
        raise NotFound(_("订单不存在。"))
    note = _clean_note(to, note)
    if to == S.CANCELLED.value and _has_shipments(order_id):
        raise TransitionRefused(_("订单已部分发货，不能整单取消；请在发货页取消剩余数量。"))
    order = transition(order_id, to, actor_id, note, expected={seen} if seen else None)
    if to == S.ON_HOLD.value:
        from app.models.approval import OrderReviewReason

        db.session.add(OrderReviewReason(order_id=order_id, code="manual", message=note, created_at=utcnow()))
        db.session.flush()
    return order


def _has_shipments(order_id: int) -> bool:
    """Goods of the order are already on the road (a partial shipment while "picking")."""
    from app.models.fulfilment import Shipment

    return db.session.scalar(select(Shipment.id).where(Shipment.order_id == order_id).limit(1)) is not None


def cancel_as_buyer(buyer_id: int, order_id: int, actor_id: int, note: str) -> Order:
    """The buyer withdraws its own order while the seller has not accepted it yet."""
    current = db.session.scalar(select(Order.status).where(Order.id == order_id, Order.buyer_id == buyer_id))
    if current is None:
        raise NotFound(_("订单不存在。"))
    note = _clean_note(S.CANCELLED.value, note)
    if current not in BUYER_MAY_CANCEL:
        raise TransitionRefused(_("订单已被卖方受理，不能再取消；请联系卖方。"))
    return transition(order_id, S.CANCELLED.value, actor_id, note, expected=BUYER_MAY_CANCEL)
