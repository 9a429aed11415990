"""What has happened to each line of an order after approval, read in a few grouped queries:
shipped, cancelled, short or damaged at delivery, returned. Shared by shipping, delivery sign-off,
returns and the order pages; plus the two helpers they all need (the order scoped to a party,
locked, and a credit note for a quantity of order lines).

    ordered − shipped − cancelled = open        (still to ship)
    shipped − short − damaged     = delivered
    delivered − returns requested or accepted = returnable
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import Order, OrderLine, Organisation, User
from app.models.credit import CreditNote
from app.models.fulfilment import (DeliveryDiscrepancy, DeliverySignOff, RemainderCancellation, ReturnLine,
                                   ReturnRequest, ReturnStatus, Shipment, ShipmentLine)
from app.services.core.errors import NotFound


@dataclass
class LineProgress:
    line: OrderLine
    shipped: int = 0
    cancelled: int = 0
    short: int = 0
    damaged: int = 0
    return_pending: int = 0   # in returns the seller has not decided yet
    returned: int = 0         # in accepted returns

    @property
    def ordered(self) -> int:
        return self.line.qty

    @property
    def open(self) -> int:
        return self.line.qty - self.shipped - self.cancelled

    @property
    def delivered(self) -> int:
        return self.shipped - self.short - self.damaged

    @property
    def returnable(self) -> int:
        return self.delivered - self.return_pending - self.returned

    @property
    def credited(self) -> int:
        """The quantity already credited to the buyer: cancelled, short, damaged, returned."""
        return self.cancelled + self.short + self.damaged + self.returned


def line_value(line: OrderLine, qty: int) -> int:
    """The tax-inclusive value of `qty` of the line, in fen (rounded half up; exact for the
    whole line)."""
    if qty == line.qty:
        return line.line_total_fen
    return (line.line_total_fen * qty * 2 + line.qty) // (2 * line.qty)


def credit_value(line: OrderLine, credited_before: int, qty: int) -> int:
    """What crediting `qty` more of the line is worth when `credited_before` of it were credited
    already: the difference of the cumulative values, not the value of `qty` rounded on its own.
    So the credits of a line (cancelled rest, short, damaged, returns, in any order and size)
    add up to exactly its total once all of it is credited, never a fen more or less."""
    return line_value(line, credited_before + qty) - line_value(line, credited_before)


def progress(order: Order) -> list[LineProgress]:
    """One LineProgress per order line (in line order), in four grouped queries."""
    rows = {line.id: LineProgress(line) for line in order.lines}
    shipped = db.session.execute(
        select(ShipmentLine.order_line_id, func.sum(ShipmentLine.qty))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id == order.id).group_by(ShipmentLine.order_line_id))
    for line_id, qty in shipped:
        if line_id in rows:
            rows[line_id].shipped = int(qty)
    if remainder_cancellation(order.id) is not None:
        for row in rows.values():
            row.cancelled = row.line.qty - row.shipped
    found = db.session.execute(
        select(DeliveryDiscrepancy.order_line_id, DeliveryDiscrepancy.kind, func.sum(DeliveryDiscrepancy.qty))
        .join(DeliverySignOff, DeliverySignOff.id == DeliveryDiscrepancy.sign_off_id)
        .where(DeliverySignOff.order_id == order.id)
        .group_by(DeliveryDiscrepancy.order_line_id, DeliveryDiscrepancy.kind))
    for line_id, kind, qty in found:
        if line_id in rows:
            setattr(rows[line_id], kind, int(qty))
    returns = db.session.execute(
        select(ReturnLine.order_line_id, ReturnRequest.status, func.sum(ReturnLine.qty))
        .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
        .where(ReturnRequest.order_id == order.id,
               ReturnRequest.status.in_((ReturnStatus.REQUESTED.value, ReturnStatus.ACCEPTED.value)))
        .group_by(ReturnLine.order_line_id, ReturnRequest.status))
    for line_id, status, qty in returns:
        if line_id in rows:
            if status == ReturnStatus.REQUESTED.value:
                rows[line_id].return_pending = int(qty)
            else:
                rows[line_id].returned = int(qty)
    return list(rows.values())


def remainder_cancellation(order_id: int) -> RemainderCancellation | None:
    return db.session.get(RemainderCancellation, order_id)


def shipments_of(order_id: int) -> list[Shipment]:
    """The order's shipments, oldest first, with lines (and their products) and lots."""
    return list(db.session.scalars(
        select(Shipment).where(Shipment.order_id == order_id)
        .options(selectinload(Shipment.lines).joinedload(ShipmentLine.product), selectinload(Shipment.lots),
                 selectinload(Shipment.tracking_events))
        .order_by(Shipment.shipped_at, Shipment.id)))


def sign_off_of(order_id: int) -> DeliverySignOff | None:
    return db.session.scalar(select(DeliverySignOff).where(DeliverySignOff.order_id == order_id)
                             .options(selectinload(DeliverySignOff.discrepancies)))


def locked_order(order_id: int, *, seller_id: int | None = None, buyer_id: int | None = None) -> Order:
    """The order of that seller (or buyer), its row locked for the rest of the transaction
    (PostgreSQL) so two people shipping or signing the same order queue up, read afresh, with
    lines, products and both parties. NotFound for another party's order."""
    query = select(Order).where(Order.id == order_id)
    if seller_id is not None:
        query = query.where(Order.seller_id == seller_id)
    if buyer_id is not None:
        query = query.where(Order.buyer_id == buyer_id)
    if seller_id is None and buyer_id is None:
        raise NotFound(_("订单不存在。"))
    locked = db.session.scalar(query.with_for_update().execution_options(populate_existing=True))
    if locked is None:
        raise NotFound(_("订单不存在。"))
    return db.session.scalar(
        select(Order).where(Order.id == order_id)
        .options(selectinload(Order.lines).joinedload(OrderLine.product), joinedload(Order.buyer),
                 joinedload(Order.seller)))


def issue_credit(order: Order, actor_id: int | None, amount_fen: int, reason: str, source_ref: str,
                 note: str) -> CreditNote | None:
    """A credit note to the order's buyer for `amount_fen`, settling the order's invoice as far
    as it is unpaid (the invoice is issued first if the job has not yet done it). None for 0."""
    from app.services.credit.payments import issue_credit_note
    from app.services.credit.invoicing import ensure_invoice

    if amount_fen <= 0:
        return None
    invoice = ensure_invoice(order.id, actor_id)
    actor = db.session.get(User, actor_id) if actor_id else None
    return issue_credit_note(actor, seller=db.session.get(Organisation, order.seller_id),
                             customer=db.session.get(Organisation, order.buyer_id), amount_fen=amount_fen,
                             reason=reason, order=order, invoice=invoice, source_ref=source_ref, note=note)
