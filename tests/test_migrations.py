"""The migrations are the only schema path: upgrading an empty database must give exactly the
schema the models describe, on SQLite and on the configured database (PostgreSQL in CI)."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from app.models import Base


def schema_differences(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_configured_database_matches_models(app):
    # The session fixture built this database from empty by running every migration.
    assert schema_differences(db.engine) == []


@pytest.fixture
def empty_sqlite_app(tmp_path):
    return create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.db'}")


def test_empty_sqlite_upgrades_to_the_models(empty_sqlite_app):
    with empty_sqlite_app.app_context():
        upgrade()
        assert schema_differences(db.engine) == []
        downgrade(revision="base")
        assert set(db.inspect(db.engine).get_table_names()) <= {"alembic_version"}
