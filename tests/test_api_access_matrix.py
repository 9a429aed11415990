"""Issue 14: the API's access matrix. Every route of the `api` blueprint, found in app.url_map, is
checked for every token scope: no token → 401; a token without the route's scope → 403; a
read-only token on a write → 403; another organisation's record named in the path, the query
string or the body → 404 (or a row error) with nothing of it shown and nothing written.

A new API route without an entry in CASES FAILS here: add one."""
from dataclasses import dataclass
from typing import Callable

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Order, PaymentIntent, ProductVisibility, StockMovement, WebhookSubscription
from tests import factories
from tests.builders_api import api_world, bearer, new_key, place
from tests.builders_stock import stock, warehouse
from tests.test_api_stock import line

# No token: the provider's or carrier's signature is the proof (tests/test_api_payments.py,
# tests/test_logistics_callbacks.py check them).
PUBLIC = {"api.openapi_json", "api.docs", "api.unknown_path", "api.payment_notify", "api.carrier_events"}


@dataclass
class Setup:
    api: object
    foreign_order: int  # an order of dealer_b (bought from the brand), invisible to dealer's token
    hidden_product: str  # visible only in dealer_b's region
    foreign_webhook: int = 0  # a subscription of dealer_b
    foreign_intent: int = 0  # a payment intent of dealer_b


@dataclass(frozen=True)
class Case:
    scope: str
    # (setup) -> (path, query, json body): the request naming another organisation's record,
    # made with the dealer's token.
    foreign: Callable[[Setup], tuple[str, dict, dict | None]]
    # What the dealer's token gets for it.
    expect: tuple[int, ...] = (404,)


def _retailer_b(s):
    return s.api.world.orgs["retailer_b"].code


CASES = {
    ("api.categories", "GET"): Case("catalog", lambda s: ("/api/v1/categories", {}, None), (200,)),
    ("api.products", "GET"): Case("catalog", lambda s: ("/api/v1/products", {"q": s.hidden_product}, None), (200,)),
    ("api.product", "GET"): Case("catalog", lambda s: (f"/api/v1/products/{s.hidden_product}", {}, None)),
    ("api.price", "GET"): Case("catalog", lambda s: ("/api/v1/prices", {"product_code": "WATER",
                                                                       "customer_code": _retailer_b(s)}, None)),
    ("api.quote", "POST"): Case("orders", lambda s: ("/api/v1/quotes", {}, {
        "customer_code": _retailer_b(s), "lines": [{"product_code": "WATER", "qty": 1}]})),
    ("api.order_create", "POST"): Case("orders", lambda s: ("/api/v1/orders", {}, {
        "customer_code": _retailer_b(s), "lines": [{"product_code": "WATER", "qty": 1}]})),
    ("api.orders_list", "GET"): Case("orders", lambda s: ("/api/v1/orders", {"customer_code": _retailer_b(s)}, None)),
    ("api.order_detail", "GET"): Case("orders", lambda s: (f"/api/v1/orders/{s.foreign_order}", {}, None)),
    ("api.order_cancel", "POST"): Case("orders", lambda s: (f"/api/v1/orders/{s.foreign_order}/cancel", {}, {})),
    ("api.stock_levels", "GET"): Case("stock", lambda s: ("/api/v1/stock/levels", {"warehouse_code": "CD-B"}, None)),
    ("api.stock_row", "GET"): Case("stock", lambda s: ("/api/v1/stock/levels/CD-B/WATER", {}, None)),
    ("api.stock_row_change", "POST"): Case("stock", lambda s: ("/api/v1/stock/levels/CD-B/WATER", {}, {
        "kind": "receipt", "batch_no": "B1", "qty": 1, "external_ref": "GRN-X"})),
    ("api.stock_sync", "POST"): Case("stock", lambda s: ("/api/v1/stock/sync", {}, {
        "lines": [line(warehouse_code="CD-B", product_code="WATER")]}), (422,)),
    ("api.export_orders", "GET"): Case("orders", lambda s: ("/api/v1/exports/orders", {}, None), (200,)),
    ("api.export_shipments", "GET"): Case("orders", lambda s: ("/api/v1/exports/shipments", {}, None), (200,)),
    ("api.export_invoices", "GET"): Case("orders", lambda s: ("/api/v1/exports/invoices", {}, None), (200,)),
    ("api.export_credit_notes", "GET"): Case("orders", lambda s: ("/api/v1/exports/credit-notes", {}, None),
                                             (200,)),
    ("api.webhook_create", "POST"): Case("webhooks", lambda s: ("/api/v1/webhooks", {}, {
        "url": "http://10.0.0.1/hooks", "event_types": ["*"]}), (422,)),
    ("api.webhooks_list", "GET"): Case("webhooks", lambda s: ("/api/v1/webhooks", {}, None), (200,)),
    ("api.webhook_detail", "GET"): Case("webhooks", lambda s: (f"/api/v1/webhooks/{s.foreign_webhook}", {}, None)),
    ("api.webhook_delete", "DELETE"): Case("webhooks", lambda s: (f"/api/v1/webhooks/{s.foreign_webhook}", {}, None)),
    ("api.webhook_enable", "POST"): Case("webhooks", lambda s: (f"/api/v1/webhooks/{s.foreign_webhook}/enable",
                                                                {}, None)),
    ("api.webhook_deliveries", "GET"): Case("webhooks", lambda s: (
        f"/api/v1/webhooks/{s.foreign_webhook}/deliveries", {}, None)),
    ("api.payment_create", "POST"): Case("orders", lambda s: ("/api/v1/payments", {}, {"order_id": s.foreign_order})),
    ("api.payment_refund", "POST"): Case("orders", lambda s: (f"/api/v1/payments/{s.foreign_intent}/refunds", {},
                                                              {"amount_fen": 1})),
    ("api.invoices_list", "GET"): Case("orders", lambda s: ("/api/v1/invoices", {}, None), (200,)),
    ("api.credit_notes_list", "GET"): Case("orders", lambda s: ("/api/v1/credit-notes", {}, None), (200,)),
    ("api.customers_list", "GET"): Case("orders", lambda s: ("/api/v1/customers", {}, None), (200,)),
    ("api.shipments_list", "GET"): Case("orders", lambda s: ("/api/v1/shipments", {}, None), (200,)),
    ("api.payment_detail", "GET"): Case("orders", lambda s: (f"/api/v1/payments/{s.foreign_intent}", {}, None)),
    ("api.webhook_replay", "POST"): Case("webhooks", lambda s: (f"/api/v1/webhooks/{s.foreign_webhook}/replay", {},
                                                                {"status": "failed"})),
}


