"""Fixtures: the app on the configured database (PostgreSQL in CI, SQLite otherwise), a clean
database per test, clients logged in as each role, and a small world of organisations.

The schema is built once per session by running the Alembic migrations, so every run also
checks them. Under pytest-xdist (`make test` runs `-n 2 --dist loadgroup`) each worker gwN has
its own database: `<name>_gwN` on PostgreSQL (created when missing), its own SQLite file, and
Redis database `<REDIS_URL's number> + N`. Tests that start processes or servers share the
xdist group "serial", so they run one after another on one worker. A test marked
`@pytest.mark.postgres(reason=...)` is skipped, with that reason, on any other database."""
import os
import re
import tempfile
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from app import create_app
from app.config import database_url
from app.extensions import db as _db
from app.models import Base
from tests import factories

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken": "([^"]+)"')
# Test files in RAM where the machine has it: SQLite syncs every commit to disk, which costs
# ~6 ms a commit on a disk and ~0.3 ms in /dev/shm. Set before anything asks tempfile, and
# exported, so pytest's tmp_path, xdist workers and the subprocesses tests start use it too.
if "TMPDIR" not in os.environ and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
    os.environ["TMPDIR"] = "/dev/shm"
    tempfile.tempdir = None  # forget a directory chosen before this point


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres(reason): needs PostgreSQL; skipped with the reason elsewhere")
    config.addinivalue_line("markers", "xdist_group(name): run on one xdist worker with the group's other tests")


@pytest.hookimpl(trylast=True)  # after xdist's own tagging
def pytest_collection_modifyitems(config, items):
    _apply_xdist_groups(config, items)
    if _on_postgres():
        return
    for item in items:
        marker = item.get_closest_marker("postgres")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"needs PostgreSQL (DATABASE_URL): {reason}".rstrip(": ")))


def _apply_xdist_groups(config, items) -> None:
    """`--dist loadgroup` on pytest 9.2: xdist 3.8 tags a grouped test by appending `@group` to
    `item._nodeid`, which pytest 9.2's structured node ids no longer read, so every group was
    silently spread over all workers (pytest-dev/pytest-xdist#1386). Give the id its tag here,
    on the worker, the way xdist means to. Does nothing where xdist's own tagging works."""
    if not getattr(config.option, "loadgroup", False):
        return
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # pytest before structured node ids: xdist tags them itself
        return
    for item in items:
        names = {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        if names and isinstance(getattr(item, "_id", None), NodeId) and "@" not in item.nodeid.rpartition("]")[2]:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(sorted(names))}")


def _on_postgres() -> bool:
    raw = os.environ.get("DATABASE_URL")
    return bool(raw) and make_url(database_url(raw)).get_backend_name() == "postgresql"


def _xdist_worker() -> int | None:
    """The number N of this pytest-xdist worker gwN, or None when not under xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(name[2:]) if name.startswith("gw") else None


def _database_url() -> str:
    raw = os.environ.get("DATABASE_URL")
    if not raw:
        return "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="lianying-test-"), "test.db")
    url = make_url(database_url(raw))
    worker = _xdist_worker()
    if worker is not None and url.get_backend_name() == "postgresql":
        url = url.set(database=f"{url.database}_gw{worker}")
        _create_postgres_database(url)
    return url.render_as_string(hide_password=False)


def _create_postgres_database(url) -> None:
    """CREATE DATABASE <url's database> unless it exists (connected to the server's `postgres`)."""
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}):
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        engine.dispose()


def _redis_url() -> str | None:
    """REDIS_URL, with its database number moved up by the xdist worker's number."""
    raw = os.environ.get("REDIS_URL") or None
    worker = _xdist_worker()
    if raw is None or not worker:
        return raw
    parts = urlsplit(raw)
    number = int(parts.path.lstrip("/") or 0) + worker
    return urlunsplit(parts._replace(path=f"/{number}"))


def _engine_options(url: str) -> dict:
    options = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        # A test database need not wait for the WAL flush at each commit (nothing to recover).
        options["connect_args"] = {"options": "-c synchronous_commit=off"}
    return options


def reset_schema(app) -> None:
    """Drop everything and rebuild the schema from the migrations."""
    with app.app_context():
        engine = _db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"))
        else:
            Base.metadata.drop_all(engine)
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


@pytest.fixture(scope="session")
def app():
    url = _database_url()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS=_engine_options(url),
                     REDIS_URL=_redis_url(),
                     # Argon2id all the same, at its cheapest: the tests check hashes and logins,
                     # not their cost (8 MiB made every login ~5 ms of CPU).
                     ARGON2_PARAMS={"time_cost": 1, "memory_cost": 64, "parallelism": 1})
    reset_schema(app)
    with app.app_context():
        from app.services.core.redis_conn import redis_connection

        connection = redis_connection()
        if connection is not None:
            connection.ping()  # a database number beyond the server's fails here, before any test
    return app


# Child tables first, so a DELETE never trips a foreign key.
# The price book's and the catalog's token rows stay, as in production (the triggers change them
# when the tables they follow are emptied, so no test sees another test's prices or products).
_TOKENS = ("price_book_version", "catalog_version")
_TABLES = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in _TOKENS]
# One round trip names the tables a test wrote to; only those are emptied.
_NON_EMPTY = text(" UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in _TABLES))


# Rows a table's DELETEs left dead since its last VACUUM (this process's), and how many make us
# vacuum it: a server with autovacuum off (as this project's CI machine has) otherwise keeps every
# test's rows as dead tuples, and a demo build per browser test made each DELETE and foreign-key
# check scan millions of them (the suite slowed to a crawl after a few dozen tests).
_DEAD: dict[str, int] = {}
VACUUM_AFTER = 20_000


def _clean(app) -> None:
    with app.app_context():
        _db.session.remove()
        # DELETE, child tables first: on the few rows a test leaves it is ~25x faster than a
        # TRUNCATE of every table on PostgreSQL (ids are not reset; no test may rely on them).
        with _db.engine.begin() as conn:
            used = set(conn.execute(_NON_EMPTY).scalars())
            for name in _TABLES:
                if name in used:
                    _DEAD[name] = _DEAD.get(name, 0) + conn.execute(text(f"DELETE FROM {name}")).rowcount
        if _db.engine.dialect.name == "postgresql":
            full = [name for name, dead in _DEAD.items() if dead >= VACUUM_AFTER]
            if full:
                with _db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM " + ", ".join(full)))
                for name in full:
                    _DEAD[name] = 0
        from app.services.core.redis_conn import redis_connection

        connection = redis_connection()
        if connection is not None:
            connection.flushdb()


@pytest.fixture(autouse=True)
def db(app):
    """A clean database for every test, inside an app context."""
    with app.app_context():
        # The process's price book current at the start (emptying the price tables changed its
        # token), as a running server's is: query counts do not depend on the test before.
        from app.services.pricing.prices import price_book

        price_book()
        _db.session.rollback()
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


@pytest.fixture
def shop(world):
    """The retailer user and its shop (world's "retailer")."""
    return world.users["retailer"], world.orgs["retailer"]


@pytest.fixture
def retailer(login_as):
    """A test client signed in as the retailer."""
    return login_as("retailer")
