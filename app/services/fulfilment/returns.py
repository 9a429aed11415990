"""Returns: the buyer asks to send back part of a delivered order; the seller accepts or refuses.

    request_return(buyer_id, order_id, actor_id, reason, quantities={line_id: qty}) → ReturnRequest
    accept_return(seller_id, return_id, actor_id, disposition, note)                 → ReturnRequest
    refuse_return(seller_id, return_id, actor_id, note)                               → ReturnRequest

A line's returnable quantity is what was delivered (shipped − short − damaged) minus what other
returns already cover, requested or accepted (a refused return frees its quantities again).
The order row is locked while a return is asked for, so two requests at once cannot both take
the same quantity; a decision is one conditional UPDATE on the request's status, so it is taken
once however many people click.

Accepting: the goods come back through the inventory services (`receive_return`: into the lots
the order was shipped from), and with the "write_off" disposition are then taken out again as a
stock adjustment (unsellable); either way a credit note (reason "return") for the lines' value
settles the order's invoice. An order shipped without stock in the system moves no stock.
The value is the difference of cumulative line values after what was already credited
(progress.credit_value), taken at acceptance under the order's row lock; the amount shown when
asking assumes the returns pending before it are accepted first.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import Order, OrderLine, OrderStatus, StockLot, utcnow
from app.models.credit import CreditNoteReason
from app.services.promotions.redemption import release_returned
from app.services.loyalty.earning import claw_back_for_return, refund_for_return
from app.services.rebates.lane import give_back_returned as rebate_give_back_returned
from app.models.fulfilment import ReturnDisposition, ReturnLine, ReturnRequest, ReturnStatus, ShipmentLot, Shipment
from app.services.core.messages import message
from app.services.core import audit
from app.services.integrations import outbox
from app.services.ordering import lifecycle
from app.services.core.errors import DomainError, NotFound, checked_text
from app.services.fulfilment.progress import LineProgress, credit_value, issue_credit, locked_order, progress
from app.services.inventory import operations
from app.services.inventory.orders import ReturnLine as StockReturnLine
from app.services.inventory.freed import stock_became_available
from app.services.inventory.orders import receive_return

S = OrderStatus
RETURNABLE_STATUSES = frozenset({S.DELIVERED.value, S.COMPLETED.value})
MAX_TEXT = 500
STATUS_LABELS = ReturnStatus.labels()  # the vocabulary's maps (app/models/vocabulary.py)
DISPOSITION_LABELS = ReturnDisposition.labels()


# ---- asking -------------------------------------------------------------------------------------

def request_return(buyer_id: int, order_id: int, actor_id: int, reason: str, quantities: dict[int, int]
                   ) -> ReturnRequest:
    reason = checked_text(reason, "reason", MAX_TEXT, _("请填写退货原因。"))
    order = locked_order(order_id, buyer_id=buyer_id)
    if order.status not in RETURNABLE_STATUSES:
        raise lifecycle.TransitionRefused(_("订单签收后才能申请退货。"))
    rows = {row.line.id: row for row in progress(order)}
    wanted: dict[int, int] = {}
    for line_id, qty in quantities.items():
        if line_id not in rows:
            raise DomainError(_("订单行不存在。"), field="lines")
        if qty is None or qty < 0:
            raise DomainError(_("数量不能为负数。"), field=f"qty_{line_id}")
        if qty > rows[line_id].returnable:
            raise DomainError(_("最多可退 %(n)d。", n=rows[line_id].returnable), field=f"qty_{line_id}")
        if qty:
            wanted[line_id] = qty
    if not wanted:
        raise DomainError(_("请至少填写一行退货数量。"), field="lines")
    request = ReturnRequest(order_id=order.id, buyer_id=order.buyer_id, seller_id=order.seller_id,
                            status=ReturnStatus.REQUESTED.value, reason=reason, requested_at=utcnow(),
                            requested_by_id=actor_id,
                            amount_fen=_value(rows, wanted, pending_first=True))
    request.lines = [ReturnLine(order_line_id=i, product_id=rows[i].line.product_id, qty=q)
                     for i, q in sorted(wanted.items())]
    db.session.add(request)
    db.session.flush()
    request.number = f"RT{request.id:08d}"
    audit.record(actor_id, "return.request", "return", request.id, None, {
        "number": request.number, "order_id": order.id, "reason": reason, "amount_fen": request.amount_fen,
        "lines": {str(i): q for i, q in sorted(wanted.items())}})
    _return_event("return.requested", request)
    _notify_seller(request, order)
    return request


def _notify_seller(request: ReturnRequest, order: Order) -> None:
    """The dealer decides on the return's own page; the brand on its order page."""
    from app.services.notifications import Audience, Subject, notify

    params = {"n": order.number or str(order.id), "r": request.number, "note": request.reason}
    if order.seller.kind == "dealer":
        notify(Audience(order.seller_id, "dealer"), kind="return_requested", message="return.requested",
               params=params, about=Subject("return", request.id), dedupe_key=f"return:{request.id}:requested")
    else:
        lifecycle.notify_seller(order, kind="return_requested", message="return.requested", params=params,
                                dedupe=f"return:{request.id}")


