"""Orders with goods on the road and goods still to ship are "partly_shipped" (部分发货), no
longer "picking": a data migration (orders.status has no CHECK constraint).

Revision ID: h10b_partly_shipped
Revises: h13b_sales_rollup
"""
from alembic import op

revision = "h10b_partly_shipped"
down_revision = "h13b_sales_rollup"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE orders SET status = 'partly_shipped' WHERE status = 'picking' "
               "AND EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = orders.id)")


def downgrade():
    op.execute("UPDATE orders SET status = 'picking' WHERE status = 'partly_shipped'")
