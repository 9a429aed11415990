"""stored messages: code + parameters next to the text columns

System-written text that people read later (order event notes, review reasons, price reasons,
stock movement reasons) is now stored as a message code with its parameters (JSON) and rendered
in the reader's language. The text columns stay for what people type and for older rows, which
are shown as they were written; the two constant automatic-approval notes are converted.

Revision ID: h4_stored_messages
Revises: 2c13e6a5621a
Create Date: 2026-12-02 18:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h4_stored_messages'
down_revision = 'h3_notification_subjects'
branch_labels = None
depends_on = None

COLUMNS = (("order_events", "note_message"), ("order_review_reasons", "detail"), ("order_lines", "price_basis"),
           ("stock_movements", "reason_message"))
# Older event notes that were always the same words: stored as their codes from now on.
CONSTANT_NOTES = {"自动审核": "approval.auto", "重新检查通过": "approval.rechecked"}


def upgrade():
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.JSON(), nullable=True))
    events = sa.table("order_events", sa.column("note", sa.Text), sa.column("note_message", sa.JSON))
    for text, code in CONSTANT_NOTES.items():
        op.execute(events.update().where(events.c.note == text)
                   .values(note="", note_message={"code": code, "params": {}}))


def downgrade():
    # Messages written since the upgrade are dropped with their columns (their rows keep an empty text).
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
