"""The OpenAPI 3.1 document at /api/v1/openapi.json. Endpoint modules describe their paths
with `document(path, method, operation)` next to the code; schemas go in `SCHEMAS`."""
from __future__ import annotations

import copy

from flask import jsonify

from app.web.api import bp

PATHS: dict[str, dict] = {}
SCHEMAS: dict[str, dict] = {
    "Error": {"type": "object", "required": ["field", "message"], "properties": {
        "row": {"type": "integer", "description": "1-based index of the offending line, when the request has lines"},
        "field": {"type": ["string", "null"]},
        "message": {"type": "string"}}},
    "Errors": {"type": "object", "required": ["errors"],
               "properties": {"errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}}}},
}
ERROR_RESPONSES = {
    "401": {"description": "Missing or invalid token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
    "403": {"description": "Token lacks the scope", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
}


def document(path: str, method: str, operation: dict) -> None:
    operation = copy.deepcopy(operation)
    operation.setdefault("security", [{"bearer": []}])
    operation.setdefault("responses", {}).update({k: v for k, v in ERROR_RESPONSES.items()
                                                  if k not in operation["responses"]})
    PATHS.setdefault(path, {})[method.lower()] = operation


def spec() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Lianying API", "version": "1.0.0",
                 "description": "JSON API of the Lianying ordering portal for the brand's ERP, WMS and other "
                                "systems. Authenticate with `Authorization: Bearer <token>` "
                                "(tokens come from `flask api create-client`)."},
        "servers": [{"url": "/api/v1"}],
        # Every operation needs the bearer token (each also says so itself, see document()).
        "security": [{"bearer": []}],
        "paths": dict(sorted(PATHS.items())),
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                     "description": "A client token from `flask api create-client`"}}},
    }


@bp.route("/openapi.json")
def openapi_json():
    response = jsonify(spec())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
