"""The token organisation's customers: the brand's dealers and retailers, a dealer's retailers
(a retailer has none), by id in keyset pages (a customer added later comes on a later page)."""
from __future__ import annotations

from collections import defaultdict

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import DealerTerritory, Organisation, OrgKind
from app.services.core.errors import DomainError
from app.services.core.paging import decode_cursor, encode_cursor
from app.web.api import bp
from app.web.api.auth import token_required
from app.web.api.errors import error_response
from app.web.api.schemas import ErrorSchema, ListQuerySchema
from app.web.api.schemas_payments import CustomerPageSchema


def _customers(org: Organisation):
    query = select(Organisation).where(Organisation.kind != OrgKind.BRAND.value)
    if org.kind == OrgKind.BRAND.value:
        return query
    if org.kind == OrgKind.DEALER.value:
        return query.where(Organisation.kind == OrgKind.RETAILER.value, Organisation.dealer_id == org.id)
    return query.where(Organisation.id == -1)  # a retailer sells to nobody


@bp.route("/customers", methods=["GET"])
@token_required("orders")
@bp.arguments(ListQuerySchema, location="query", error_status_code=400)
@bp.response(200, CustomerPageSchema)
@bp.alt_response(400, schema=ErrorSchema, description="A query parameter is not valid")
def customers_list(args):
    """Your customers, with their dealer and (for dealers) their territories"""
    query = _customers(g.api_client.org).options(joinedload(Organisation.dealer))
    if args.get("cursor"):
        try:
            [after] = decode_cursor(args["cursor"], 1)
        except (DomainError, ValueError):
            return error_response(400, _("cursor 无效。"), field="cursor")
        if not isinstance(after, int):
            return error_response(400, _("cursor 无效。"), field="cursor")
        query = query.where(Organisation.id > after)
    rows = list(db.session.scalars(query.order_by(Organisation.id).limit(args["limit"] + 1)))
    more = len(rows) > args["limit"]
    rows = rows[:args["limit"]]
    territories = defaultdict(list)
    dealer_ids = [o.id for o in rows if o.kind == OrgKind.DEALER.value]
    if dealer_ids:
        for dealer_id, region_id in db.session.execute(
                select(DealerTerritory.dealer_id, DealerTerritory.region_id)
                .where(DealerTerritory.dealer_id.in_(dealer_ids)).order_by(DealerTerritory.region_id)):
            territories[dealer_id].append(region_id)
    return {"items": [{"id": o.id, "code": o.code, "name": o.name, "kind": o.kind, "region_id": o.region_id,
                       "channel": o.channel, "tier": o.tier, "dealer_code": o.dealer.code if o.dealer else None,
                       "territory_region_ids": territories[o.id], "active": o.active} for o in rows],
            "next_cursor": encode_cursor([rows[-1].id]) if more else None}