def _api_rules():
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    return sorted((rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
                  for method in sorted(rule.methods & {"GET", "POST", "PUT", "PATCH", "DELETE"})
                  if rule.endpoint not in PUBLIC)


RULES = _api_rules()


def test_every_api_route_is_in_the_matrix():
    assert sorted(CASES) == RULES


@pytest.fixture
def setup(world):
    api = api_world(world)
    stock(warehouse(world.orgs["dealer_b"], world.regions["cd"], code="CD-B"), api.products["WATER"], 5)
    hidden = factories.product(code="WEST-ONLY")
    db.session.add(ProductVisibility(product_id=hidden.id, region_id=world.regions["sc"].id))
    db.session.commit()
    from flask import current_app
    foreign = place(current_app.test_client(), api.tokens["dealer_b"], {"lines": [{"product_code": "WATER", "qty": 1}]})
    assert foreign.status_code == 201, foreign.json
    hook = WebhookSubscription(org_id=world.orgs["dealer_b"].id, url="https://erp-b.example/hooks",
                               secret="whsec_" + "B" * 32, event_types="*")
    db.session.add(hook)
    intent = PaymentIntent(reference="PI" + "B" * 24, purpose="topup", payer_id=world.orgs["dealer_b"].id,
                           seller_id=world.brand.id, amount_fen=100, refunded_fen=0, status="created",
                           provider="sandbox", checkout_url="/payments/sandbox/x")
    db.session.add(intent)
    db.session.commit()
    return Setup(api, foreign.json["id"], "WEST-ONLY", hook.id, intent.id)


def _send(http, method, path, query, body, headers):
    headers = dict(headers)
    if method == "POST":
        headers.setdefault("Idempotency-Key", new_key())
        if "cancel" in path or "/stock/levels/" in path:
            headers.setdefault("If-Match", "*")
    return http.open(path, method=method, query_string=query, json=body, headers=headers)


def _counts():
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(Order)),
            db.session.scalar(select(func.count()).select_from(StockMovement)))


@pytest.mark.parametrize("endpoint, method", RULES, ids=[f"{m} {e}" for e, m in RULES])
def test_api_route_access(client, setup, endpoint, method):
    case = CASES[(endpoint, method)]
    path, query, body = case.foreign(setup)
    http, tokens = client.http, setup.api.tokens
    before = _counts()
    assert _send(http, method, path, query, body, {}).status_code == 401
    without_scope = _scope_less_token(setup, case.scope)
    refused = _send(http, method, path, query, body, bearer(without_scope))
    assert refused.status_code == 403 and refused.json["field"] == "Authorization"
    if method != "GET":
        read_only = _send(http, method, path, query, body, bearer(tokens["read_only"]))
        assert read_only.status_code == 403 and read_only.json["code"] == "read_only"
    foreign = _send(http, method, path, query, body, bearer(tokens["dealer"]))
    assert foreign.status_code in case.expect, foreign.json
    text = foreign.get_data(as_text=True)
    assert setup.api.world.orgs["dealer_b"].code not in text and setup.api.world.orgs["retailer_b"].code not in text
    assert setup.hidden_product not in text
    if foreign.status_code == 404:
        assert foreign.json["code"] == "not_found"
    assert _counts() == before


def _scope_less_token(setup, scope: str) -> str:
    from app.services.accounts.api_clients import create_api_client

    others = " ".join(s for s in ("orders", "catalog", "stock", "webhooks") if s != scope)
    token = create_api_client(f"no-{scope}", org_code=setup.api.world.orgs["dealer"].code, scopes=others)[1]
    db.session.commit()
    return token


def test_the_brand_token_reaches_every_organisation(client, setup):
    brand = bearer(setup.api.tokens["brand"])
    assert client.http.get(f"/api/v1/orders/{setup.foreign_order}", headers=brand).status_code == 200
    listed = client.http.get("/api/v1/orders", headers=brand).json["items"]
    assert [o["id"] for o in listed] == [setup.foreign_order]
    own = client.http.get("/api/v1/orders", headers=bearer(setup.api.tokens["dealer_b"])).json["items"]
    assert [o["id"] for o in own] == [setup.foreign_order]
    assert client.http.get("/api/v1/orders", headers=bearer(setup.api.tokens["dealer"])).json["items"] == []
