"""Online payments in the API: create an intent for an order (its checkout URL or QR payload),
read one, and the providers' notify endpoint (no token: the provider's signature is its proof)."""
from __future__ import annotations

from flask import current_app, g, request
from flask_babel import gettext as _

from app.extensions import db
from app.models import Order
from app.models.payments import PaymentIntent
from app.services.accounts.api_clients import orders_for, service_user
from app.services.core.errors import DomainError, NotFound
from app.services.payments import intents
from app.services.payments.refunds import refund_intent
from app.services.payments.providers import NotificationRefused, known, provider
from app.web.api import bp
from app.web.api.auth import token_required
from app.web.api.catalog import domain_error
from app.web.api.errors import error_response
from app.web.api.idempotency import idempotent
from app.web.api.schemas import ErrorSchema
from app.web.api.schemas_payments import (NotificationAckSchema, PaymentCreateSchema, PaymentIntentSchema,
                                          RefundCreateSchema, RefundSchema)
from app.web.payments.links import notify_url

NOTIFY_HEADERS = [{"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
                  for name in ("Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial",
                               "Sandbox-Timestamp", "Sandbox-Nonce", "Sandbox-Signature")]


@bp.route("/payments", methods=["POST"])
@token_required("orders")
@idempotent(required=True)
@bp.arguments(PaymentCreateSchema)
@bp.response(201, PaymentIntentSchema, description="The intent: send the payer to `checkout_url`")
@bp.alt_response(404, schema=ErrorSchema, description="No such order of yours")
def payment_create(args):
    """Pay an order online (its invoice's unpaid amount, or part of it)

    Requires `Idempotency-Key`. The order must be invoiced (shipped). The intent becomes `paid`
    when the provider's signed notification arrives (`payment.received` webhook)."""
    order = db.session.scalar(orders_for(g.api_client).where(Order.id == args["order_id"]))
    if order is None:
        return error_response(404, _("订单不存在。"), field="order_id")
    try:
        intent = intents.create_order_intent(service_user(g.api_client), order, notify_url(),
                                             args.get("amount_fen"))
    except NotFound as error:
        return domain_error(error, 404)
    except DomainError as error:
        return domain_error(error, 422 if error.field else 409)
    db.session.commit()
    return intent, 201


@bp.route("/payments/<int:intent_id>", methods=["GET"])
@token_required("orders")
@bp.response(200, PaymentIntentSchema)
@bp.alt_response(404, schema=ErrorSchema, description="No such payment of yours")
def payment_detail(intent_id: int):
    """One payment intent, with its status"""
    intent = db.session.scalar(intents.intents_visible_to(g.api_client.org).where(PaymentIntent.id == intent_id)) \
        if 0 < intent_id < 2**31 else None
    if intent is None:
        return error_response(404, _("支付单不存在。"))
    return intent


@bp.route("/payments/<int:intent_id>/refunds", methods=["POST"])
@token_required("orders")
@idempotent(required=True)
@bp.arguments(RefundCreateSchema)
@bp.response(201, RefundSchema)
@bp.alt_response(404, schema=ErrorSchema, description="No such payment of yours")
def payment_refund(args, intent_id: int):
    """Refund (part of) a paid payment: the payee's token (the seller, or the brand)

    The provider is asked first; the money goes back out of the payer's prepayment wallet where
    this payment put it there, the rest as a credit note paid out at once (open invoices are not
    touched). 422 above what is still refundable."""
    intent = db.session.scalar(intents.intents_visible_to(g.api_client.org).where(PaymentIntent.id == intent_id)
                               .with_for_update()) if 0 < intent_id < 2**31 else None
    if intent is None or (g.api_client.org.kind != "brand" and intent.seller_id != g.api_client.org_id):
        db.session.rollback()
        return error_response(404, _("支付单不存在。"))
    try:
        refund = refund_intent(service_user(g.api_client), intent, args["amount_fen"], args["reason"])
    except DomainError as error:
        return domain_error(error, 422 if error.field else 409)
    db.session.commit()
    return refund, 201


@bp.route("/payments/notify/<string:provider_name>", methods=["POST"])
@bp.doc(security=[], parameters=NOTIFY_HEADERS, requestBody={
    "required": True, "content": {"application/json": {"schema": {"type": "object"}}},
    "description": "The provider's notification, exactly as it sent it (the signature covers the raw body)"})
@bp.response(200, NotificationAckSchema, description="Accepted (sandbox); WeChat Pay gets 204")
@bp.alt_response(204, description="Accepted (WeChat Pay)")
@bp.alt_response(401, schema=ErrorSchema, description="The signature, intent or amount does not check out (logged)")
@bp.alt_response(404, schema=ErrorSchema, description="No such provider")
def payment_notify(provider_name: str):
    """A payment provider's asynchronous notification

    Verified with the provider's own scheme (WeChat Pay v3: Wechatpay-Signature over
    timestamp, nonce and body with the platform key, resource decrypted with the APIv3 key).
    Applying it twice changes nothing: the intent is paid exactly once."""
    if not known(provider_name):
        return error_response(404, _("未知的支付渠道。"))
    body = request.get_data()
    try:
        intent = intents.accept_notification(provider_name, request.headers, body)
    except NotificationRefused as error:
        db.session.rollback()
        current_app.logger.warning("payment notification refused: provider=%s reason=%s from=%s body=%.200r",
                    provider_name, error, request.remote_addr, body)
        return error_response(401, _("通知验证失败。"), code="invalid_signature")
    db.session.commit()
    current_app.logger.info("payment notification applied: %s is %s", intent.reference, intent.status)
    answer, status = provider(provider_name).acknowledgement()
    if answer is None:
        return current_app.response_class(status=status)
    return answer, status
