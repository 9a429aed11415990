"""The order lifecycle: which status may follow which, and the one function that moves an order.

    submitted → approved → picking → shipped → delivered → completed
                                    ↘ partly_shipped ↗   (a shipment that leaves goods to ship)
    side exits: on_hold (credit or review), rejected, cancelled
    presale_held → approved (or submitted on a stock shortage) at the campaign's release, or
    cancelled: a presale order waits there, unreserved, until services/campaigns/presale.py
    releases it; the seller's desk offers no action on it and the buyer cannot withdraw it.

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

A seller's decision on its desk goes through `act_as_seller`: approving by hand runs the buyer's
credit check (credit.limits.check_credit) and needs a confirmed reason to approve beyond it;
`may_cancel_whole` is the one rule that stops a whole-order cancel once goods are on the road.

If the side effects fail after the status UPDATE (a stock shortage), the exception propagates
and the caller rolls back (a view) or rolls back to its savepoint (the automatic review of an
older order). An order inserted in the same transaction (checkout) has its side effects before
its UPDATE, so a shortage leaves nothing to undo and checkout's review takes no savepoint.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm.util import identity_key
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import Order, OrderEvent, OrderStatus, utcnow
from app.services.core import audit
from app.services.core.errors import DomainError, NotFound
from app.services.core.messages import Message, stored
from app.services.integrations import outbox

S = OrderStatus
ALLOWED: dict[str, frozenset[str]] = {
    S.SUBMITTED.value: frozenset({S.APPROVED.value, S.ON_HOLD.value, S.REJECTED.value, S.CANCELLED.value}),
    S.ON_HOLD.value: frozenset({S.APPROVED.value, S.REJECTED.value, S.CANCELLED.value}),
    S.PRESALE_HELD.value: frozenset({S.APPROVED.value, S.SUBMITTED.value, S.CANCELLED.value}),
    S.APPROVED.value: frozenset({S.PICKING.value, S.PARTLY_SHIPPED.value, S.SHIPPED.value, S.CANCELLED.value}),
    S.PICKING.value: frozenset({S.PARTLY_SHIPPED.value, S.SHIPPED.value, S.CANCELLED.value}),
    # Goods are on the road: the rest is shipped or cancelled on the shipping page (a shipment
    # that cancels the rest moves the order to shipped), never a whole-order cancel.
    S.PARTLY_SHIPPED.value: frozenset({S.SHIPPED.value}),
    S.SHIPPED.value: frozenset({S.DELIVERED.value}),
    S.DELIVERED.value: frozenset({S.COMPLETED.value}),
    S.COMPLETED.value: frozenset(),
    S.REJECTED.value: frozenset(),
    S.CANCELLED.value: frozenset(),
}
# Statuses in which the seller holds stock reserved for the order.
RESERVED = frozenset({S.APPROVED.value, S.PICKING.value, S.PARTLY_SHIPPED.value})


# The conditional status UPDATE (Core, built once: checkout and every desk action run it) and the
# status history's INSERT.
_MOVE = (update(Order.__table__)
         .where(Order.__table__.c.id == bindparam("order_id"), Order.__table__.c.status == bindparam("current"))
         .values(status=bindparam("to"), updated_at=bindparam("now", type_=Order.__table__.c.updated_at.type)))
# (With RETURNING, SQLAlchemy sends several rows as one multi-row INSERT: "insertmanyvalues".)
ORDER_EVENT_INSERT = insert(OrderEvent.__table__).returning(OrderEvent.__table__.c.id)


@dataclass
class History:
    """What status changes write besides the order's row: the status history (OrderEvent rows),
    the audit rows and the outbox events, written together by `write` (one INSERT per table).
    Checkout keeps its "submitted" ones here (`defer`) for the automatic review's status change
    to write with its own: two rows per INSERT instead of two INSERTs each."""
    events: list[dict] = field(default_factory=list)
    audits: list[dict] = field(default_factory=list)
    outbox_events: list[outbox.Event] = field(default_factory=list)

    def add(self, order: Order, from_status: str | None, actor_id: int | None, at, note: str | Message = "",
            audit_row: dict | None = None) -> None:
        """The order's arrival at its current status (its row as it is now)."""
        system_note = note if isinstance(note, Message) else None
        typed = "" if system_note else (note or "")[:500]
        self.events.append(dict(order_id=order.id, at=at, actor_id=actor_id, from_status=from_status,
                                to_status=order.status, note=typed, note_message=system_note))
        self.audits.append(audit_row if audit_row is not None else audit.row(
            actor_id, "order.status", "order", order.id, {"status": from_status}, {"status": order.status,
                                                                                  "note": note or ""}))
        self.outbox_events.append(outbox.order_status_event(order, from_status, typed))

    def write(self) -> None:
        if self.events:
            db.session.execute(ORDER_EVENT_INSERT, self.events if len(self.events) > 1 else self.events[0])
        audit.write_rows(self.audits)
        outbox.record_many(self.outbox_events)
        self.events, self.audits, self.outbox_events = [], [], []


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
    allowed.

    An order inserted in this very transaction (`created_now`) reserves its stock before its
    status UPDATE: no other transaction can see it, so that UPDATE cannot be refused, and a
    shortage (StockShortage) leaves nothing of the move to undo: checkout's automatic review
    needs no savepoint (`is_fresh`)."""
    fresh = is_fresh(order_id)
    order = _loaded(order_id)
    if order is None:
        raise TransitionRefused(_("订单不存在。"))
    current = order.status
    if expected is not None and current not in expected:
        raise TransitionRefused(_("订单状态已变为“%(now)s”，请刷新后查看。", now=S.label_of(current)))
    if not can_move(current, to):
        raise TransitionRefused(_("订单当前状态为“%(now)s”，不能改为“%(to)s”。",
                                  now=S.label_of(current), to=S.label_of(to)))
    now = utcnow()
    if fresh:
        try:
            _stock_side_effects(order, current, to, actor_id, note)
        except Exception:
            created_now(order_id)  # nothing changed: the order is still as inserted
            raise
    moved = db.session.execute(_MOVE, {"order_id": order_id, "current": current, "to": to, "now": now}).rowcount
    if moved != 1:  # someone else moved it between our read and our write
        raise TransitionRefused(_("订单刚刚已被他人处理，请刷新后查看。"))
    # The order object follows the UPDATE without reloading it from the database.
    set_committed_value(order, "status", to)
    set_committed_value(order, "updated_at", now)
    if not fresh:
        _stock_side_effects(order, current, to, actor_id, note)
    # No unit-of-work objects: with what checkout deferred (its "submitted" rows), if any
    history = db.session.info.get(DEFERRED, {}).pop(order_id, None) or History()
    history.add(order, current, actor_id, now, note)
    history.write()
    db.session.flush()
    _notify_buyer(order, current, to, note)
    return order


FRESH_ORDERS = "lianying_fresh_orders"  # session.info: orders inserted in the current transaction
DEFERRED = "lianying_deferred_history"  # session.info: {order id: History} checkout left to write


def created_now(order_id: int, history: History | None = None) -> None:
    """Checkout inserted this order in the current transaction (see `_loaded`). `history`: its
    rows not written yet, which the order's next status change in this transaction writes with
    its own (`transition`), or else `write_deferred`; the caller must call one of them before
    the commit."""
    db.session.info.setdefault(FRESH_ORDERS, set()).add(order_id)
    if history is not None:
        db.session.info.setdefault(DEFERRED, {})[order_id] = history


def is_fresh(order_id: int) -> bool:
    """Whether the order was inserted in the current transaction and its status has not moved
    since (`created_now`)."""
    return order_id in db.session.info.get(FRESH_ORDERS, ())


def write_deferred(order_id: int) -> None:
    """Write what `created_now` deferred for the order, unless a status change wrote it."""
    history = db.session.info.get(DEFERRED, {}).pop(order_id, None)
    if history is not None:
        history.write()


def _loaded(order_id: int) -> Order | None:
    """The order with its status read fresh from the database. An order this session already
    holds (checkout's automatic review) keeps its loaded lines and parties: only the status is
    read again; otherwise the whole row is loaded. The first move of an order inserted in this
    very transaction (`created_now`) reads nothing: no other transaction can see it yet, so its
    status is the one it was inserted with. (Only the first: a later move may follow a savepoint
    rolled back, which leaves the object's status behind the database's.)"""
    held = db.session.identity_map.get(identity_key(Order, order_id))
    fresh = db.session.info.get(FRESH_ORDERS)
    if fresh and order_id in fresh:
        fresh.discard(order_id)
        if held is not None and "status" in held.__dict__:
            return held
    if held is None or "status" not in held.__dict__:
        return db.session.scalar(select(Order).where(Order.id == order_id).execution_options(populate_existing=True))
    status = db.session.scalar(select(Order.status).where(Order.id == order_id))
    if status is None:
        return None
    set_committed_value(held, "status", status)
    return held


def tracks_stock(seller_id: int) -> bool:
    """Whether the seller keeps stock in the system (has an active warehouse)."""
    from app.services.inventory.orders import default_warehouse

    return default_warehouse(seller_id) is not None


def _stock_side_effects(order: Order, current: str, to: str, actor_id: int | None, note: str | Message) -> None:
    from app.services.inventory.orders import release_order, reserve_order

    if to == S.APPROVED.value:  # in the seller's default warehouse; none: it keeps no stock here (tracks_stock)
        reserve_order(order.id, actor_id, skip_without_warehouse=True)
    elif to in (S.CANCELLED.value, S.REJECTED.value) and current in RESERVED:
        release_order(order.id, actor_id, reason=note)  # releases nothing when nothing was reserved
    if to in (S.CANCELLED.value, S.REJECTED.value):
        from app.services.promotions.redemption import release_order as release_promotions

        release_promotions(order.id)  # budgets and coupon uses go back (nothing when none were taken)
        from app.services.loyalty.lane import release as release_points
        from app.services.rebates.lane import give_back

        give_back(order.id)  # the rebate balance it spent goes back (nothing when none was spent)
        release_points(order.id)  # points spent and points gifts go back (nothing when none)
        if order.kind == "presale":  # allocation and the money paid ahead go back (campaigns.presale_release)
            from app.services.campaigns.presale_release import order_withdrawn

            order_withdrawn(order, actor_id)


# Who is told about an order, by organisation kind: the buyer's users and the seller's desk.
BUYER_ROLES = {"retailer": "retailer", "dealer": "dealer"}
SELLER_ROLES = {"dealer": "dealer", "brand": "admin"}


def _notify_buyer(order: Order, current: str, to: str, note: str | Message) -> None:
    from app.services.notifications import Audience, Subject, notify

    if order.buyer.kind not in BUYER_ROLES:
        return
    notify(Audience(order.buyer_id, BUYER_ROLES[order.buyer.kind]), kind="order_status", message="order.status",
           params={"n": order.number or str(order.id), "status": to, "note": stored(note) if note else ""},
           about=Subject("order", order.id), dedupe_key=f"order:{order.id}:{to}")


def notify_seller(order: Order, *, kind: str, message: str, params: dict, dedupe: str = "") -> None:
    """Tell the seller's order desk: the dealer's users, or the brand's admins holding "orders"."""
    from app.services.notifications import Audience, Subject, notify

    if order.seller.kind not in SELLER_ROLES:
        return
    role = SELLER_ROLES[order.seller.kind]
    audience = Audience(order.seller_id, role, "orders" if role == "admin" else None)
    notify(audience, kind=kind, message=message, params=params, about=Subject("sales_order", order.id),
           dedupe_key=f"order:{order.id}:{dedupe or kind}")


# --- the parties' actions on an order ---------------------------------------------------------

# Decisions a seller takes on its order desk, in the order the buttons are shown.
SELLER_ACTIONS = (S.APPROVED.value, S.PICKING.value, S.ON_HOLD.value, S.REJECTED.value, S.CANCELLED.value)
# A buyer may withdraw an order until the seller has accepted it.
BUYER_MAY_CANCEL = frozenset({S.SUBMITTED.value, S.ON_HOLD.value})
# Saying no (or "wait") needs a reason the other party can read.
NOTE_REQUIRED = frozenset({S.ON_HOLD.value, S.REJECTED.value, S.CANCELLED.value})
MAX_NOTE = 500


def seller_actions(status: str, order_id: int | None = None) -> list[str]:
    """The statuses a seller may move an order to from `status` on its desk (shipping and
    delivery have their own pages). With `order_id`, an order with goods already on the road
    loses "cancel" (see `may_cancel_whole`), so the page shows only what the service accepts."""
    if status == S.PRESALE_HELD.value:  # the campaign's release moves it, not the desk
        return []
    actions = [to for to in SELLER_ACTIONS if can_move(status, to)]
    if order_id is not None and S.CANCELLED.value in actions and not may_cancel_whole(order_id):
        actions.remove(S.CANCELLED.value)
    return actions


def may_cancel_whole(order_id: int) -> bool:
    """The one rule "no whole-order cancel after a shipment": once goods of the order are on the
    road (partly_shipped), only the rest can be cancelled, on the shipping
    page. The desk hides its cancel button by it and `act_as_seller` refuses by it."""
    from app.models.fulfilment import Shipment

    return db.session.scalar(select(Shipment.id).where(Shipment.order_id == order_id).limit(1)) is None


def _clean_note(to: str, note: str | None) -> str:
    note = (note or "").strip()
    if to in NOTE_REQUIRED and not note:
        raise DomainError(_("请填写原因。"), field="note")
    if len(note) > MAX_NOTE:
        raise DomainError(_("说明最多 %(n)d 个字。", n=MAX_NOTE), field="note")
    return note


def act_as_seller(seller_id: int, order_id: int, to: str, actor_id: int, note: str = "",
                  seen: str | None = None, *, credit_override: str | None = None) -> Order:
    """The seller `seller_id` moves its order to `to` (approve, start picking, hold, reject,
    cancel). NotFound for another seller's order. `seen` is the status the person's page showed:
    if the order has moved since, nothing happens (TransitionRefused). A hold records the note
    as the review reason. An order partly shipped cannot be cancelled as a whole (its rest is
    cancelled through shipping).

    Approving runs the credit check (credit.limits.check_credit), whatever the automatic review
    did or whether it ran: an order that fails it is approved only when the person confirms,
    `credit_override` being their reason (None: not confirmed); the override is audited."""
    if to not in SELLER_ACTIONS:
        raise TransitionRefused(_("不支持的操作。"))
    current = db.session.scalar(select(Order.status).where(Order.id == order_id, Order.seller_id == seller_id))
    if current is None:
        raise NotFound(_("订单不存在。"))
    if current == S.PRESALE_HELD.value:
        raise TransitionRefused(_("预售订单在发布日由系统转入正常流程，发布前不能处理。"))
    note = _clean_note(to, note)
    if to == S.CANCELLED.value and not may_cancel_whole(order_id):
        raise TransitionRefused(_("订单已部分发货，不能整单取消；请在发货页取消剩余数量。"))
    if to == S.APPROVED.value and can_move(current, to) and seen in (None, current):
        _check_credit_for_approval(order_id, actor_id, credit_override)
    order = transition(order_id, to, actor_id, note, expected={seen} if seen else None)
    if to == S.ON_HOLD.value:
        from app.models.approval import OrderReviewReason

        db.session.add(OrderReviewReason(order_id=order_id, code="manual", message=note, created_at=utcnow()))
        db.session.flush()
    return order


def _check_credit_for_approval(order_id: int, actor_id: int, override: str | None) -> None:
    """Refuse a manual approval the credit check fails, unless confirmed with a reason."""
    from app.services.credit.limits import check_credit

    order = db.session.get(Order, order_id)
    reasons = check_credit(order)
    if not reasons:
        return
    if override is None:
        raise DomainError(_("信用检查未通过：%(reasons)s 如仍要审核，请勾选确认并填写原因。",
                            reasons=" ".join(str(r.message) for r in reasons)), field="credit_confirmed")
    override = override.strip()
    if not override:
        raise DomainError(_("请填写超出信用仍审核的原因。"), field="credit_reason")
    if len(override) > MAX_NOTE:
        raise DomainError(_("说明最多 %(n)d 个字。", n=MAX_NOTE), field="credit_reason")
    audit.record(actor_id, "order.credit_override", "order", order_id, None,
                 {"reasons": [r.code for r in reasons], "messages": [r.message for r in reasons],
                  "total_fen": order.total_fen, "reason": override})


def cancel_as_buyer(buyer_id: int, order_id: int, actor_id: int, note: str) -> Order:
    """The buyer withdraws its own order while the seller has not accepted it yet."""
    current = db.session.scalar(select(Order.status).where(Order.id == order_id, Order.buyer_id == buyer_id))
    if current is None:
        raise NotFound(_("订单不存在。"))
    note = _clean_note(S.CANCELLED.value, note)
    if current not in BUYER_MAY_CANCEL:
        raise TransitionRefused(_("订单已被卖方受理，不能再取消；请联系卖方。"))
    order = transition(order_id, S.CANCELLED.value, actor_id, note, expected=BUYER_MAY_CANCEL)
    notify_seller(order, kind="order_cancelled", message="order.cancelled_by_buyer",
                  params={"n": order.number or str(order.id), "note": note})
    return order


MAX_BULK = 200


def approve_many(seller_id: int, order_ids, actor_id: int) -> tuple[list[Order], list[tuple[Order, str]]]:
    """Approve the seller's ticked orders, each on its own (a savepoint per order): the ones
    the credit check, the stock or their status refuse stay as they are, with the reason, for
    the person to open one by one. Another seller's ids are ignored. (approved, refused)."""
    from app.services.inventory import StockShortage

    ids = sorted({int(i) for i in order_ids})[:MAX_BULK]
    orders = list(db.session.scalars(select(Order).where(Order.id.in_(ids), Order.seller_id == seller_id)
                                     .order_by(Order.created_at, Order.id))) if ids else []
    if not orders:
        raise DomainError(_("请至少选择一个订单。"), field="order_ids")
    approved, refused = [], []
    for order in orders:
        seen = order.status
        try:
            with db.session.begin_nested():
                act_as_seller(seller_id, order.id, S.APPROVED.value, actor_id, seen=seen)
        except (DomainError, StockShortage) as error:
            refused.append((order, str(error.message)))
        else:
            approved.append(order)
    return approved, refused
