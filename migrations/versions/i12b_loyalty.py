"""Points (积分) and member tiers: settings, accounts, ledger entries, expiry lots and their
uses, the points catalog and gift claims

Revision ID: i12b_loyalty
Revises: i13b_receipts_rollup
Create Date: 2026-12-06 21:00:00
"""
from alembic import op
import sqlalchemy as sa

from app.models.base import UTCDateTime

revision = 'i12b_loyalty'
down_revision = 'i13b_receipts_rollup'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'loyalty_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('earn_points_per_yuan', sa.Integer(), nullable=False),
        sa.Column('redeem_points_per_yuan', sa.Integer(), nullable=False),
        sa.Column('max_redeem_pct', sa.Integer(), nullable=False),
        sa.Column('lot_life_days', sa.Integer(), nullable=False),
        sa.Column('notice_days', sa.Integer(), nullable=False),
        sa.Column('silver_from_fen', sa.BigInteger(), nullable=False),
        sa.Column('gold_from_fen', sa.BigInteger(), nullable=False),
        sa.Column('diamond_from_fen', sa.BigInteger(), nullable=False),
        sa.Column('grace_days', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint('earn_points_per_yuan >= 0 AND redeem_points_per_yuan > 0', name=op.f('ck_loyalty_settings_rates')),
        sa.CheckConstraint('max_redeem_pct BETWEEN 0 AND 100', name=op.f('ck_loyalty_settings_max_redeem_pct')),
        sa.CheckConstraint('lot_life_days > 0 AND notice_days >= 0 AND grace_days >= 0', name=op.f('ck_loyalty_settings_days')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_settings')))
    op.create_table(
        'points_accounts',
        sa.Column('retailer_id', sa.Integer(), nullable=False),
        sa.Column('balance', sa.BigInteger(), nullable=False),
        sa.Column('tier', sa.String(length=10), nullable=False),
        sa.Column('spend_12m_fen', sa.BigInteger(), nullable=False),
        sa.Column('below_since', sa.Date(), nullable=True),
        sa.Column('tier_changed_at', UTCDateTime(), nullable=True),
        sa.CheckConstraint('balance >= 0', name=op.f('ck_points_accounts_balance')),
        sa.CheckConstraint("tier IN ('member', 'silver', 'gold', 'diamond')", name=op.f('ck_points_accounts_tier')),
        sa.ForeignKeyConstraint(['retailer_id'], ['organisations.id'], name=op.f('fk_points_accounts_retailer_id_organisations')),
        sa.PrimaryKeyConstraint('retailer_id', name=op.f('pk_points_accounts')))
    op.create_index('ix_points_accounts_tier', 'points_accounts', ['tier'])
    op.create_table(
        'points_entries',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('retailer_id', sa.Integer(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('points', sa.BigInteger(), nullable=False),
        sa.Column('balance_after', sa.BigInteger(), nullable=False),
        sa.Column('value_fen', sa.BigInteger(), nullable=False),
        sa.Column('shortfall', sa.BigInteger(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('ref', sa.String(length=40), nullable=False),
        sa.CheckConstraint("kind IN ('earn', 'redeem', 'release', 'expire', 'clawback', 'gift', 'gift_back', 'adjust')",
                           name=op.f('ck_points_entries_kind')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_points_entries_order_id_orders')),
        sa.ForeignKeyConstraint(['retailer_id'], ['organisations.id'], name=op.f('fk_points_entries_retailer_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_points_entries')),
        sa.UniqueConstraint('ref', name=op.f('uq_points_entries_ref')))
    op.create_index('ix_points_entries_retailer_at', 'points_entries', ['retailer_id', 'at'])
    op.create_index('ix_points_entries_at_kind', 'points_entries', ['at', 'kind'])
    op.create_index(op.f('ix_points_entries_order_id'), 'points_entries', ['order_id'])
    op.create_table(
        'points_lots',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('retailer_id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('points', sa.BigInteger(), nullable=False),
        sa.Column('remaining', sa.BigInteger(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.CheckConstraint('remaining >= 0 AND remaining <= points', name=op.f('ck_points_lots_remaining')),
        sa.ForeignKeyConstraint(['entry_id'], ['points_entries.id'], name=op.f('fk_points_lots_entry_id_points_entries')),
        sa.ForeignKeyConstraint(['retailer_id'], ['organisations.id'], name=op.f('fk_points_lots_retailer_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_points_lots')))
    op.create_index('ix_points_lots_retailer_expires', 'points_lots', ['retailer_id', 'expires_on'])
    op.create_index('ix_points_lots_expires_on', 'points_lots', ['expires_on'])
    op.create_table(
        'points_lot_uses',
        sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('points', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['points_entries.id'], name=op.f('fk_points_lot_uses_entry_id_points_entries')),
        sa.ForeignKeyConstraint(['lot_id'], ['points_lots.id'], name=op.f('fk_points_lot_uses_lot_id_points_lots')),
        sa.PrimaryKeyConstraint('entry_id', 'lot_id', name=op.f('pk_points_lot_uses')))
    op.create_table(
        'points_gifts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('points_price', sa.Integer(), nullable=False),
        sa.Column('stock_cap', sa.Integer(), nullable=False),
        sa.Column('claimed', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.CheckConstraint('points_price > 0', name=op.f('ck_points_gifts_price')),
        sa.CheckConstraint('claimed >= 0 AND claimed <= stock_cap', name=op.f('ck_points_gifts_within_cap')),
        sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_points_gifts_product_id_products')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_points_gifts')),
        sa.UniqueConstraint('product_id', name=op.f('uq_points_gifts_product_id')))
    op.create_table(
        'points_gift_claims',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('retailer_id', sa.Integer(), nullable=False),
        sa.Column('gift_id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('qty', sa.Integer(), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('claimed_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'ordered')", name=op.f('ck_points_gift_claims_status')),
        sa.CheckConstraint('qty > 0', name=op.f('ck_points_gift_claims_qty')),
        sa.ForeignKeyConstraint(['gift_id'], ['points_gifts.id'], name=op.f('fk_points_gift_claims_gift_id_points_gifts')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_points_gift_claims_order_id_orders')),
        sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_points_gift_claims_product_id_products')),
        sa.ForeignKeyConstraint(['retailer_id'], ['organisations.id'], name=op.f('fk_points_gift_claims_retailer_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_points_gift_claims')))
    op.create_index('ix_points_gift_claims_retailer_status', 'points_gift_claims', ['retailer_id', 'status'])
    op.create_index(op.f('ix_points_gift_claims_order_id'), 'points_gift_claims', ['order_id'])


def downgrade():
    for table in ('points_gift_claims', 'points_gifts', 'points_lot_uses', 'points_lots', 'points_entries',
                  'points_accounts', 'loyalty_settings'):
        op.drop_table(table)
