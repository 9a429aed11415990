"""documents

Revision ID: 5fef3ec44647
Revises: c92a4474b945
Create Date: 2026-11-24 21:09:41.175406

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = '5fef3ec44647'
down_revision = 'c92a4474b945'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('owner_org_id', sa.Integer(), nullable=True),
    sa.Column('batch_key', sa.String(length=40), nullable=True),
    sa.Column('params', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('started_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ready_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('filename', sa.String(length=80), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('invoice', 'delivery_note', 'order_sheet', 'pick_list')", name=op.f('ck_documents_kind')),
    sa.CheckConstraint("status IN ('pending', 'running', 'ready', 'failed')", name=op.f('ck_documents_status')),
    sa.CheckConstraint('(order_id IS NULL AND batch_key IS NOT NULL AND owner_org_id IS NOT NULL) OR (order_id IS NOT NULL AND batch_key IS NULL)', name=op.f('ck_documents_subject')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_documents_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_org_id'], ['organisations.id'], name=op.f('fk_documents_owner_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('order_id', 'kind', name=op.f('uq_documents_order_id_kind')),
    sa.UniqueConstraint('owner_org_id', 'kind', 'batch_key', name=op.f('uq_documents_owner_org_id_kind_batch_key'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_status_updated', ['status', 'updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_status_updated')

    op.drop_table('documents')
