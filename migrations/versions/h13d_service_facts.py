"""service facts: one row per order for the service report (fill rate, OTIF, cycle, auto-approval)

Revision ID: h13d_service_facts
Revises: h10e_checkout_fields
Create Date: 2026-12-06 18:50:00

The table starts empty; the next `flask analytics refresh` builds it (its own watermark is unset).
"""
from alembic import op
import sqlalchemy as sa

import app.models.base


revision = 'h13d_service_facts'
down_revision = 'h10e_checkout_fields'
branch_labels = None
depends_on = None

INCLUDE = ["seller_id", "province_id", "status", "submitted_at", "approved_by_rule", "shipped_at", "delivered_at",
           "cycle_seconds", "lines", "filled_lines", "ordered_qty", "shipped_qty", "ordered_fen", "shipped_fen"]


def upgrade():
    op.create_table('service_facts',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('province_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=15), nullable=False),
    sa.Column('submitted_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('approved_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by_rule', sa.Boolean(), nullable=False),
    sa.Column('shipped_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cycle_seconds', sa.Integer(), nullable=True),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('filled_lines', sa.Integer(), nullable=False),
    sa.Column('ordered_qty', sa.Integer(), nullable=False),
    sa.Column('shipped_qty', sa.Integer(), nullable=False),
    sa.Column('ordered_fen', sa.BigInteger(), nullable=False),
    sa.Column('shipped_fen', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_service_facts'))
    )
    op.create_index('ix_service_facts_day', 'service_facts', ['day'], unique=False, postgresql_include=INCLUDE)
    op.create_index('ix_service_facts_seller_day', 'service_facts', ['seller_id', 'day'], unique=False,
                    postgresql_include=INCLUDE)


def downgrade():
    op.drop_index('ix_service_facts_seller_day', table_name='service_facts')
    op.drop_index('ix_service_facts_day', table_name='service_facts')
    op.drop_table('service_facts')
    op.execute("DELETE FROM fact_watermarks WHERE name = 'service_facts'")
