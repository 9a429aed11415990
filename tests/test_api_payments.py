"""Issue 14, payments in the API: an intent for an order (Idempotency-Key required, scoped to
the token's organisation), reading it, and the notify endpoint: a good notification is applied
once however often it comes, a bad signature is refused with 401 and logged."""
import logging

from sqlalchemy import func, select

from app.extensions import db
from app.models import Payment
from app.models.payments import PaymentIntent
from app.services.accounts.api_clients import create_api_client
from tests.builders_api import api_world, bearer, new_key
from tests.builders_payments import NOTIFY_PATH, invoiced_order, sandbox_notification


def _retailer_token(world):
    token = create_api_client("Shop POS", org_code=world.orgs["retailer"].code, scopes="orders")[1]
    db.session.commit()
    return token


def test_an_integrator_creates_an_intent_reads_it_and_the_notification_pays_it(client, world):
    order, invoice = invoiced_order(world, 9_900)
    token = _retailer_token(world)
    http = client.http
    missing_key = http.post("/api/v1/payments", json={"order_id": order.id}, headers=bearer(token))
    assert missing_key.status_code == 400 and missing_key.json["code"] == "idempotency_key_required"
    key = new_key()
    created = http.post("/api/v1/payments", json={"order_id": order.id}, headers=bearer(token, **{"Idempotency-Key": key}))
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["amount_fen"], body["status"], body["purpose"], body["order_id"]) == (9_900, "created", "order", order.id)
    assert body["checkout_url"] == f"/payments/sandbox/{body['reference']}"
    replay = http.post("/api/v1/payments", json={"order_id": order.id}, headers=bearer(token, **{"Idempotency-Key": key}))
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json["id"] == body["id"]
    intent = db.session.get(PaymentIntent, body["id"])
    headers, raw = sandbox_notification(intent, "paid")
    for _ in range(2):
        ack = http.post(NOTIFY_PATH, data=raw, headers=headers)
        assert ack.status_code == 200 and ack.json["code"] == "SUCCESS"
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    read = http.get(f"/api/v1/payments/{body['id']}", headers=bearer(token))
    assert read.status_code == 200 and read.json["status"] == "paid" and read.json["settled_at"]


def test_partial_amounts_and_refusals(client, world):
    order, _invoice = invoiced_order(world, 9_900)
    token = _retailer_token(world)

    def post(payload):
        return client.http.post("/api/v1/payments", json=payload, headers=bearer(token, **{"Idempotency-Key": new_key()}))

    assert post({"order_id": order.id, "amount_fen": 1_000}).json["amount_fen"] == 1_000
    too_much = post({"order_id": order.id, "amount_fen": 9_901})
    assert too_much.status_code == 422 and too_much.json["field"] == "amount"
    assert post({"order_id": order.id, "amount_fen": "10"}).status_code == 422
    assert post({"order_id": order.id, "extra": 1}).status_code == 422
    assert post({"order_id": 2**31 - 1}).status_code == 404


def test_another_organisations_order_and_intent_are_not_found(client, world):
    order, _invoice = invoiced_order(world, 9_900)
    api = api_world(world)
    other = api.tokens["dealer_b"]
    refused = client.http.post("/api/v1/payments", json={"order_id": order.id},
                               headers=bearer(other, **{"Idempotency-Key": new_key()}))
    assert refused.status_code == 404
    mine = client.http.post("/api/v1/payments", json={"order_id": order.id},
                            headers=bearer(api.tokens["dealer"], **{"Idempotency-Key": new_key()}))
    # the seller's token sees the order but does not pay its own sale
    assert mine.status_code == 404
    intent = client.http.post("/api/v1/payments", json={"order_id": order.id},
                              headers=bearer(api.tokens["brand"], **{"Idempotency-Key": new_key()})).json
    assert client.http.get(f"/api/v1/payments/{intent['id']}", headers=bearer(other)).status_code == 404
    assert client.http.get(f"/api/v1/payments/{intent['id']}", headers=bearer(api.tokens["dealer"])).status_code == 200


def test_a_bad_signature_is_refused_and_logged(app, client, world, caplog, monkeypatch):
    order, _invoice = invoiced_order(world, 9_900)
    token = _retailer_token(world)
    body = client.http.post("/api/v1/payments", json={"order_id": order.id},
                            headers=bearer(token, **{"Idempotency-Key": new_key()})).json
    headers, raw = sandbox_notification(db.session.get(PaymentIntent, body["id"]), "paid")
    headers["Sandbox-Signature"] = "AAAA" + headers["Sandbox-Signature"][4:]
    monkeypatch.setattr(app.logger, "disabled", False)  # Alembic's logging setup switched it off
    with caplog.at_level(logging.WARNING):
        refused = client.http.post(NOTIFY_PATH, data=raw, headers=headers)
    assert refused.status_code == 401 and refused.json["code"] == "invalid_signature"
    assert any("refused" in r.getMessage() and "bad signature" in r.getMessage() for r in caplog.records)
    assert client.http.post("/api/v1/payments/notify/paypal", data=raw, headers=headers).status_code == 404
    # WeChat Pay is not configured here: nothing can be authentic
    assert client.http.post("/api/v1/payments/notify/wechat", data=raw, headers=headers).status_code == 401
    db.session.expire_all()
    assert db.session.get(PaymentIntent, body["id"]).status == "created"


