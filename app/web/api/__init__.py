"""The JSON API under /api/v1 for the brand's ERP, WMS and other systems.

- Auth: `Authorization: Bearer <token>` of an ApiClient (`flask api create-client NAME`);
  each endpoint names the scope it needs. No cookies, so no CSRF (the blueprint is exempt).
- Errors are JSON: `{"errors": [{"row": 3, "field": "product_code", "message": "..."}]}` with
  `row` only where a request carries rows; unknown paths under /api/v1 answer JSON 404 too.
- The OpenAPI document is at /api/v1/openapi.json; each endpoint module adds its paths to it
  (app/web/api/openapi.py), so the document and the code live side by side.
"""
from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

from app.web.api import errors, openapi, stock  # noqa: E402,F401
