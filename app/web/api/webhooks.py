"""Webhook subscriptions of the token's organisation (brand or dealer): create (the secret is
shown once), list, read, delete, enable again after an automatic disabling, the delivery log
with every attempt, and replay. Scope `webhooks`. Another organisation's subscription is a 404."""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import WebhookAttempt, WebhookDelivery
from app.services.core.errors import DomainError, NotFound
from app.services.integrations import webhooks
from app.web.api import bp
from app.web.api.auth import token_required
from app.web.api.catalog import domain_error
from app.web.api.errors import error_response
from app.web.api.idempotency import idempotent
from app.web.api.schemas import ErrorSchema
from app.web.api.schemas_integrations import (DeliveryPageSchema, DeliveryQuerySchema, ReplayResultSchema,
                                              ReplaySchema, WebhookCreateSchema, WebhookCreatedSchema,
                                              WebhookListSchema, WebhookSchema)

NOT_FOUND = {"schema": ErrorSchema, "description": "No such subscription of yours"}


def _failure(error: DomainError):
    if isinstance(error, NotFound):
        return domain_error(error, 404)
    return domain_error(error, 422 if error.field else 409)


@bp.route("/webhooks", methods=["POST"])
@token_required("webhooks")
@idempotent(required=False)
@bp.arguments(WebhookCreateSchema)
@bp.response(201, WebhookCreatedSchema, description="The subscription, with its secret (shown only now)")
@bp.alt_response(409, schema=ErrorSchema, description="A retailer's token, or too many subscriptions")
def webhook_create(args):
    """Subscribe a URL to event types

    Deliveries are POSTs signed by the Standard Webhooks scheme (`webhook-id`, the event's stable
    id; `webhook-timestamp`; `webhook-signature`, HMAC-SHA256 with the secret). Answer 2xx
    within 5 s; other answers are retried with exponential backoff for about 28 hours.

    The body is `{"id", "type", "timestamp", "aggregate": {"type", "id", "sequence"}, "data"}`.
    Order events carry the order's id, number, status, previous status, buyer, seller and total;
    `stock.below_reorder` (a stock change took a warehouse's available stock of a product to or
    below its reorder point, once per crossing) carries `warehouse_id`, `warehouse_code`,
    `product_id`, `product_code`, `available` and `reorder_point`, its aggregate being the stock
    row (type `stock:<warehouse_id>`, id the product's id)."""
    try:
        row = webhooks.subscribe(g.api_client.org, args["url"], args["event_types"])
    except DomainError as error:
        return _failure(error)
    db.session.commit()
    return row, 201


@bp.route("/webhooks", methods=["GET"])
@token_required("webhooks")
@bp.response(200, WebhookListSchema)
def webhooks_list():
    """Your organisation's subscriptions"""
    return {"items": list(db.session.scalars(webhooks.subscriptions_of(g.api_client.org_id)))}


@bp.route("/webhooks/<int:subscription_id>", methods=["GET"])
@token_required("webhooks")
@bp.response(200, WebhookSchema)
@bp.alt_response(404, **NOT_FOUND)
def webhook_detail(subscription_id: int):
    """One subscription"""
    try:
        return webhooks.subscription_of(g.api_client.org_id, subscription_id)
    except NotFound as error:
        return domain_error(error, 404)


@bp.route("/webhooks/<int:subscription_id>", methods=["DELETE"])
@token_required("webhooks")
@bp.response(204, description="Deleted; pending deliveries are dropped")
@bp.alt_response(404, **NOT_FOUND)
def webhook_delete(subscription_id: int):
    """Delete a subscription"""
    try:
        webhooks.unsubscribe(g.api_client.org_id, subscription_id)
    except NotFound as error:
        return domain_error(error, 404)
    db.session.commit()
    return "", 204


@bp.route("/webhooks/<int:subscription_id>/enable", methods=["POST"])
@token_required("webhooks")
@idempotent(required=False)
@bp.response(200, WebhookSchema)
@bp.alt_response(404, **NOT_FOUND)
def webhook_enable(subscription_id: int):
    """Enable a subscription again (after it was disabled for failing); replay what it missed"""
    try:
        row = webhooks.enable(g.api_client.org_id, subscription_id)
    except NotFound as error:
        return domain_error(error, 404)
    db.session.commit()
    return row


@bp.route("/webhooks/<int:subscription_id>/deliveries", methods=["GET"])
@token_required("webhooks")
@bp.arguments(DeliveryQuerySchema, location="query", error_status_code=400)
@bp.response(200, DeliveryPageSchema)
@bp.alt_response(400, schema=ErrorSchema, description="A query parameter is not valid")
@bp.alt_response(404, **NOT_FOUND)
def webhook_deliveries(args, subscription_id: int):
    """The delivery log, newest first: each delivery with every attempt (status, duration, excerpt)"""
    try:
        query = webhooks.deliveries_of(g.api_client.org_id, subscription_id)
    except NotFound as error:
        return domain_error(error, 404)
    if args.get("status"):
        query = query.where(WebhookDelivery.status == args["status"])
    if args.get("cursor"):
        if not args["cursor"].isdigit() or not 0 < int(args["cursor"]) < 2**62:
            return error_response(400, _("cursor 无效。"), field="cursor")
        query = query.where(WebhookDelivery.id < int(args["cursor"]))
    rows = list(db.session.scalars(query.options(selectinload(WebhookDelivery.event)).limit(args["limit"] + 1)))
    more, rows = len(rows) > args["limit"], rows[:args["limit"]]
    attempts: dict[int, list] = {row.id: [] for row in rows}
    if rows:
        for attempt in db.session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(attempts))
                                          .order_by(WebhookAttempt.id)):
            attempts[attempt.delivery_id].append(attempt)
    return {"items": [{"id": row.id, "event_id": row.event.event_id, "event_type": row.event.type,
                       "status": row.status, "attempts": attempts[row.id], "next_attempt_at": row.next_attempt_at,
                       "delivered_at": row.delivered_at} for row in rows],
            "next_cursor": str(rows[-1].id) if more else None}


@bp.route("/webhooks/<int:subscription_id>/replay", methods=["POST"])
@token_required("webhooks")
@idempotent(required=False)
@bp.arguments(ReplaySchema)
@bp.response(202, ReplayResultSchema, description="Scheduled again, with the same event ids")
@bp.alt_response(404, **NOT_FOUND)
@bp.alt_response(409, schema=ErrorSchema, description="The subscription is disabled: enable it first")
def webhook_replay(args, subscription_id: int):
    """Send deliveries again: the ones named, or every one with a status"""
    try:
        ids = webhooks.replay(g.api_client.org_id, subscription_id, args.get("delivery_ids"), args.get("status"))
    except DomainError as error:
        return _failure(error)
    db.session.commit()
    return {"scheduled": ids}, 202
