"""stock_reserve(): one reservation in one round trip (PostgreSQL only)

Revision ID: h15_stock_reserve_function
Revises: analytics_sales_events
Create Date: 2026-12-07 02:30:00

A PL/pgSQL function that does what app/services/inventory/reservations.py's `reserve_stock`
does in three statements: the conditional update of the balances (locked in ascending product
id), the expiry bounds read after the lock, and, when every product was taken and every lot
suits every reservation, the reservations and the ledger lines. It returns, per product taken,
its available stock after and its reorder point (for the below-reorder event), and whether it
wrote; when it did not, the service goes on in Python from the balance update. SQLite keeps the Python path; the function is replaced as a whole
(CREATE OR REPLACE), so a later revision can change its body the same way.
"""
from alembic import op


revision = 'h15_stock_reserve_function'
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
    v_lot_min date[];
    v_cutoff_max date[];
    v_own integer[];
    v_written boolean;
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
    IF v_products IS NULL THEN
        RETURN;
    END IF;

    SELECT array_agg((SELECT min(l.expiry_date) FROM stock_lots l
                      WHERE l.warehouse_id = p_warehouse AND l.product_id = t.pid AND l.on_hand > 0) ORDER BY t.n),
           array_agg((SELECT max(s.min_expiry_date) FROM stock_reservations s
                      WHERE s.warehouse_id = p_warehouse AND s.product_id = t.pid AND s.qty > 0) ORDER BY t.n),
           array_agg((SELECT s.id FROM stock_reservations s
                      WHERE s.document = p_document AND s.warehouse_id = p_warehouse AND s.product_id = t.pid)
                     ORDER BY t.n)
    INTO v_lot_min, v_cutoff_max, v_own
    FROM unnest(v_products) WITH ORDINALITY AS t (pid, n);

    -- Written only when every product was taken and, for each, every lot with stock suits every
    -- open reservation and the new one (else the service decides, in Python, as on SQLite).
    v_written := cardinality(v_products) = cardinality(p_products) AND NOT EXISTS (
        SELECT 1 FROM unnest(v_products, v_lot_min, v_cutoff_max) AS t (pid, lot_min, cutoff_max)
        JOIN unnest(p_products, p_cutoffs) AS w (pid, cutoff) ON w.pid = t.pid
        WHERE t.lot_min IS NULL OR t.lot_min < GREATEST(t.cutoff_max, w.cutoff));
    IF v_written THEN
        UPDATE stock_reservations s
        SET qty = s.qty + w.qty, min_expiry_date = GREATEST(s.min_expiry_date, w.cutoff)
        FROM unnest(v_own, p_qty, p_cutoffs) AS w (id, qty, cutoff)
        WHERE s.id = w.id;
        INSERT INTO stock_reservations (document, warehouse_id, product_id, qty, min_expiry_date, created_at)
        SELECT p_document, p_warehouse, w.pid, w.qty, w.cutoff, p_now
        FROM unnest(p_products, p_qty, p_cutoffs, v_own) AS w (pid, qty, cutoff, own)
        WHERE w.own IS NULL;
        INSERT INTO stock_movements (at, warehouse_id, product_id, lot_id, kind, on_hand_delta, reserved_delta,
                                     actor_id, reason, reason_message, document)
        SELECT p_now, p_warehouse, w.pid, NULL, p_kind, 0, w.qty, p_actor, p_reason, p_reason_message, p_document
        FROM unnest(p_products, p_qty) AS w (pid, qty);
    END IF;
    RETURN QUERY SELECT t.pid, t.available, t.point, v_written
        FROM unnest(v_products, v_available, v_points) AS t (pid, available, point);
END $$
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS stock_reserve(integer, integer[], integer[], date[], varchar, timestamptz, "
                   "varchar, integer, varchar, json)")
