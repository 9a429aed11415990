"""Issue 8, bad input gets a 4xx, never a 500: every form and query parameter of every role,
discovered from the URL map and the rendered pages (tests/builders_fuzz.py), is sent each class
of bad value (control characters such as NUL, whole numbers beyond the database's range, a
corrupt XLSX file), one sample per class. No answer may be a server error, a POST with a bad
value must not succeed (no redirect) and must save nothing (every table keeps its row count).

Runs on the demo data (tiny scale), so the pages have orders, stock and documents to show."""
from __future__ import annotations

import time
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import text
from werkzeug.datastructures import FileStorage

from app.demo.builder import build
from app.extensions import db
from app.models import Base
from tests.builders_fuzz import CONTROL_VALUES, HUGE_INTS, mutations, parse_page, query_of
from tests.conftest import Client

ROLES = {"admin": "admin", "dealer": "dealer001", "retailer": "retailer000001", "rep": "rep01"}
# Blueprints whose GET pages a role may open besides its own.
SHARED = ("documents",)
# POST endpoints that answer with a redirect whatever the form holds, having saved nothing.
REDIRECT_ANYWAY = {
    "auth.set_locale": "an invalid language is ignored and the user goes back to the page",
    "auth.logout": "signing out needs no field",
}
# Pages the fuzz does not post to: they end the session the rest of the run needs.
SKIP_POSTS = {"auth.logout"}


def row_counts() -> tuple:
    """Every table's row count in one statement."""
    names = [t.name for t in Base.metadata.sorted_tables]
    sql = " UNION ALL ".join(f"SELECT '{n}', COUNT(*) FROM {n}" for n in names)
    db.session.rollback()
    return tuple(sorted(db.session.execute(text(sql)).all()))


def endpoint_of(app, url: str, method: str) -> str | None:
    try:
        return app.url_map.bind("localhost").match(urlsplit(url).path, method=method)[0]
    except Exception:  # noqa: BLE001 - not a route of ours
        return None


def role_pages(app, role: str | None) -> list[str]:
    """GET routes without URL parameters of the role's blueprint (the login page for anonymous)."""
    if role is None:
        return ["/login"]
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and rule.endpoint.split(".")[0] == role:
            pages.append(rule.rule)
    return sorted(pages) + ["/account/password"]


