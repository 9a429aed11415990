"""Issue 14: orders, quotes, catalog and prices over the API, through the same services as the
web checkout; ETag/If-Match; keyset pages; one error shape for every bad input."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, OrderStatus
from tests.builders_api import api_world, bearer, place


@pytest.fixture
def api(world):
    return api_world(world)


def lines(*pairs):
    return [{"product_code": code, "qty": qty} for code, qty in pairs]


def test_a_dealer_orders_replenishment_and_reads_it_back_with_its_etag(client, api):
    http = client.http
    response = place(http, api.tokens["dealer"], {"lines": lines(("WATER", 3), ("TEA", 2), ("JUICE", 1))})
    assert response.status_code == 201, response.json
    order = response.json
    assert order["buyer_code"] == api.world.orgs["dealer"].code and order["seller_code"] == "BRAND"
    assert order["channel"] == "api" and order["line_count"] == 3
    assert order["total_fen"] == sum(line["line_total_fen"] for line in order["lines"]) == 3 * 2400 + 2 * 4800 + 3600
    assert all(line["reason"] for line in order["lines"])
    assert response.headers["ETag"] and response.headers["Location"].endswith(f"/api/v1/orders/{order['id']}")
    again = http.get(f"/api/v1/orders/{order['id']}", headers=bearer(api.tokens["dealer"]))
    assert again.status_code == 200 and again.json["number"] == order["number"]
    assert again.headers["ETag"] == response.headers["ETag"]
    unchanged = http.get(f"/api/v1/orders/{order['id']}",
                         headers=bearer(api.tokens["dealer"], **{"If-None-Match": again.headers["ETag"]}))
    assert unchanged.status_code == 304


def test_a_brand_token_orders_for_a_retailer_routed_to_its_dealer(client, api):
    response = place(client.http, api.tokens["brand"], {"customer_code": api.world.orgs["retailer"].code,
                                                        "lines": lines(("WATER", 1))})
    assert response.status_code == 201, response.json
    assert response.json["seller_code"] == api.world.orgs["dealer"].code
    assert place(client.http, api.tokens["brand"], {"lines": lines(("WATER", 1))}).json["field"] == "customer_code"


def test_the_order_key_makes_one_order_and_a_repeat_replays_the_first_answer(client, api):
    body = {"lines": lines(("WATER", 2))}
    first = place(client.http, api.tokens["dealer"], body, key="order-once-0001")
    again = place(client.http, api.tokens["dealer"], body, key="order-once-0001")
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    other = place(client.http, api.tokens["dealer"], {"lines": lines(("WATER", 3))}, key="order-once-0001")
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    missing = client.http.post("/api/v1/orders", json=body, headers=bearer(api.tokens["dealer"]))
    assert missing.status_code == 400 and missing.json["field"] == "Idempotency-Key"


@pytest.mark.parametrize("body, field", [
    ({"lines": lines(("WATER", -1))}, "qty"),
    ({"lines": lines(("WATER", 0))}, "qty"),
    ({"lines": lines(("WATER", 10**12))}, "qty"),
    ({"lines": [{"product_code": "WATER", "qty": "3"}]}, "qty"),
    ({"lines": [{"product_code": "WATER", "qty": 1.5}]}, "qty"),
    ({"lines": [{"product_code": "WATER", "qty": True}]}, "qty"),
    ({"lines": [{"product_code": "WATER", "qty": 1, "price_fen": 1}]}, "price_fen"),
    ({"lines": lines(("WATER", 1)), "discount": 50}, "discount"),
    ({"lines": []}, "lines"),
    ({"lines": "WATER"}, "lines"),
    ({}, "lines"),
    ({"lines": lines(("NOPE", 1))}, "product_code"),
    ({"lines": lines(("TEA", 1))}, "qty"),  # below TEA's minimum of 2
    ({"lines": lines(("WATER", 1), ("WATER", 2))}, "product_code"),
])
def test_bad_input_is_a_4xx_with_the_field_and_nothing_is_ordered(client, api, body, field):
    response = place(client.http, api.tokens["dealer"], body)
    assert response.status_code == 422, response.json
    assert response.json["field"] == field and response.json["message"] and response.json["code"]
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_row_error_names_the_row(client, api):
    response = place(client.http, api.tokens["dealer"], {"lines": lines(("WATER", 1), ("NOPE", 1))})
    assert response.status_code == 422 and response.json["errors"][0]["row"] == 2


def test_another_organisations_order_and_customer_are_not_found(client, api):
    mine = place(client.http, api.tokens["dealer"], {"lines": lines(("WATER", 1))}).json
    for token in ("dealer_b", "retailer"):
        assert client.http.get(f"/api/v1/orders/{mine['id']}", headers=bearer(api.tokens[token])).status_code == 404
    foreign_retailer = api.world.orgs["retailer_b"].code
    response = place(client.http, api.tokens["dealer"], {"customer_code": foreign_retailer, "lines": lines(("WATER", 1))})
    assert response.status_code == 404 and response.json["field"] == "customer_code"
    assert client.http.get("/api/v1/orders/999999999", headers=bearer(api.tokens["brand"])).status_code == 404
    assert client.http.get(f"/api/v1/orders/{mine['id']}", headers=bearer(api.tokens["brand"])).status_code == 200


def test_cancel_needs_the_current_etag_and_a_cancelled_order_cannot_be_cancelled_again(client, api):
    http = client.http
    created = place(http, api.tokens["retailer"], {"lines": lines(("WATER", 1))})
    order_id, tag = created.json["id"], created.headers["ETag"]
    url = f"/api/v1/orders/{order_id}/cancel"
    assert http.post(url, json={}, headers=bearer(api.tokens["retailer"])).status_code == 428
    stale = http.post(url, json={}, headers=bearer(api.tokens["retailer"], **{"If-Match": '"1-x-1"'}))
    assert stale.status_code == 412
    if created.json["status"] in (OrderStatus.SUBMITTED.value, OrderStatus.ON_HOLD.value):
        done = http.post(url, json={"note": "wrong shop"}, headers=bearer(api.tokens["retailer"], **{"If-Match": tag}))
    else:  # approved automatically: the seller cancels
        done = http.post(url, json={"note": "wrong shop"}, headers=bearer(api.tokens["dealer"], **{"If-Match": tag}))
    assert done.status_code == 200, done.json
    assert done.json["status"] == "cancelled" and done.headers["ETag"] != tag
    again = http.post(url, json={}, headers=bearer(api.tokens["dealer"], **{"If-Match": done.headers["ETag"]}))
    assert again.status_code == 409 and again.json["code"] == "conflict"
    foreign = http.post(url, json={}, headers=bearer(api.tokens["dealer_b"], **{"If-Match": "*"}))
    assert foreign.status_code == 404


def test_order_list_filters_and_keyset_pages_stay_correct_while_orders_arrive(client, api):
    http, token = client.http, api.tokens["dealer"]
    made = [place(http, token, {"lines": lines(("WATER", n))}).json["id"] for n in range(1, 6)]
    first = http.get("/api/v1/orders?limit=2", headers=bearer(token)).json
    assert [o["id"] for o in first["items"]] == made[::-1][:2]
    place(http, token, {"lines": lines(("JUICE", 1))})  # a new order between two pages
    second = http.get(f"/api/v1/orders?limit=2&cursor={first['next_cursor']}", headers=bearer(token)).json
    third = http.get(f"/api/v1/orders?limit=2&cursor={second['next_cursor']}", headers=bearer(token)).json
    assert [o["id"] for o in second["items"] + third["items"]] == made[::-1][2:]
    assert third["next_cursor"] is None
    assert http.get("/api/v1/orders?status=shipped", headers=bearer(token)).json["items"] == []
    assert http.get("/api/v1/orders?cursor=nonsense", headers=bearer(token)).json["field"] == "cursor"
    assert http.get("/api/v1/orders?limit=1000", headers=bearer(token)).status_code == 400
    assert http.get("/api/v1/orders?status=lost", headers=bearer(token)).json["field"] == "status"
    assert http.get("/api/v1/orders", headers=bearer(api.tokens["dealer_b"])).json["items"] == []


def test_quote_prices_lines_with_reasons_and_writes_nothing(client, api):
    response = client.http.post("/api/v1/quotes", json={"lines": lines(("WATER", 2), ("TEA", 1))},
                                headers=bearer(api.tokens["dealer"]))
    assert response.status_code == 200, response.json
    water, tea = response.json["lines"]
    assert water["unit_price_fen"] == 2400 and water["line_total_fen"] == 4800 and water["reason"]
    assert response.json["total_fen"] == 4800 + tea["line_total_fen"] and response.json["adjustments"] == []
    from app.models import CartLine
    assert db.session.scalar(select(func.count()).select_from(CartLine)) == 0


def test_price_of_a_product_for_a_customer_with_its_reason(client, api):
    response = client.http.get("/api/v1/prices", query_string={"product_code": "WATER", "qty": 5,
                                                               "customer_code": api.world.orgs["retailer"].code},
                               headers=bearer(api.tokens["brand"]))
    assert response.status_code == 200, response.json
    assert response.json["unit_price_fen"] == 2400 and response.json["total_fen"] == 12000
    assert response.json["source"] == "base" and response.json["reason"]
    foreign = client.http.get("/api/v1/prices", query_string={"product_code": "WATER",
                                                              "customer_code": api.world.orgs["retailer_b"].code},
                              headers=bearer(api.tokens["dealer"]))
    assert foreign.status_code == 404
    assert client.http.get("/api/v1/prices?product_code=WATER&qty=-3",
                           headers=bearer(api.tokens["dealer"])).json["field"] == "qty"


def test_products_and_categories_in_keyset_pages(client, api):
    token = api.tokens["dealer"]
    first = client.http.get("/api/v1/products?limit=2", headers=bearer(token)).json
    rest = client.http.get(f"/api/v1/products?limit=2&cursor={first['next_cursor']}", headers=bearer(token)).json
    assert [p["code"] for p in first["items"] + rest["items"]] == ["JUICE", "TEA", "WATER"]
    assert client.http.get("/api/v1/products/TEA", headers=bearer(token)).json["min_order_qty"] == 2
    assert client.http.get("/api/v1/products/NOPE", headers=bearer(token)).status_code == 404
    assert [c["code"] for c in client.http.get("/api/v1/categories", headers=bearer(token)).json["items"]] == ["DRINK"]


def test_read_only_and_unscoped_tokens(client, api):
    assert client.http.get("/api/v1/orders", headers=bearer(api.tokens["read_only"])).status_code == 200
    refused = place(client.http, api.tokens["read_only"], {"customer_code": api.world.orgs["dealer"].code,
                                                           "lines": lines(("WATER", 1))})
    assert refused.status_code == 403 and refused.json["code"] == "read_only"
    assert client.http.get("/api/v1/orders", headers=bearer(api.tokens["stock_only"])).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_the_docs_page_renders_every_operation_offline(client, api):
    page = client.http.get("/api/v1/docs")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "POST /api/v1/orders" in text and "cdn" not in text.lower()


def test_order_list_detail_and_products_run_a_fixed_number_of_queries(client, api):
    from tests import factories
    from tests.builders_ordering import count_queries

    http, token = client.http, api.tokens["brand"]
    retailer = api.world.orgs["retailer"].code

    def counted(url):
        with count_queries() as seen:
            assert http.get(url, headers=bearer(token)).status_code == 200
        return len(seen.statements)

    first = place(http, token, {"customer_code": retailer, "lines": lines(("WATER", 1))}).json["id"]
    few = (counted("/api/v1/orders"), counted(f"/api/v1/orders/{first}"), counted("/api/v1/products"))
    for _ in range(6):
        place(http, token, {"customer_code": retailer, "lines": lines(("WATER", 1), ("JUICE", 1), ("TEA", 2))})
    for _ in range(5):
        factories.product(factories.category())
    db.session.commit()
    last = place(http, token, {"customer_code": retailer, "lines": lines(("WATER", 2), ("JUICE", 3), ("TEA", 4))}).json["id"]
    many = (counted("/api/v1/orders"), counted(f"/api/v1/orders/{last}"), counted("/api/v1/products"))
    assert many == few


def test_checkout_fields_are_set_with_the_web_checkouts_rules(client, api):
    """Issue 10: the API could not set the delivery date, address and payment method."""
    from datetime import timedelta

    from app.services.core.clock import today_local
    from app.services.ordering.delivery_terms import checkout_facts, delivery_dates

    retailer = api.world.orgs["retailer"]
    dates = delivery_dates(checkout_facts(retailer).weekdays)
    body = {"lines": lines(("WATER", 1)), "delivery_date": dates[-1].isoformat(), "delivery_address": "后门 3 号",
            "payment_method": "cod", "note": "下午送"}
    response = place(client.http, api.tokens["retailer"], body)
    assert response.status_code == 201, response.json
    assert (response.json["delivery_date"], response.json["delivery_address"], response.json["payment_method"],
            response.json["note"]) == (dates[-1].isoformat(), "后门 3 号", "cod", "下午送")
    order = db.session.get(Order, response.json["id"])
    assert (order.delivery_date, order.delivery_address, order.payment_method) == (dates[-1], "后门 3 号", "cod")

    # left out: the web's defaults (the first delivery day, the shop's address, cash on delivery for
    # a shop not on credit)
    plain = place(client.http, api.tokens["retailer"], {"lines": lines(("WATER", 1))}).json
    assert (plain["delivery_date"], plain["payment_method"]) == (dates[0].isoformat(), "cod")
    assert plain["delivery_address"] == (retailer.address or None)

    not_a_delivery_day = [today_local(), dates[-1] + timedelta(days=7)]
    for bad, field in [({"delivery_date": d.isoformat()}, "delivery_date") for d in not_a_delivery_day] + [
            ({"delivery_date": "2026-02-30"}, "delivery_date"), ({"delivery_date": 20260101}, "delivery_date"),
            ({"delivery_address": "长" * 201}, "delivery_address"), ({"payment_method": "bitcoin"}, "payment_method"),
            ({"payment_method": 1}, "payment_method"), ({"payment_method": "credit"}, "payment_method")]:
        refused = place(client.http, api.tokens["retailer"], dict({"lines": lines(("WATER", 1))}, **bad))
        assert refused.status_code == 422 and refused.json["field"] == field, (bad, refused.json)
        assert refused.json["message"]
    assert db.session.scalar(select(func.count()).select_from(Order)) == 2


def test_the_document_describes_the_checkout_fields(client):
    schemas = client.http.get("/api/v1/openapi.json").json["components"]["schemas"]
    create = schemas["OrderCreate"]["properties"]
    assert [v for v in create["payment_method"]["enum"] if v is not None] == ["credit", "prepayment", "cod"]
    assert "date" in str(create["delivery_date"]) and create["delivery_address"]["maxLength"] == 200
    assert {"delivery_date", "delivery_address", "payment_method"} <= set(schemas["Order"]["required"])


# Issue 15: the order's answer is serialised from the order as checkout left it and stored with it
# in one commit (was: commit, read the order, its lines and the client back, store the answer in a
# second commit: 45 statements against the benchmark's 39 at full scale). Issue 14 (h14api): the key's
# claim commits with the order, the token's query loads the service user and the customer's its
# region: 28 on PostgreSQL (the benchmark's too), 35 on SQLite.
API_ORDER_BUDGET = {"postgresql": 28, "sqlite": 35}


def test_placing_an_order_stays_within_its_statement_budget_and_answers_what_a_read_returns(client, api):
    from tests.builders_ordering import count_queries

    http, token = client.http, api.tokens["brand"]
    retailer = api.world.orgs["retailer"].code
    place(http, token, {"customer_code": retailer, "lines": lines(("TEA", 1))})  # the process's caches warm
    counts = []
    for body in (lines(("WATER", 1)), lines(("WATER", 2), ("JUICE", 3), ("TEA", 4))):
        with count_queries() as seen:
            response = place(http, token, {"customer_code": retailer, "lines": body})
        assert response.status_code == 201
        counts.append(len(seen.statements))
        read = http.get(f"/api/v1/orders/{response.json['id']}", headers=bearer(token))
        assert read.json == response.json and read.headers["ETag"] == response.headers["ETag"]
    assert max(counts) <= API_ORDER_BUDGET[db.engine.dialect.name], counts
