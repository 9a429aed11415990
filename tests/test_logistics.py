"""Issue 14, logistics: signed carrier callbacks add tracking events to shipments (once per
carrier + waybill + event + time), the order pages of every role that sees the order show them,
a polling job reads a carrier's events over HTTP through the adapter, and a `delivered` event
signs the order off only for a dealer that trusts that carrier's proof of delivery."""
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.fulfilment import DeliverySignOff
from app.models.logistics import CarrierTrust, TrackingEvent
from app.services.logistics.carriers import signature
from tests import builders_fulfilment as f
from tests.wechatpay_double import Served

SECRET = "carrier-local-secret"  # the test carrier "local" of the configuration
WAYBILL = "LOC100200300"
AT = datetime(2026, 12, 6, 8, 30, tzinfo=timezone.utc)


@pytest.fixture
def shipped(world):
    items = f.products(1)
    f.stocked_dealer(world, items)
    order = f.approved_order(world, [(items[0], 3)])
    f.ship_all(world, order, carrier="本地物流", tracking=WAYBILL)
    db.session.commit()
    return order


def event(code="in_transit", at=AT, waybill=WAYBILL, **kw):
    return {"waybill": waybill, "code": code, "occurred_at": at.isoformat(), **kw}


def post_events(http, events, secret=SECRET, carrier="local", timestamp=None):
    body = json.dumps({"events": events}).encode()
    timestamp = timestamp or str(int(time.time()))
    return http.post(f"/api/v1/carriers/{carrier}/events", data=body, content_type="application/json",
                     headers={"X-Carrier-Timestamp": timestamp, "X-Carrier-Signature": signature(secret, timestamp, body)})


def _events():
    return db.session.scalar(select(func.count()).select_from(TrackingEvent))


def test_a_signed_callback_records_events_once(client, shipped):
    answer = post_events(client.http, [event("picked_up", AT - timedelta(hours=5), location="杭州转运中心"),
                                       event("in_transit", AT)])
    assert answer.status_code == 200 and answer.json == {"recorded": 2, "ignored": 0, "signed_off": []}
    again = post_events(client.http, [event("in_transit", AT), event("in_transit", AT, waybill="NOSUCH")])
    assert again.json == {"recorded": 0, "ignored": 2, "signed_off": []}
    assert _events() == 2


@pytest.mark.parametrize("problem", ["wrong_secret", "stale", "unknown_carrier"])
def test_an_unsigned_or_stale_callback_is_refused(client, shipped, problem):
    if problem == "wrong_secret":
        answer = post_events(client.http, [event()], secret="guess")
    elif problem == "stale":
        answer = post_events(client.http, [event()], timestamp=str(int(time.time()) - 3600))
    else:
        answer = post_events(client.http, [event()], carrier="sf")
    assert answer.status_code == (404 if problem == "unknown_carrier" else 401)
    assert _events() == 0


def test_a_malformed_but_signed_body_is_a_422(client, shipped):
    assert post_events(client.http, [{"waybill": WAYBILL, "code": "teleported", "occurred_at": "x"}]).status_code == 422
    assert post_events(client.http, []).status_code == 422


def test_delivered_is_only_shown_unless_the_dealer_trusts_the_carrier(client, shipped, login_as):
    answer = post_events(client.http, [event("delivered", location="西湖小卖部")])
    assert answer.json["signed_off"] == []
    assert f.status_of(shipped) == "shipped"
    for role, url in (("retailer", f"/retailer/orders/{shipped.id}"), ("retailer", f"/retailer/orders/{shipped.id}/delivery"),
                      ("dealer", f"/dealer/orders/{shipped.id}"), ("rep", f"/rep/orders/{shipped.id}")):
        page = login_as(role).get(url)
        assert page.status_code == 200, (role, url)
        assert "物流跟踪" in page.get_data(as_text=True) and "西湖小卖部" in page.get_data(as_text=True), (role, url)
    assert login_as("retailer_b").get(f"/retailer/orders/{shipped.id}").status_code == 404


