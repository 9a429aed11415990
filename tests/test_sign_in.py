"""Issue 8, sessions and sign-in: server-side sessions that sign-out, a password change or an
admin disabling the user end for good, and that idle out; sign-in throttling with growing
delays per account, a known browser never locked out by a stranger, a per-address limit high
enough for a carrier NAT, an unlock path, and sign-in that keeps working when Redis is down."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import LoginFailure, UserSession, utcnow
from app.services.accounts import users as accounts
from app.services.core.redis_conn import redis_connection
from tests import factories
from tests.builders_users import field_error, fresh_user, login_from
from tests.conftest import Client


@pytest.fixture
def app_log(app, caplog, monkeypatch):
    """The app's warnings. Alembic's logging setup (the migrations every test run applies)
    disables the loggers that exist at that moment, the app's among them: switch it back on."""
    monkeypatch.setattr(app.logger, "disabled", False)
    caplog.set_level(logging.WARNING)
    return caplog


def copy_of_cookies(source: Client) -> Client:
    """Another browser holding a copy of `source`'s cookies (as a thief would)."""
    thief = Client(source.app)
    for name in ("session",):
        cookie = source.http.get_cookie(name)
        thief.http.set_cookie(name, cookie.value)
    thief.csrf = source.csrf
    return thief


def session_rows(user_id: int) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(UserSession).where(UserSession.user_id == user_id)
                                   .order_by(UserSession.id)))


def signed_in(client: Client, home: str) -> bool:
    return client.get(home).status_code == 200


# --- sessions ---------------------------------------------------------------------------------

def test_a_copy_of_the_cookie_taken_before_logout_does_not_work_after_it(login_as, world):
    browser = login_as("dealer")
    thief = copy_of_cookies(browser)
    assert signed_in(thief, "/dealer/")  # the copy works while the session lives
    assert browser.post("/logout").status_code == 303
    assert thief.get("/dealer/").status_code == 302
    [row] = session_rows(world.users["dealer"].id)
    assert row.revoked_at is not None


def test_the_cookie_holds_a_token_the_database_stores_only_hashed(app, login_as, world):
    browser = login_as("retailer")
    cookie = browser.http.get_cookie("session").value
    token = app.session_interface.get_signing_serializer(app).loads(cookie)["sid"]
    [row] = session_rows(world.users["retailer"].id)
    assert len(token) >= 40 and token not in row.token_hash and len(row.token_hash) == 64


def test_a_session_idle_for_too_long_ends(app, login_as, world):
    browser = login_as("rep")
    [row] = session_rows(world.users["rep"].id)
    idle = app.config["SESSION_IDLE_SECONDS"]
    assert 15 * 60 <= idle <= 12 * 3600  # a sensible idle time
    row.last_seen_at = utcnow() - timedelta(seconds=idle - 60)
    db.session.commit()
    assert signed_in(browser, "/rep/")  # still within: the visit records activity again
    assert session_rows(world.users["rep"].id)[0].last_seen_at > utcnow() - timedelta(seconds=60)
    row = session_rows(world.users["rep"].id)[0]
    row.last_seen_at = utcnow() - timedelta(seconds=idle + 1)
    db.session.commit()
    assert browser.get("/rep/").status_code == 302


def test_a_session_ends_at_its_maximum_age_even_when_active(app, login_as, world):
    browser = login_as("admin")
    [row] = session_rows(world.users["admin"].id)
    row.created_at = utcnow() - timedelta(seconds=app.config["SESSION_MAX_AGE_SECONDS"] + 1)
    db.session.commit()
    assert browser.get("/admin/").status_code == 302


def test_an_ordinary_page_view_writes_nothing(login_as, world):
    browser = login_as("retailer")
    before = session_rows(world.users["retailer"].id)[0].last_seen_at
    assert signed_in(browser, "/retailer/")
    assert session_rows(world.users["retailer"].id)[0].last_seen_at == before


def test_a_password_change_ends_the_other_sessions_on_the_server(login_as, world):
    other_device = login_as("retailer")
    browser = login_as("retailer")
    response = browser.post("/account/password", {"current_password": factories.PASSWORD,
                                                  "new_password": "changed-pass-9", "confirm": "changed-pass-9"})
    assert response.status_code == 303
    first, second = session_rows(world.users["retailer"].id)
    assert first.revoked_at is not None and second.revoked_at is None
    assert other_device.get("/retailer/").status_code == 302 and signed_in(browser, "/retailer/")


