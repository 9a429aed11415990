"""sales rollup: the daily facts summed without the buyer, by day and by week; the facts by buyer

Revision ID: h13b_sales_rollup
Revises: h13_analytics
Create Date: 2026-12-06 17:58:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h13b_sales_rollup'
down_revision = 'h13_analytics'
branch_labels = None
depends_on = None

# Kept in step with app.services.analytics.facts.GRAINS (copied: a migration must not change
# when the code does).
GRAINS = {"product": ("product_id",), "product_province": ("product_id", "province_id"),
          "province": ("province_id",), "region": ("region_id", "province_id"),
          "seller": ("seller_id", "province_id")}
WEEKLY_ONLY = ("product_province",)
MEASURES = "sum(orders), sum(qty), sum(value_fen), sum(lost_qty), sum(lost_fen)"


def upgrade():
    op.create_table('sales_rollup',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period', sa.String(length=1), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('grain', sa.String(length=16), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('province_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('seller_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('value_fen', sa.BigInteger(), nullable=False),
    sa.Column('lost_qty', sa.Integer(), nullable=False),
    sa.Column('lost_fen', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_rollup'))
    )
    # Existing facts (a database built before this revision) get their rollup now.
    week = ("date_trunc('week', day)::date" if op.get_bind().dialect.name == "postgresql"
            else "date(day, '-' || ((cast(strftime('%w', day) as integer) + 6) % 7) || ' days')")
    columns = "period, day, grain, {keys}, channel, orders, qty, value_fen, lost_qty, lost_fen"
    for grain, keys in GRAINS.items():
        keys = ", ".join(keys)
        if grain not in WEEKLY_ONLY:
            op.execute(f"INSERT INTO sales_rollup ({columns.format(keys=keys)}) SELECT 'd', day, '{grain}', {keys}, "
                       f"channel, {MEASURES} FROM sales_daily GROUP BY day, {keys}, channel")
        op.execute(f"INSERT INTO sales_rollup ({columns.format(keys=keys)}) SELECT 'w', {week}, '{grain}', {keys}, "
                   f"channel, {MEASURES} FROM sales_daily GROUP BY {week}, {keys}, channel")
    # Covering indexes on PostgreSQL: reports read the index alone.
    include = ["product_id", "province_id", "region_id", "seller_id", "channel", "orders", "qty", "value_fen",
               "lost_qty", "lost_fen"]
    op.create_index('ix_sales_rollup_grain_period_day', 'sales_rollup', ['grain', 'period', 'day'], unique=False,
                    postgresql_include=include)
    op.create_index('ix_sales_rollup_grain_province_day', 'sales_rollup', ['grain', 'province_id', 'period', 'day'],
                    unique=False, postgresql_include=include)


    # A customer's order days (customer health reports).
    op.create_index('ix_sales_daily_buyer_day', 'sales_daily', ['buyer_id', 'day'], unique=False,
                    postgresql_include=['qty', 'lost_qty', 'value_fen', 'lost_fen'])


def downgrade():
    op.drop_index('ix_sales_daily_buyer_day', table_name='sales_daily')
    op.drop_index('ix_sales_rollup_grain_province_day', table_name='sales_rollup')
    op.drop_index('ix_sales_rollup_grain_period_day', table_name='sales_rollup')
    op.drop_table('sales_rollup')
