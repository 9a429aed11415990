"""Ledger lines and reservations point at their balance row; the ledger's lot index only holds lines with a lot

Revision ID: h16_stock_balance_keys
Revises: h15res_stock_reserve_generic
Create Date: 2026-12-07 19:50:00

stock_movements and stock_reservations referred to warehouses and products separately. Each
insert then took a share lock on the warehouse's row, which every concurrent reservation in that
warehouse shares (PostgreSQL records several lockers of a row as a MultiXact: a write of the row's
page, WAL, and a lock every such transaction serialises on), and one on the product's row. They
now refer to (warehouse_id, product_id) of stock_balances: the row a reservation, a release or any
other ledger change has just updated and already holds locked, and whose own keys check the
warehouse and the product. The lot index of the ledger leaves out the lines without a lot
(reservations and releases): one index entry less per such line.

Every ledger change updates the balance row first (ledger.py), so every existing line has one;
rows of older data without one get the row the ledger adds up to, before the key is added.
"""
from alembic import op
import sqlalchemy as sa


revision = 'h16_stock_balance_keys'
down_revision = 'h15res_stock_reserve_generic'
branch_labels = None
depends_on = None

TABLES = ("stock_movements", "stock_reservations")


def upgrade():
    bind = op.get_bind()
    # Balance rows for pairs that only the ledger or a reservation knows (none in data written
    # through ledger.py): what the ledger adds up to, as `flask stock verify` would expect.
    op.execute("""
        INSERT INTO stock_balances (warehouse_id, product_id, on_hand, reserved, updated_at, version)
        SELECT m.warehouse_id, m.product_id, CASE WHEN sum(m.on_hand_delta) > 0 THEN sum(m.on_hand_delta) ELSE 0 END,
               CASE WHEN sum(m.reserved_delta) > 0 THEN sum(m.reserved_delta) ELSE 0 END,
               CURRENT_TIMESTAMP, 0
        FROM stock_movements m
        WHERE NOT EXISTS (SELECT 1 FROM stock_balances b WHERE b.warehouse_id = m.warehouse_id
                          AND b.product_id = m.product_id)
        GROUP BY m.warehouse_id, m.product_id""")
    op.execute("""
        INSERT INTO stock_balances (warehouse_id, product_id, on_hand, reserved, updated_at, version)
        SELECT DISTINCT r.warehouse_id, r.product_id, 0, 0, CURRENT_TIMESTAMP, 0
        FROM stock_reservations r
        WHERE NOT EXISTS (SELECT 1 FROM stock_balances b WHERE b.warehouse_id = r.warehouse_id
                          AND b.product_id = r.product_id)""")
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_warehouse_id_warehouses", type_="foreignkey")
            batch_op.drop_constraint(f"fk_{table}_product_id_products", type_="foreignkey")
            batch_op.create_foreign_key(f"fk_{table}_warehouse_id_stock_balances", "stock_balances",
                                        ["warehouse_id", "product_id"], ["warehouse_id", "product_id"])
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movements_lot_id")
        batch_op.create_index("ix_stock_movements_lot_id", ["lot_id"], unique=False,
                              postgresql_where=sa.text("lot_id IS NOT NULL"),
                              sqlite_where=sa.text("lot_id IS NOT NULL"))
    if bind.dialect.name == "postgresql":
        op.execute("ANALYZE stock_movements, stock_reservations, stock_balances")


def downgrade():
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movements_lot_id")
        batch_op.create_index("ix_stock_movements_lot_id", ["lot_id"], unique=False)
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_warehouse_id_stock_balances", type_="foreignkey")
            batch_op.create_foreign_key(f"fk_{table}_warehouse_id_warehouses", "warehouses", ["warehouse_id"], ["id"])
            batch_op.create_foreign_key(f"fk_{table}_product_id_products", "products", ["product_id"], ["id"])