class Fuzz:
    def __init__(self, app, client: Client, role: str | None):
        self.app, self.client, self.role = app, client, role
        self.problems: list[str] = []
        self.requests = 0
        self.query_links: dict[str, str] = {}  # endpoint → a link to it with a query string

    def get(self, url: str, label: str = ""):
        return self.call(lambda: self.client.get(url), "GET", url, label)

    def call(self, send, method, url, label="", **kw):
        """The response, or None after recording the exception (tests propagate exceptions
        instead of answering 500)."""
        self.requests += 1
        try:
            return send()
        except Exception as error:  # noqa: BLE001 - every failure is a finding
            self.problems.append(f"{method} {url} [{label}]: raised {error.__class__.__name__}: {str(error)[:160]}")
            return None

    def discover(self):
        """Pages: the role's own, then one linked URL per endpoint with parameters."""
        forms, seen_endpoints, linked = {}, set(), []
        prefixes = tuple(f"/{p}/" for p in ((self.role,) + SHARED)) if self.role else ("/login",)
        queue = role_pages(self.app, self.role)
        for depth in (0, 1):
            for url in queue:
                response = self.get(url)
                self.check(response, "GET", url, "discovery")
                if response is None or response.status_code != 200 or response.mimetype != "text/html":
                    continue
                page_forms, links = parse_page(url, response.get_data(as_text=True))
                for form in page_forms:
                    forms.setdefault(form.key(), form)
                for link in links:
                    endpoint = endpoint_of(self.app, link, "GET")
                    if endpoint and "?" in link and link.startswith(prefixes):
                        self.query_links.setdefault(endpoint, link)
                    if endpoint and link.startswith(prefixes) and endpoint not in seen_endpoints:
                        seen_endpoints.add(endpoint)
                        linked.append(link)
            queue, linked = [u for u in linked if u not in queue], []
        return list(forms.values()), sorted(seen_endpoints)

    def check(self, response, method, url, label):
        if response is not None and response.status_code >= 500:
            self.problems.append(f"{method} {url} [{label}]: {response.status_code}")

    def send_get(self, form, values, label):
        url = urlsplit(form.action).path + "?" + urlencode(values)
        self.check(self.get(url, label), "GET", url, label)

    def send_post(self, form, values, files, label):
        endpoint = endpoint_of(self.app, form.action, "POST")
        if endpoint is None or endpoint in SKIP_POSTS:
            return
        data = {k: v for k, v in values.items()}
        data["csrf_token"] = self.client.csrf
        for name, content in files.items():
            data[name] = FileStorage(stream=__import__("io").BytesIO(content), filename="upload.xlsx",
                                     content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response = self.call(lambda: self.client.request("POST", form.action, data=data), "POST", form.action, label)
        self.check(response, "POST", form.action, label)
        if response is not None and response.status_code in (301, 302, 303) and endpoint not in REDIRECT_ANYWAY:
            self.problems.append(f"POST {form.action} [{label}]: accepted ({response.status_code} to "
                                 f"{response.headers.get('Location')})")

    def fuzz_queries(self, urls):
        """Query parameters: `page` on every page, and each parameter of the links the pages
        carry (one link per endpoint), with a sample of the class its value suggests."""
        for n, url in enumerate(urls):
            for value in (HUGE_INTS[n % 3], CONTROL_VALUES[n % 3]):
                target = f"{url}{'&' if '?' in url else '?'}{urlencode({'page': value})}"
                self.check(self.get(target, "page"), "GET", target, "page")
        for n, link in enumerate(self.query_links.values()):
            params = query_of(link)
            for name, value in params.items():
                bad = HUGE_INTS[n % 3] if value.lstrip("-").isdigit() else CONTROL_VALUES[n % 3]
                target = urlsplit(link).path + "?" + urlencode({**params, name: bad})
                self.check(self.get(target, name), "GET", target, name)

    def run(self):
        forms, endpoints = self.discover()
        posts = gets = 0
        for form in forms:
            before = row_counts() if form.method == "POST" else None
            for label, values, files in mutations(form):
                if form.method == "GET":
                    gets += 1
                    self.send_get(form, values, label)
                else:
                    posts += 1
                    self.send_post(form, values, files, label)
            if before is not None and row_counts() != before:
                changed = sorted({a[0] for a, b in zip(row_counts(), before) if a != b})
                self.problems.append(f"POST {form.action} (one of its bad values): saved rows in {changed}")
        self.fuzz_queries(role_pages(self.app, self.role))
        return len(forms), posts, gets


def test_anonymous_forms(app):
    client = Client(app)
    client.get("/login")
    fuzz = Fuzz(app, client, None)
    forms, posts, gets = fuzz.run()
    assert forms >= 1 and posts >= 3
    assert not fuzz.problems, "\n  ".join(fuzz.problems)


def test_every_roles_forms_and_query_parameters(app):
    """One demo build for the four roles (building it is most of the time)."""
    cpu_started = time.process_time()
    build("tiny", echo=lambda line: None)
    problems, figures = [], [f"demo build {time.process_time() - cpu_started:.1f}s CPU"]
    for role, username in ROLES.items():
        started, cpu = time.perf_counter(), time.process_time()
        client = Client(app)
        assert client.login(username, app.config["DEMO_PASSWORD"]).status_code == 303
        fuzz = Fuzz(app, client, role)
        forms, posts, gets = fuzz.run()
        figures.append(f"{role}: {forms} forms, {posts} POST + {gets} GET mutations, {fuzz.requests} requests, "
                       f"{time.perf_counter() - started:.1f}s ({time.process_time() - cpu:.1f}s CPU)")
        problems += [f"{role}: {p}" for p in fuzz.problems]
    print("\nfuzz: " + "; ".join(figures))
    assert not problems, f"{len(problems)} problems:\n  " + "\n  ".join(problems[:80])
