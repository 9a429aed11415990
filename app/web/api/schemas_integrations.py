"""marshmallow schemas of the integration endpoints: webhook subscriptions, their delivery log
and replay, and the ERP export pages."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.services.integrations.outbox import EVENT_TYPES
from app.web.api.schemas import StrictSchema, strict_int


class WebhookCreateSchema(StrictSchema):
    url = fields.String(required=True, validate=validate.Length(1, 500), metadata={
        "description": "http(s) URL of your receiver; private, loopback and link-local addresses are refused",
        "example": "https://erp.example.com/hooks/lianying"})
    event_types = fields.List(fields.String(validate=validate.OneOf(("*",) + EVENT_TYPES)), required=True,
                              validate=validate.Length(1, len(EVENT_TYPES) + 1),
                              metadata={"description": "event types to receive, or [\"*\"] for all",
                                        "example": ["order.placed", "order.shipped"]})


class WebhookSchema(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    event_types = fields.Method("_types", required=True, metadata={"type": "array", "items": {"type": "string"}})
    active = fields.Boolean(required=True)
    failures_in_a_row = fields.Integer(required=True)
    disabled_at = fields.DateTime(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)

    def _types(self, row):
        return row.event_types.split()


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(required=True, metadata={
        "description": "the signing secret (Standard Webhooks, whsec_...): shown only now, keep it"})


class WebhookListSchema(Schema):
    items = fields.List(fields.Nested(WebhookSchema), required=True)


class AttemptSchema(Schema):
    at = fields.DateTime(required=True)
    status_code = fields.Integer(allow_none=True, required=True, metadata={"description": "null: no HTTP answer"})
    duration_ms = fields.Integer(required=True)
    ok = fields.Boolean(required=True)
    excerpt = fields.String(required=True, metadata={"description": "start of the answer, or the error"})


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    event_id = fields.String(required=True, metadata={"description": "the webhook-id header"})
    event_type = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["pending", "delivered", "failed"]})
    attempts = fields.List(fields.Nested(AttemptSchema), required=True)
    next_attempt_at = fields.DateTime(allow_none=True, required=True)
    delivered_at = fields.DateTime(allow_none=True, required=True)


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class DeliveryQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(["pending", "delivered", "failed"]))
    cursor = fields.String(validate=validate.Length(max=40), metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 100))


class ReplaySchema(StrictSchema):
    delivery_ids = fields.List(strict_int(validate=validate.Range(1, 2**53)), validate=validate.Length(1, 1000),
                               metadata={"description": "deliveries to send again"})
    status = fields.String(validate=validate.OneOf(["failed", "delivered"]),
                           metadata={"description": "or: every delivery with this status (up to 1,000)"})


class ReplayResultSchema(Schema):
    scheduled = fields.List(fields.Integer(), required=True)


class ExportQuerySchema(StrictSchema):
    since = fields.String(validate=validate.Length(max=200), metadata={
        "description": "next_cursor of your last pull; without it, from the beginning"})
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 1000),
                           metadata={"description": "documents (not rows) per page"})


class ExportPageSchema(Schema):
    items = fields.List(fields.Dict(), required=True, metadata={
        "description": "flat rows; an order or a shipment is one row per line"})
    next_cursor = fields.String(required=True, metadata={
        "description": "pass as `since` next time (the same cursor when nothing new came)"})
    has_more = fields.Boolean(required=True, metadata={"description": "true: pull again at once"})
