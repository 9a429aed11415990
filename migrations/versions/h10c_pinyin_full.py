"""products.pinyin_full: the full pinyin of the Chinese name, for search ("kele" finds 可乐)

Revision ID: h10c_pinyin_full
Revises: h10b_partly_shipped
Create Date: 2026-12-06 17:45:00

"""
from alembic import op
import sqlalchemy as sa
from pypinyin import lazy_pinyin


revision = 'h10c_pinyin_full'
down_revision = 'h10b_partly_shipped'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pinyin_full', sa.String(length=400), server_default='', nullable=False))
    # Fill it for the products already there (a few hundred rows: one UPDATE each is fine).
    products = sa.table('products', sa.column('id', sa.Integer), sa.column('name_zh', sa.String),
                        sa.column('pinyin_full', sa.String))
    connection = op.get_bind()
    for product_id, name_zh in connection.execute(sa.select(products.c.id, products.c.name_zh)).all():
        full = "".join(lazy_pinyin(name_zh or "", errors="ignore")).lower()[:400]
        connection.execute(products.update().where(products.c.id == product_id).values(pinyin_full=full))


def downgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('pinyin_full')
