"""Issue 8, security headers: one place (Flask-Talisman, app/__init__.py) sets them on every
response, pages, fragments, errors and the API alike; the CSP forbids inline scripts, so no
template carries one."""
import re

import pytest

from app import create_app
from app.config import ROOT


@pytest.fixture
def pages(login_as):
    dealer = login_as("dealer")
    return {"login": dealer.app.test_client().get("/login"), "dealer home": dealer.get("/dealer/"),
            "htmx fragment": dealer.hx_get("/dealer/orders"), "404": dealer.get("/dealer/no-such-page"),
            "api": dealer.app.test_client().get("/api/v1/openapi.json")}


def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


def test_csp_allows_scripts_and_styles_from_the_site_only(pages):
    for name, response in pages.items():
        policy = csp(response)
        assert policy["script-src"] == "'self'", name  # no 'unsafe-inline', no 'unsafe-eval'
        assert policy["style-src"] == "'self'", name
        assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'", name
        assert policy["base-uri"] == "'self'" and policy["form-action"] == "'self'", name


def test_no_site_may_frame_the_pages(pages):
    for name, response in pages.items():
        assert csp(response)["frame-ancestors"] == "'none'", name
        assert response.headers["X-Frame-Options"] == "DENY", name


def test_content_types_are_not_sniffed(pages):
    for name, response in pages.items():
        assert response.headers["X-Content-Type-Options"] == "nosniff", name


def test_referrer_policy(pages):
    for name, response in pages.items():
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", name


def test_no_hsts_over_plain_http_in_development_and_tests(pages):
    for name, response in pages.items():
        assert "Strict-Transport-Security" not in response.headers, name


def test_production_sends_hsts_over_https_and_keeps_its_cookie_flags(monkeypatch, app):
    monkeypatch.setenv("SECRET_KEY", "a-long-production-secret-from-the-environment")
    production = create_app("production", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                            REDIS_URL=app.config["REDIS_URL"], ARGON2_PARAMS=app.config["ARGON2_PARAMS"])
    with production.app_context():
        response = production.test_client().get("/login", base_url="https://lianying.example")
        plain = production.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert plain.status_code == 200  # HTTPS is nginx's job: no redirect loop behind a proxy
    assert production.config["SESSION_COOKIE_SECURE"] is True


def test_development_cookies_are_not_forced_secure(app):
    assert app.config["SESSION_COOKIE_SECURE"] is False  # Talisman did not override the config


def test_no_template_has_inline_script_or_handlers():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if "pdf" in path.parts:
            continue  # rendered by WeasyPrint, never by a browser
        text = path.read_text(encoding="utf-8")
        if re.search(r"\son[a-z]+\s*=", text) or re.search(r"<script(?![^>]*\ssrc=)", text) \
                or "javascript:" in text or re.search(r"\sstyle\s*=|<style", text):
            offenders.append(path.relative_to(ROOT).as_posix())
    assert offenders == []


def test_print_buttons_work_from_the_static_script(login_as):
    script = (ROOT / "static" / "app.js").read_text()
    assert "data-print" in script and "window.print()" in script
    page = login_as("dealer").get("/dealer/").get_data(as_text=True)
    assert re.search(r'<script src="/static/app\.[0-9a-f]{10}\.js" defer>', page)


def test_htmx_does_not_inject_its_own_style_element(client):
    assert '"includeIndicatorStyles":false' in client.get("/login").get_data(as_text=True)
