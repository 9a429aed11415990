"""orders.kind: standard, presale (预售) or group-buy (团购) orders

Revision ID: i12_order_kind
Revises: h13d_service_facts
Create Date: 2026-12-06 20:30:00

Every existing order is a standard one (server default).
"""
from alembic import op
import sqlalchemy as sa


revision = 'i12_order_kind'
down_revision = 'h13d_service_facts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=10), server_default='standard', nullable=False))
        batch_op.create_check_constraint('kind', "kind IN ('standard', 'presale', 'groupbuy')")


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_orders_kind'), type_='check')
        batch_op.drop_column('kind')
