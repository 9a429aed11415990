"""Schemas of the payment and carrier endpoints (requests and answers, and the OpenAPI document)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.models.vocabulary import IntentPurpose, IntentStatus, TrackingCode
from app.services.credit.payments import MAX_AMOUNT_FEN
from app.web.api.schemas import StrictSchema, strict_int


class PaymentCreateSchema(StrictSchema):
    order_id = strict_int(required=True, validate=validate.Range(1, 2**31 - 1),
                          metadata={"description": "An order of yours with an open invoice"})
    amount_fen = strict_int(validate=validate.Range(1, MAX_AMOUNT_FEN), metadata={
        "description": "Pay part of what is unpaid (default: all of it)"})


class PaymentIntentSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True, metadata={"description": "Our number for the provider (out_trade_no)"})
    purpose = fields.String(required=True, validate=validate.OneOf(IntentPurpose.values()))
    order_id = fields.Integer(allow_none=True, required=True)
    amount_fen = fields.Integer(required=True)
    refunded_fen = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(IntentStatus.values()))
    provider = fields.String(required=True, metadata={"example": "wechat"})
    checkout_url = fields.String(required=True, metadata={
        "description": "Where the payer pays: a page to open, or the QR payload (weixin://...) to show"})
    created_at = fields.DateTime(required=True)
    settled_at = fields.DateTime(allow_none=True, required=True)


class NotificationAckSchema(Schema):
    code = fields.String(required=True, metadata={"example": "SUCCESS"})
    message = fields.String(required=True)


class TrackingEventInSchema(StrictSchema):
    waybill = fields.String(required=True, validate=validate.Length(1, 60))
    code = fields.String(required=True, validate=validate.OneOf(TrackingCode.values()))
    occurred_at = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with offset"})
    location = fields.String(validate=validate.Length(max=100), load_default="")
    description = fields.String(validate=validate.Length(max=200), load_default="")


class TrackingEventsInSchema(StrictSchema):
    events = fields.List(fields.Nested(TrackingEventInSchema), required=True, validate=validate.Length(1, 100))


class TrackingResultSchema(Schema):
    recorded = fields.Integer(required=True, metadata={"description": "New events (repeats are ignored)"})
    ignored = fields.Integer(required=True, metadata={"description": "Repeats, or waybills of no shipment"})
    signed_off = fields.List(fields.Integer(), required=True, metadata={
        "description": "Orders whose delivery this signed off (the dealer trusts the carrier's proof)"})


class RefundCreateSchema(StrictSchema):
    amount_fen = strict_int(required=True, validate=validate.Range(1, MAX_AMOUNT_FEN))
    reason = fields.String(validate=validate.Length(max=80), load_default="")


class RefundSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True, metadata={"description": "Our refund number (out_refund_no)"})
    amount_fen = fields.Integer(required=True)
    reason = fields.String(required=True)
    provider_refund_id = fields.String(required=True)
    credit_note_id = fields.Integer(allow_none=True, required=True, metadata={
        "description": "The credit note paid out by this refund (the part that had settled the invoice)"})
    refunded_at = fields.DateTime(required=True)


class TrackingEventSchema(Schema):
    code = fields.String(required=True, validate=validate.OneOf(TrackingCode.values()))
    occurred_at = fields.DateTime(required=True)
    location = fields.String(required=True)
    description = fields.String(required=True)
    carrier = fields.String(required=True)
    source = fields.String(required=True, metadata={"description": "callback or poll"})


class ShipmentSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(allow_none=True, required=True)
    order_id = fields.Integer(required=True)
    carrier = fields.String(required=True)
    tracking_no = fields.String(required=True)
    shipped_at = fields.DateTime(required=True)
    tracking_events = fields.List(fields.Nested(TrackingEventSchema), required=True,
                                  metadata={"description": "What the carrier reported, newest first"})


class ShipmentPageSchema(Schema):
    items = fields.List(fields.Nested(ShipmentSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class InvoiceSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    order_id = fields.Integer(required=True)
    seller_id = fields.Integer(required=True)
    buyer_id = fields.Integer(required=True)
    total_fen = fields.Integer(required=True)
    tax_fen = fields.Integer(required=True)
    paid_fen = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "open, paid or void"})
    issued_at = fields.DateTime(required=True)
    due_on = fields.Date(allow_none=True, required=True)


class InvoicePageSchema(Schema):
    items = fields.List(fields.Nested(InvoiceSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class CreditNoteSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(allow_none=True, required=True)
    customer_id = fields.Integer(required=True)
    seller_id = fields.Integer(required=True)
    order_id = fields.Integer(allow_none=True, required=True)
    invoice_id = fields.Integer(allow_none=True, required=True)
    reason = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    remaining_fen = fields.Integer(required=True)
    issued_at = fields.DateTime(required=True)


class CreditNotePageSchema(Schema):
    items = fields.List(fields.Nested(CreditNoteSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class CustomerSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "dealer or retailer"})
    region_id = fields.Integer(allow_none=True, required=True)
    channel = fields.String(allow_none=True, required=True)
    tier = fields.String(allow_none=True, required=True)
    dealer_code = fields.String(allow_none=True, required=True, metadata={"description": "a retailer's dealer"})
    territory_region_ids = fields.List(fields.Integer(), required=True, metadata={
        "description": "the regions a dealer serves (empty for a retailer)"})
    active = fields.Boolean(required=True)


class CustomerPageSchema(Schema):
    items = fields.List(fields.Nested(CustomerSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
