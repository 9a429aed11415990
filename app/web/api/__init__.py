"""The JSON API under /api/v1 for the brand's ERP, WMS, CRM and the dealers' systems.

- Auth: `Authorization: Bearer <token>` of an ApiClient (`flask api create-client NAME`); each
  endpoint names the scope it needs, a read-only client may only read, and every query is scoped
  to the client's organisation (a dealer's token sees its own orders and stock only; another
  organisation's record answers 404 like a missing one). Rate limits per token (Flask-Limiter).
  No cookies, so no CSRF (the blueprint is exempt).
- Requests are validated by marshmallow schemas (flask-smorest); the same schemas shape the
  responses and generate the OpenAPI 3.1 document at /api/v1/openapi.json (viewer: /api/v1/docs).
- Errors: one JSON shape, see errors.py. Every POST honours `Idempotency-Key` (idempotency.py).
- Views hold no business rules: they call the same services as the web pages.
"""
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser

from app.extensions import csrf


class StrictParser(FlaskParser):
    """Unknown query parameters are refused like unknown JSON keys (each schema says RAISE)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None}


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = StrictParser()


bp = ApiBlueprint("api", __name__, url_prefix="/api/v1", description="Lianying API")
csrf.exempt(bp)

from app.web.api import errors, openapi, stock, catalog, orders, webhooks, exports, payments, carriers, shipments, customers  # noqa: E402,F401
