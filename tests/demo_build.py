"""The demo-data test modules' shared fixtures: one demo build per module, deleted after it.

    built, db = demo_fixtures("tiny")

at module level gives `built` (the build's context, module scope) and an autouse `db` that
replaces conftest's per-test clean database, so the module's tests share the one build."""
import pytest

from app.demo import builder
from app.demo.bulk import delete_all_data
from app.extensions import db as _db


def demo_fixtures(scale: str):
    @pytest.fixture(scope="module")
    def built(app):
        with app.app_context():
            context = builder.build(scale, replace=True, echo=lambda _line: None)
        yield context
        with app.app_context():
            _db.session.remove()
            delete_all_data(_db.session)
            _db.session.commit()

    @pytest.fixture(autouse=True)
    def db(app, built):
        with app.app_context():
            yield _db
            _db.session.rollback()
            _db.session.remove()

    return built, db
