"""Promotions: bundle (套餐) and volume tier (累计阶梯) kinds

Revision ID: i13_promotion_kinds
Revises: i12_order_kind
Create Date: 2026-12-06 21:00:00

Widens promotions.kind's check; the new kinds' numbers live in the existing `rule` JSON.
"""
from alembic import op


revision = 'i13_promotion_kinds'
down_revision = 'i12_order_kind'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('percent_off', 'amount_off', 'buy_x_get_y', 'spend_off', 'spend_percent')"
NEW_KINDS = ("kind IN ('percent_off', 'amount_off', 'buy_x_get_y', 'spend_off', 'spend_percent', "
             "'bundle', 'volume_tier')")


def upgrade():
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_promotions_kind'), type_='check')
        batch_op.create_check_constraint('kind', NEW_KINDS)


def downgrade():
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_promotions_kind'), type_='check')
        batch_op.create_check_constraint('kind', OLD_KINDS)