def test_the_payee_refunds_through_the_api_and_the_payer_cannot(client, world):
    from app.services.payments.intents import accept_notification

    order, _invoice = invoiced_order(world, 9_900)
    api = api_world(world)
    intent_id = client.http.post("/api/v1/payments", json={"order_id": order.id},
                                 headers=bearer(_retailer_token(world), **{"Idempotency-Key": new_key()})).json["id"]
    accept_notification("sandbox", *sandbox_notification(db.session.get(PaymentIntent, intent_id), "paid"))
    db.session.commit()

    def refund(token, amount):
        return client.http.post(f"/api/v1/payments/{intent_id}/refunds", json={"amount_fen": amount, "reason": "退货"},
                                headers=bearer(token, **{"Idempotency-Key": new_key()}))

    assert refund(_retailer_token(world), 100).status_code == 404  # the payer
    assert refund(api.tokens["dealer_b"], 100).status_code == 404
    done = refund(api.tokens["dealer"], 2_000)
    assert done.status_code == 201 and done.json["amount_fen"] == 2_000 and done.json["credit_note_id"]
    too_much = refund(api.tokens["dealer"], 8_000)
    assert too_much.status_code == 422 and too_much.json["field"] == "amount"
    read = client.http.get(f"/api/v1/payments/{intent_id}", headers=bearer(api.tokens["dealer"])).json
    assert (read["status"], read["refunded_fen"]) == ("paid", 2_000)


def test_invoices_and_credit_notes_are_listed_for_their_parties_in_pages(client, world):
    from app.services.credit.payments import issue_credit_note

    first = invoiced_order(world, 1_000)[1]
    second = invoiced_order(world, 2_000)[1]
    issue_credit_note(None, seller=world.orgs["dealer"], customer=world.orgs["retailer"], amount_fen=300,
                      reason="adjustment", invoice=first)
    db.session.commit()
    api = api_world(world)
    page = client.http.get("/api/v1/invoices", query_string={"limit": 1}, headers=bearer(api.tokens["dealer"])).json
    assert [i["id"] for i in page["items"]] == [second.id]
    rest = client.http.get("/api/v1/invoices", query_string={"limit": 1, "cursor": page["next_cursor"]},
                           headers=bearer(api.tokens["dealer"])).json
    assert [i["id"] for i in rest["items"]] == [first.id] and rest["items"][0]["paid_fen"] == 300
    assert client.http.get("/api/v1/invoices", headers=bearer(_retailer_token(world))).json["items"][0]["buyer_id"] \
        == world.orgs["retailer"].id
    assert client.http.get("/api/v1/invoices", headers=bearer(api.tokens["dealer_b"])).json["items"] == []
    notes = client.http.get("/api/v1/credit-notes", headers=bearer(api.tokens["dealer"])).json["items"]
    assert [(n["amount_fen"], n["invoice_id"]) for n in notes] == [(300, first.id)]
    assert client.http.get("/api/v1/credit-notes", headers=bearer(api.tokens["dealer_b"])).json["items"] == []
    assert len(client.http.get("/api/v1/credit-notes", headers=bearer(api.tokens["brand"])).json["items"]) == 1


def test_customers_are_the_token_organisations_own_in_pages(client, world):
    api = api_world(world)
    brand = client.http.get("/api/v1/customers", query_string={"limit": 2}, headers=bearer(api.tokens["brand"])).json
    codes = [c["code"] for c in brand["items"]]
    while brand["next_cursor"]:
        brand = client.http.get("/api/v1/customers", query_string={"limit": 2, "cursor": brand["next_cursor"]},
                                headers=bearer(api.tokens["brand"])).json
        codes += [c["code"] for c in brand["items"]]
    assert sorted(codes) == sorted(o.code for k, o in world.orgs.items() if k != "brand")
    dealer = client.http.get("/api/v1/customers", headers=bearer(api.tokens["dealer"])).json["items"]
    assert [(c["code"], c["dealer_code"]) for c in dealer] == [(world.orgs["retailer"].code, world.orgs["dealer"].code)]
    full = client.http.get("/api/v1/customers", query_string={"limit": 100}, headers=bearer(api.tokens["brand"])).json
    [row] = [c for c in full["items"] if c["code"] == world.orgs["dealer"].code]
    assert row["territory_region_ids"] == [world.regions["hz"].id]
    assert client.http.get("/api/v1/customers", headers=bearer(_retailer_token(world))).json["items"] == []
    assert client.http.get("/api/v1/customers", query_string={"cursor": "bad"},
                           headers=bearer(api.tokens["brand"])).status_code == 400
