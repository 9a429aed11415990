"""Promotions: the brand's limits on dealers' own promotions (per dealer tier, with a default);
the settlement run's progress (dealers done of total)

Revision ID: promo_limits_progress
Revises: i12p_presale
Create Date: 2026-12-06 23:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'promo_limits_progress'
down_revision = "api_stock_version"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'promotion_dealer_limits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tier', sa.String(length=10), nullable=False),
        sa.Column('max_depth_pct', sa.Integer(), nullable=True),
        sa.Column('product_ids', sa.JSON(), nullable=False),
        sa.Column('category_ids', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('max_depth_pct IS NULL OR max_depth_pct BETWEEN 0 AND 100',
                           name=op.f('ck_promotion_dealer_limits_depth')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_promotion_dealer_limits_updated_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_promotion_dealer_limits')),
        sa.UniqueConstraint('tier', name=op.f('uq_promotion_dealer_limits_tier')))
    with op.batch_alter_table('promotion_settlement_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dealers_total', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('dealers_done', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('promotion_settlement_runs', schema=None) as batch_op:
        batch_op.drop_column('dealers_done')
        batch_op.drop_column('dealers_total')
    op.drop_table('promotion_dealer_limits')
