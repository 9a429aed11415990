"""Issue 14: rate limits per token (Flask-Limiter; Redis when REDIS_URL is set): the token over
its limit gets 429 with Retry-After in the API's error shape; another token is not affected."""
import pytest

from tests.builders_api import api_world, bearer


@pytest.fixture
def api(world):
    return api_world(world)


def test_a_token_over_its_limit_gets_429_with_retry_after(app, client, api, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    dealer = bearer(api.tokens["dealer"])
    answers = [client.http.get("/api/v1/categories", headers=dealer) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.json["code"] == "rate_limited" and limited.json["message"]
    assert client.http.get("/api/v1/categories", headers=bearer(api.tokens["dealer_b"])).status_code == 200
    # The limit counts per token across endpoints.
    assert client.http.get("/api/v1/orders", headers=dealer).status_code == 429


def test_the_limit_headers_show_the_window_as_each_request_left_it(app, client, api, monkeypatch):
    """With Redis the count's one script also answers the headers (no GET and TTL after it)."""
    import time

    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "5 per minute")
    dealer = bearer(api.tokens["dealer"])
    answers = [client.http.get("/api/v1/categories", headers=dealer) for _ in range(3)]
    assert [int(r.headers["X-RateLimit-Remaining"]) for r in answers] == [4, 3, 2]
    assert {r.headers["X-RateLimit-Limit"] for r in answers} == {"5"}
    assert all(time.time() < int(r.headers["X-RateLimit-Reset"]) <= time.time() + 61 for r in answers)
    if app.config.get("REDIS_URL"):
        from app.extensions import limiter
        from app.web.common.rate_limit_storage import HitAnswersWindowRedisStorage

        assert isinstance(limiter.storage, HitAnswersWindowRedisStorage)
