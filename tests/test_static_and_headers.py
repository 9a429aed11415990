"""Static files under hashed names with long caching, compression, Vary for htmx fragments, the
CSRF header on <body> and the page language."""
import gzip
import hashlib
import html
import re

import brotli
import pytest

from app.config import ROOT
from app.web.assets import asset_url, manifest

YEAR_IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def request_context(app):
    with app.test_request_context():
        yield


# --- static files -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["app.css", "print.css", "htmx.js"])
def test_static_files_are_served_under_hashed_names_for_a_year(client, request_context, name):
    url = asset_url(name)
    assert re.fullmatch(r"/static/(dist/)?[\w.-]+\.[0-9a-f]{10}(\.min)?\.(css|js)", url), url
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == YEAR_IMMUTABLE
    source = ROOT / "static" / (manifest()[name] if name == "htmx.js" else name)
    assert response.get_data() == source.read_bytes()


def test_the_hash_follows_the_content(request_context):
    digest = hashlib.sha256((ROOT / "static" / "app.css").read_bytes()).hexdigest()[:10]
    assert asset_url("app.css") == f"/static/app.{digest}.css"


@pytest.mark.parametrize("path", [
    "/static/app.css",                 # the unhashed name
    "/static/app.0000000000.css",      # a stale hash
    "/static/nothing.1234567890.css",  # no such file
    "/static/dist/htmx.0000000000.min.js",
    "/static/dist/../../app/config.py",
    "/static/dist/..%2F..%2Fapp%2Fconfig.py",
])
def test_unknown_or_stale_static_names_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "immutable" not in response.headers.get("Cache-Control", "")


def test_pages_link_the_hashed_assets(client, request_context):
    body = client.get("/login").get_data(as_text=True)
    for name in ("app.css", "print.css", "htmx.js"):
        assert f'"{asset_url(name)}"' in body


def test_an_unknown_asset_name_fails_loudly(request_context):
    with pytest.raises(LookupError, match="no static file"):
        asset_url("missing.css")


# --- compression --------------------------------------------------------------------------------

def test_html_is_gzip_compressed_when_asked(client):
    response = client.request("GET", "/login", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert "登录联营订货平台" in gzip.decompress(response.get_data()).decode()


def test_html_is_brotli_compressed_when_preferred(client):
    response = client.request("GET", "/login", headers={"Accept-Encoding": "br, gzip"})
    assert response.headers["Content-Encoding"] == "br"
    assert "登录联营订货平台" in brotli.decompress(response.get_data()).decode()


def test_html_is_plain_without_accept_encoding(client):
    response = client.get("/login")
    assert "Content-Encoding" not in response.headers
    assert "登录联营订货平台" in response.get_data(as_text=True)


def test_small_responses_are_not_compressed(login_as, app):
    client = login_as("dealer")
    response = client.post("/logout", htmx=True, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 204  # htmx's redirect: no body, so nothing to compress
    assert "Content-Encoding" not in response.headers and response.get_data() == b""
    assert app.config["COMPRESS_MIN_SIZE"] == 500


# --- htmx and CSRF ------------------------------------------------------------------------------

def test_pages_with_fragments_vary_on_hx_request(login_as):
    client = login_as("admin")
    for response in (client.get("/admin/users"), client.hx_get("/admin/users")):
        assert response.status_code == 200
        assert "HX-Request" in response.headers["Vary"]



def test_boosted_and_history_restore_requests_get_the_full_page(login_as):
    client = login_as("admin")
    plain = client.get("/admin/users").get_data(as_text=True)
    fragment = client.hx_get("/admin/users").get_data(as_text=True)
    assert "<html" in plain and "<html" not in fragment
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        response = client.get("/admin/users", headers={"HX-Request": "true", **extra})
        assert "<html" in response.get_data(as_text=True) and "HX-Request" in response.headers["Vary"]


def test_htmx_redirects_vary_on_hx_request_too(login_as):
    for htmx in (False, True):
        response = login_as("dealer").post("/logout", htmx=htmx)
        assert response.status_code in (204, 303) and "HX-Request" in response.headers["Vary"]


def test_hx_response_sets_headers_and_checks_the_swap_style(app):
    """Our wrapper of htmx-flask: 0.1.0 glues two swap styles into one string in its list."""
    from app.web.common.htmx import hx_response

    with app.test_request_context("/", headers={"HX-Request": "true", "HX-Trigger-Name": "qty"}):
        from flask import request

        assert request.htmx and request.htmx.trigger_name == "qty" and not request.htmx.boosted
        response = hx_response("x", reswap="afterbegin swap:1s", retarget="#list", trigger={"saved": 1})
        assert response.headers["HX-Reswap"] == "afterbegin swap:1s"
        assert response.headers["HX-Retarget"] == "#list" and response.headers["HX-Trigger"] == '{"saved": 1}'
        assert "HX-Request" in response.headers["Vary"]
        assert hx_response("x", reswap="beforebegin").headers["HX-Reswap"] == "beforebegin"
        with pytest.raises(ValueError):
            hx_response("x", reswap="sideways")

def body_csrf_token(page: str) -> str:
    match = re.search(r"<body hx-headers='([^']*)'", page)
    assert match, "the <body> carries no hx-headers"
    headers = html.unescape(match.group(1))
    return re.fullmatch(r'\{"X-CSRFToken": "([^"]+)"\}', headers).group(1)


def test_the_layout_puts_the_csrf_header_on_body_and_it_is_accepted(login_as, world):
    client = login_as("dealer")
    token = body_csrf_token(client.get("/dealer/").get_data(as_text=True))
    refused = client.post("/logout", csrf=False, htmx=True)
    assert refused.status_code == 400
    accepted = client.post("/logout", csrf=False, htmx=True, headers={"X-CSRFToken": token})
    assert accepted.status_code == 204 and accepted.headers["HX-Redirect"] == "/login"


def test_the_login_page_has_the_header_too(client):
    assert body_csrf_token(client.get("/login").get_data(as_text=True))


# --- language -----------------------------------------------------------------------------------

def test_html_lang_is_simplified_chinese_by_default(client, login_as):
    assert '<html lang="zh-CN">' in client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in login_as("retailer").get("/retailer/").get_data(as_text=True)


def test_html_lang_follows_the_chosen_language(client):
    client.get("/login")
    client.post("/locale", {"locale": "en", "next": "/login"})
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)
