"""Shipments of the token's organisation (what it sold or bought; all for the brand), newest
first in keyset pages that stay correct while shipments are added, with their tracking events."""
from __future__ import annotations

from datetime import datetime

from flask import g
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Order
from app.models.fulfilment import Shipment
from app.services.accounts.api_clients import orders_for
from app.services.core.errors import DomainError
from app.services.core.paging import decode_cursor, encode_cursor
from app.web.api import bp
from app.web.api.auth import token_required
from app.web.api.errors import error_response
from app.web.api.schemas import ErrorSchema, ListQuerySchema
from app.web.api.schemas_payments import ShipmentPageSchema


@bp.route("/shipments", methods=["GET"])
@token_required("orders")
@bp.arguments(ListQuerySchema, location="query", error_status_code=400)
@bp.response(200, ShipmentPageSchema)
@bp.alt_response(400, schema=ErrorSchema, description="A query parameter is not valid")
def shipments_list(args):
    """Your shipments, newest first, with the carrier's tracking events"""
    visible = orders_for(g.api_client).with_only_columns(Order.id)
    query = (select(Shipment).where(Shipment.order_id.in_(visible))
             .options(selectinload(Shipment.tracking_events)))
    if args.get("cursor"):
        try:
            at, last_id = decode_cursor(args["cursor"], 2)
            at = datetime.fromisoformat(str(at))
        except (DomainError, ValueError):
            return error_response(400, _("cursor 无效。"), field="cursor")
        if not isinstance(last_id, int) or at.tzinfo is None:
            return error_response(400, _("cursor 无效。"), field="cursor")
        query = query.where(or_(Shipment.shipped_at < at, and_(Shipment.shipped_at == at, Shipment.id < last_id)))
    rows = list(db.session.scalars(query.order_by(Shipment.shipped_at.desc(), Shipment.id.desc())
                                   .limit(args["limit"] + 1)))
    more = len(rows) > args["limit"]
    rows = rows[:args["limit"]]
    return {"items": rows,
            "next_cursor": encode_cursor([rows[-1].shipped_at.isoformat(), rows[-1].id]) if more else None}
