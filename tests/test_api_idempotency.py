"""Issue 14, exactly once for integrators: Idempotency-Key on every POST. 20 concurrent repeats
of one order make one order (PostgreSQL): the key's claim commits with the order, so a repeat
waits for it and replays its answer; replays; other bodies refused; keys expire after 24 h."""
import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import ApiIdempotencyKey, Order
from app.services.core.clock import now_utc
from jobs.api import purge_idempotency_keys_job
from tests.builders_api import api_world, bearer, new_key, place
from tests.test_api_stock import line

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@pytest.fixture
def api(world):
    return api_world(world)


def orders() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Order))


@pytest.mark.skipif(not ON_POSTGRES, reason="concurrent transactions race only on PostgreSQL (set DATABASE_URL)")
def test_twenty_concurrent_repeats_make_one_order(app, api):
    body = {"lines": [{"product_code": "WATER", "qty": 2}, {"product_code": "JUICE", "qty": 1},
                      {"product_code": "TEA", "qty": 2}]}
    start = threading.Barrier(20)
    answers: list = []

    def send():
        http = app.test_client()
        start.wait()
        with app.app_context():
            response = place(http, api.tokens["dealer"], body, key="concurrent-key-0001")
            answers.append((response.status_code, response.get_json(),
                            response.headers.get("Idempotent-Replayed") == "true"))

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 20
    assert orders() == 1
    statuses = sorted(status for status, _body, _replayed in answers)
    assert set(statuses) <= {201, 409} and statuses.count(201) >= 1, statuses
    numbers = {body["number"] for status, body, _replayed in answers if status == 201}
    assert len(numbers) == 1
    assert all(body["code"] == "idempotency_key_in_use" for status, body, _replayed in answers if status == 409)
    # One execution; every other 201 is the stored answer of that one.
    assert [replayed for status, _body, replayed in answers if status == 201].count(False) == 1
    # Once the first has finished, every repeat gets its answer.
    again = place(app.test_client(), api.tokens["dealer"], body, key="concurrent-key-0001")
    assert again.status_code == 201 and again.json["number"] in numbers


def test_every_post_honours_the_key_and_refuses_it_for_another_body(client, api):
    headers = bearer(api.tokens["brand"], **{"Idempotency-Key": "stock-sync-0001"})
    from tests.builders_stock import warehouse
    warehouse(api.world.brand, api.world.regions["zj"], code="DC-1")
    db.session.commit()
    first = client.http.post("/api/v1/stock/sync", json={"lines": [line(product_code="WATER")]}, headers=headers)
    again = client.http.post("/api/v1/stock/sync", json={"lines": [line(product_code="WATER")]}, headers=headers)
    assert first.status_code == again.status_code == 200 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.http.post("/api/v1/stock/sync", json={"lines": [line(product_code="TEA")]}, headers=headers)
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    quote = {"lines": [{"product_code": "WATER", "qty": 1}], "customer_code": api.world.orgs["dealer"].code}
    quoted = client.http.post("/api/v1/quotes", json=quote, headers=bearer(api.tokens["brand"], **{"Idempotency-Key": "quote-0001"}))
    assert quoted.status_code == 200
    bad = client.http.post("/api/v1/quotes", json=quote, headers=bearer(api.tokens["brand"], **{"Idempotency-Key": "x"}))
    assert bad.status_code == 400 and bad.json["field"] == "Idempotency-Key"


def test_a_refused_first_request_is_replayed_as_refused(client, api):
    bad = {"lines": [{"product_code": "NOPE", "qty": 1}]}
    first = place(client.http, api.tokens["dealer"], bad, key="refused-key-0001")
    again = place(client.http, api.tokens["dealer"], bad, key="refused-key-0001")
    assert first.status_code == again.status_code == 422 and again.json == first.json


def test_keys_expire_after_24_hours_and_the_job_deletes_them(client, api):
    body = {"lines": [{"product_code": "WATER", "qty": 1}]}
    assert place(client.http, api.tokens["dealer"], body, key="expiring-key-0001").status_code == 201
    fresh_key = new_key()
    assert place(client.http, api.tokens["dealer"], body, key=fresh_key).status_code == 201
    db.session.execute(update(ApiIdempotencyKey).where(ApiIdempotencyKey.key == "expiring-key-0001")
                       .values(created_at=now_utc() - timedelta(hours=25)))
    db.session.commit()
    assert "removed 1" in purge_idempotency_keys_job()
    assert db.session.scalars(select(ApiIdempotencyKey.key)).all() == [fresh_key]
    # The order itself still remembers its key: a late repeat makes no second order.
    late = place(client.http, api.tokens["dealer"], body, key="expiring-key-0001")
    assert late.status_code == 200 and orders() == 2
