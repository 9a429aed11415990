"""Promotions: bundle (套餐) and volume tier (累计阶梯) kinds; customer groups; rep and region budgets

Revision ID: i13_promotion_kinds
Revises: i12_groupbuy
Create Date: 2026-12-06 21:00:00

Widens promotions.kind's check (the new kinds' numbers live in the existing `rule` JSON); adds
named customer groups with their members, and promotion budgets allocated per rep or region.
"""
from alembic import op
import sqlalchemy as sa


revision = 'i13_promotion_kinds'
down_revision = 'i12_groupbuy'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('percent_off', 'amount_off', 'buy_x_get_y', 'spend_off', 'spend_percent')"
NEW_KINDS = ("kind IN ('percent_off', 'amount_off', 'buy_x_get_y', 'spend_off', 'spend_percent', "
             "'bundle', 'volume_tier')")


def upgrade():
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_promotions_kind'), type_='check')
        batch_op.create_check_constraint('kind', NEW_KINDS)
    op.create_table(
        'customer_groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=30), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_groups')),
        sa.UniqueConstraint('code', name=op.f('uq_customer_groups_code')))
    op.create_table(
        'customer_group_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['customer_groups.id'], name=op.f('fk_customer_group_members_group_id_customer_groups'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['customer_id'], ['organisations.id'], name=op.f('fk_customer_group_members_customer_id_organisations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_group_members')),
        sa.UniqueConstraint('group_id', 'customer_id', name=op.f('uq_customer_group_members_group_id_customer_id')))
    op.create_index(op.f('ix_customer_group_members_group_id'), 'customer_group_members', ['group_id'])
    op.create_index(op.f('ix_customer_group_members_customer_id'), 'customer_group_members', ['customer_id'])
    op.create_table(
        'promotion_scoped_budgets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('promotion_id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=10), nullable=False),
        sa.Column('scope_id', sa.Integer(), nullable=False),
        sa.Column('budget_fen', sa.BigInteger(), nullable=False),
        sa.Column('used_fen', sa.BigInteger(), nullable=False),
        sa.CheckConstraint("scope IN ('rep', 'region')", name=op.f('ck_promotion_scoped_budgets_scope')),
        sa.CheckConstraint('used_fen >= 0 AND used_fen <= budget_fen', name=op.f('ck_promotion_scoped_budgets_within_budget')),
        sa.ForeignKeyConstraint(['promotion_id'], ['promotions.id'], name=op.f('fk_promotion_scoped_budgets_promotion_id_promotions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_promotion_scoped_budgets')),
        sa.UniqueConstraint('promotion_id', 'scope', 'scope_id', name=op.f('uq_promotion_scoped_budgets_promotion_id_scope_scope_id')))
    op.create_index(op.f('ix_promotion_scoped_budgets_promotion_id'), 'promotion_scoped_budgets', ['promotion_id'])


def downgrade():
    op.drop_table('promotion_scoped_budgets')
    op.drop_table('customer_group_members')
    op.drop_table('customer_groups')
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_promotions_kind'), type_='check')
        batch_op.create_check_constraint('kind', OLD_KINDS)
