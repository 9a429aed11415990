"""Issue 14: webhooks. Subscriptions through the API (scoped to the token's organisation), the
SSRF guard, deliveries to a local receiver that fails the first N times (retries with backoff,
every attempt logged, the same event id each time, signatures verified with the
`standardwebhooks` package's verifier), replay, and automatic disabling with a notice."""
from datetime import timedelta

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from app.extensions import db
from app.models import Notification, OutboxEvent, WebhookDelivery, WebhookSubscription
from app.services.integrations import webhooks
from app.services.ordering import lifecycle
from tests import builders_lifecycle as b
from tests import factories
from tests.builders_api import api_world, bearer, new_key
from tests.webhook_receiver import Receiver


@pytest.fixture
def api(world):
    return api_world(world)


@pytest.fixture
def receiver(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", ("127.0.0.1",))
    server = Receiver().start()
    yield server
    server.stop()


def subscribe(http, token, url, types=("order.approved",)):
    return http.post("/api/v1/webhooks", json={"url": url, "event_types": list(types)},
                     headers=bearer(token, **{"Idempotency-Key": new_key()}))


def approve_an_order(world, seller="dealer", buyer="retailer") -> OutboxEvent:
    order = b.order(world.orgs[buyer], world.orgs[seller], [(factories.product(), 2)])
    db.session.commit()
    lifecycle.transition(order.id, "approved", world.users["admin" if seller == "brand" else "dealer"].id)
    db.session.commit()  # without REDIS_URL the fan-out and first attempt run inline here
    return db.session.scalar(select(OutboxEvent).where(OutboxEvent.type == "order.approved")
                             .order_by(OutboxEvent.id.desc()).limit(1))


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def deliver_until_done(delivery_id: int, limit: int = 20) -> str:
    """Attempt until the delivery is no longer pending, as the scheduled jobs would (due or not)."""
    for _ in range(limit):
        db.session.expire_all()
        status = db.session.get(WebhookDelivery, delivery_id).status
        if status != "pending":
            return status
        webhooks.attempt(delivery_id, force=True)
        db.session.commit()
    raise AssertionError("still pending")


def test_retries_with_backoff_log_every_attempt_and_keep_the_event_id(client, api, world, receiver):
    receiver.fail_first = 2
    created = subscribe(client.http, api.tokens["dealer"], receiver.url)
    assert created.status_code == 201, created.json
    secret = created.json["secret"]
    assert secret.startswith("whsec_") and created.json["event_types"] == ["order.approved"]
    event = approve_an_order(world)
    webhooks.fan_out(event.event_id)  # a second fan-out (the job may have run) adds nothing
    db.session.commit()
    [delivery] = deliveries()
    if delivery.attempts == 0:
        webhooks.attempt(delivery.id)
        db.session.commit()
    first = deliveries()[0]
    assert first.status == "pending" and first.attempts == 1
    wait = (first.next_attempt_at - first.created_at).total_seconds()
    assert 3.5 < wait < 6.5  # 5 s ± 20 % jitter
    webhooks.attempt(delivery.id)  # not due yet: nothing happens
    db.session.commit()
    assert len(receiver.requests) == 1

    assert deliver_until_done(delivery.id) == "delivered"
    assert len(receiver.requests) == 3
    assert {r.headers["webhook-id"] for r in receiver.requests} == {event.event_id}
    last = receiver.requests[-1]
    payload = Webhook(secret).verify(last.body, last.headers)
    assert payload["id"] == event.event_id and payload["type"] == "order.approved"
    assert payload["aggregate"] == {"type": "order", "id": event.aggregate_id, "sequence": event.sequence}
    assert payload["data"]["status"] == "approved"
    with pytest.raises(Exception):
        Webhook("whsec_" + "A" * 32).verify(last.body, last.headers)

    log = client.http.get(f"/api/v1/webhooks/{created.json['id']}/deliveries", headers=bearer(api.tokens["dealer"]))
    assert log.status_code == 200
    [item] = log.json["items"]
    assert item["event_id"] == event.event_id and item["status"] == "delivered"
    assert [(a["status_code"], a["ok"], a["excerpt"]) for a in item["attempts"]] == [
        (500, False, "boom"), (500, False, "boom"), (200, True, "ok")]
    assert all(a["duration_ms"] >= 0 for a in item["attempts"])


def test_the_backoff_spans_more_than_a_day_then_gives_up():
    delays = [webhooks.next_delay(n) for n in range(1, 9)]
    assert delays[-1] is None
    assert sum(d for d in delays if d) > 24 * 3600 * 0.8 * 1.05
    assert all(a < b_ for a, b_ in zip(delays[:5], delays[1:5]))


def test_replay_sends_the_same_event_again(client, api, world, receiver):
    sub = subscribe(client.http, api.tokens["dealer"], receiver.url).json
    event = approve_an_order(world)
    webhooks.fan_out(event.event_id)
    db.session.commit()
    [delivery] = deliveries()
    assert deliver_until_done(delivery.id) == "delivered"
    replayed = client.http.post(f"/api/v1/webhooks/{sub['id']}/replay", json={"delivery_ids": [delivery.id]},
                                headers=bearer(api.tokens["dealer"], **{"Idempotency-Key": new_key()}))
    assert replayed.status_code == 202 and replayed.json == {"scheduled": [delivery.id]}
    assert deliver_until_done(delivery.id) == "delivered"
    assert [r.headers["webhook-id"] for r in receiver.requests] == [event.event_id, event.event_id]
    missing = client.http.post(f"/api/v1/webhooks/{sub['id']}/replay", json={"delivery_ids": [delivery.id + 999]},
                               headers=bearer(api.tokens["dealer"], **{"Idempotency-Key": new_key()}))
    assert missing.status_code == 404


def test_repeated_failures_disable_the_subscription_and_tell_the_organisation(client, api, world, receiver, app,
                                                                               monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER", 3)
    receiver.fail_first = None  # always 500
    sub = subscribe(client.http, api.tokens["dealer"], receiver.url).json
    event = approve_an_order(world)
    webhooks.fan_out(event.event_id)
    db.session.commit()
    [delivery] = deliveries()
    assert deliver_until_done(delivery.id) == "failed"
    assert len(receiver.requests) == 3
    row = db.session.get(WebhookSubscription, sub["id"])
    assert not row.active and row.disabled_at is not None
    notices = db.session.scalars(select(Notification).where(Notification.kind == "webhook_disabled")).all()
    assert {n.user_id for n in notices} == {world.users["dealer"].id}
    # A disabled subscription hears nothing new and cannot replay until enabled.
    headers = bearer(api.tokens["dealer"], **{"Idempotency-Key": new_key()})
    assert client.http.post(f"/api/v1/webhooks/{sub['id']}/replay", json={"status": "failed"},
                            headers=headers).status_code == 409
    approve_an_order(world)
    assert len(deliveries()) == 1
    receiver.fail_first = 0
    enabled = client.http.post(f"/api/v1/webhooks/{sub['id']}/enable",
                               headers=bearer(api.tokens["dealer"], **{"Idempotency-Key": new_key()}))
    assert enabled.status_code == 200 and enabled.json["active"] is True
    replayed = client.http.post(f"/api/v1/webhooks/{sub['id']}/replay", json={"status": "failed"},
                                headers=bearer(api.tokens["dealer"], **{"Idempotency-Key": new_key()}))
    assert replayed.json == {"scheduled": [delivery.id]}
    assert deliver_until_done(delivery.id) == "delivered"


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/x",
                                 "http://192.168.0.5/", "http://169.254.169.254/latest/meta-data",
                                 "http://[::1]/x", "http://0.0.0.0/", "ftp://example.com/x", "not a url",
                                 "http://no-such-host.invalid/x"])
