"""Sign-in security: password storage, cookies, throttling on both backends, redirects after
login, CSRF on every POST, password changes, inactive accounts and the language switch."""
import re

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import LoginFailure
from app.services.core.redis_conn import redis_connection
from tests import factories
from tests.builders_users import expire_login_failures, field_error, fresh_user, login_from
from tests.conftest import Client

TOO_MANY = "登录失败次数过多，请 30 秒后再试。"  # the first lock: LOGIN_DELAY_SECONDS
WRONG = "用户名或密码不正确。"


def is_signed_in(client, home="/admin/") -> bool:
    return client.get(home).status_code == 200


# --- password storage and cookies -------------------------------------------------------------

def test_passwords_are_stored_as_argon2id_hashes(login_as, world):
    assert world.users["dealer"].password_hash.startswith("$argon2id$")
    c = login_as("dealer")
    c.get("/account/password")
    c.post("/account/password", {"current_password": factories.PASSWORD, "new_password": "changed-pass-9",
                                 "confirm": "changed-pass-9"})
    stored = fresh_user(world.users["dealer"].id).password_hash
    assert stored.startswith("$argon2id$") and "changed-pass-9" not in stored


def session_cookie_header(response) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return header


def test_session_cookie_is_httponly_and_samesite_lax(client, world):
    client.get("/login")
    response = client.post("/login", {"username": "dealer1", "password": factories.PASSWORD})
    assert response.status_code == 303
    header = session_cookie_header(response)
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header  # testing runs over plain http


def test_production_cookies_are_secure(monkeypatch, app, world):
    monkeypatch.setenv("SECRET_KEY", "a-long-production-secret-from-the-environment")
    production = create_app("production", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                            REDIS_URL=app.config["REDIS_URL"], ARGON2_PARAMS=app.config["ARGON2_PARAMS"])
    assert production.config["SECRET_KEY"] == "a-long-production-secret-from-the-environment"
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["REMEMBER_COOKIE_SECURE"] is True
    assert production.config["SESSION_COOKIE_HTTPONLY"] is True
    assert production.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    with production.app_context():
        response = production.test_client().get("/login", base_url="https://lianying.example")
    header = session_cookie_header(response)
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header


@pytest.mark.parametrize("secret", [None, "", "dev-only-not-secret"])
def test_production_refuses_to_start_without_a_secret_key(monkeypatch, secret):
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


# --- wrong passwords and throttling -----------------------------------------------------------

def test_wrong_password_shows_the_message_next_to_the_field(client, world):
    response = login_from(client, "admin1", "wrong-password", "10.0.0.1")
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert field_error(body, "password") == WRONG
    assert 'value="admin1"' in body and "wrong-password" not in body
    assert not is_signed_in(client)


def test_unknown_user_gets_the_same_answer(client, world):
    response = login_from(client, "nobody", "wrong-password", "10.0.0.1")
    assert response.status_code == 401
    assert field_error(response.get_data(as_text=True), "password") == WRONG


def test_empty_login_form_shows_errors_next_to_fields(client, world):
    client.get("/login")
    response = client.post("/login", {"username": "", "password": ""})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert field_error(body, "username") and field_error(body, "password")


def test_five_failures_for_an_account_refuse_even_the_right_password(client, world):
    for n in range(5):  # from five different addresses: the account count alone trips
        assert login_from(client, "admin1", f"guess-{n}", f"10.0.1.{n}").status_code == 401
    response = login_from(client, "admin1", factories.PASSWORD, "10.0.1.99")
    assert response.status_code == 429
    assert field_error(response.get_data(as_text=True), "password") == TOO_MANY
    assert not is_signed_in(client)
    # another account from a clean address is not affected
    assert login_from(Client(client.app), "dealer1", factories.PASSWORD, "10.0.1.100").status_code == 303


def test_five_failures_from_an_address_refuse_every_account_from_it(client, world, monkeypatch):
    # The real limit is far higher (a carrier NAT shares one address): tests/test_sign_in.py.
    monkeypatch.setitem(client.app.config, "LOGIN_ADDRESS_MAX_FAILURES", 5)
    for n, username in enumerate(["admin1", "dealer1", "retailer1", "nobody", "rep1"]):
        assert login_from(client, username, f"guess-{n}", "10.0.2.1").status_code == 401
    response = login_from(client, "dealer2", factories.PASSWORD, "10.0.2.1")
    assert response.status_code == 429
    assert field_error(response.get_data(as_text=True), "password").startswith("登录失败次数过多，请 ")
    # the same account from another address signs in
    assert login_from(Client(client.app), "dealer2", factories.PASSWORD, "10.0.2.2").status_code == 303


