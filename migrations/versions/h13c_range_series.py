"""any range of the brand's sales report by retailer or rep: sales_shop_series, sales_rep_shops,
sales_rep_days, sales_rep_weeks, sales_route_changes (and, on PostgreSQL, the trigger filling it)

Revision ID: h13c_range_series
Revises: h13s_shop_totals
Create Date: 2026-12-07 14:00:00

A custom range (not one of the form's presets) of the brand's report by retailer or by rep summed
~1 M weekly buyer-grain rows per request (~1.7–2 s at full scale). The fact job now keeps each
shop's net sales to date (arrays: any range is two lookups) and the market per rep, province and
day with running sums per week (range_series.py). The tables start empty: the next `flask
analytics refresh` (or the nightly job) fills them; until then the report sums the rollup. A
trigger on rep_routes lists the shops whose routes change, so the report follows the routes as
they are now.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = 'h13c_range_series'
down_revision = 'h13s_shop_totals'
branch_labels = None
depends_on = None

MEASURES = ('value_fen', 'qty', 'orders', 'ordered_fen', 'shipped_fen', 'delivered_fen', 'returned_fen', 'active')


def _array(item):
    return sa.Text().with_variant(postgresql.ARRAY(item), 'postgresql')


def upgrade():
    op.create_table(
        'sales_shop_series',
        sa.Column('buyer_id', sa.Integer(), nullable=False),
        sa.Column('piece', sa.Integer(), nullable=False),
        sa.Column('province_id', sa.Integer(), nullable=True),
        sa.Column('days', _array(sa.Date()), nullable=False),
        sa.Column('net', _array(sa.BigInteger()), nullable=False),
        sa.Column('span', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('buyer_id', 'piece', name=op.f('pk_sales_shop_series')),
    )
    op.create_index('ix_sales_shop_series_piece_span', 'sales_shop_series', ['piece', 'span'], unique=False)
    op.create_index('ix_sales_shop_series_province_span', 'sales_shop_series', ['province_id', 'span'], unique=False)
    op.create_table(
        'sales_rep_shops',
        sa.Column('buyer_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('buyer_id', name=op.f('pk_sales_rep_shops')),
    )
    for table, key in (('sales_rep_days', 'day'), ('sales_rep_weeks', 'week')):
        op.create_table(
            table,
            sa.Column(key, sa.Date(), nullable=False),
            sa.Column('rep_id', sa.Integer(), autoincrement=False, nullable=False),
            sa.Column('province_id', sa.Integer(), autoincrement=False, nullable=False),
            *[sa.Column(name, sa.BigInteger(), nullable=False) for name in MEASURES],
            sa.PrimaryKeyConstraint(key, 'rep_id', 'province_id', name=op.f(f'pk_{table}')),
        )
    op.create_table(
        'sales_route_changes',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('retailer_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_route_changes')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        # Every shop whose routes change: its old and new retailer on an update of the keys, all the
        # mapped shops when the table is emptied. A statement's rows are few (a rep's route edit);
        # the demo's seed inserts ~94 k, cleared by the first build.
        op.execute("""
            CREATE FUNCTION sales_route_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'TRUNCATE' THEN
                    INSERT INTO sales_route_changes (retailer_id) SELECT buyer_id FROM sales_rep_shops;
                    RETURN NULL;
                END IF;
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                    INSERT INTO sales_route_changes (retailer_id) VALUES (OLD.retailer_id);
                END IF;
                IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.retailer_id <> OLD.retailer_id) THEN
                    INSERT INTO sales_route_changes (retailer_id) VALUES (NEW.retailer_id);
                END IF;
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER rep_routes_changed AFTER INSERT OR DELETE OR UPDATE OF rep_id, retailer_id "
                   "ON rep_routes FOR EACH ROW EXECUTE FUNCTION sales_route_changed()")
        op.execute("CREATE TRIGGER rep_routes_emptied AFTER TRUNCATE ON rep_routes "
                   "FOR EACH STATEMENT EXECUTE FUNCTION sales_route_changed()")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER rep_routes_emptied ON rep_routes")
        op.execute("DROP TRIGGER rep_routes_changed ON rep_routes")
        op.execute("DROP FUNCTION sales_route_changed()")
    op.drop_table('sales_route_changes')
    op.drop_table('sales_rep_weeks')
    op.drop_table('sales_rep_days')
    op.drop_table('sales_rep_shops')
    op.drop_index('ix_sales_shop_series_province_span', table_name='sales_shop_series')
    op.drop_index('ix_sales_shop_series_piece_span', table_name='sales_shop_series')
    op.drop_table('sales_shop_series')