def test_an_admin_disabling_a_user_ends_their_sessions(login_as, world):
    browser = login_as("dealer")
    thief = copy_of_cookies(browser)
    admin, dealer = world.users["admin"], world.users["dealer"]
    accounts.update_user(admin, dealer, display_name=dealer.display_name, email=dealer.email, active=False,
                         permissions=[])
    db.session.commit()
    assert all(row.revoked_at is not None for row in session_rows(dealer.id))
    assert browser.get("/dealer/").status_code == 302 and thief.get("/dealer/").status_code == 302
    dealer = fresh_user(dealer.id)
    accounts.update_user(admin, dealer, display_name=dealer.display_name, email=dealer.email, active=True,
                         permissions=[])
    db.session.commit()
    assert thief.get("/dealer/").status_code == 302  # re-enabling does not bring old sessions back


def test_a_new_sign_in_clears_the_users_ended_sessions(login_as, world):
    for _ in range(3):
        login_as("rep").post("/logout")
    login_as("rep")
    rows = session_rows(world.users["rep"].id)
    assert len(rows) == 1 and rows[0].revoked_at is None


def test_a_session_cookie_read_before_is_still_refused_once_too_old_or_changed(app, login_as, monkeypatch):
    """The process remembers cookies it checked (app/web/common/cookie_session.py): a remembered
    cookie's age is still checked on every request, and a changed one is checked anew."""
    browser = login_as("retailer")
    assert signed_in(browser, "/retailer/")  # the cookie is now one the process has checked
    forged = copy_of_cookies(browser)
    cookie = browser.http.get_cookie("session").value
    forged.http.set_cookie("session", cookie[:-1] + ("A" if cookie[-1] != "A" else "B"))  # the signature changed
    assert forged.get("/retailer/").status_code == 302
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(seconds=-1))  # every cookie too old
    assert browser.get("/retailer/").status_code == 302
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(hours=1))
    assert signed_in(browser, "/retailer/")


def test_what_a_request_changes_in_its_session_stays_out_of_another_with_the_same_cookie(app, login_as):
    """Each request gets its own copy of a remembered cookie's values (a plain value set, a flash added)."""
    browser = login_as("retailer")
    assert signed_in(browser, "/retailer/")  # the cookie is now one the process has checked
    headers = {"Cookie": f"session={browser.http.get_cookie('session').value}"}
    for change in (lambda values: values.__setitem__("lang", "en"),
                   lambda values: values.setdefault("_flashes", []).append(("success", "x"))):
        with app.test_request_context("/retailer/", headers=headers) as context:
            change(app.session_interface.open_session(app, context.request))
            again = app.session_interface.open_session(app, context.request)
            assert "_user_id" in again and "lang" not in again and "_flashes" not in again
    assert signed_in(browser, "/retailer/")


# --- throttling -------------------------------------------------------------------------------

def age_failures(seconds: int) -> None:
    """Move every recorded failure `seconds` into the past, in whichever store the app uses."""
    redis = redis_connection()
    if redis is not None:
        for key in redis.scan_iter("login-last:*"):
            redis.set(key, float(redis.get(key)) - seconds)
    db.session.expire_all()
    for failure in db.session.scalars(select(LoginFailure)):
        failure.at = failure.at - timedelta(seconds=seconds)
    db.session.commit()


def test_each_failure_past_the_free_ones_locks_the_account_for_longer(app, client, world):
    assert app.config["LOGIN_FREE_FAILURES"] == 5 and app.config["LOGIN_DELAY_SECONDS"] == 30
    for n in range(5):
        assert login_from(Client(app), "admin1", f"guess-{n}", f"10.1.0.{n}").status_code == 401
    refused = login_from(Client(app), "admin1", factories.PASSWORD, "10.1.0.50")
    assert refused.status_code == 429 and 25 <= int(refused.headers["Retry-After"]) <= 30
    age_failures(31)
    assert login_from(Client(app), "admin1", "guess-6", "10.1.0.6").status_code == 401  # the lock had lifted
    refused = login_from(Client(app), "admin1", factories.PASSWORD, "10.1.0.51")
    assert refused.status_code == 429 and 55 <= int(refused.headers["Retry-After"]) <= 60  # doubled
    assert field_error(refused.get_data(as_text=True), "password") == "登录失败次数过多，请 1 分钟后再试。"
    age_failures(61)
    assert login_from(Client(app), "admin1", factories.PASSWORD, "10.1.0.52").status_code == 303


def test_the_delay_never_passes_the_cap(app):
    with app.test_request_context():
        from app.services.accounts.throttle import LoginThrottle

        throttle = LoginThrottle()
        delays = [throttle.delay(n) for n in range(1, 60)]
    assert delays[:4] == [0, 0, 0, 0] and delays[4] == 30 and delays == sorted(delays)
    assert max(delays) == app.config["LOGIN_MAX_DELAY_SECONDS"] == 15 * 60


