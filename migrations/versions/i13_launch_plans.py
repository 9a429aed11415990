"""launch plans: the brand's week-13 targets (reach, cases) for a new product; the facts' product index covers
the launch report's columns

The product index of `sales_daily` is rebuilt with INCLUDE columns (PostgreSQL) so the launch report reads a
new product's 13 weeks from the index alone: about 20 s on the 6.6 M-row facts of bench/launch_report.py.

Revision ID: i13_launch_plans
Revises: i13_promotion_kinds
Create Date: 2026-12-06 20:40:00
"""
from alembic import op
import sqlalchemy as sa

import app.models.base


revision = 'i13_launch_plans'
down_revision = 'i13_promotion_kinds'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('launch_plans',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('target_reach_bp', sa.Integer(), nullable=False),
    sa.Column('target_cases', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_launch_plans_product_id_products'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_launch_plans_updated_by_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_launch_plans'))
    )
    with op.batch_alter_table('sales_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_daily_product_day')
        batch_op.create_index('ix_sales_daily_product_day', ['product_id', 'day'], unique=False,
                              postgresql_include=['buyer_id', 'seller_id', 'channel', 'qty', 'lost_qty'])


def downgrade():
    with op.batch_alter_table('sales_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_daily_product_day')
        batch_op.create_index('ix_sales_daily_product_day', ['product_id', 'day'], unique=False)
    op.drop_table('launch_plans')
