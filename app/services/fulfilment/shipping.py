"""Shipping an approved order, whole or in parts, and cancelling what will not be shipped.

    ship(seller_id, order_id, actor_id, carrier=..., tracking_no=..., quantities={line_id: qty},
         cancel_rest_reason="")                       → ShipResult
    cancel_rest(seller_id, order_id, actor_id, reason)  → the order (now shipped)

Statuses (the lifecycle's transition() does every move):
- the first shipment that leaves something open moves approved (or picking) → partly_shipped
  (部分发货, in every list and notice); later partial shipments keep it there;
- the shipment that ships the last open quantity, or the cancellation of the rest (with a
  reason, after at least one shipment), moves the order to shipped; the buyer then signs for it.
A shipment whose "cancel the rest" reason is given does both at once.

Stock: an order whose stock was reserved at approval ships through the inventory services
(`ship_order_lines`: lots first-expiry-first-out, from the reservation); the lots are kept on
the shipment for the pick list, the delivery note and returns. A seller that keeps no stock in
the system (no reservation for the order) ships without lots. Cancelling the rest releases
what is still reserved.

Money: the invoice is for the whole order; it is issued in the transaction that makes the order
shipped, and a cancelled rest is credited at once by a credit note (reason "adjustment") that
settles it. After the commit the invoice and delivery-note PDFs are built by jobs (ids only)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Order, OrderStatus, StockReservation, utcnow
from app.models.credit import CreditNoteReason
from app.models.documents import DocumentKind
from app.models.fulfilment import RemainderCancellation, Shipment, ShipmentLine, ShipmentLot
from app.services.core.messages import Message, joined, message
from app.services.core import audit
from app.services.fulfilment import delivery
from app.services.documents import requests as documents
from app.services.ordering import lifecycle
from app.services.core.errors import DomainError, checked_text
from app.services.fulfilment.progress import LineProgress, credit_value, issue_credit, locked_order, progress, \
    remainder_cancellation
from app.services.rebates import accruals as rebate_accruals
from app.services.inventory.orders import order_document, release_order, ship_order_lines
from app.services.promotions.redemption import release_undelivered
from app.services.credit.invoicing import ensure_invoice

S = OrderStatus
SHIPPABLE = frozenset({S.APPROVED.value, S.PICKING.value, S.PARTLY_SHIPPED.value})
MAX_CARRIER = 40
MAX_TRACKING = 60
MAX_REASON = 500


@dataclass(frozen=True)
class ShipResult:
    shipment: Shipment
    order: Order
    complete: bool          # nothing left to ship: the order is now "shipped"
    rest_cancelled: bool


def _check_shippable(order: Order, seen: str | None) -> None:
    if seen and order.status != seen:
        raise lifecycle.TransitionRefused(_("订单状态已变为“%(now)s”，请刷新后查看。",
                                            now=OrderStatus.label_of(order.status)))
    if order.status not in SHIPPABLE:
        raise lifecycle.TransitionRefused(_("订单当前状态为“%(now)s”，不能发货。",
                                            now=OrderStatus.label_of(order.status)))
    if remainder_cancellation(order.id) is not None:
        raise lifecycle.TransitionRefused(_("该订单剩余数量已取消，不能再发货。"))


def _checked_quantities(lines: list[LineProgress], quantities: dict[int, int]) -> dict[int, int]:
    """{order_line_id: qty > 0}; every quantity between 0 and what is open on its line."""
    by_id = {row.line.id: row for row in lines}
    wanted: dict[int, int] = {}
    for line_id, qty in quantities.items():
        row = by_id.get(line_id)
        if row is None:
            raise DomainError(_("订单行不存在。"), field="lines")
        if qty is None or qty < 0:
            raise DomainError(_("数量不能为负数。"), field=f"qty_{line_id}")
        if qty > row.open:
            raise DomainError(_("最多还能发 %(n)d。", n=row.open), field=f"qty_{line_id}")
        if qty:
            wanted[line_id] = qty
    if not wanted:
        raise DomainError(_("请至少填写一行发货数量。"), field="lines")
    return wanted


def has_reservation(order_id: int) -> bool:
    """Whether the seller reserved stock for the order at approval (it keeps stock in the system)."""
    return db.session.scalar(select(StockReservation.id).where(StockReservation.document == order_document(order_id))
                             .limit(1)) is not None


def ship(seller_id: int, order_id: int, actor_id: int, *, carrier: str, tracking_no: str = "",
         quantities: dict[int, int], note: str = "", cancel_rest_reason: str = "", seen: str | None = None
         ) -> ShipResult:
    """Ship `quantities` ({order_line_id: qty}) of the seller's order. `cancel_rest_reason`:
    cancel whatever stays open after this shipment. `seen`: the status the person's page showed."""
    carrier = checked_text(carrier, "carrier", MAX_CARRIER, _("请填写承运方（自送也请填写，如“自有车辆”）。"))
    tracking_no = checked_text(tracking_no, "tracking_no", MAX_TRACKING)
    note = checked_text(note, "note", MAX_REASON)
    cancel_rest_reason = checked_text(cancel_rest_reason, "cancel_rest_reason", MAX_REASON)
    order = locked_order(order_id, seller_id=seller_id)
    _check_shippable(order, seen)
    lines = progress(order)
    wanted = _checked_quantities(lines, quantities)
    now = utcnow()

    shipment = Shipment(order_id=order.id, seller_id=order.seller_id, carrier=carrier, tracking_no=tracking_no,
                        note=note, shipped_at=now, shipped_by_id=actor_id)
    by_id = {row.line.id: row for row in lines}
    shipment.lines = [ShipmentLine(order_line_id=line_id, product_id=by_id[line_id].line.product_id, qty=qty)
                      for line_id, qty in sorted(wanted.items())]
    db.session.add(shipment)
    db.session.flush()
    shipment.number = f"SH{shipment.id:08d}"
    rebate_accruals.on_shipment(shipment)  # case-based dealer rebates accrue as cases ship
    if has_reservation(order.id):
        per_product: dict[int, int] = {}
        for line_id, qty in wanted.items():
            product_id = by_id[line_id].line.product_id
            per_product[product_id] = per_product.get(product_id, 0) + qty
        for lot in ship_order_lines(order.id, per_product, actor_id):
            shipment.lots.append(ShipmentLot(product_id=lot.product_id, lot_id=lot.lot_id, batch_no=lot.batch_no,
                                             expiry_date=lot.expiry_date, qty=lot.qty))
    for line_id, qty in wanted.items():
        by_id[line_id].shipped += qty
    left_open = sum(row.open for row in lines)
    audit.record(actor_id, "order.ship", "order", order.id, None, {
        "shipment": shipment.number, "carrier": carrier, "tracking_no": tracking_no,
        "lines": {str(k): v for k, v in sorted(wanted.items())}, "open_after": left_open})
    delivery.prepare_code(order.id)

    rest_cancelled = False
    if left_open and cancel_rest_reason:
        _cancel_open(order, lines, actor_id, cancel_rest_reason, now)
        rest_cancelled = True
    complete = rest_cancelled or left_open == 0
    before = order.status
    if complete:
        order = lifecycle.transition(order.id, S.SHIPPED.value, actor_id,
                                     _shipment_note(shipment, cancel_rest_reason if rest_cancelled else ""),
                                     expected={before})
        _invoice(order, actor_id)
        if rest_cancelled:
            _credit_cancelled(order, actor_id, cancel_rest_reason)
    elif before != S.PARTLY_SHIPPED.value:
        order = lifecycle.transition(order.id, S.PARTLY_SHIPPED.value, actor_id, _shipment_note(shipment, ""),
                                     expected={before})
    else:
        _notify_partial(order, shipment)
    documents.request_order_document(order.id, DocumentKind.DELIVERY_NOTE.value, rebuild=True)
    return ShipResult(shipment, order, complete, rest_cancelled)


