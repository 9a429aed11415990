"""Issue 14, optimistic concurrency on stock rows: GET of a row gives its ETag (the row's version,
bumped by every ledger UPDATE), the levels list carries it too, and a change of the row through
the API needs If-Match: missing → 428, stale (the row changed since, e.g. an order reserved from
it) → 412 with the JSON error shape and nothing written. Another organisation's row is a 404."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import StockBalance, StockMovement
from app.services.inventory.reservations import reserve_stock
from tests.builders_api import api_world, bearer
from tests.builders_stock import days, stock, warehouse

ROW = "/api/v1/stock/levels/HZ-1/WATER"


def setup(world):
    api = api_world(world)
    wh = warehouse(world.orgs["dealer"], world.regions["hz"], code="HZ-1")
    warehouse(world.orgs["dealer_b"], world.regions["hz"], code="HZ-B")
    stock(wh, api.products["WATER"], 40, batch="W1")
    db.session.commit()
    return api, wh


def change(http, token, if_match=None, **body):
    values = dict(kind="receipt", batch_no="W1", qty=5, external_ref="GRN-77")
    values.update(body)
    headers = bearer(token, **({"If-Match": if_match} if if_match else {}))
    return http.post(ROW, json=values, headers=headers)


def movements() -> int:
    return db.session.scalar(select(func.count()).select_from(StockMovement))


def test_read_a_row_with_its_etag_and_change_it_with_if_match(client, world):
    api, wh = setup(world)
    token = api.tokens["dealer"]
    first = client.http.get(ROW, headers=bearer(token))
    assert first.status_code == 200
    assert first.json == {"warehouse_code": "HZ-1", "product_code": "WATER", "on_hand": 40, "reserved": 0,
                          "available": 40, "etag": first.headers["ETag"]}
    tag = first.headers["ETag"]
    assert client.http.get(ROW, headers=bearer(token, **{"If-None-Match": tag})).status_code == 304
    listed = client.http.get("/api/v1/stock/levels?warehouse_code=HZ-1", headers=bearer(token)).json["items"]
    assert [item["etag"] for item in listed] == [tag]

    done = change(client.http, token, tag)
    assert done.status_code == 200, done.json
    assert done.json["on_hand"] == 45 and done.headers["ETag"] not in (tag, None)
    assert done.json["etag"] == done.headers["ETag"]
    # the old ETag is stale now
    before = movements()
    stale = change(client.http, token, tag, external_ref="GRN-78")
    assert stale.status_code == 412
    assert (stale.json["code"], stale.json["field"]) == ("precondition_failed", "If-Match")
    assert movements() == before
    again = change(client.http, token, done.headers["ETag"], kind="level", qty=30, external_ref="CNT-1")
    assert again.status_code == 200 and again.json["on_hand"] == 30


def test_a_change_by_anyone_else_makes_the_etag_stale(client, world):
    api, wh = setup(world)
    token = api.tokens["dealer"]
    tag = client.http.get(ROW, headers=bearer(token)).headers["ETag"]
    product_id = api.products["WATER"].id
    reserve_stock(wh.id, {product_id: 3}, document="order:1", min_expiry={product_id: days(0)}, actor_id=None)
    db.session.commit()  # an order reserved from the row
    stale = change(client.http, token, tag)
    assert stale.status_code == 412
    fresh = client.http.get(ROW, headers=bearer(token))
    assert fresh.headers["ETag"] != tag and fresh.json["reserved"] == 3
    assert change(client.http, token, fresh.headers["ETag"]).status_code == 200


def test_if_match_is_required_and_errors_leave_nothing_half_done(client, world):
    api, _wh = setup(world)
    token = api.tokens["dealer"]
    before = movements()
    missing = change(client.http, token)
    assert missing.status_code == 428 and missing.json["field"] == "If-Match"
    tag = client.http.get(ROW, headers=bearer(token)).headers["ETag"]
    bad = change(client.http, token, tag, kind="level", qty=-1)
    assert bad.status_code == 422 and bad.json["field"] == "qty"
    unknown = change(client.http, token, tag, colour="red")
    assert unknown.status_code == 422 and unknown.json["field"] == "colour"
    new_batch = change(client.http, token, tag, batch_no="NEW")  # a new batch needs a date
    assert new_batch.status_code == 422 and new_batch.json["field"] in ("production_date", "expiry_date")
    assert movements() == before
    db.session.expire_all()
    assert db.session.scalar(select(StockBalance.on_hand)) == 40


def test_another_organisation_s_row_is_a_404(client, world):
    api, _wh = setup(world)
    for token in (api.tokens["dealer_b"], api.tokens["retailer"]):
        assert client.http.get(ROW, headers=bearer(token)).status_code == 404
        assert change(client.http, token, "*").status_code == 404
    assert client.http.get("/api/v1/stock/levels/HZ-1/NOPE", headers=bearer(api.tokens["dealer"])).status_code == 404
    read_only = change(client.http, api.tokens["read_only"], "*")
    assert read_only.status_code == 403
