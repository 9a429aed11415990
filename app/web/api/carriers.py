"""Carrier tracking callbacks: POST /carriers/<code>/events, HMAC-signed with the carrier's secret
(no token). The signature is checked on the raw body before anything is parsed."""
from __future__ import annotations

from flask import current_app, request
from flask_babel import gettext as _
from marshmallow import ValidationError

from app.extensions import db
from app.services.logistics import carriers as known_carriers
from app.services.logistics.carriers import CarrierEvent
from app.services.logistics.tracking import record_events
from app.web.api import bp
from app.web.api.errors import _flatten, _translated, error_response
from app.web.api.schemas import ErrorSchema
from app.web.api.schemas_payments import TrackingEventsInSchema, TrackingResultSchema

SIGNATURE_HEADERS = [
    {"name": "X-Carrier-Timestamp", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "Unix seconds; more than 5 minutes off is refused"},
    {"name": "X-Carrier-Signature", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "hex HMAC-SHA256 with the carrier's secret over `<timestamp>.<raw body>`"}]


@bp.route("/carriers/<string:carrier_code>/events", methods=["POST"])
@bp.doc(security=[], parameters=SIGNATURE_HEADERS, requestBody={
    "required": True, "content": {"application/json": {"schema": TrackingEventsInSchema}}})
@bp.response(200, TrackingResultSchema)
@bp.alt_response(401, schema=ErrorSchema, description="Missing or wrong signature, or a stale timestamp")
@bp.alt_response(404, schema=ErrorSchema, description="No such carrier")
@bp.alt_response(422, schema=ErrorSchema, description="The body is not a list of events")
def carrier_events(carrier_code: str):
    """A carrier reports tracking events

    Idempotent on carrier + waybill + event code + time: repeats are ignored. A `delivered` event
    signs the order off when its dealer trusts this carrier's proof of delivery."""
    found = known_carriers.carrier(carrier_code)
    if found is None:
        return error_response(404, _("未知的承运商。"))
    body = request.get_data()
    if not known_carriers.authentic(found, request.headers.get("X-Carrier-Timestamp", ""),
                                    request.headers.get("X-Carrier-Signature", ""), body):
        current_app.logger.warning("carrier callback refused: carrier=%s from=%s", carrier_code, request.remote_addr)
        return error_response(401, _("签名无效。"), field="X-Carrier-Signature", code="invalid_signature")
    try:
        args = TrackingEventsInSchema().load(request.get_json(silent=True) if request.is_json else None)
    except ValidationError as error:
        return error_response(422, errors=[dict(e, message=_translated(e["message"])) for e in _flatten(error.messages)])
    result = record_events(found, [CarrierEvent(e["waybill"], e["code"], e["occurred_at"], e["location"],
                                                e["description"]) for e in args["events"]], "callback")
    db.session.commit()
    return {"recorded": result.recorded, "ignored": result.ignored, "signed_off": result.signed_off}