def cancel_rest(seller_id: int, order_id: int, actor_id: int, reason: str, seen: str | None = None) -> Order:
    """Cancel everything still open on a partly shipped order, with a reason the buyer reads;
    the order moves to shipped. (An order with nothing shipped is cancelled as a whole instead.)"""
    reason = checked_text(reason, "reason", MAX_REASON, _("请填写取消原因。"))
    order = locked_order(order_id, seller_id=seller_id)
    _check_shippable(order, seen)
    lines = progress(order)
    if not any(row.shipped for row in lines):
        raise DomainError(_("订单还没有发过货：请直接取消整个订单。"), field="reason")
    if not any(row.open for row in lines):
        raise DomainError(_("订单已全部发货，没有剩余数量。"), field="reason")
    before = order.status
    _cancel_open(order, lines, actor_id, reason, utcnow())
    order = lifecycle.transition(order.id, S.SHIPPED.value, actor_id, message("shipping.rest_cancelled", r=reason),
                                 expected={before})
    _invoice(order, actor_id)
    _credit_cancelled(order, actor_id, reason)
    return order


def _invoice(order: Order, actor_id: int) -> None:
    """The order is shipped: its invoice is issued in this transaction (so the buyer's balance
    and any credit note see it at once) and its PDF is built by a job after the commit."""
    ensure_invoice(order.id, actor_id)
    documents.request_order_document(order.id, DocumentKind.INVOICE.value)


