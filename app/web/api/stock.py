"""Stock endpoints for the brand's ERP and the dealers' WMS: sync receipts and levels, read levels;
read one stock row with its ETag and change it with If-Match (optimistic concurrency: the row's
`version` is bumped by every ledger UPDATE, so a stale ETag is a 412)."""
from __future__ import annotations

from flask import current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Product, StockBalance, Warehouse
from app.services.core.paging import paginate
from app.services.inventory import sync
from app.web.api import bp
from app.web.api.auth import token_required
from app.web.api.errors import error_response
from app.web.api.idempotency import idempotent
from app.web.api.schemas import (ErrorSchema, StockLevelPageSchema, StockLevelSchema, StockLevelsQuerySchema,
                                 StockRowChangeSchema, StockSyncResultSchema)
from app.web.common.envelope import attempt

SYNC_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["lines"], "additionalProperties": False,
    "properties": {"lines": {"type": "array", "minItems": 1, "maxItems": sync.MAX_LINES,
                             "items": {"$ref": "#/components/schemas/StockSyncLine"}}}}}}}


def _items_from_body() -> list[tuple[int, dict]] | None:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("lines"), list):
        return None
    return [(i, line if isinstance(line, dict) else {"_": line}) for i, line in enumerate(body["lines"], start=1)]


@bp.route("/stock/sync", methods=["POST"])
@token_required("stock")
@idempotent(required=False)
@bp.doc(requestBody=SYNC_BODY)
@bp.response(200, StockSyncResultSchema, description="Every line applied or already applied")
@bp.alt_response(409, schema=ErrorSchema, description="The same references are being applied by another request")
@bp.alt_response(415, schema=ErrorSchema, description="Not JSON")
@bp.alt_response(422, schema=ErrorSchema, description="Errors per row (`row` is the 1-based line index); nothing was written")
def stock_sync():
    """Sync stock receipts or levels (all or nothing, idempotent per external_ref)

    The lines are checked row by row by the same rules as the CSV stock import, and every row's
    problems come back at once."""
    if not request.is_json:
        return error_response(415)
    items = _items_from_body()
    if items is None:
        return error_response(422, _("请求体应为 {\"lines\": [...]}。"), field="lines")
    if set(request.get_json()) - {"lines"}:
        return error_response(422, _("未知字段。"), field=sorted(set(request.get_json()) - {"lines"})[0])
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
    return {"applied": result.applied, "duplicates": result.duplicates, "client": client_name,
            "lines": [{"row": line.row, "external_ref": line.external_ref,
                       "status": "duplicate" if line.duplicate else "applied"} for line in result.lines]}


@bp.route("/stock/levels", methods=["GET"])
@token_required("stock")
@bp.arguments(StockLevelsQuerySchema, location="query", error_status_code=400)
@bp.response(200, StockLevelPageSchema, description="A page of levels (500 per page)")
@bp.alt_response(404, schema=ErrorSchema, description="No warehouse of yours (or no product) with that code")
def stock_levels(args):
    """Stock levels of your organisation's warehouses"""
    query = (select(StockBalance, Warehouse.code, Product.code)
             .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
             .join(Product, Product.id == StockBalance.product_id)
             .where(Warehouse.owner_id == g.api_client.org_id).order_by(Warehouse.code, Product.code))
    # Codes in the query string name records like ids do: another organisation's warehouse (or a
    # product that does not exist) is a 404, not an empty page.
    if args.get("warehouse_code"):
        code = args["warehouse_code"]
        if db.session.scalar(select(Warehouse.id).where(Warehouse.code == code,
                                                        Warehouse.owner_id == g.api_client.org_id)) is None:
            db.session.rollback()
            return error_response(404, _("仓库不存在。"), field="warehouse_code")
        query = query.where(Warehouse.code == code)
    if args.get("product_code"):
        if db.session.scalar(select(Product.id).where(Product.code == args["product_code"])) is None:
            db.session.rollback()
            return error_response(404, _("商品不存在。"), field="product_code")
        query = query.where(Product.code == args["product_code"])
    page = paginate(query, args["page"], per_page=500, scalars=False)
    return {"page": page.number, "pages": page.pages, "total": page.total,
            "items": [_level(b, w, p) for b, w, p in page.items]}


def etag(balance: StockBalance) -> str:
    return f'"stock-{balance.warehouse_id}-{balance.product_id}-{balance.version}"'


