"""Issue 14: the OpenAPI document is valid OpenAPI 3.1, describes every route of the API
blueprint (and nothing else), and is generated from the schemas that validate requests."""
import re

from openapi_spec_validator import validate

from app.web.api.openapi import PREFIX

UNDOCUMENTED = {"api.openapi_json", "api.docs", "api.unknown_path"}


def test_the_document_is_valid_openapi_3_1(client):
    document = client.http.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_route_of_the_blueprint_is_documented_and_nothing_else(app, client):
    document = client.http.get("/api/v1/openapi.json").json
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in UNDOCUMENTED:
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule).removeprefix(PREFIX)
            routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routes


def test_request_schemas_refuse_what_the_document_refuses(client):
    """The order body in the document is the schema the endpoint validates with: no extra keys,
    integer quantities in range."""
    document = client.http.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    line = schemas["LineIn"]
    assert line["additionalProperties"] is False and line["properties"]["qty"]["type"] == "integer"
    assert line["properties"]["qty"]["minimum"] == 1 and line["properties"]["qty"]["maximum"] == 9999
    assert set(schemas["Error"]["required"]) >= {"code", "message", "errors"}
    order_post = document["paths"]["/orders"]["post"]
    [key] = [p for p in order_post["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["required"] is True
    assert "429" in order_post["responses"] and "401" in order_post["responses"]
