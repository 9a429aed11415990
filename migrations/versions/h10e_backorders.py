"""backorders: an order made of the lines a seller could not supply yet points at its original

Revision ID: h10e_backorders
Revises: h14b_webhooks
Create Date: 2026-12-06 18:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'h10e_backorders'
down_revision = 'h14b_webhooks'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backorder_of_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_orders_backorder_of_id'), ['backorder_of_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_orders_backorder_of_id_orders'), 'orders',
                                    ['backorder_of_id'], ['id'])


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_orders_backorder_of_id_orders'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_orders_backorder_of_id'))
        batch_op.drop_column('backorder_of_id')
