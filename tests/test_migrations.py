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


def test_partly_shipped_data_migration_moves_picking_orders_with_a_shipment(empty_sqlite_app):
    """h10b_partly_shipped: an order in "picking" with goods on the road becomes "partly_shipped";
    one still being picked stays; the downgrade gives "picking" back."""
    from sqlalchemy import text

    from app.models.fulfilment import Shipment
    from tests import builders_ordering, factories

    with empty_sqlite_app.app_context():
        upgrade()  # the rows are made with today's models, then the database goes back to before h10b
        region = factories.region()
        buyer, seller = factories.org("retailer", region=region), factories.org("dealer", region=region)
        product = factories.product()
        shipped_part = builders_ordering.order(buyer, seller, [(product, 2)], status="picking")
        picking = builders_ordering.order(buyer, seller, [(product, 2)], status="picking")
        db.session.add(Shipment(order_id=shipped_part.id, seller_id=seller.id, carrier="自送"))
        db.session.commit()
        ids = shipped_part.id, picking.id
        db.session.remove()
        downgrade(revision="h10b_partly_shipped")
        downgrade(revision="-1")

        def statuses():
            return [db.session.execute(text("SELECT status FROM orders WHERE id = :i"), {"i": i}).scalar()
                    for i in ids]

        upgrade(revision="h10b_partly_shipped")
        assert statuses() == ["partly_shipped", "picking"]
        downgrade(revision="-1")
        assert statuses() == ["picking", "picking"]
        db.session.remove()