def _level(balance: StockBalance, warehouse_code: str, product_code: str) -> dict:
    return {"warehouse_code": warehouse_code, "product_code": product_code, "on_hand": balance.on_hand,
            "reserved": balance.reserved, "available": balance.available, "etag": etag(balance)}


def _row(warehouse_code: str, product_code: str, *, lock: bool = False) -> StockBalance | None:
    """The stock row of one of the caller's warehouses (None: not theirs, unknown, never stocked)."""
    query = (select(StockBalance).join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
             .join(Product, Product.id == StockBalance.product_id)
             .where(Warehouse.owner_id == g.api_client.org_id, Warehouse.code == warehouse_code,
                    Product.code == product_code).execution_options(populate_existing=True))
    if lock:
        query = query.with_for_update(of=StockBalance)
    return db.session.scalar(query)


ROW_PARAMETERS = [{"name": "warehouse_code", "in": "path", "required": True, "schema": {"type": "string"}},
                  {"name": "product_code", "in": "path", "required": True, "schema": {"type": "string"}}]
IF_MATCH = {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"},
            "description": "The row's ETag as you last read it (GET of the row, or `etag` in the levels list)"}
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}}}


@bp.route("/stock/levels/<warehouse_code>/<product_code>", methods=["GET"], parameters=ROW_PARAMETERS)
@token_required("stock")
@bp.response(200, StockLevelSchema, headers=ETAG_HEADER)
@bp.alt_response(304, description="Not modified (If-None-Match)")
@bp.alt_response(404, schema=ErrorSchema, description="No stock of that product in a warehouse of yours")
def stock_row(warehouse_code: str, product_code: str):
    """One stock row (a warehouse of yours and a product) with its ETag"""
    balance = _row(warehouse_code, product_code)
    if balance is None:
        return error_response(404, _("该仓库没有这个商品的库存记录。"))
    tag = etag(balance)
    if tag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return current_app.response_class(status=304, headers={"ETag": tag})
    return _level(balance, warehouse_code, product_code), 200, {"ETag": tag}


@bp.route("/stock/levels/<warehouse_code>/<product_code>", methods=["POST"],
          parameters=ROW_PARAMETERS + [IF_MATCH])
@token_required("stock")
@idempotent(required=False)
@bp.arguments(StockRowChangeSchema)
@bp.response(200, StockLevelSchema, headers=ETAG_HEADER, description="Applied (or already applied); the row now")
@bp.alt_response(404, schema=ErrorSchema, description="No stock of that product in a warehouse of yours")
@bp.alt_response(412, schema=ErrorSchema, description="The row changed since you read it (If-Match)")
@bp.alt_response(428, schema=ErrorSchema, description="If-Match is missing")
def stock_row_change(args, warehouse_code: str, product_code: str):
    """Receive into, or set the level of, a batch of one stock row, if the row is as you read it

    The same rules as a stock sync line (`external_ref` makes it idempotent). `If-Match` is
    required: the row's ETag from GET; any change of the row since (an order's reservation, a
    shipment, another sync) makes it stale and the answer 412: read the row again and decide."""
    given = request.headers.get("If-Match")
    if not given:
        return error_response(428, field="If-Match")
    balance = _row(warehouse_code, product_code, lock=True)
    if balance is None:
        db.session.rollback()
        return error_response(404, _("该仓库没有这个商品的库存记录。"))
    if given.strip() != "*" and etag(balance) not in [t.strip() for t in given.split(",")]:
        db.session.rollback()
        return error_response(412, field="If-Match")
    line = dict(request.get_json(), warehouse_code=warehouse_code, product_code=product_code)
    try:
        outcome = attempt(None, sync.sync_stock, g.api_client.org_id, [(1, line)], actor_id=None,
                          require_ref=True, document_prefix="erp")
    except IntegrityError:  # the same reference applied at this moment by a stock sync
        db.session.rollback()
        return error_response(409, _("同一外部单号正在被另一请求处理，请稍后重试。"), field="external_ref")
    if not outcome.ok:
        return error_response(422, errors=[{"field": e.field, "message": str(e.message)}
                                           for e in outcome.error.errors])
    balance = _row(warehouse_code, product_code)
    return _level(balance, warehouse_code, product_code), 200, {"ETag": etag(balance)}
