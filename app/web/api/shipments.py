"""Read resources of the token's organisation (what it sold or bought; all for the brand), newest
first in keyset pages that stay correct while rows are added: shipments with their tracking
events, invoices, credit notes."""
from __future__ import annotations

from datetime import datetime

from flask import g
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, true
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Invoice, Order
from app.models.credit import CreditNote
from app.models.fulfilment import Shipment
from app.services.accounts.api_clients import orders_for
from app.services.core.errors import DomainError
from app.services.core.paging import decode_cursor, encode_cursor
from app.web.api import bp
from app.web.api.auth import token_required
from app.web.api.errors import error_response
from app.web.api.schemas import ErrorSchema, ListQuerySchema
from app.web.api.schemas_payments import CreditNotePageSchema, InvoicePageSchema, ShipmentPageSchema


def keyset_page(query, at_column, id_column, at_attr: str, args):
    """One page of `query`, newest first by (at_column, id); 400 for a cursor not of ours."""
    if args.get("cursor"):
        try:
            at, last_id = decode_cursor(args["cursor"], 2)
            at = datetime.fromisoformat(str(at))
        except (DomainError, ValueError):
            return error_response(400, _("cursor 无效。"), field="cursor")
        if not isinstance(last_id, int) or at.tzinfo is None:
            return error_response(400, _("cursor 无效。"), field="cursor")
        query = query.where(or_(at_column < at, and_(at_column == at, id_column < last_id)))
    rows = list(db.session.scalars(query.order_by(at_column.desc(), id_column.desc()).limit(args["limit"] + 1)))
    more = len(rows) > args["limit"]
    rows = rows[:args["limit"]]
    return {"items": rows,
            "next_cursor": encode_cursor([getattr(rows[-1], at_attr).isoformat(), rows[-1].id]) if more else None}


def _parties(org_column_a, org_column_b):
    client = g.api_client
    if client.org.kind == "brand":
        return true()
    return or_(org_column_a == client.org_id, org_column_b == client.org_id)


@bp.route("/invoices", methods=["GET"])
@token_required("orders")
@bp.arguments(ListQuerySchema, location="query", error_status_code=400)
@bp.response(200, InvoicePageSchema)
@bp.alt_response(400, schema=ErrorSchema, description="A query parameter is not valid")
def invoices_list(args):
    """Your invoices (as buyer or seller), newest first"""
    query = select(Invoice).where(_parties(Invoice.buyer_id, Invoice.seller_id))
    return keyset_page(query, Invoice.issued_at, Invoice.id, "issued_at", args)


@bp.route("/credit-notes", methods=["GET"])
@token_required("orders")
@bp.arguments(ListQuerySchema, location="query", error_status_code=400)
@bp.response(200, CreditNotePageSchema)
@bp.alt_response(400, schema=ErrorSchema, description="A query parameter is not valid")
def credit_notes_list(args):
    """Your credit notes (as customer or seller), newest first"""
    query = select(CreditNote).where(_parties(CreditNote.customer_id, CreditNote.seller_id))
    return keyset_page(query, CreditNote.issued_at, CreditNote.id, "issued_at", args)


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
    return keyset_page(query, Shipment.shipped_at, Shipment.id, "shipped_at", args)