def _cancel_open(order: Order, lines: list[LineProgress], actor_id: int, reason: str, at: datetime) -> None:
    amount = sum(credit_value(row.line, row.credited, row.open) for row in lines if row.open > 0)
    db.session.add(RemainderCancellation(order_id=order.id, reason=reason, amount_fen=amount, cancelled_at=at,
                                         cancelled_by_id=actor_id))
    release_order(order.id, actor_id, reason=message("stock.order_rest_cancelled", n=order.number or order.id))
    # the units never shipped give their promotion discount and gift value back to the budgets
    release_undelivered(order.id, {row.line.id: row.open for row in lines if row.open > 0})
    audit.record(actor_id, "order.cancel_rest", "order", order.id, None, {
        "reason": reason, "amount_fen": amount,
        "lines": {str(row.line.id): row.open for row in lines if row.open > 0}})
    db.session.flush()


def _credit_cancelled(order: Order, actor_id: int, reason: str) -> None:
    """The invoice covers the whole order: credit what was cancelled."""
    cancellation = remainder_cancellation(order.id)
    note = issue_credit(order, actor_id, cancellation.amount_fen, CreditNoteReason.ADJUSTMENT.value,
                        f"cancel-rest:{order.id}", _("未发货数量取消：%(r)s", r=reason))
    if note is not None:
        cancellation.credit_note_id = note.id


def _shipment_note(shipment: Shipment, cancelled_reason: str) -> Message:
    if shipment.tracking_no:
        note = message("shipping.shipment", n=shipment.number, carrier=shipment.carrier, tracking=shipment.tracking_no)
    else:
        note = message("shipping.shipment_untracked", n=shipment.number, carrier=shipment.carrier)
    if cancelled_reason:
        note = joined([note, message("shipping.rest_cancelled", r=cancelled_reason)], "；")
    return note


def _notify_partial(order: Order, shipment: Shipment) -> None:
    """A later partial shipment changes no status: tell the buyer anyway."""
    from app.services.notifications import Audience, Subject, notify

    if order.buyer.kind not in lifecycle.BUYER_ROLES:
        return
    notify(Audience(order.buyer_id, lifecycle.BUYER_ROLES[order.buyer.kind]), kind="order_shipment",
           message="order.shipment", params={"n": order.number or str(order.id), "shipment": shipment.number,
                                             "carrier": shipment.carrier or "", "tracking": shipment.tracking_no or ""},
           about=Subject("order", order.id), dedupe_key=f"shipment:{shipment.id}")


USUAL_CARRIER_WINDOW = 50


def usual_carrier(seller_id: int) -> str:
    """The carrier the seller used most among its last USUAL_CARRIER_WINDOW shipments (the most
    recent of those tied); "" before its first shipment. The shipping form starts with it."""
    from collections import Counter

    recent = list(db.session.scalars(select(Shipment.carrier).where(Shipment.seller_id == seller_id)
                                     .order_by(Shipment.shipped_at.desc(), Shipment.id.desc())
                                     .limit(USUAL_CARRIER_WINDOW)))
    if not recent:
        return ""
    counts = Counter(recent)
    best = max(counts.values())
    return next(carrier for carrier in recent if counts[carrier] == best)