def test_a_stranger_cannot_lock_the_user_out_of_a_browser_they_signed_in_from(app, world):
    own_browser = Client(app)
    assert own_browser.login("dealer1").status_code == 303
    own_browser.post("/logout")
    for n in range(12):  # a stranger somewhere else, far past the free failures
        login_from(Client(app), "dealer1", f"guess-{n}", "10.1.1.1")
    assert login_from(Client(app), "dealer1", factories.PASSWORD, "10.1.1.2").status_code == 429
    # the user's own browser, even at the stranger's address, signs in
    assert login_from(own_browser, "dealer1", factories.PASSWORD, "10.1.1.1").status_code == 303


def test_a_known_browser_still_gets_only_a_few_guesses(app, world):
    browser = Client(app)
    assert browser.login("dealer1").status_code == 303
    browser.post("/logout")
    for n in range(5):
        assert login_from(browser, "dealer1", f"guess-{n}", "10.1.2.1").status_code == 401
    assert login_from(browser, "dealer1", factories.PASSWORD, "10.1.2.1").status_code == 429


def test_a_known_browser_cookie_is_for_one_account_only(app, world):
    browser = Client(app)
    assert browser.login("dealer1").status_code == 303
    browser.post("/logout")
    for n in range(5):
        login_from(Client(app), "dealer2", f"guess-{n}", "10.1.3.1")
    assert login_from(browser, "dealer2", factories.PASSWORD, "10.1.3.9").status_code == 429


def test_many_users_behind_one_address_are_not_locked_out_together(app, world):
    assert app.config["LOGIN_ADDRESS_MAX_FAILURES"] >= 100
    shared = "10.1.4.1"  # a carrier NAT: everyone's typos come from one address
    for n, username in enumerate(["admin1", "dealer1", "retailer1", "rep1", "nobody", "admin2", "dealer2",
                                  "retailer2", "rep2", "ghost"] * 2):
        assert login_from(Client(app), username, f"typo-{n}", shared).status_code == 401
    assert login_from(Client(app), "retailer2", factories.PASSWORD, shared).status_code == 303


def test_the_address_limit_refuses_new_browsers_from_a_guessing_address(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_MAX_FAILURES", 8)
    for n in range(8):
        login_from(Client(app), f"user{n}", "guess", "10.1.5.1")
    assert login_from(Client(app), "rep1", factories.PASSWORD, "10.1.5.1").status_code == 429
    assert login_from(Client(app), "rep1", factories.PASSWORD, "10.1.5.2").status_code == 303


def test_an_admin_password_reset_unlocks_the_account(app, world):
    for n in range(8):
        login_from(Client(app), "retailer1", f"guess-{n}", "10.1.6.1")
    assert login_from(Client(app), "retailer1", factories.PASSWORD, "10.1.6.2").status_code == 429
    accounts.reset_password(world.users["admin"], fresh_user(world.users["retailer"].id), "a-new-pass-42")
    db.session.commit()
    assert login_from(Client(app), "retailer1", "a-new-pass-42", "10.1.6.3").status_code == 303


@pytest.fixture
def redis_down_app(app):
    """The app with Redis configured but unreachable (nothing listens on port 1)."""
    return create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                      REDIS_URL="redis://127.0.0.1:1/0", ARGON2_PARAMS=app.config["ARGON2_PARAMS"])


def test_sign_in_works_when_redis_is_down_and_the_database_counts(redis_down_app, world, app_log):
    c = Client(redis_down_app)
    for n in range(5):
        assert login_from(c, "rep2", f"guess-{n}", "10.1.7.1").status_code == 401
    assert login_from(c, "rep2", factories.PASSWORD, "10.1.7.2").status_code == 429  # still throttled
    db.session.expire_all()
    assert len(db.session.scalars(select(LoginFailure).where(LoginFailure.key == "user:rep2")).all()) == 5
    assert login_from(Client(redis_down_app), "rep1", factories.PASSWORD, "10.1.7.3").status_code == 303
    assert any("Redis unreachable" in r.getMessage() for r in app_log.records)


def test_a_proxy_header_without_trusted_proxies_is_logged(app, client, world, app_log):
    app.extensions.pop("lianying-proxy-warned", None)
    client.get("/login")
    client.post("/login", {"username": "rep1", "password": "wrong-one"}, headers={"X-Forwarded-For": "1.2.3.4"})
    assert any("TRUSTED_PROXY_COUNT" in r.getMessage() for r in app_log.records)