def test_private_loopback_and_link_local_addresses_are_refused(client, api, url):
    refused = subscribe(client.http, api.tokens["dealer"], url)
    assert refused.status_code == 422 and refused.json["field"] == "url"
    assert db.session.scalar(select(WebhookSubscription.id)) is None


def test_a_host_no_longer_allowed_is_not_delivered_to(client, api, world, receiver, app, monkeypatch):
    subscribe(client.http, api.tokens["dealer"], receiver.url)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", ())
    event = approve_an_order(world)
    webhooks.fan_out(event.event_id)
    db.session.commit()
    [delivery] = deliveries()
    webhooks.attempt(delivery.id, force=True)
    db.session.commit()
    assert receiver.requests == []
    [item] = client.http.get(f"/api/v1/webhooks/{delivery.subscription_id}/deliveries",
                             headers=bearer(api.tokens["dealer"])).json["items"]
    assert item["attempts"][-1]["status_code"] is None and "refused" in item["attempts"][-1]["excerpt"]


def test_subscriptions_hear_their_own_organisation_and_the_brand_hears_all(client, api, world, receiver):
    mine = subscribe(client.http, api.tokens["dealer"], receiver.url).json
    other = subscribe(client.http, api.tokens["dealer_b"], receiver.url).json
    brand = subscribe(client.http, api.tokens["brand"], receiver.url, ["*"]).json
    event = approve_an_order(world)
    webhooks.fan_out(event.event_id)
    db.session.commit()
    assert sorted(d.subscription_id for d in deliveries()) == sorted([mine["id"], brand["id"]])
    dealer_b = bearer(api.tokens["dealer_b"])
    for path in (f"/api/v1/webhooks/{mine['id']}", f"/api/v1/webhooks/{mine['id']}/deliveries"):
        assert client.http.get(path, headers=dealer_b).status_code == 404
    assert client.http.delete(f"/api/v1/webhooks/{mine['id']}", headers=dealer_b).status_code == 404
    assert [s["id"] for s in client.http.get("/api/v1/webhooks", headers=dealer_b).json["items"]] == [other["id"]]
    refused = subscribe(client.http, api.tokens["retailer"], receiver.url)
    assert refused.status_code == 409
    assert client.http.delete(f"/api/v1/webhooks/{mine['id']}", headers=bearer(api.tokens["dealer"])).status_code == 204
    assert client.http.get(f"/api/v1/webhooks/{mine['id']}", headers=bearer(api.tokens["dealer"])).status_code == 404


def test_the_cli_attempts_due_deliveries(client, api, world, receiver, app):
    receiver.fail_first = 1
    subscribe(client.http, api.tokens["dealer"], receiver.url)
    event = approve_an_order(world)
    webhooks.fan_out(event.event_id)
    db.session.commit()
    [delivery] = deliveries()
    if delivery.attempts == 0:
        webhooks.attempt(delivery.id)
        db.session.commit()
    delivery = deliveries()[0]
    assert delivery.status == "pending"
    delivery.next_attempt_at -= timedelta(seconds=10)  # its retry is due now
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["api", "deliver-webhooks"])
    assert result.exit_code == 0 and "delivered 1" in result.output, result.output
    assert deliveries()[0].status == "delivered" and len(receiver.requests) == 2


def test_the_sweep_is_scheduled_with_rq_cron():
    from redis import Redis
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=Redis.from_url("redis://127.0.0.1:6379/0"))  # not contacted
    scheduler.load_config_from_file("jobs.schedule")
    [job] = [j for j in scheduler.get_jobs() if j.func_name.startswith("jobs.webhooks.")]
    assert (job.func_name, job.cron, job.queue_name) == ("jobs.webhooks.sweep_due_job", "*/5 * * * *", "webhooks")
