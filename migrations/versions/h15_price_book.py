"""price book version: a token the database changes on every price write

Revision ID: h15_price_book
Revises: h14_api_idempotency
Create Date: 2026-12-06 18:00:00

Triggers on price_lists, price_list_items and contract_prices give price_book_version's one row
a new random token on every INSERT, UPDATE or DELETE, whoever writes (the admin pages, imports,
a psql session). The per-process price book compares tokens once per transaction.
"""
from alembic import op
import sqlalchemy as sa


revision = 'h15_price_book'
down_revision = 'h14_api_idempotency'
branch_labels = None
depends_on = None

TABLES = ("price_lists", "price_list_items", "contract_prices")
EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade():
    op.create_table('price_book_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_book_version'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION price_book_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO price_book_version (id, token) VALUES (1, md5(random()::text || clock_timestamp()::text))
                ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token;
                RETURN NULL;
            END $$""")
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_price_book AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION price_book_changed()")
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"CREATE TRIGGER {table}_price_book_{event.lower()} AFTER {event} ON {table} BEGIN "
                           "INSERT INTO price_book_version (id, token) VALUES (1, lower(hex(randomblob(16)))) "
                           "ON CONFLICT (id) DO UPDATE SET token = excluded.token; END")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("INSERT INTO price_book_version (id, token) VALUES (1, md5(random()::text || clock_timestamp()::text))")
    else:
        op.execute("INSERT INTO price_book_version (id, token) VALUES (1, lower(hex(randomblob(16))))")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_price_book ON {table}")
        op.execute("DROP FUNCTION IF EXISTS price_book_changed()")
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_price_book_{event.lower()}")
    op.drop_table('price_book_version')
