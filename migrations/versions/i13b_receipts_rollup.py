"""sales rollup: a "receipts" grain, the brand's sales to each dealer (buyer_id), by day and week

Revision ID: i13b_receipts_rollup
Revises: i13_service_rollup
Create Date: 2026-12-06 21:10:00

Existing facts get their receipts rows now (the brand's channel report reads them).
"""
from alembic import op
import sqlalchemy as sa


revision = 'i13b_receipts_rollup'
down_revision = 'i13_service_rollup'
branch_labels = None
depends_on = None

MEASURES = "sum(orders), sum(qty), sum(value_fen), sum(lost_qty), sum(lost_fen)"
COLUMNS = "period, day, grain, buyer_id, channel, orders, qty, value_fen, lost_qty, lost_fen"


def upgrade():
    with op.batch_alter_table('sales_rollup', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buyer_id', sa.Integer(), nullable=True))
    week = ("date_trunc('week', day)::date" if op.get_bind().dialect.name == "postgresql"
            else "date(day, '-' || ((cast(strftime('%w', day) as integer) + 6) % 7) || ' days')")
    op.execute(f"INSERT INTO sales_rollup ({COLUMNS}) SELECT 'd', day, 'receipts', buyer_id, channel, {MEASURES} "
               f"FROM sales_daily WHERE channel = 'dealer' GROUP BY day, buyer_id, channel")
    op.execute(f"INSERT INTO sales_rollup ({COLUMNS}) SELECT 'w', {week}, 'receipts', buyer_id, channel, {MEASURES} "
               f"FROM sales_daily WHERE channel = 'dealer' GROUP BY {week}, buyer_id, channel")


def downgrade():
    op.execute("DELETE FROM sales_rollup WHERE grain = 'receipts'")
    with op.batch_alter_table('sales_rollup', schema=None) as batch_op:
        batch_op.drop_column('buyer_id')