def _value(rows: dict[int, LineProgress], quantities: dict[int, int], pending_first: bool = False) -> int:
    """The credit for returning `quantities` ({line_id: qty}) after what each line has had
    credited (and, asking, the returns still pending: they are decided first as a rule), by the
    difference of cumulative values (progress.credit_value)."""
    return sum(credit_value(rows[i].line, rows[i].credited + (rows[i].return_pending if pending_first else 0), q)
               for i, q in quantities.items())


# ---- deciding -----------------------------------------------------------------------------------

def return_for_seller(seller_id: int, return_id: int) -> ReturnRequest:
    """The seller's return with its lines, products, order and buyer; NotFound otherwise."""
    request = db.session.scalar(
        select(ReturnRequest).where(ReturnRequest.id == return_id, ReturnRequest.seller_id == seller_id)
        .options(selectinload(ReturnRequest.lines).joinedload(ReturnLine.product),
                 selectinload(ReturnRequest.lines).joinedload(ReturnLine.order_line),
                 joinedload(ReturnRequest.order).joinedload(Order.buyer))
        .execution_options(populate_existing=True))
    if request is None:
        raise NotFound(_("退货申请不存在。"))
    return request


def _decide(request: ReturnRequest, status: str, actor_id: int, **values) -> None:
    """requested → `status`, once: a decision someone else took first is refused."""
    moved = db.session.execute(
        update(ReturnRequest).where(ReturnRequest.id == request.id,
                                    ReturnRequest.status == ReturnStatus.REQUESTED.value)
        .values(status=status, decided_at=utcnow(), decided_by_id=actor_id, **values)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise lifecycle.TransitionRefused(_("该退货申请已处理过，请刷新后查看。"))
    db.session.refresh(request)
    _return_event("return.decided", request)


def _return_event(event_type: str, request: ReturnRequest) -> None:
    outbox.record(event_type, "return", request.id, (request.buyer_id, request.seller_id),
                  {"return_id": request.id, "number": request.number, "order_id": request.order_id,
                   "status": request.status, "buyer_id": request.buyer_id, "seller_id": request.seller_id,
                   "amount_fen": request.amount_fen})


def accept_return(seller_id: int, return_id: int, actor_id: int, disposition: str, note: str = "") -> ReturnRequest:
    note = checked_text(note, "note", MAX_TEXT)
    if disposition not in {d.value for d in ReturnDisposition}:
        raise DomainError(_("请选择退回商品的处理方式。"), field="disposition")
    request = return_for_seller(seller_id, return_id)
    # The order row is locked (as when asking) so two returns of one order accepted at once
    # credit one after the other: each is valued after what the other credited.
    order = locked_order(request.order_id, seller_id=seller_id)
    rows = {row.line.id: row for row in progress(order)}
    _decide(request, ReturnStatus.ACCEPTED.value, actor_id, disposition=disposition, decision_note=note)
    quantities: dict[int, int] = {}
    for line in request.lines:
        quantities[line.order_line_id] = quantities.get(line.order_line_id, 0) + line.qty
    request.amount_fen = _value(rows, quantities)  # what is credited now (asking valued it with pending returns first)
    _stock_back(request, order, actor_id, disposition)
    credit_note = issue_credit(order, actor_id, request.amount_fen, CreditNoteReason.RETURN.value,
                               f"return:{request.id}", _("退货 %(n)s：%(r)s", n=request.number, r=request.reason))
    request.credit_note_id = credit_note.id if credit_note else None
    release_returned(order.id, quantities)  # the returned units' promotion discount goes back to its budget
    claw_back_for_return(order, request.id, request.amount_fen)  # points the returned value earned
    refund_for_return(order, request.id, request.amount_fen)  # points spent on the returned value
    rebate_give_back_returned(order.id, quantities, f"return:{request.id}")  # and their share of the rebate balance spent
    audit.record(actor_id, "return.accept", "return", request.id, {"status": ReturnStatus.REQUESTED.value},
                 {"status": request.status, "disposition": disposition, "note": note,
                  "credit_note": credit_note.number if credit_note else None})
    _notify_buyer(request, "return.accepted", note)
    db.session.flush()
    return request


def refuse_return(seller_id: int, return_id: int, actor_id: int, note: str) -> ReturnRequest:
    note = checked_text(note, "note", MAX_TEXT, _("请填写拒绝原因。"))
    request = return_for_seller(seller_id, return_id)
    _decide(request, ReturnStatus.REFUSED.value, actor_id, decision_note=note)
    audit.record(actor_id, "return.refuse", "return", request.id, {"status": ReturnStatus.REQUESTED.value},
                 {"status": request.status, "note": note})
    _notify_buyer(request, "return.refused", note)
    return request


def _shipped_with_lots(order_id: int) -> bool:
    return db.session.scalar(select(ShipmentLot.id).join(Shipment, Shipment.id == ShipmentLot.shipment_id)
                             .where(Shipment.order_id == order_id).limit(1)) is not None


def _stock_back(request: ReturnRequest, order: Order, actor_id: int, disposition: str) -> None:
    if not _shipped_with_lots(order.id):
        return  # the seller keeps no stock in the system for this order
    per_product: dict[int, int] = {}
    for line in request.lines:
        per_product[line.product_id] = per_product.get(line.product_id, 0) + line.qty
    reason = message("stock.return", n=request.number)
    back = receive_return(order.id, [StockReturnLine(pid, qty) for pid, qty in sorted(per_product.items())],
                          actor_id, reason=reason)
    if disposition == ReturnDisposition.WRITE_OFF.value:
        for returned in back:
            lot = db.session.get(StockLot, returned.lot_id)
            operations.adjust_lot(lot, -returned.qty, message("stock.return_written_off", n=request.number),
                                  actor_id=actor_id)
        return
    by_warehouse: dict[int, set[int]] = {}
    for returned in back:  # restocked: on the shelf again, for whatever waits for it
        by_warehouse.setdefault(db.session.get(StockLot, returned.lot_id).warehouse_id, set()).add(returned.product_id)
    for warehouse_id, product_ids in sorted(by_warehouse.items()):
        stock_became_available(warehouse_id, product_ids, actor_id)


def _notify_buyer(request: ReturnRequest, message: str, note: str) -> None:
    from app.services.notifications import Audience, Subject, notify

    order = request.order
    if order.buyer.kind != "retailer":
        return
    notify(Audience(order.buyer_id, "retailer"), kind="return_decided", message=message,
           params={"n": request.number, "note": note}, about=Subject("return", request.id),
           dedupe_key=f"return:{request.id}:{request.status}")


# ---- lists ----------------------------------------------------------------------------------------

def returns_sold_by(seller_id: int, status: str | None = None, order_id: int | None = None):
    query = select(ReturnRequest).where(ReturnRequest.seller_id == seller_id)
    if order_id is not None:
        query = query.where(ReturnRequest.order_id == order_id)
    if status:
        query = query.where(ReturnRequest.status == status)
    return (query.options(joinedload(ReturnRequest.order).joinedload(Order.buyer))
            .order_by(ReturnRequest.requested_at.desc(), ReturnRequest.id.desc()))


def returns_bought_by(buyer_id: int, order_id: int | None = None, status: str | None = None):
    query = select(ReturnRequest).where(ReturnRequest.buyer_id == buyer_id)
    if order_id is not None:
        query = query.where(ReturnRequest.order_id == order_id)
    if status:
        query = query.where(ReturnRequest.status == status)
    return (query.options(joinedload(ReturnRequest.order),
                          selectinload(ReturnRequest.lines).joinedload(ReturnLine.product))
            .order_by(ReturnRequest.requested_at.desc(), ReturnRequest.id.desc()))


def order_lines_of(request: ReturnRequest) -> dict[int, OrderLine]:
    return {line.order_line_id: line.order_line for line in request.lines}
