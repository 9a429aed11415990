"""online payment intents and refunds; carrier tracking events and the dealers' trusted carriers

Revision ID: i14p_payments_logistics
Revises: i13_launch_plans
Create Date: 2026-12-06 20:40:00

CHECK constraints widened: payments.method gains 'online', prepayment_entries.kind 'refund',
delivery_sign_offs.method 'carrier'.
"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'i14p_payments_logistics'
down_revision = 'i13_launch_plans'
branch_labels = None
depends_on = None


CHECKS = (  # table, constraint, before, after
    ("payments", "method", "method IN ('bank_transfer', 'cod', 'prepayment', 'credit')",
     "method IN ('bank_transfer', 'cod', 'prepayment', 'credit', 'online')"),
    ("prepayment_entries", "kind", "kind IN ('topup', 'payment')", "kind IN ('topup', 'payment', 'refund')"),
    ("delivery_sign_offs", "method", "method IN ('portal', 'code')", "method IN ('portal', 'code', 'carrier')"),
)


def _replace_checks(new: bool) -> None:
    for table, name, before, after in CHECKS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
            batch_op.create_check_constraint(name, after if new else before)


def upgrade():
    op.create_table('carrier_trust',
    sa.Column('dealer_id', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.String(length=20), nullable=False),
    sa.Column('since', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dealer_id'], ['organisations.id'], name=op.f('fk_carrier_trust_dealer_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dealer_id', 'carrier', name=op.f('pk_carrier_trust'))
    )
    op.create_table('payment_intents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('payer_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('refunded_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_txn_id', sa.String(length=64), nullable=True),
    sa.Column('checkout_url', sa.Text(), nullable=False),
    sa.Column('failure_reason', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('settled_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('prepayment_entry_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(purpose = 'order') = (order_id IS NOT NULL)", name=op.f('ck_payment_intents_order_purpose')),
    sa.CheckConstraint("purpose IN ('order', 'topup')", name=op.f('ck_payment_intents_purpose')),
    sa.CheckConstraint("status IN ('created', 'paid', 'failed', 'refunded')", name=op.f('ck_payment_intents_status')),
    sa.CheckConstraint('amount_fen > 0 AND refunded_fen >= 0 AND refunded_fen <= amount_fen', name=op.f('ck_payment_intents_amounts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_payment_intents_created_by_id_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payment_intents_order_id_orders')),
    sa.ForeignKeyConstraint(['payer_id'], ['organisations.id'], name=op.f('fk_payment_intents_payer_id_organisations')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_intents_payment_id_payments')),
    sa.ForeignKeyConstraint(['prepayment_entry_id'], ['prepayment_entries.id'], name=op.f('fk_payment_intents_prepayment_entry_id_prepayment_entries')),
    sa.ForeignKeyConstraint(['seller_id'], ['organisations.id'], name=op.f('fk_payment_intents_seller_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_intents')),
    sa.UniqueConstraint('provider_txn_id', name=op.f('uq_payment_intents_provider_txn_id')),
    sa.UniqueConstraint('reference', name=op.f('uq_payment_intents_reference'))
    )
    with op.batch_alter_table('payment_intents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_intents_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_payment_intents_payer_created', ['payer_id', 'created_at'], unique=False)

    op.create_table('tracking_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.String(length=20), nullable=False),
    sa.Column('waybill', sa.String(length=60), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('occurred_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('location', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('received_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('callback', 'poll')", name=op.f('ck_tracking_events_source')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_tracking_events_shipment_id_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_events')),
    sa.UniqueConstraint('carrier', 'waybill', 'code', 'occurred_at', name=op.f('uq_tracking_events_carrier_waybill_code_occurred_at'))
    )
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.create_index('ix_tracking_events_shipment_occurred', ['shipment_id', 'occurred_at'], unique=False)

    op.create_table('payment_refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('intent_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('provider_refund_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('credit_note_id', sa.Integer(), nullable=True),
    sa.Column('prepayment_entry_id', sa.Integer(), nullable=True),
    sa.Column('refunded_by_id', sa.Integer(), nullable=True),
    sa.Column('refunded_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payment_refunds_amount')),
    sa.ForeignKeyConstraint(['credit_note_id'], ['credit_notes.id'], name=op.f('fk_payment_refunds_credit_note_id_credit_notes')),
    sa.ForeignKeyConstraint(['intent_id'], ['payment_intents.id'], name=op.f('fk_payment_refunds_intent_id_payment_intents')),
    sa.ForeignKeyConstraint(['prepayment_entry_id'], ['prepayment_entries.id'], name=op.f('fk_payment_refunds_prepayment_entry_id_prepayment_entries')),
    sa.ForeignKeyConstraint(['refunded_by_id'], ['users.id'], name=op.f('fk_payment_refunds_refunded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_refunds')),
    sa.UniqueConstraint('reference', name=op.f('uq_payment_refunds_reference'))
    )
    with op.batch_alter_table('payment_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_refunds_intent_id'), ['intent_id'], unique=False)

    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index('ix_shipments_tracking_no', ['tracking_no'], unique=False)

    _replace_checks(new=True)


def downgrade():
    _replace_checks(new=False)
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index('ix_shipments_tracking_no')

    with op.batch_alter_table('payment_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_refunds_intent_id'))

    op.drop_table('payment_refunds')
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_events_shipment_occurred')

    op.drop_table('tracking_events')
    with op.batch_alter_table('payment_intents', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_intents_payer_created')
        batch_op.drop_index(batch_op.f('ix_payment_intents_order_id'))

    op.drop_table('payment_intents')
    op.drop_table('carrier_trust')
