"""group-buy campaigns (团购): campaigns, their price tiers and the retailers' commitments

Revision ID: i12_groupbuy
Revises: i12_rebates
Create Date: 2026-12-06 20:21:18.771822

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


revision = 'i12_groupbuy'
down_revision = 'i12_rebates'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('groupbuy_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('base_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('min_pool_qty', sa.Integer(), nullable=False),
    sa.Column('cap_qty', sa.Integer(), nullable=True),
    sa.Column('min_per_retailer', sa.Integer(), nullable=False),
    sa.Column('max_per_retailer', sa.Integer(), nullable=True),
    sa.Column('pool_qty', sa.Integer(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('result', sa.String(length=10), nullable=True),
    sa.Column('final_price_fen', sa.BigInteger(), nullable=True),
    sa.Column('closed_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("result IS NULL OR result IN ('succeeded', 'failed')", name=op.f('ck_groupbuy_campaigns_result')),
    sa.CheckConstraint("status IN ('draft', 'open', 'closed')", name=op.f('ck_groupbuy_campaigns_status')),
    sa.CheckConstraint('base_price_fen > 0 AND min_pool_qty > 0 AND min_per_retailer > 0', name=op.f('ck_groupbuy_campaigns_numbers')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_groupbuy_campaigns_window')),
    sa.CheckConstraint('max_per_retailer IS NULL OR max_per_retailer >= min_per_retailer', name=op.f('ck_groupbuy_campaigns_per_retailer')),
    sa.CheckConstraint('pool_qty >= 0 AND (cap_qty IS NULL OR pool_qty <= cap_qty)', name=op.f('ck_groupbuy_campaigns_pool')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_groupbuy_campaigns_created_by_id_users')),
    sa.ForeignKeyConstraint(['owner_id'], ['organisations.id'], name=op.f('fk_groupbuy_campaigns_owner_id_organisations')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_groupbuy_campaigns_product_id_products')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_groupbuy_campaigns_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuy_campaigns'))
    )
    with op.batch_alter_table('groupbuy_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groupbuy_campaigns_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_groupbuy_campaigns_status_ends', ['status', 'ends_at'], unique=False)

    op.create_table('groupbuy_tiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('min_qty', sa.Integer(), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('min_qty > 0 AND unit_price_fen > 0', name=op.f('ck_groupbuy_tiers_values')),
    sa.ForeignKeyConstraint(['campaign_id'], ['groupbuy_campaigns.id'], name=op.f('fk_groupbuy_tiers_campaign_id_groupbuy_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuy_tiers')),
    sa.UniqueConstraint('campaign_id', 'min_qty', name=op.f('uq_groupbuy_tiers_campaign_id_min_qty'))
    )
    op.create_table('groupbuy_commitments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('retailer_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('committed_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('final_price_fen', sa.BigInteger(), nullable=True),
    sa.Column('credit_note_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('active', 'cancelled')", name=op.f('ck_groupbuy_commitments_status')),
    sa.CheckConstraint('qty > 0 AND committed_price_fen > 0', name=op.f('ck_groupbuy_commitments_values')),
    sa.ForeignKeyConstraint(['campaign_id'], ['groupbuy_campaigns.id'], name=op.f('fk_groupbuy_commitments_campaign_id_groupbuy_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['credit_note_id'], ['credit_notes.id'], name=op.f('fk_groupbuy_commitments_credit_note_id_credit_notes')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_groupbuy_commitments_order_id_orders')),
    sa.ForeignKeyConstraint(['retailer_id'], ['organisations.id'], name=op.f('fk_groupbuy_commitments_retailer_id_organisations')),
    sa.ForeignKeyConstraint(['seller_id'], ['organisations.id'], name=op.f('fk_groupbuy_commitments_seller_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuy_commitments')),
    sa.UniqueConstraint('campaign_id', 'retailer_id', name=op.f('uq_groupbuy_commitments_campaign_id_retailer_id'))
    )
    with op.batch_alter_table('groupbuy_commitments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groupbuy_commitments_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_groupbuy_commitments_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_groupbuy_commitments_retailer_id'), ['retailer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_groupbuy_commitments_seller_id'), ['seller_id'], unique=False)



def downgrade():
    with op.batch_alter_table('groupbuy_commitments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groupbuy_commitments_seller_id'))
        batch_op.drop_index(batch_op.f('ix_groupbuy_commitments_retailer_id'))
        batch_op.drop_index(batch_op.f('ix_groupbuy_commitments_order_id'))
        batch_op.drop_index(batch_op.f('ix_groupbuy_commitments_campaign_id'))

    op.drop_table('groupbuy_commitments')
    op.drop_table('groupbuy_tiers')
    with op.batch_alter_table('groupbuy_campaigns', schema=None) as batch_op:
        batch_op.drop_index('ix_groupbuy_campaigns_status_ends')
        batch_op.drop_index(batch_op.f('ix_groupbuy_campaigns_owner_id'))

    op.drop_table('groupbuy_campaigns')
