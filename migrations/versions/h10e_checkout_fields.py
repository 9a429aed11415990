"""checkout fields: the delivery date, the delivery address and the payment method of an order

Revision ID: h10e_checkout_fields
Revises: h10e_backorders
Create Date: 2026-12-06 18:55:00

All nullable: orders placed before checkout asked for them keep NULL (shown as "not given").
"""
from alembic import op
import sqlalchemy as sa


revision = 'h10e_checkout_fields'
down_revision = 'h10e_backorders'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('delivery_address', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('payment_method', sa.String(length=12), nullable=True))
        batch_op.create_check_constraint('payment_method',
                                         "payment_method IN ('credit', 'prepayment', 'cod')")


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_orders_payment_method'), type_='check')
        batch_op.drop_column('payment_method')
        batch_op.drop_column('delivery_address')
        batch_op.drop_column('delivery_date')
