"""Issue 8, API details the fuzzer found: the OpenAPI document and the behaviour agree on page
numbers, empty line lists, methods that are not allowed (405 with Allow) and the bearer token."""
import pytest

from tests.test_api_stock import erp, line, post  # noqa: F401  (erp is a fixture)


def auth(erp):  # noqa: F811
    return {"Authorization": f"Bearer {erp['token']}"}


def spec(client):
    return client.http.get("/api/v1/openapi.json").json


@pytest.mark.parametrize("page", ["null", "", "abc", "0", "-1", "1.5", "100000000000000000000", "1\x00"])
def test_a_page_that_is_not_a_whole_number_in_range_is_refused(client, erp, page):  # noqa: F811
    response = client.http.get("/api/v1/stock/levels", query_string={"page": page}, headers=auth(erp))
    assert response.status_code == 400
    assert response.json["errors"][0]["field"] == "page"


def test_page_is_documented_as_the_behaviour_is(client, erp):  # noqa: F811
    [page] = [p for p in spec(client)["paths"]["/stock/levels"]["get"]["parameters"] if p["name"] == "page"]
    assert page["schema"]["type"] == "integer" and page["schema"]["minimum"] == 1
    assert client.http.get("/api/v1/stock/levels", query_string={"page": page["schema"]["maximum"]},
                           headers=auth(erp)).status_code == 200
    assert "400" in spec(client)["paths"]["/stock/levels"]["get"]["responses"]


def test_an_empty_line_list_is_refused_and_the_schema_says_so(client, erp):  # noqa: F811
    assert post(client, erp["token"], {"lines": []}).status_code == 422
    body = spec(client)["paths"]["/stock/sync"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["lines"]["minItems"] == 1


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "PATCH"])
def test_a_method_not_allowed_names_the_allowed_ones(client, erp, method):  # noqa: F811
    response = client.http.open("/api/v1/stock/sync", method=method, headers=auth(erp))
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"POST"}
    assert "errors" in response.json
    levels = client.http.open("/api/v1/stock/levels", method=method, headers=auth(erp))
    assert levels.status_code == 405 and "GET" in levels.headers["Allow"]


def test_a_page_405_keeps_the_allow_header_too(client):
    response = client.http.open("/login", method="TRACE")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert "<main" in response.get_data(as_text=True)  # the styled error page


# Called by payment providers and carriers: no token, their signature is checked instead (401 when wrong).
SIGNED_BY_CALLER = {("/payments/notify/{provider_name}", "post"), ("/carriers/{carrier_code}/events", "post")}


def test_every_operation_declares_the_bearer_token(client):
    document = spec(client)
    assert document["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["bearer"]["description"]}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected = [] if (path, method) in SIGNED_BY_CALLER else [{"bearer": []}]
            assert operation["security"] == expected, (path, method)
            assert "401" in operation["responses"], (path, method)


def test_an_operation_without_the_token_answers_401_as_documented(client):
    assert client.http.get("/api/v1/stock/levels").status_code == 401
    assert client.http.post("/api/v1/stock/sync", json={"lines": [line()]}).status_code == 401
