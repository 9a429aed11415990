"""catalog version: a token the database changes on every write to products, visibility rules or categories

Revision ID: h16_catalog_version
Revises: h16_stock_balance_keys
Create Date: 2026-12-07 19:45:00

Triggers on products, product_visibility and categories give catalog_version's one row a new
random token on every INSERT, UPDATE or DELETE (and TRUNCATE on PostgreSQL), whoever writes (the
admin pages, imports, a psql session). The per-process copy of the orderable catalog
(app/services/catalog/shelf.py) compares tokens on every catalog page, with a query it runs anyway.
"""
from alembic import op
import sqlalchemy as sa


revision = 'h16_catalog_version'
down_revision = 'h16_stock_balance_keys'
branch_labels = None
depends_on = None

TABLES = ("products", "product_visibility", "categories")
EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade():
    op.create_table('catalog_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_version'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO catalog_version (id, token) VALUES (1, md5(random()::text || clock_timestamp()::text))
                ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token;
                RETURN NULL;
            END $$""")
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed()")
        op.execute("INSERT INTO catalog_version (id, token) VALUES (1, md5(random()::text || clock_timestamp()::text))")
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"CREATE TRIGGER {table}_catalog_{event.lower()} AFTER {event} ON {table} BEGIN "
                           "INSERT INTO catalog_version (id, token) VALUES (1, lower(hex(randomblob(16)))) "
                           "ON CONFLICT (id) DO UPDATE SET token = excluded.token; END")
        op.execute("INSERT INTO catalog_version (id, token) VALUES (1, lower(hex(randomblob(16))))")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_catalog ON {table}")
        op.execute("DROP FUNCTION IF EXISTS catalog_changed()")
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_catalog_{event.lower()}")
    op.drop_table('catalog_version')
