"""sales facts and rollup: shipped, delivered and returned quantities and values by the day they
happened; indexes on the events' times for the per-day rebuild; daily stock snapshots by
warehouse × product and their per-owner sums; the launch rollup (a new product's 13 weeks by day)

Revision ID: analytics_sales_events
Revises: i12p_presale
Create Date: 2026-12-06 23:40:00

Existing fact rows get 0 in the new columns and the sales watermark is cleared, so the next
`flask analytics refresh` (or the nightly job) rebuilds every day with the new measures.
"""
from alembic import op
import sqlalchemy as sa


revision = 'analytics_sales_events'
down_revision = "promo_limits_progress"
branch_labels = None
depends_on = None

NEW = (("shipped_qty", sa.Integer), ("shipped_fen", sa.BigInteger), ("delivered_qty", sa.Integer),
       ("delivered_fen", sa.BigInteger), ("returned_qty", sa.Integer), ("returned_fen", sa.BigInteger))
INCLUDE = ["product_id", "province_id", "region_id", "seller_id", "channel", "orders", "qty", "value_fen",
           "lost_qty", "lost_fen"]


def _rollup_indexes(include):
    op.create_index('ix_sales_rollup_grain_period_day', 'sales_rollup', ['grain', 'period', 'day'], unique=False,
                    postgresql_include=include)
    op.create_index('ix_sales_rollup_grain_province_day', 'sales_rollup', ['grain', 'province_id', 'period', 'day'],
                    unique=False, postgresql_include=include)


def _drop_rollup_indexes():
    op.drop_index('ix_sales_rollup_grain_province_day', table_name='sales_rollup')
    op.drop_index('ix_sales_rollup_grain_period_day', table_name='sales_rollup')


def upgrade():
    for table in ("sales_daily", "sales_rollup"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, kind in NEW:
                batch_op.add_column(sa.Column(name, kind(), nullable=False, server_default="0"))
    _drop_rollup_indexes()
    _rollup_indexes(INCLUDE + [name for name, _kind in NEW])
    op.create_index('ix_shipments_shipped_at', 'shipments', ['shipped_at'], unique=False)
    op.create_index('ix_delivery_sign_offs_signed_at', 'delivery_sign_offs', ['signed_at'], unique=False)
    op.create_index('ix_return_requests_decided_at', 'return_requests', ['decided_at'], unique=False)
    op.execute("DELETE FROM fact_watermarks WHERE name = 'sales_daily'")
    op.create_table('stock_snapshots',
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('warehouse_id', sa.Integer(), nullable=False),
                    sa.Column('product_id', sa.Integer(), nullable=False),
                    sa.Column('owner_id', sa.Integer(), nullable=False),
                    sa.Column('on_hand', sa.Integer(), nullable=False),
                    sa.Column('reserved', sa.Integer(), nullable=False),
                    sa.Column('available', sa.Integer(), nullable=False),
                    sa.Column('value_fen', sa.BigInteger(), nullable=False),
                    sa.PrimaryKeyConstraint('day', 'warehouse_id', 'product_id', name=op.f('pk_stock_snapshots')))
    op.create_index('ix_stock_snapshots_owner_day', 'stock_snapshots', ['owner_id', 'day'], unique=False,
                    postgresql_include=['product_id', 'on_hand', 'available'])
    op.create_table('stock_snapshot_owners',
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('owner_id', sa.Integer(), nullable=False),
                    sa.Column('pairs', sa.Integer(), nullable=False),
                    sa.Column('out_pairs', sa.Integer(), nullable=False),
                    sa.Column('on_hand', sa.BigInteger(), nullable=False),
                    sa.Column('available', sa.BigInteger(), nullable=False),
                    sa.Column('value_fen', sa.BigInteger(), nullable=False),
                    sa.PrimaryKeyConstraint('day', 'owner_id', name=op.f('pk_stock_snapshot_owners')))
    op.create_table('launch_rollup',
                    sa.Column('product_id', sa.Integer(), nullable=False),
                    sa.Column('seller_id', sa.Integer(), nullable=False),
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('new_buyers', sa.Integer(), nullable=False),
                    sa.Column('repeat_buyers', sa.Integer(), nullable=False),
                    sa.Column('cases', sa.BigInteger(), nullable=False),
                    sa.PrimaryKeyConstraint('product_id', 'seller_id', 'day', name=op.f('pk_launch_rollup')))
    op.create_table('launch_builds',
                    sa.Column('product_id', sa.Integer(), nullable=False),
                    sa.Column('launch_date', sa.Date(), nullable=False),
                    sa.Column('through', sa.Date(), nullable=False),
                    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_launch_builds')))


def downgrade():
    op.drop_table('launch_builds')
    op.drop_table('launch_rollup')
    op.drop_table('stock_snapshot_owners')
    op.drop_index('ix_stock_snapshots_owner_day', table_name='stock_snapshots')
    op.drop_table('stock_snapshots')
    op.drop_index('ix_return_requests_decided_at', table_name='return_requests')
    op.drop_index('ix_delivery_sign_offs_signed_at', table_name='delivery_sign_offs')
    op.drop_index('ix_shipments_shipped_at', table_name='shipments')
    _drop_rollup_indexes()
    for table in ("sales_rollup", "sales_daily"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _kind in reversed(NEW):
                batch_op.drop_column(name)
    _rollup_indexes(INCLUDE)