def test_a_trusted_carriers_delivered_event_signs_the_order_off_once(client, shipped, world, login_as):
    dealer = login_as("dealer")
    page = dealer.get("/dealer/carriers")
    assert page.status_code == 200 and "本地物流" in page.get_data(as_text=True)
    saved = dealer.post("/dealer/carriers", {"trusted": ["local"]})
    assert saved.status_code == 303
    assert db.session.get(CarrierTrust, (world.orgs["dealer"].id, "local")) is not None
    answer = post_events(client.http, [event("delivered")])
    assert answer.json["signed_off"] == [shipped.id]
    assert f.status_of(shipped) == "delivered"
    sign_off = db.session.scalar(select(DeliverySignOff).where(DeliverySignOff.order_id == shipped.id))
    assert sign_off.method == "carrier"
    assert post_events(client.http, [event("delivered")]).json == {"recorded": 0, "ignored": 1, "signed_off": []}
    # another dealer's trust changes nothing for this dealer's orders
    login_as("dealer_b").post("/dealer/carriers", {"trusted": []})
    assert db.session.get(CarrierTrust, (world.orgs["dealer"].id, "local")) is not None


def test_the_carriers_form_refuses_an_unknown_carrier(login_as, world):
    dealer = login_as("dealer")
    assert dealer.post("/dealer/carriers", {"trusted": ["dhl"]}).status_code == 400
    assert dealer.post("/dealer/carriers", {"trusted": ["dhl"]}, htmx=True).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(CarrierTrust)) == 0


class LocalCarrier:
    """A carrier's tracking service over HTTP: GET /waybills/<waybill>/events (bearer secret)."""

    def __init__(self, events):
        self.events, self.calls = events, []

    def __call__(self, environ, start_response):
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        self.calls.append(request.path)
        if request.headers.get("Authorization") != f"Bearer {SECRET}":
            return Response("{}", 401)(environ, start_response)
        waybill = request.path.split("/")[2]
        rows = [e for e in self.events if e["waybill"] == waybill]
        return Response(json.dumps({"events": rows}), 200, content_type="application/json")(environ, start_response)


@pytest.mark.xdist_group("serial")
def test_the_polling_job_reads_the_carrier_over_http_and_is_safe_to_repeat(app, shipped, world):
    from jobs.logistics import poll_carriers_job

    db.session.add(CarrierTrust(dealer_id=world.orgs["dealer"].id, carrier="local"))
    db.session.commit()
    carrier = LocalCarrier([event("in_transit", AT), event("delivered", AT + timedelta(hours=3))])
    previous = app.config["CARRIERS"]
    with Served(carrier) as served:
        app.config["CARRIERS"] = {"local": {"name": "本地物流", "secret": SECRET, "poll_url": served.url}}
        try:
            first = poll_carriers_job()
            second = poll_carriers_job()
        finally:
            app.config["CARRIERS"] = previous
    assert first["local"] == {"recorded": 2, "ignored": 0, "signed_off": [shipped.id]}
    assert second["local"]["recorded"] == 0  # delivered now: no longer polled, nothing twice
    assert carrier.calls == [f"/waybills/{WAYBILL}/events"]
    db.session.expire_all()
    assert _events() == 2 and f.status_of(shipped) == "delivered"
    assert db.session.scalar(select(TrackingEvent.source).limit(1)) == "poll"


def test_the_api_lists_shipments_with_tracking_scoped_and_paged(client, shipped, world):
    from tests.builders_api import api_world, bearer

    post_events(client.http, [event("picked_up", AT - timedelta(hours=5)), event("in_transit", AT)])
    second = f.approved_order(world, [(shipped.lines[0].product, 1)])
    f.ship_all(world, second, carrier="本地物流", tracking="LOC2")
    db.session.commit()
    api = api_world(world)
    first_page = client.http.get("/api/v1/shipments", query_string={"limit": 1}, headers=bearer(api.tokens["dealer"]))
    assert first_page.status_code == 200 and len(first_page.json["items"]) == 1
    assert first_page.json["items"][0]["order_id"] == second.id
    rest = client.http.get("/api/v1/shipments", query_string={"limit": 1, "cursor": first_page.json["next_cursor"]},
                           headers=bearer(api.tokens["dealer"])).json
    assert [s["order_id"] for s in rest["items"]] == [shipped.id] and rest["next_cursor"] is None
    assert [e["code"] for e in rest["items"][0]["tracking_events"]] == ["in_transit", "picked_up"]
    assert client.http.get("/api/v1/shipments", headers=bearer(api.tokens["dealer_b"])).json["items"] == []
    assert client.http.get("/api/v1/shipments", query_string={"cursor": "x"},
                           headers=bearer(api.tokens["dealer"])).status_code == 400
