"""API: idempotency keys, read-only clients, each client's service user

Revision ID: h14_api_idempotency
Revises: h11_promotions
Create Date: 2026-12-06 17:40:00

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


revision = 'h14_api_idempotency'
down_revision = 'h11_promotions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['api_clients.id'], name=op.f('fk_api_idempotency_keys_client_id_api_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_idempotency_keys')),
    sa.UniqueConstraint('client_id', 'key', name=op.f('uq_api_idempotency_keys_client_id_key'))
    )
    with op.batch_alter_table('api_idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_api_idempotency_keys_created_at', ['created_at'], unique=False)
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('read_only', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_api_clients_user_id_users'), 'users', ['user_id'], ['id'])


def downgrade():
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_api_clients_user_id_users'), type_='foreignkey')
        batch_op.drop_column('user_id')
        batch_op.drop_column('read_only')
    with op.batch_alter_table('api_idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_api_idempotency_keys_created_at')
    op.drop_table('api_idempotency_keys')
