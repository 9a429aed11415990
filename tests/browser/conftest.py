"""Browser fixtures: the app served from a thread on a port the system picks (so each xdist
worker gets its own; same app and database as the other tests), one Debian Chromium per session
driven by Playwright, a fresh browser context per test, and the demo data at its tiny scale
(retailer000001 and friends).

`playwright install` cannot download here: Playwright drives the Debian `chromium` package."""
import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from app.demo.builder import build

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


class _InFlight:
    """Wraps the app to count requests still being answered, so a test can wait for the server
    to go quiet before the database is wiped under it."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.count = 0
        self.changed = threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            self.count += 1
        body = None
        try:
            body = self.wsgi_app(environ, start_response)
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()
            with self.changed:
                self.count -= 1
                self.changed.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> None:
        with self.changed:
            self.changed.wait_for(lambda: self.count == 0, timeout=timeout)


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.counter = _InFlight(app)
        self.server = make_server("127.0.0.1", 0, self.counter, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(app):
    server = LiveServer(app)
    server.thread.start()
    yield server
    server.server.shutdown()
    server.thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser, live_server):
    """new_context(**options) → a fresh browser context (own cookies and cache), closed after the
    test once the server has answered everything it asked for."""
    contexts = []

    def _new(**options):
        context = browser.new_context(locale="zh-CN", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()
    live_server.counter.wait_idle()


@pytest.fixture
def demo(db):
    """The demo data at its tiny scale, committed, so the server threads see it."""
    context = build("tiny", echo=lambda line: None)
    db.session.remove()
    return context


def log_in(page, live_server, username: str, home: str = "/retailer/") -> None:
    """Sign in through the login form with the demo password; lands on the role's `home`."""
    page.goto(live_server("/login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", live_server.app.config["DEMO_PASSWORD"])
    page.click("form[action$='/login'] [type=submit]")
    page.wait_for_url(live_server(home))
