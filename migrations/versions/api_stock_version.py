"""stock rows get a version (their API ETag), bumped by every ledger UPDATE; outbox events get
an index on occurred_at (the retention purge scans by age)

Revision ID: api_stock_version
Revises: i12p_presale
Create Date: 2026-12-06 23:40:00

A constant default: PostgreSQL adds the column without rewriting the table.
"""
from alembic import op
import sqlalchemy as sa


revision = 'api_stock_version'
down_revision = 'i12p_presale'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stock_balances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='0', nullable=False))
    op.create_index('ix_outbox_events_occurred_at', 'outbox_events', ['occurred_at'], unique=False)


def downgrade():
    op.drop_index('ix_outbox_events_occurred_at', table_name='outbox_events')
    with op.batch_alter_table('stock_balances', schema=None) as batch_op:
        batch_op.drop_column('version')