def test_the_block_lifts_when_the_window_passes(client, world):
    for n in range(5):
        login_from(client, "admin1", f"guess-{n}", "10.0.3.1")
    assert login_from(client, "admin1", factories.PASSWORD, "10.0.3.1").status_code == 429
    expire_login_failures()
    assert login_from(client, "admin1", factories.PASSWORD, "10.0.3.1").status_code == 303
    assert is_signed_in(client)


def test_a_successful_login_clears_the_account_count(client, world):
    for n in range(4):
        login_from(client, "admin1", f"guess-{n}", f"10.0.4.{n}")
    assert login_from(Client(client.app), "admin1", factories.PASSWORD, "10.0.4.50").status_code == 303
    for n in range(4):
        login_from(client, "admin1", f"again-{n}", f"10.0.5.{n}")
    assert login_from(Client(client.app), "admin1", factories.PASSWORD, "10.0.5.50").status_code == 303


def test_failures_are_counted_in_the_configured_store(app, client, world):
    for n in range(3):
        login_from(client, "Admin1", f"guess-{n}", "10.0.6.1")
    redis = redis_connection()
    if redis is not None:
        assert int(redis.get("login-fail:user:admin1")) == 3
        assert int(redis.get("login-fail:ip:10.0.6.1")) == 3
        assert 0 < redis.ttl("login-fail:user:admin1") <= app.config["LOGIN_WINDOW_SECONDS"]
        assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 0
    else:
        keys = db.session.scalars(select(LoginFailure.key)).all()
        assert sorted(keys) == ["ip:10.0.6.1"] * 3 + ["user:admin1"] * 3


@pytest.fixture
def db_backend_app(app):
    """A second app on the same database with Redis switched off: the database counts failures."""
    return create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                      REDIS_URL=None, ARGON2_PARAMS=app.config["ARGON2_PARAMS"])


def test_database_backend_throttles_by_account_and_address(db_backend_app, world, monkeypatch):
    monkeypatch.setitem(db_backend_app.config, "LOGIN_ADDRESS_MAX_FAILURES", 5)
    c = Client(db_backend_app)
    for n in range(5):
        assert login_from(c, "dealer1", f"guess-{n}", f"10.0.7.{n}").status_code == 401
    assert login_from(c, "dealer1", factories.PASSWORD, "10.0.7.99").status_code == 429
    for n, username in enumerate(["retailer1", "rep1", "nobody", "admin1", "rep2"]):
        assert login_from(c, username, f"guess-{n}", "10.0.8.1").status_code == 401
    response = login_from(c, "retailer2", factories.PASSWORD, "10.0.8.1")
    assert response.status_code == 429 and "登录失败次数过多" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)
                             .where(LoginFailure.key == "user:dealer1")) == 5
    with db_backend_app.app_context():
        expire_login_failures()
    assert login_from(c, "dealer1", factories.PASSWORD, "10.0.7.99").status_code == 303


# --- redirects after login ----------------------------------------------------------------------

