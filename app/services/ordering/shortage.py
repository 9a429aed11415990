"""Approving what is available: an order with lines short of stock is not stuck at hold, reject or
cancel. The seller sees, per line, what its warehouse has available (`availability`) and
approves the quantities it can supply (`approve_available`); the rest of each line is either
backordered (a new order of the same buyer, linked by `backorder_of_id`, held with the reason
"stock short" and approved by `release_backorders` as soon as stock becomes available: every
stock-increasing movement calls it through inventory.freed.stock_became_available)
or cancelled with a reason the buyer reads. Reducing quantities alone (no shortage) is the same
call.

Totals follow line by line: a reduced line keeps its unit price, its discount shrinks in
proportion (one half-up rounding per line, the backorder line takes the remainder, so the two
add up to the original), its tax is the tax contained in the new total. The approval then runs
through `lifecycle.act_as_seller`: the credit check on the reduced total and the reservation of
the reduced quantities. The buyer is told what changed (a notice besides the status one).
Everything happens in the caller's transaction: on any refusal the caller rolls back and nothing
is half-done."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import Order, OrderEvent, OrderLine, OrderStatus, StockBalance, utcnow
from app.models.approval import OrderReviewReason
from app.models.promotions import OrderLineAdjustment
from app.services.core import audit
from app.services.core.errors import DomainError, NotFound
from app.services.core.messages import joined, message
from app.services.ordering import lifecycle
from app.services.ordering.cart import tax_included

S = OrderStatus
DECIDABLE = frozenset({S.SUBMITTED.value, S.ON_HOLD.value})
BACKORDER = "backorder"
CANCEL = "cancel"
REST_CHOICES = (BACKORDER, CANCEL)


@dataclass(frozen=True)
class LineAvailability:
    line: OrderLine
    available: int | None  # None: the seller keeps no stock in the system

    @property
    def suppliable(self) -> int:
        """What can be approved now: the ordered quantity, or less when stock is short."""
        if self.available is None:
            return self.line.qty
        return max(0, min(self.line.qty, self.available))

    @property
    def short(self) -> int:
        return self.line.qty - self.suppliable


def availability(order: Order) -> list[LineAvailability]:
    """Each line with what the seller's default warehouse has available (on hand − reserved) of
    its product; a product on two lines counts the earlier lines' quantities first. Two queries."""
    from app.services.inventory.orders import default_warehouse

    warehouse = default_warehouse(order.seller_id)
    if warehouse is None:
        return [LineAvailability(line, None) for line in order.lines]
    ids = sorted({line.product_id for line in order.lines})
    left = dict(db.session.execute(
        select(StockBalance.product_id, StockBalance.on_hand - StockBalance.reserved)
        .where(StockBalance.warehouse_id == warehouse.id, StockBalance.product_id.in_(ids))).all())
    rows = []
    for line in order.lines:
        have = max(0, int(left.get(line.product_id, 0)))
        rows.append(LineAvailability(line, have))
        left[line.product_id] = have - min(have, line.qty)
    return rows


def _share(amount: int, part: int, whole: int) -> int:
    """amount × part / whole rounded half up (amount, part, whole ≥ 0, whole > 0)."""
    return (2 * amount * part + whole) // (2 * whole)


def _load(seller_id: int, order_id: int) -> Order:
    order = db.session.scalar(select(Order).where(Order.id == order_id, Order.seller_id == seller_id).options(
        joinedload(Order.buyer), selectinload(Order.lines).joinedload(OrderLine.product))
        .with_for_update(of=Order).execution_options(populate_existing=True))
    if order is None:
        raise NotFound(_("订单不存在。"))
    return order


def approve_available(seller_id: int, order_id: int, actor_id: int, keep: dict[int, int], rest: str,
                      reason: str = "", seen: str | None = None, *, credit_override: str | None = None) -> Order:
    """Approve order `order_id` of `seller_id` for `keep` ({order line id: quantity to supply now,
    0 ≤ q ≤ ordered}); the rest of every reduced line is backordered (`rest` = "backorder") or
    cancelled ("cancel", `reason` required). Returns the approved order; its backorder, if any,
    is `backorder_for(order.id)`. Errors name the field: `keep_<line id>`, `rest`, `reason`."""
    order = _load(seller_id, order_id)
    if order.status not in DECIDABLE or (seen and seen != order.status):
        raise lifecycle.TransitionRefused(_("订单状态已变为“%(now)s”，请刷新后查看。", now=S.label_of(order.status)))
    reduced = _reductions(order, keep)
    reason = (reason or "").strip()
    if reduced:
        if rest not in REST_CHOICES:
            raise DomainError(_("请选择缺货部分的处理方式。"), field="rest")
        if rest == CANCEL and not reason:
            raise DomainError(_("取消缺货部分请填写原因（客户可见）。"), field="reason")
        if len(reason) > lifecycle.MAX_NOTE:
            raise DomainError(_("说明最多 %(n)d 个字。", n=lifecycle.MAX_NOTE), field="reason")
        backorder = _reduce(order, reduced, rest, reason, actor_id)
    else:
        backorder = None
    approved = lifecycle.act_as_seller(seller_id, order.id, S.APPROVED.value, actor_id, reason if reduced else "",
                                       seen=order.status, credit_override=credit_override)
    if backorder is not None:
        _hold_backorder(backorder, order, actor_id)
    return approved


