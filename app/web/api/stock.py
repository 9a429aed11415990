"""Stock endpoints for the brand's ERP: sync receipts and levels, read levels."""
from __future__ import annotations

from flask import g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Product, StockBalance, Warehouse
from app.services.inventory import sync
from app.services.core.paging import paginate
from app.web.api import bp
from app.web.api.auth import token_required
from app.web.api.errors import error_response
from app.web.api.openapi import SCHEMAS, document
from app.web.common.envelope import attempt

SCHEMAS["StockSyncLine"] = {
    "type": "object", "required": ["kind", "warehouse_code", "product_code", "batch_no", "qty", "external_ref"],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": ["receipt", "level"],
                 "description": "receipt: add qty to the batch; level: the batch now holds exactly qty"},
        "warehouse_code": {"type": "string"}, "product_code": {"type": "string"},
        "batch_no": {"type": "string", "maxLength": 40},
        "qty": {"type": "integer", "minimum": 0},
        "production_date": {"type": "string", "format": "date"},
        "expiry_date": {"type": "string", "format": "date",
                        "description": "default: production_date + the product's shelf life; a new batch needs one of the two"},
        "external_ref": {"type": "string", "maxLength": 80,
                         "description": "unique per line for your organisation; a line sent again changes nothing"},
        "reason": {"type": "string", "maxLength": 200}}}
SCHEMAS["StockSyncResult"] = {
    "type": "object", "properties": {
        "applied": {"type": "integer"}, "duplicates": {"type": "integer"},
        "lines": {"type": "array", "items": {"type": "object", "properties": {
            "row": {"type": "integer"}, "external_ref": {"type": "string"},
            "status": {"enum": ["applied", "duplicate"]}}}}}}
SCHEMAS["StockLevel"] = {
    "type": "object", "properties": {
        "warehouse_code": {"type": "string"}, "product_code": {"type": "string"}, "on_hand": {"type": "integer"},
        "reserved": {"type": "integer"}, "available": {"type": "integer"}}}


MAX_PAGE = 1_000_000


def _items_from_body() -> list[tuple[int, dict]] | None:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("lines"), list):
        return None
    return [(i, line if isinstance(line, dict) else {"_": line}) for i, line in enumerate(body["lines"], start=1)]


@bp.route("/stock/sync", methods=["POST"])
@token_required("stock")
def stock_sync():
    if not request.is_json:
        return error_response(415)
    items = _items_from_body()
    if items is None:
        return error_response(422, _("请求体应为 {\"lines\": [...]}。"), field="lines")
    client_org, client_name = g.api_client.org_id, g.api_client.name
    for tries in (1, 2):
        try:
            outcome = attempt(None, sync.sync_stock, client_org, items, actor_id=None, require_ref=True,
                              document_prefix="erp")
        except IntegrityError:  # the same references applied concurrently: now they are duplicates
            db.session.rollback()
            if tries == 2:
                return error_response(409, _("同一批外部单号正在被另一请求处理，请稍后重试。"), field="external_ref")
            continue
        if not outcome.ok:
            return error_response(422, errors=[e.as_dict() for e in outcome.error.errors])
        result = outcome.result
        break
    return jsonify({"applied": result.applied, "duplicates": result.duplicates, "client": client_name,
                    "lines": [{"row": line.row, "external_ref": line.external_ref,
                               "status": "duplicate" if line.duplicate else "applied"} for line in result.lines]})


document("/stock/sync", "post", {
    "summary": "Sync stock receipts or levels (all or nothing, idempotent per external_ref)",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["lines"],
        "properties": {"lines": {"type": "array", "minItems": 1, "maxItems": sync.MAX_LINES,
                                 "items": {"$ref": "#/components/schemas/StockSyncLine"}}}}}}},
    "responses": {
        "200": {"description": "Every line applied or already applied",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StockSyncResult"}}}},
        "409": {"description": "The same references are being applied by another request",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
        "415": {"description": "Not JSON", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
        "422": {"description": "Errors per row (`row` is the 1-based line index); nothing was written",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}}}})


@bp.route("/stock/levels")
@token_required("stock")
def stock_levels():
    query = (select(StockBalance, Warehouse.code, Product.code)
             .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
             .join(Product, Product.id == StockBalance.product_id)
             .where(Warehouse.owner_id == g.api_client.org_id).order_by(Warehouse.code, Product.code))
    # Codes in the query string name records like ids do: another organisation's warehouse (or a
    # product that does not exist) is a 404, not an empty page.
    if request.args.get("warehouse_code"):
        code = request.args["warehouse_code"]
        if db.session.scalar(select(Warehouse.id).where(Warehouse.code == code,
                                                        Warehouse.owner_id == g.api_client.org_id)) is None:
            db.session.rollback()
            return error_response(404, _("仓库不存在。"), field="warehouse_code")
        query = query.where(Warehouse.code == code)
    if request.args.get("product_code"):
        if db.session.scalar(select(Product.id).where(Product.code == request.args["product_code"])) is None:
            db.session.rollback()
            return error_response(404, _("商品不存在。"), field="product_code")
        query = query.where(Product.code == request.args["product_code"])
    raw_page = (request.args.getlist("page") or ["1"])[0]  # as sent: a bad page is an error here
    if not (raw_page.isascii() and raw_page.isdigit() and len(raw_page) <= 7 and 1 <= int(raw_page) <= MAX_PAGE):
        db.session.rollback()
        return error_response(400, _("page 应为 1 到 %(n)d 的整数。", n=MAX_PAGE), field="page")
    page = paginate(query, int(raw_page), per_page=500, scalars=False)
    db.session.commit()  # the client's last_used_at
    return jsonify({"page": page.number, "pages": page.pages, "total": page.total, "items": [
        {"warehouse_code": w, "product_code": p, "on_hand": b.on_hand, "reserved": b.reserved,
         "available": b.available} for b, w, p in page.items]})


document("/stock/levels", "get", {
    "summary": "Stock levels of your organisation's warehouses (500 per page)",
    "parameters": [{"name": n, "in": "query", "required": False, "schema": schema} for n, schema in (
        ("warehouse_code", {"type": "string"}), ("product_code", {"type": "string"}),
        ("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}))],
    "responses": {
        "400": {"description": "A query parameter is not valid (e.g. page is not a whole number)",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
        "404": {"description": "No warehouse of yours (or no product) with that code",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
        "200": {"description": "A page of levels", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"page": {"type": "integer"}, "pages": {"type": "integer"},
                                         "total": {"type": "integer"},
                                         "items": {"type": "array", "items": {"$ref": "#/components/schemas/StockLevel"}}}}}}}}})
