"""service rollup: the service facts summed by week, seller and province, for the brand's report

Revision ID: i13_service_rollup
Revises: i12_order_kind
Create Date: 2026-12-06 21:00:00

The table starts empty and the service facts' watermark is cleared, so the next `flask analytics
refresh` rebuilds the service facts and this rollup together.
"""
from alembic import op
import sqlalchemy as sa


revision = 'i13_service_rollup'
down_revision = 'i12_order_kind'
branch_labels = None
depends_on = None

MEASURES = ["submitted", "auto_approved", "fulfilled", "lines", "filled_lines", "ordered_fen", "shipped_fen",
            "due_when_old", "otif", "delivered", "cycle_0", "cycle_1", "cycle_2", "cycle_3", "cycle_4", "cycle_5"]
BIG = ("ordered_fen", "shipped_fen")


def upgrade():
    op.create_table('service_rollup',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('province_id', sa.Integer(), nullable=True),
    *[sa.Column(name, sa.BigInteger() if name in BIG else sa.Integer(), nullable=False) for name in MEASURES],
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_rollup'))
    )
    op.create_index('ix_service_rollup_week', 'service_rollup', ['week'], unique=False,
                    postgresql_include=["seller_id", "province_id", *MEASURES])
    op.create_index('ix_service_rollup_seller_week', 'service_rollup', ['seller_id', 'week'], unique=False)
    op.execute("DELETE FROM fact_watermarks WHERE name = 'service_facts'")


def downgrade():
    op.drop_index('ix_service_rollup_seller_week', table_name='service_rollup')
    op.drop_index('ix_service_rollup_week', table_name='service_rollup')
    op.drop_table('service_rollup')