def _reductions(order: Order, keep: dict[int, int]) -> dict[int, int]:
    """{line id: new quantity} of the lines that shrink; refuses a bad quantity, naming its field."""
    lines = {line.id: line for line in order.lines}
    unknown = set(keep) - set(lines)
    if unknown:
        raise DomainError(_("订单行不存在。"), field="keep")
    reduced = {}
    for line_id, line in lines.items():
        qty = keep.get(line_id, line.qty)
        if qty is None or not 0 <= qty <= line.qty:
            raise DomainError(_("请输入 0 到 %(max)s 之间的整数。", max=line.qty), field=f"keep_{line_id}")
        if qty < line.qty:
            reduced[line_id] = qty
    if reduced and all(reduced.get(line_id, line.qty) == 0 for line_id, line in lines.items()):
        raise DomainError(_("至少保留一种商品的数量；全部缺货请暂缓或取消订单。"), field="keep")
    return reduced


def _reduce(order: Order, reduced: dict[int, int], rest: str, reason: str, actor_id: int) -> Order | None:
    """Shrink the lines, recompute the totals, make the backorder (rest = backorder), record and
    tell the buyer. Returns the backorder (not yet held) or None."""
    lines = {line.id: line for line in order.lines}
    before = {"total_fen": order.total_fen, "lines": {str(i): lines[i].qty for i in reduced}}
    moved: list[dict] = []  # the backorder's lines
    moved_adjustments: list[list[tuple]] = []  # each one's share of the promotions' discounts
    changes = []
    adjustments = _adjustments_of(list(reduced))
    before_shares = {line_id: [(row, row.amount_fen) for row in rows] for line_id, rows in adjustments.items()}
    if rest == CANCEL:  # the cut units will never ship: their promotion share goes back to the budgets
        from app.services.promotions.redemption import release_undelivered

        release_undelivered(order.id, {line_id: lines[line_id].qty - qty for line_id, qty in reduced.items()})
    for line_id, qty in sorted(reduced.items()):
        line = lines[line_id]
        discount = _share(line.discount_fen, qty, line.qty) if qty else 0
        moved.append(dict(product_id=line.product_id, qty=line.qty - qty, unit_price_fen=line.unit_price_fen,
                          price_reason=line.price_reason, price_basis=line.price_basis, tax_rate=line.tax_rate,
                          discount_fen=line.discount_fen - discount, is_gift=line.is_gift,
                          line_total_fen=line.unit_price_fen * (line.qty - qty) - (line.discount_fen - discount)))
        changes.append(message("shortage.line_reduced", name=line.product.name_zh, was=line.qty, now=qty))
        if qty == 0:
            moved_adjustments.append([(row.promotion_id, was, row.label) for row, was in before_shares.get(line_id, [])])
            db.session.execute(delete(OrderLineAdjustment).where(OrderLineAdjustment.order_line_id == line_id))
            order.lines.remove(line)  # delete-orphan: the row goes at the flush
            continue
        _shrink_adjustments(adjustments.get(line_id, []), discount)
        moved_adjustments.append([(row.promotion_id, was - row.amount_fen, row.label)
                                  for row, was in before_shares.get(line_id, [])])
        line.qty, line.discount_fen = qty, discount
        line.line_total_fen = line.unit_price_fen * qty - discount
        line.tax_fen = tax_included(line.line_total_fen, line.tax_rate)
    db.session.flush()
    kept = list(order.lines)
    order.line_count = len({line.product_id for line in kept})
    order.total_fen = sum(line.line_total_fen for line in kept)
    order.tax_fen = sum(line.tax_fen for line in kept)

    backorder = _make_backorder(order, moved, moved_adjustments) if rest == BACKORDER else None
    what = message("shortage.reduced", lines=joined(changes))
    outcome = (message("shortage.backordered", n=backorder.number) if backorder
               else message("shortage.cancelled", reason=reason))
    note = joined([what, outcome], "；")
    db.session.add(OrderEvent(order_id=order.id, at=utcnow(), actor_id=actor_id, from_status=order.status,
                              to_status=order.status, note_message=note))
    audit.record(actor_id, "order.reduce", "order", order.id, before,
                 {"total_fen": order.total_fen, "lines": {str(i): q for i, q in reduced.items()}, "rest": rest,
                  "backorder_id": backorder.id if backorder else None, "reason": reason})
    _tell_buyer(order, note)
    db.session.flush()
    return backorder


