"""stock_reserve(): generic plans, and the reservation and ledger lines written by one statement

Revision ID: h15res_stock_reserve_generic
Revises: h13c_range_series
Create Date: 2026-12-07 16:15:00

The function of h15_stock_reserve re-planned its statements on every call: PL/pgSQL's plan
cache kept choosing custom plans (its parameters are the function's arguments), and planning
was a third of the backend's CPU per reservation. `plan_cache_mode = force_generic_plan` (for
this function only) plans each statement once per connection. The bounds and the writes (adding
to an open reservation of the document, the new reservations, the ledger lines) are one
statement with data-modifying CTEs instead of four, and the earliest lot's expiry is looked up
once per product instead of twice. Same locks, same order, same checks, the bounds still read
by a statement that starts after the balances are locked.
"""
import importlib.util
import os

from alembic import op


revision = 'h15res_stock_reserve_generic'
down_revision = 'h13c_range_series'
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
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_products integer[];
    v_available integer[];
    v_points integer[];
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
        -- with stock expires no sooner than the latest cut-off of its open reservations and ours
        -- (no lot with stock: not fit). Read by a new statement (a snapshot taken after the locks),
        -- and written by the same one when every product fits: data-modifying CTEs run exactly
        -- once each, and write nothing when `verdict` says no.
        WITH bounds AS MATERIALIZED (
            SELECT w.pid, w.qty, w.cutoff,
                   (SELECT s.id FROM stock_reservations s WHERE s.document = p_document
                    AND s.warehouse_id = p_warehouse AND s.product_id = w.pid) AS own,
                   coalesce((SELECT min(l.expiry_date) FROM stock_lots l
                             WHERE l.warehouse_id = p_warehouse AND l.product_id = w.pid AND l.on_hand > 0)
                            >= GREATEST((SELECT max(s.min_expiry_date) FROM stock_reservations s
                                         WHERE s.warehouse_id = p_warehouse AND s.product_id = w.pid
                                           AND s.qty > 0), w.cutoff), false) AS fit
            FROM unnest(p_products, p_qty, p_cutoffs) AS w (pid, qty, cutoff)
        ), verdict AS (
            SELECT bool_and(b.fit) AS fit FROM bounds b
        ), added AS (
            UPDATE stock_reservations s
            SET qty = s.qty + b.qty, min_expiry_date = GREATEST(s.min_expiry_date, b.cutoff)
            FROM bounds b, verdict v
            WHERE v.fit AND s.id = b.own
        ), created AS (
            INSERT INTO stock_reservations (document, warehouse_id, product_id, qty, min_expiry_date, created_at)
            SELECT p_document, p_warehouse, b.pid, b.qty, b.cutoff, p_now
            FROM bounds b, verdict v
            WHERE v.fit AND b.own IS NULL
        ), recorded AS (
            INSERT INTO stock_movements (at, warehouse_id, product_id, lot_id, kind, on_hand_delta, reserved_delta,
                                         actor_id, reason, reason_message, document)
            SELECT p_now, p_warehouse, b.pid, NULL, p_kind, 0, b.qty, p_actor, p_reason, p_reason_message, p_document
            FROM bounds b, verdict v
            WHERE v.fit
        )
        SELECT v.fit INTO v_fit FROM verdict v;
    END IF;
    RETURN QUERY SELECT t.pid, t.available, t.point, v_fit
        FROM unnest(v_products, v_available, v_points) AS t (pid, available, point);
END $$
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        path = os.path.join(os.path.dirname(__file__), "h15_stock_reserve.py")
        spec = importlib.util.spec_from_file_location("h15_stock_reserve", path)
        previous = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(previous)
        op.execute(previous.FUNCTION)
        op.execute("ALTER FUNCTION stock_reserve(integer, integer[], integer[], date[], varchar, timestamptz, "
                   "varchar, integer, varchar, json) RESET plan_cache_mode")
