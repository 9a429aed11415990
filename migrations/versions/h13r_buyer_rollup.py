"""sales rollup: a "buyer" grain (buyer × seller × province × channel, by week), and buyer_id in
the rollup indexes' covering columns

Revision ID: h13r_buyer_rollup
Revises: analytics_sales_events
Create Date: 2026-12-07 02:40:00

The brand's sales report by retailer or by rep read the whole market's facts (~4 s a year at full
scale); it reads this grain now. Existing facts get their weekly buyer rows here, in one pass
(a few minutes at full scale); later rebuilds keep them with the other grains.
"""
from alembic import op


revision = 'h13r_buyer_rollup'
down_revision = 'analytics_sales_events'
branch_labels = None
depends_on = None

MEASURES = ("orders", "qty", "value_fen", "lost_qty", "lost_fen", "shipped_qty", "shipped_fen", "delivered_qty",
            "delivered_fen", "returned_qty", "returned_fen")
INCLUDE = ["product_id", "province_id", "region_id", "seller_id", "channel", *MEASURES]


def _rollup_indexes(include):
    op.create_index('ix_sales_rollup_grain_period_day', 'sales_rollup', ['grain', 'period', 'day'], unique=False,
                    postgresql_include=include)
    op.create_index('ix_sales_rollup_grain_province_day', 'sales_rollup', ['grain', 'province_id', 'period', 'day'],
                    unique=False, postgresql_include=include)


def _drop_rollup_indexes():
    op.drop_index('ix_sales_rollup_grain_province_day', table_name='sales_rollup')
    op.drop_index('ix_sales_rollup_grain_period_day', table_name='sales_rollup')


def upgrade():
    week = ("date_trunc('week', day)::date" if op.get_bind().dialect.name == "postgresql"
            else "date(day, '-' || ((cast(strftime('%w', day) as integer) + 6) % 7) || ' days')")
    sums = ", ".join(f"sum({m})" for m in MEASURES)
    op.execute(f"INSERT INTO sales_rollup (period, day, grain, buyer_id, seller_id, province_id, channel, "
               f"{', '.join(MEASURES)}) SELECT 'w', {week}, 'buyer', buyer_id, seller_id, province_id, channel, "
               f"{sums} FROM sales_daily GROUP BY {week}, buyer_id, seller_id, province_id, channel")
    _drop_rollup_indexes()
    _rollup_indexes(INCLUDE[:4] + ["buyer_id"] + INCLUDE[4:])


def downgrade():
    op.execute("DELETE FROM sales_rollup WHERE grain = 'buyer'")
    _drop_rollup_indexes()
    _rollup_indexes(INCLUDE)