def test_anonymous_page_request_comes_back_after_login(client, world):
    response = client.get("/admin/users?role=rep")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin/users?role%3Drep"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/admin/users?role=rep"' in page
    response = client.post("/login", {"username": "admin1", "password": factories.PASSWORD,
                                      "next": "/admin/users?role=rep"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users?role=rep"


@pytest.mark.parametrize("target", [
    "//evil.example/admin/", "https://evil.example/admin/", "http:/evil.example", "/\\evil.example",
    "/\t/evil.example", "javascript:alert(1)", "admin/", "/dealer/",
])
def test_next_never_leaves_the_site_or_the_role(client, world, target):
    client.get("/login")
    response = client.post("/login", {"username": "admin1", "password": factories.PASSWORD, "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("target", ["/admin/users?role=rep", "/account/password", "/documents/1/status"])
def test_next_may_name_any_page_of_the_site_open_to_the_role(client, world, target):
    client.get("/login")
    response = client.post("/login", {"username": "admin1", "password": factories.PASSWORD, "next": target})
    assert response.status_code == 303 and response.headers["Location"] == target


def test_locale_switch_does_not_redirect_off_site(client, world):
    client.get("/login")
    response = client.post("/locale", {"locale": "en", "next": "https://evil.example/"})
    assert response.status_code == 303 and response.headers["Location"] == "/"


# --- logout and CSRF ----------------------------------------------------------------------------

def test_logout_is_post_only(login_as):
    c = login_as("dealer")
    assert c.get("/logout").status_code == 405
    assert is_signed_in(c, "/dealer/")


def test_logout_without_a_csrf_token_is_refused(login_as):
    c = login_as("dealer")
    assert c.post("/logout", csrf=False).status_code == 400
    assert c.post("/logout", {"csrf_token": "forged"}, csrf=False).status_code == 400
    assert c.post("/logout", csrf=False, htmx=True).status_code == 400  # htmx without X-CSRFToken
    assert is_signed_in(c, "/dealer/")


def test_htmx_logout_with_the_header_token(login_as):
    c = login_as("dealer")
    response = c.post("/logout", csrf=False, htmx=True, headers={"X-CSRFToken": c.csrf})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/login"
    assert c.get("/dealer/").status_code == 302


def test_plain_logout_ends_the_session(login_as):
    c = login_as("dealer")
    response = c.post("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "您已退出登录。" in c.get("/login").get_data(as_text=True)
    assert c.get("/dealer/").status_code == 302


def test_login_and_locale_posts_need_csrf_too(client, world):
    client.get("/login")
    assert client.post("/login", {"username": "admin1", "password": factories.PASSWORD}, csrf=False).status_code == 400
    assert client.post("/locale", {"locale": "en"}, csrf=False).status_code == 400
    assert not is_signed_in(client)


# --- change password ----------------------------------------------------------------------------

def test_change_password_with_a_wrong_current_password(login_as, world):
    c = login_as("retailer")
    response = c.post("/account/password", {"current_password": "not-it-at-all", "new_password": "changed-pass-9",
                                            "confirm": "changed-pass-9"})
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "current_password") == "当前密码不正确。"
    assert fresh_user(world.users["retailer"].id).session_version == 1


def test_change_password_confirmation_must_match(login_as, world):
    c = login_as("retailer")
    response = c.post("/account/password", {"current_password": factories.PASSWORD,
                                            "new_password": "changed-pass-9", "confirm": "changed-pass-8"})
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "confirm") == "两次输入的密码不一致。"


def test_change_password_ends_other_sessions_and_the_old_password(login_as, world, app):
    other_device = login_as("retailer")
    c = login_as("retailer")
    response = c.post("/account/password", {"current_password": factories.PASSWORD,
                                            "new_password": "changed-pass-9", "confirm": "changed-pass-9"})
    assert response.status_code == 303 and response.headers["Location"] == "/retailer/"
    assert "密码已修改。" in c.get("/retailer/").get_data(as_text=True)  # this session carries on
    assert other_device.get("/retailer/").status_code == 302  # the other one is signed out
    assert Client(app).login("retailer1").status_code == 401
    assert Client(app).login("retailer1", "changed-pass-9").status_code == 303


def test_change_password_needs_a_login(client, world):
    response = client.get("/account/password")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/account/password"


# --- inactive users -----------------------------------------------------------------------------

def test_inactive_users_cannot_log_in(client, world):
    world.users["dealer"].active = False
    db.session.commit()
    response = login_from(client, "dealer1", factories.PASSWORD, "10.0.9.1")
    assert response.status_code == 401
    assert field_error(response.get_data(as_text=True), "username") == "该账号已停用，请联系管理员。"
    assert client.get("/dealer/").status_code == 302
    # a wrong password says nothing about the account's state
    response = login_from(client, "dealer1", "wrong-password", "10.0.9.2")
    assert field_error(response.get_data(as_text=True), "password") == WRONG


def test_a_session_of_a_deactivated_user_ends(login_as, world):
    c = login_as("dealer")
    world.users["dealer"].active = False  # even without the admin page's session bump
    db.session.commit()
    assert c.get("/dealer/").status_code == 302


# --- language -----------------------------------------------------------------------------------

def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_language_switch_persists_on_the_user(login_as, world, app):
    c = login_as("dealer")
    assert html_lang(c.get("/dealer/")) == "zh-CN"
    response = c.post("/locale", {"locale": "en", "next": "/dealer/"})
    assert response.status_code == 303 and response.headers["Location"] == "/dealer/"
    page = c.get("/dealer/")
    assert html_lang(page) == "en" and ">简体中文</button>" in page.get_data(as_text=True)
    assert fresh_user(world.users["dealer"].id).locale == "en"
    # a new sign-in on another device comes up in English too
    other = Client(app)
    other.login("dealer1")
    assert html_lang(other.get("/dealer/")) == "en"
    c.post("/locale", {"locale": "zh", "next": "/dealer/"})
    assert html_lang(c.get("/dealer/")) == "zh-CN"
    assert fresh_user(world.users["dealer"].id).locale == "zh"


def test_anonymous_language_switch_lives_in_the_session(client, world):
    client.get("/login")
    assert client.post("/locale", {"locale": "en", "next": "/login"}).headers["Location"] == "/login"
    assert html_lang(client.get("/login")) == "en"
    client.post("/locale", {"locale": "fr", "next": "/login"})  # not offered: nothing changes
    assert html_lang(client.get("/login")) == "en"
