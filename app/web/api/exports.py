"""ERP export: GET /exports/{orders|shipments|invoices|credit-notes}?since=<cursor>, JSON or
CSV (`Accept: text/csv`), scoped like the orders (a brand token: everything; a dealer's: what
it bought or sold). Scope `orders`."""
from __future__ import annotations

import csv
import io

from flask import current_app, g, request

from app.models import OrgKind
from app.services.core.errors import DomainError
from app.services.integrations import exports
from app.web.api import bp
from app.web.api.auth import token_required
from app.web.api.errors import error_response
from app.web.api.schemas import ErrorSchema
from app.web.api.schemas_integrations import ExportPageSchema, ExportQuerySchema

CSV_DOC = {"responses": {"200": {
    "description": "A page of rows: JSON, or CSV (one header line, then the rows) with Accept: text/csv",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ExportPage"}},
                "text/csv": {"schema": {"type": "string"}}},
    "headers": {"X-Next-Cursor": {"schema": {"type": "string"}, "description": "CSV only: the next `since`"},
                "X-Has-More": {"schema": {"type": "string"}, "description": "CSV only: true or false"}}}}}


def _wants_csv() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv" and request.accept_mimetypes["text/csv"] > request.accept_mimetypes["application/json"]


def _csv(page: exports.ExportPage):
    out = io.StringIO()
    if page.rows:
        writer = csv.DictWriter(out, fieldnames=list(page.rows[0]))
        writer.writeheader()
        writer.writerows(page.rows)
    return current_app.response_class(out.getvalue(), mimetype="text/csv", headers={
        "X-Next-Cursor": page.next_cursor, "X-Has-More": "true" if page.has_more else "false", "Vary": "Accept"})


def _export_view(kind: str):
    def view(args):
        org_id = None if g.api_client.org.kind == OrgKind.BRAND.value else g.api_client.org_id
        try:
            page = exports.export_page(kind, org_id, args.get("since"), args["limit"])
        except DomainError as error:
            return error_response(400, error.message, field=error.field)
        if _wants_csv():
            return _csv(page)
        return {"items": page.rows, "next_cursor": page.next_cursor, "has_more": page.has_more}

    view.__name__ = "export_" + kind.replace("-", "_")
    view.__doc__ = (f"Export {kind.replace('-', ' ')} incrementally (JSON, or CSV with Accept: text/csv)\n\n"
                    "Pass the last `next_cursor` as `since` to get only what is new (orders: what changed) "
                    "since then. Rows younger than a few seconds wait for the next pull.")
    return view


for _kind in exports.KINDS:
    _view = _export_view(_kind)
    _view = bp.alt_response(400, schema=ErrorSchema, description="`since` or `limit` is not valid")(_view)
    _view = bp.response(200, ExportPageSchema)(_view)
    _view = bp.arguments(ExportQuerySchema, location="query", error_status_code=400)(_view)
    _view = token_required("orders")(_view)
    _view = bp.doc(**CSV_DOC)(_view)
    bp.route(f"/exports/{_kind}", methods=["GET"], endpoint=_view.__name__)(_view)
