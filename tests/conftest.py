"""Fixtures: the app on the configured database (PostgreSQL in CI, SQLite otherwise), a clean
database per test, clients logged in as each role, and a small world of organisations.

The schema is built by running the Alembic migrations, so every run also checks them."""
import os
import re
import tempfile

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db as _db
from app.models import Base
from tests import factories

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1).replace("postgres://", "postgresql+psycopg://", 1)
    return "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="lianying-test-"), "test.db")


def reset_schema(app) -> None:
    """Drop everything and rebuild the schema from the migrations."""
    with app.app_context():
        engine = _db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
        else:
            Base.metadata.drop_all(engine)
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


@pytest.fixture(scope="session")
def app():
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=_database_url(),
                     REDIS_URL=os.environ.get("REDIS_URL") or None,
                     ARGON2_PARAMS={"time_cost": 1, "memory_cost": 8192, "parallelism": 1})
    reset_schema(app)
    return app


def _clean(app) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with app.app_context():
        _db.session.remove()
        # DELETE, child tables first: on the few rows a test leaves it is ~25x faster than a
        # TRUNCATE of every table on PostgreSQL (ids are not reset; no test may rely on them).
        with _db.engine.begin() as conn:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
        from app.services.core.redis_conn import redis_connection

        connection = redis_connection()
        if connection is not None:
            connection.flushdb()


@pytest.fixture(autouse=True)
def db(app):
    """A clean database for every test, inside an app context."""
    with app.app_context():
        yield _db
        _db.session.remove()
    _clean(app)


class Client:
    """A test client that knows its CSRF token, like a browser that loaded a page."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()
        self.csrf = None

    def request(self, method, url, **kw):
        # Each request in its own app context, as in a server: fresh `g` and database session,
        # so the test's own session never leaks into the request (and vice versa).
        with self.app.app_context():
            return self.http.open(url, method=method, **kw)

    def get(self, url, **kw):
        response = self.request("GET", url, **kw)
        match = CSRF_RE.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if match:
            self.csrf = match.group(1) or match.group(2)
        return response

    def post(self, url, data=None, htmx=False, headers=None, csrf=True, **kw):
        data = dict(data or {})
        headers = dict(headers or {})
        if csrf:
            if self.csrf is None:
                self.get("/login")
            data.setdefault("csrf_token", self.csrf)
        if htmx:
            headers["HX-Request"] = "true"
        return self.request("POST", url, data=data, headers=headers, **kw)

    def hx_get(self, url, **kw):
        return self.get(url, headers={"HX-Request": "true"}, **kw)

    def login(self, username, password=factories.PASSWORD):
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        if response.status_code in (302, 303):
            self.get(response.headers["Location"])
        return response


@pytest.fixture
def client(app):
    return Client(app)


@pytest.fixture
def world(db):
    """Two of each organisation and a user for each (see tests/factories.py)."""
    return factories.make_world()


@pytest.fixture
def login_as(app, world):
    """login_as("retailer") → a Client signed in as world.users["retailer"]."""

    def _login(key):
        c = Client(app)
        response = c.login(world.users[key].username)
        assert response.status_code == 303, response.get_data(as_text=True)[-900:]
        return c

    return _login
