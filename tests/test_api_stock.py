"""The ERP stock sync API: token auth, per-row errors, all or nothing, idempotency, levels,
the OpenAPI document."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiClient, StockBalance, StockMovement
from app.services.accounts.api_clients import create_api_client
from tests import factories
from tests.builders_stock import warehouse


@pytest.fixture
def erp(world):
    warehouse(world.brand, world.regions["zj"], code="DC-1")
    warehouse(world.orgs["dealer"], world.regions["hz"], code="HZ-1")
    factories.product(code="WATER", shelf_life_days=365)
    factories.product(code="TEA", shelf_life_days=180)
    client, token = create_api_client("ERP")
    _read_only, read_token = create_api_client("BI", scopes="reports")
    db.session.commit()
    return dict(token=token, read_token=read_token, client_id=client.id)


def post(client, token, body, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.http.post("/api/v1/stock/sync", json=body, headers=headers, **kw)


def line(**kw):
    values = dict(kind="receipt", warehouse_code="DC-1", product_code="WATER", batch_no="B1", qty=10,
                  production_date="2026-02-01", external_ref="GRN-1/1")
    values.update(kw)
    return values


def on_hand(code):
    db.session.expire_all()
    return db.session.scalar(select(func.coalesce(func.sum(StockBalance.on_hand), 0))
                             .where(StockBalance.product.has(code=code)))


def test_token_is_required_and_stored_only_as_a_hash(client, erp):
    assert post(client, None, {"lines": [line()]}).status_code == 401
    bad = post(client, "ly_wrong", {"lines": [line()]})
    assert bad.status_code == 401 and bad.json["errors"][0]["field"] == "Authorization"
    assert bad.headers["WWW-Authenticate"].startswith("Bearer")
    assert post(client, erp["read_token"], {"lines": [line()]}).status_code == 403
    stored = db.session.get(ApiClient, erp["client_id"])
    assert erp["token"] not in (stored.token_hash, stored.token_prefix) and len(stored.token_hash) == 64


def test_sync_applies_and_a_repeat_changes_nothing(client, erp):
    body = {"lines": [line(), line(kind="level", product_code="TEA", batch_no="T1", qty=30,
                                   production_date=None, expiry_date="2027-01-31", external_ref="CNT-9")]}
    first = post(client, erp["token"], body)
    assert first.status_code == 200, first.json
    assert first.json["applied"] == 2 and [x["status"] for x in first.json["lines"]] == ["applied", "applied"]
    assert on_hand("WATER") == 10 and on_hand("TEA") == 30
    again = post(client, erp["token"], body)
    assert again.status_code == 200 and again.json["duplicates"] == 2 and again.json["applied"] == 0
    assert on_hand("WATER") == 10 and on_hand("TEA") == 30
    assert db.session.scalar(select(func.count()).select_from(StockMovement)) == 2
    document = db.session.scalar(select(StockMovement.document).where(StockMovement.kind == "receipt"))
    assert document == "erp:GRN-1/1"


def test_bad_rows_are_reported_and_nothing_is_written(client, erp):
    body = {"lines": [line(),
                      line(external_ref="GRN-1/2", product_code="NOPE"),
                      line(external_ref="GRN-1/3", warehouse_code="HZ-1"),  # a dealer's warehouse
                      line(external_ref="GRN-1/4", qty="ten", production_date="2026-02-30"),
                      line(external_ref="", batch_no="B9"),
                      line(external_ref="GRN-1/1", batch_no="B10")]}
    response = post(client, erp["token"], body)
    assert response.status_code == 422
    errors = {(e["row"], e["field"]) for e in response.json["errors"]}
    assert errors == {(2, "product_code"), (3, "warehouse_code"), (4, "qty"), (4, "production_date"),
                      (5, "external_ref"), (6, "external_ref")}
    assert all(e["message"] for e in response.json["errors"])
    assert on_hand("WATER") == 0 and db.session.scalar(select(func.count()).select_from(StockMovement)) == 0


def test_a_reference_reused_for_different_content_is_refused(client, erp):
    assert post(client, erp["token"], {"lines": [line()]}).status_code == 200
    response = post(client, erp["token"], {"lines": [line(qty=11)]})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "external_ref"
    assert on_hand("WATER") == 10


def test_malformed_requests(client, erp):
    headers = {"Authorization": f"Bearer {erp['token']}"}
    not_json = client.http.post("/api/v1/stock/sync", data="x", headers=headers)
    assert not_json.status_code == 415 and "errors" in not_json.json
    no_lines = post(client, erp["token"], {"rows": []})
    assert no_lines.status_code == 422 and no_lines.json["errors"][0]["field"] == "lines"
    empty = post(client, erp["token"], {"lines": []})
    assert empty.status_code == 422
    unknown_field = post(client, erp["token"], {"lines": [line(colour="red")]})
    assert unknown_field.status_code == 422 and unknown_field.json["errors"][0]["field"] == "colour"
    assert client.http.get("/api/v1/stock/sync", headers=headers).status_code == 405
    assert client.http.get("/api/v1/nothing-here").json["errors"][0]["message"]


def test_levels_are_scoped_to_the_clients_organisation(client, erp):
    post(client, erp["token"], {"lines": [line()]})
    response = client.http.get("/api/v1/stock/levels", headers={"Authorization": f"Bearer {erp['token']}"})
    assert response.status_code == 200
    assert response.json["items"] == [{"warehouse_code": "DC-1", "product_code": "WATER", "on_hand": 10,
                                       "reserved": 0, "available": 10, "etag": response.json["items"][0]["etag"]}]
    assert client.http.get("/api/v1/stock/levels").status_code == 401


def test_levels_filtered_by_another_organisations_warehouse_code_are_a_404(client, erp, world):
    """Codes in the query string are scoped like ids: another organisation's warehouse is not found."""
    warehouse(world.orgs["dealer"], world.regions["hz"], code="HZ-DEALER")
    db.session.commit()
    post(client, erp["token"], {"lines": [line()]})
    headers = {"Authorization": f"Bearer {erp['token']}"}
    own = client.http.get("/api/v1/stock/levels?warehouse_code=DC-1&product_code=WATER", headers=headers)
    assert own.status_code == 200 and len(own.json["items"]) == 1
    foreign = client.http.get("/api/v1/stock/levels?warehouse_code=HZ-DEALER", headers=headers)
    assert foreign.status_code == 404 and foreign.json["errors"][0]["field"] == "warehouse_code"
    nothing = client.http.get("/api/v1/stock/levels?product_code=NO-SUCH", headers=headers)
    assert nothing.status_code == 404 and nothing.json["errors"][0]["field"] == "product_code"


def test_openapi_document_describes_the_stock_endpoints(client):
    response = client.http.get("/api/v1/openapi.json")
    spec = response.json
    assert response.status_code == 200 and spec["openapi"].startswith("3.")
    assert set(spec["paths"]) >= {"/stock/sync", "/stock/levels"}
    assert "422" in spec["paths"]["/stock/sync"]["post"]["responses"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_create_client_command_prints_a_working_token(app, client, erp):
    result = app.test_cli_runner().invoke(args=["api", "create-client", "WMS"])
    assert result.exit_code == 0
    token = result.output.strip().rsplit(" ", 1)[1]
    assert post(client, token, {"lines": [line(external_ref="WMS-1")]}).status_code == 200
