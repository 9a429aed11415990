"""Orders and quotes: place an order from lines (exactly once), read one (with its ETag), list
with filters and keyset pages, cancel (If-Match); price lines for a customer (quote)."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, g, request, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, or_
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import Order, OrderLine
from app.services.accounts.api_clients import customer_for, orders_for, service_user
from app.services.core.errors import DomainError, NotFound
from app.services.core.paging import decode_cursor, encode_cursor
from app.services.ordering import direct
from app.services.ordering.delivery_terms import TermsInput
from app.services.ordering.lifecycle import TransitionRefused
from app.services.ordering.orders import KeyReused
from app.web.api import bp
from app.web.api.auth import token_required
from app.web.api.catalog import domain_error
from app.web.api.errors import error_response
from app.web.api.idempotency import idempotent
from app.web.api.schemas import (CancelSchema, ErrorSchema, LinesInSchema, OrderCreateSchema, OrderListQuerySchema,
                                 OrderPageSchema, OrderSchema, QuoteSchema)

IF_MATCH = {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"},
            "description": "The ETag of the order as you last read it"}


def etag(order: Order) -> str:
    """Changes whenever the order does (status changes touch updated_at)."""
    return f'"{order.id}-{order.status}-{int(order.updated_at.timestamp() * 1_000_000)}"'


def _with_etag(order: Order, status: int = 200):
    return order, status, {"ETag": etag(order)}


def _load(order_id: int, *, lock: bool = False) -> Order | None:
    query = orders_for(g.api_client).where(Order.id == order_id).options(
        joinedload(Order.buyer), joinedload(Order.seller), selectinload(Order.lines).joinedload(OrderLine.product))
    if lock:
        query = query.with_for_update(of=Order)
    return db.session.scalar(query) if 0 < order_id < 2**31 else None  # orders.id is a 32-bit integer


def _lines(args) -> list[tuple[str, int]]:
    return [(line["product_code"], line["qty"]) for line in args["lines"]]


def _failure(error: DomainError):
    if isinstance(error, NotFound):
        return domain_error(error, 404)
    if isinstance(error, (TransitionRefused, KeyReused)) or (not error.field and not getattr(error, "errors", None)):
        return domain_error(error, 409)
    return domain_error(error, 422)


@bp.route("/quotes", methods=["POST"])
@token_required("orders")
@idempotent(required=False)
@bp.arguments(LinesInSchema)
@bp.response(200, QuoteSchema)
@bp.alt_response(404, schema=ErrorSchema, description="No such customer of yours")
def quote(args):
    """Price lines for a customer, as its cart would be priced (writes nothing)

    Each line gets today's unit price with the reason (contract, price list, base price) and any
    quantity problem (minimum, multiple); `adjustments` will list promotions and coupons."""
    try:
        customer = customer_for(g.api_client, args.get("customer_code"))
        priced = direct.quote_lines(service_user(g.api_client), customer, _lines(args))
    except DomainError as error:
        return _failure(error)
    body = {"customer_code": customer.code, "adjustments": [], "total_fen": priced.total_fen,
            "tax_fen": priced.tax_fen, "lines": [{
                "product_code": line.product.code, "qty": line.qty, "available": line.available,
                "unit_price_fen": line.unit_price_fen, "line_total_fen": line.line_total_fen,
                "tax_fen": line.tax_fen, "reason": str(line.reason), "problem": line.qty_problem}
                for line in priced.lines]}
    return body


@bp.route("/orders", methods=["POST"])
@token_required("orders")
@idempotent(required=True)
@bp.arguments(OrderCreateSchema)
@bp.response(201, OrderSchema, description="The order, approved, held for review or submitted",
             headers={"ETag": {"schema": {"type": "string"}}, "Location": {"schema": {"type": "string"}}})
@bp.alt_response(404, schema=ErrorSchema, description="No such customer of yours")
def order_create(args):
    """Place an order from lines, through the same checkout as the web

    Requires `Idempotency-Key`: the order is made exactly once per key. The order is routed to
    the buyer's seller and reviewed automatically (credit, prices, quantities, stock). The
    delivery date, address and payment method follow the web checkout's rules: a date the seller
    does not deliver on, an address over 200 characters, an unknown method or `credit` for a
    buyer not on credit is a 422 naming the field."""
    client = g.api_client
    try:
        buyer = customer_for(client, args.get("customer_code"))
        terms = TermsInput(args.get("delivery_date"), args.get("delivery_address"), args.get("payment_method"))
        submission = direct.place_lines_order(service_user(client), buyer, _lines(args),
                                              request.headers["Idempotency-Key"], args.get("note") or "", terms)
    except DomainError as error:
        return _failure(error)
    # The answer is the order as checkout left it in the session (lines, parties and status as
    # written), serialised before the commit: committing first would expire it and load it again.
    # `idempotent` stores the answer and commits it with the order, in one transaction.
    order = submission.order
    body, _status, headers = _with_etag(order)
    headers["Location"] = url_for("api.order_detail", order_id=order.id)
    return body, 201 if submission.created else 200, headers


@bp.route("/orders/<int:order_id>", methods=["GET"])
@token_required("orders")
@bp.response(200, OrderSchema, headers={"ETag": {"schema": {"type": "string"}}})
@bp.alt_response(304, description="Not modified (If-None-Match)")
@bp.alt_response(404, schema=ErrorSchema, description="No such order of yours")
def order_detail(order_id: int):
    """One order with its lines"""
    order = _load(order_id)
    if order is None:
        return error_response(404, _("订单不存在。"))
    tag = etag(order)
    if tag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return current_app.response_class(status=304, headers={"ETag": tag})
    return _with_etag(order)


@bp.route("/orders", methods=["GET"])
@token_required("orders")
@bp.arguments(OrderListQuerySchema, location="query", error_status_code=400)
@bp.response(200, OrderPageSchema)
@bp.alt_response(400, schema=ErrorSchema, description="A query parameter is not valid")
@bp.alt_response(404, schema=ErrorSchema, description="customer_code names no customer of yours")
def orders_list(args):
    """Your orders, newest first, in keyset pages that stay correct while orders are placed"""
    query = orders_for(g.api_client).options(joinedload(Order.buyer), joinedload(Order.seller))
    if args.get("status"):
        query = query.where(Order.status == args["status"])
    if args.get("customer_code"):
        try:
            buyer = customer_for(g.api_client, args["customer_code"])
        except DomainError as error:
            return domain_error(error, 404)
        query = query.where(Order.buyer_id == buyer.id)
    if args.get("created_from"):
        query = query.where(Order.created_at >= args["created_from"])
    if args.get("created_to"):
        query = query.where(Order.created_at < args["created_to"])
    if args.get("cursor"):
        try:
            at, last_id = decode_cursor(args["cursor"], 2)
            at = datetime.fromisoformat(str(at))
        except (DomainError, ValueError):
            return error_response(400, _("cursor 无效。"), field="cursor")
        if not isinstance(last_id, int) or at.tzinfo is None:
            return error_response(400, _("cursor 无效。"), field="cursor")
        query = query.where(or_(Order.created_at < at, and_(Order.created_at == at, Order.id < last_id)))
    rows = list(db.session.scalars(query.order_by(Order.created_at.desc(), Order.id.desc()).limit(args["limit"] + 1)))
    more = len(rows) > args["limit"]
    rows = rows[:args["limit"]]
    return {"items": rows,
            "next_cursor": encode_cursor([rows[-1].created_at.isoformat(), rows[-1].id]) if more else None}


@bp.route("/orders/<int:order_id>/cancel", methods=["POST"], parameters=[IF_MATCH])
@token_required("orders")
@idempotent(required=False)
@bp.arguments(CancelSchema)
@bp.response(200, OrderSchema, headers={"ETag": {"schema": {"type": "string"}}})
@bp.alt_response(404, schema=ErrorSchema, description="No such order of yours")
@bp.alt_response(412, schema=ErrorSchema, description="The order changed since you read it (If-Match)")
@bp.alt_response(428, schema=ErrorSchema, description="If-Match is missing")
def order_cancel(args, order_id: int):
    """Cancel an order: the buyer while the seller has not accepted it, the seller (or the brand)
    until it ships. 409 when its status does not allow it."""
    given = request.headers.get("If-Match")
    if not given:
        return error_response(428, field="If-Match")
    order = _load(order_id, lock=True)
    if order is None:
        db.session.rollback()
        return error_response(404, _("订单不存在。"))
    if given.strip() != "*" and etag(order) not in [t.strip() for t in given.split(",")]:
        db.session.rollback()
        return error_response(412, field="If-Match")
    try:
        direct.cancel_as_party(g.api_client.org, order, service_user(g.api_client).id, args.get("note") or "",
                               order.status)
    except DomainError as error:
        return _failure(error)
    db.session.commit()
    db.session.expire_all()
    return _with_etag(_load(order_id))
