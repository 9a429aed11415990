"""stock_reserve(): one reservation in one round trip (PostgreSQL); open reservations indexed by cut-off

Revision ID: h15_stock_reserve
Revises: analytics_sales_events
Create Date: 2026-12-07 02:30:00

A PL/pgSQL function that does what app/services/inventory/reservations.py's `reserve_stock`
does in three statements: the conditional update of the balances (locked in ascending product
id), the expiry bounds read after the lock and, when every product was taken and every lot with
stock suits every open reservation and the new one, the reservations and the ledger lines. It
returns, per product taken, its available stock after and its reorder point (for the
below-reorder event) and whether it wrote; when it did not, the service goes on in Python from
the balance update (as on SQLite, which keeps the Python path and gets no function).

The index on (warehouse, product) of stock_reservations becomes one on (warehouse, product,
cut-off) of the open reservations (qty > 0): every query by warehouse and product asks for open
ones, and the latest cut-off of a product's open reservations is then one index entry instead of
a scan over every reservation it ever had (shipped ones stay, with qty 0).
"""
from alembic import op
import sqlalchemy as sa


revision = 'h15_stock_reserve'
down_revision = "analytics_sales_events"
branch_labels = None
depends_on = None

# Each statement of a (volatile) PL/pgSQL function takes a fresh snapshot under READ COMMITTED:
# the bounds are read after the balance rows are locked, so they see what a competitor that
# held the lock committed, like the Python path's separate statements.
FUNCTION = """
CREATE OR REPLACE FUNCTION stock_reserve(
    p_warehouse integer, p_products integer[], p_qty integer[], p_cutoffs date[], p_document varchar,
    p_now timestamptz, p_kind varchar, p_actor integer, p_reason varchar, p_reason_message json)
RETURNS TABLE (product_id integer, available integer, reorder_point integer, written boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_products integer[];
    v_available integer[];
    v_points integer[];
    v_own integer[];
    v_fit boolean := false;
BEGIN
    -- p_products ascending (the caller sorts): the order every stock change locks balances in.
    IF cardinality(p_products) > 1 THEN
        PERFORM 1 FROM stock_balances b
        WHERE b.warehouse_id = p_warehouse AND b.product_id = ANY (p_products)
        ORDER BY b.product_id FOR UPDATE;
    END IF;
    WITH changed AS (
        UPDATE stock_balances b
        SET reserved = b.reserved + w.qty, version = b.version + 1, updated_at = p_now
        FROM unnest(p_products, p_qty) AS w (product_id, qty)
        WHERE b.warehouse_id = p_warehouse AND b.product_id = w.product_id
          AND b.reserved + w.qty >= 0 AND b.on_hand - b.reserved - w.qty >= 0
        RETURNING b.product_id, b.on_hand - b.reserved AS available,
                  (SELECT r.reorder_point FROM reorder_rules r
                   WHERE r.warehouse_id = b.warehouse_id AND r.product_id = b.product_id) AS point)
    SELECT array_agg(c.product_id ORDER BY c.product_id), array_agg(c.available ORDER BY c.product_id),
           array_agg(c.point ORDER BY c.product_id)
    INTO v_products, v_available, v_points
    FROM changed c;

    IF cardinality(v_products) = cardinality(p_products) THEN
        -- Every product taken (so v_products = p_products). Fit when, for each, the earliest lot
        -- with stock expires no sooner than the latest cut-off of its open reservations and ours.
        SELECT array_agg(b.own ORDER BY b.n),
               bool_and(b.lot_min IS NOT NULL AND b.lot_min >= GREATEST(b.cutoff_max, b.cutoff))
        INTO v_own, v_fit
        FROM (SELECT w.n, w.cutoff,
                     (SELECT min(l.expiry_date) FROM stock_lots l
                      WHERE l.warehouse_id = p_warehouse AND l.product_id = w.pid AND l.on_hand > 0) AS lot_min,
                     (SELECT max(s.min_expiry_date) FROM stock_reservations s
                      WHERE s.warehouse_id = p_warehouse AND s.product_id = w.pid AND s.qty > 0) AS cutoff_max,
                     (SELECT s.id FROM stock_reservations s
                      WHERE s.document = p_document AND s.warehouse_id = p_warehouse AND s.product_id = w.pid) AS own
              FROM unnest(p_products, p_cutoffs) WITH ORDINALITY AS w (pid, cutoff, n)) b;
    END IF;
    IF v_fit THEN
        IF cardinality(array_remove(v_own, NULL)) > 0 THEN
            UPDATE stock_reservations s
            SET qty = s.qty + w.qty, min_expiry_date = GREATEST(s.min_expiry_date, w.cutoff)
            FROM unnest(v_own, p_qty, p_cutoffs) AS w (id, qty, cutoff)
            WHERE s.id = w.id;
        END IF;
        INSERT INTO stock_reservations (document, warehouse_id, product_id, qty, min_expiry_date, created_at)
        SELECT p_document, p_warehouse, w.pid, w.qty, w.cutoff, p_now
        FROM unnest(p_products, p_qty, p_cutoffs, v_own) AS w (pid, qty, cutoff, own)
        WHERE w.own IS NULL;
        INSERT INTO stock_movements (at, warehouse_id, product_id, lot_id, kind, on_hand_delta, reserved_delta,
                                     actor_id, reason, reason_message, document)
        SELECT p_now, p_warehouse, w.pid, NULL, p_kind, 0, w.qty, p_actor, p_reason, p_reason_message, p_document
        FROM unnest(p_products, p_qty) AS w (pid, qty);
    END IF;
    RETURN QUERY SELECT t.pid, t.available, t.point, v_fit
        FROM unnest(v_products, v_available, v_points) AS t (pid, available, point);
END $$
"""


def upgrade():
    with op.batch_alter_table('stock_reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_reservations_wh_product')
        batch_op.create_index('ix_stock_reservations_open', ['warehouse_id', 'product_id', 'min_expiry_date'],
                              unique=False, postgresql_where=sa.text('qty > 0'), sqlite_where=sa.text('qty > 0'))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS stock_reserve(integer, integer[], integer[], date[], varchar, timestamptz, "
                   "varchar, integer, varchar, json)")
    with op.batch_alter_table('stock_reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_reservations_open', postgresql_where=sa.text('qty > 0'),
                            sqlite_where=sa.text('qty > 0'))
        batch_op.create_index('ix_stock_reservations_wh_product', ['warehouse_id', 'product_id'], unique=False)
