"""Issue 14: ERP export. Orders, shipments, invoices and credit notes in pages that continue
where the last pull stopped, JSON or CSV, scoped by the token; an order that changes comes again."""
import csv
import io

import pytest

from app.extensions import db
from app.services.credit.invoicing import ensure_invoice
from app.services.credit.payments import issue_credit_note
from app.services.ordering import lifecycle
from tests import builders_fulfilment as f
from tests import builders_lifecycle as b
from tests.builders_api import api_world, bearer


@pytest.fixture
def api(world):
    return api_world(world)


def pull(http, token, kind, since=None, accept="application/json", **query):
    if since:
        query["since"] = since
    return http.get(f"/api/v1/exports/{kind}", query_string=query, headers=bearer(token, Accept=accept))


def test_orders_come_incrementally_and_again_when_they_change(client, api, world):
    water, tea = api.products["WATER"], api.products["TEA"]
    first = b.order(world.orgs["retailer"], world.orgs["dealer"], [(water, 2), (tea, 4)])
    second = b.order(world.orgs["retailer"], world.orgs["dealer"], [(water, 1)])
    foreign = b.order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(water, 1)])
    db.session.commit()
    token = api.tokens["dealer"]

    page = pull(client.http, token, "orders", limit=1)
    assert page.status_code == 200 and page.json["has_more"] is True
    assert [(r["order_id"], r["product_code"], r["qty"]) for r in page.json["items"]] == [
        (first.id, "WATER", 2), (first.id, "TEA", 4)]
    rest = pull(client.http, token, "orders", page.json["next_cursor"])
    assert [r["order_id"] for r in rest.json["items"]] == [second.id] and rest.json["has_more"] is False
    cursor = rest.json["next_cursor"]
    assert pull(client.http, token, "orders", cursor).json == {"items": [], "next_cursor": cursor, "has_more": False}

    lifecycle.transition(first.id, "approved", world.users["dealer"].id)
    db.session.commit()
    changed = pull(client.http, token, "orders", cursor).json["items"]
    assert {(r["order_id"], r["status"]) for r in changed} == {(first.id, "approved")}
    everything = pull(client.http, api.tokens["brand"], "orders").json["items"]
    assert foreign.id in {r["order_id"] for r in everything}
    assert world.orgs["dealer_b"].code not in pull(client.http, token, "orders").get_data(as_text=True)


def test_csv_has_the_same_rows_and_the_cursor_in_a_header(client, api, world):
    b.order(world.orgs["retailer"], world.orgs["dealer"], [(api.products["WATER"], 3)])
    db.session.commit()
    answer = pull(client.http, api.tokens["dealer"], "orders", accept="text/csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [(r["product_code"], r["qty"]) for r in rows] == [("WATER", "3")]
    assert answer.headers["X-Has-More"] == "false"
    again = pull(client.http, api.tokens["dealer"], "orders", answer.headers["X-Next-Cursor"], accept="text/csv")
    assert again.get_data(as_text=True) == ""


def test_shipments_invoices_and_credit_notes(client, api, world):
    items = f.products(1)
    f.stocked_dealer(world, items)
    order = f.delivered_order(world, [(items[0], 4)])
    invoice = ensure_invoice(order.id)
    note = issue_credit_note(world.users["dealer"], seller=world.orgs["dealer"], customer=world.orgs["retailer"],
                             amount_fen=50, reason="adjustment")
    db.session.commit()
    token = api.tokens["dealer"]
    [shipment] = pull(client.http, token, "shipments").json["items"]
    assert (shipment["order_id"], shipment["qty"], shipment["carrier"]) == (order.id, 4, "顺丰")
    [row] = pull(client.http, token, "invoices").json["items"]
    assert (row["invoice_number"], row["total_fen"]) == (invoice.number, invoice.total_fen)
    page = pull(client.http, token, "credit-notes").json
    assert [r["credit_note_number"] for r in page["items"]] == [note.number]
    assert pull(client.http, token, "credit-notes", page["next_cursor"]).json["items"] == []
    for kind in ("shipments", "invoices", "credit-notes"):
        assert pull(client.http, api.tokens["dealer_b"], kind).json["items"] == []


@pytest.mark.parametrize("since", ["nonsense", "eyJhIjoxfQ", "WzEsMl0"])
def test_a_bad_cursor_is_a_400(client, api, since):
    answer = pull(client.http, api.tokens["dealer"], "orders", since)
    assert answer.status_code == 400 and answer.json["field"] == "since"