def _tell_buyer(order: Order, note) -> None:
    from app.services.notifications import Audience, Subject, notify

    if order.buyer.kind in lifecycle.BUYER_ROLES:
        notify(Audience(order.buyer_id, lifecycle.BUYER_ROLES[order.buyer.kind]), kind="order_status",
               message="order.reduced", params={"n": order.number or str(order.id), "note": note},
               about=Subject("order", order.id), dedupe_key=f"order:{order.id}:reduced")


def _adjustments_of(line_ids: list[int]) -> dict[int, list[OrderLineAdjustment]]:
    found: dict[int, list[OrderLineAdjustment]] = {}
    for row in db.session.scalars(select(OrderLineAdjustment).where(OrderLineAdjustment.order_line_id.in_(line_ids))
                                  .order_by(OrderLineAdjustment.id)):
        found.setdefault(row.order_line_id, []).append(row)
    return found


def _shrink_adjustments(rows: list[OrderLineAdjustment], discount: int) -> None:
    """The line's per-promotion discounts shrunk to add up to its new discount (largest remainder)."""
    whole = sum(row.amount_fen for row in rows)
    if not whole:
        return
    exact = [(discount * row.amount_fen) for row in rows]
    shares = [e // whole for e in exact]
    order = sorted(range(len(rows)), key=lambda i: (-(exact[i] % whole), i))
    for i in order[:discount - sum(shares)]:
        shares[i] += 1
    for row, share in zip(rows, shares):
        row.amount_fen = share


def _make_backorder(order: Order, moved: list[dict], moved_adjustments: list[list[tuple]]) -> Order:
    """The backorder of the cut units. Its lines carry their share of the promotions' per-line
    discounts (adjustment rows), so that when the backorder is cancelled, rejected or cut in its
    turn, services/promotions/redemption.py gives that share back to the original order's
    redemptions (a backorder has none of its own)."""
    from app.services.ordering.orders import order_number

    now = utcnow()
    backorder = Order(buyer_id=order.buyer_id, seller_id=order.seller_id, placed_by_id=order.placed_by_id,
                      channel=order.channel, status=S.SUBMITTED.value, line_count=len({m["product_id"] for m in moved}),
                      total_fen=sum(m["line_total_fen"] for m in moved),
                      tax_fen=sum(tax_included(m["line_total_fen"], m["tax_rate"]) for m in moved),
                      note=order.note, backorder_of_id=order.id, created_at=now, updated_at=now)
    db.session.add(backorder)
    db.session.flush()
    backorder.number = order_number(backorder.id, now)
    lines = [OrderLine(**m, order_id=backorder.id, tax_fen=tax_included(m["line_total_fen"], m["tax_rate"]))
             for m in moved]
    db.session.add_all(lines)
    db.session.flush()
    db.session.add_all([OrderLineAdjustment(order_line_id=line.id, promotion_id=promotion_id, amount_fen=amount,
                                            label=label)
                        for line, shares in zip(lines, moved_adjustments) for promotion_id, amount, label in shares
                        if amount > 0])
    db.session.add(OrderEvent(order_id=backorder.id, at=now, actor_id=None, from_status=None,
                              to_status=S.SUBMITTED.value, note_message=message("shortage.backorder_of", n=order.number)))
    db.session.flush()
    return backorder


def _hold_backorder(backorder: Order, original: Order, actor_id: int) -> None:
    db.session.add(OrderReviewReason(order_id=backorder.id, code="stock_short",
                                     detail=message("shortage.backorder_of", n=original.number), created_at=utcnow()))
    lifecycle.transition(backorder.id, S.ON_HOLD.value, actor_id, message("shortage.backorder_of", n=original.number),
                         expected={S.SUBMITTED.value})


def backorder_for(order_id: int) -> Order | None:
    return db.session.scalar(select(Order).where(Order.backorder_of_id == order_id).order_by(Order.id).limit(1))


def release_backorders(seller_id: int, product_ids: list[int], actor_id: int | None) -> list[Order]:
    """After stock becomes available (inventory.freed): approve the seller's held backorders of these products, oldest first,
    whose stock is now available and whose buyer's credit allows; the others stay held."""
    from app.services.approval.automatic import stock_shortages
    from app.services.credit.limits import check_credit
    from app.services.inventory import StockShortage

    waiting = list(db.session.scalars(
        select(Order).where(Order.seller_id == seller_id, Order.status == S.ON_HOLD.value,
                            Order.backorder_of_id.is_not(None),
                            Order.id.in_(select(OrderLine.order_id).where(OrderLine.product_id.in_(product_ids))))
        .options(selectinload(Order.lines).joinedload(OrderLine.product)).order_by(Order.id)))
    released = []
    for order in waiting:
        if stock_shortages(order) or check_credit(order):
            continue
        try:
            with db.session.begin_nested():
                lifecycle.transition(order.id, S.APPROVED.value, actor_id, message("approval.rechecked"),
                                     expected={S.ON_HOLD.value})
        except (StockShortage, lifecycle.TransitionRefused):
            continue
        db.session.execute(delete(OrderReviewReason).where(OrderReviewReason.order_id == order.id))
        released.append(order)
    return released
