"""stock_reserve(): every row reached through its key, whatever the statistics when the plan was made

Revision ID: h17_stock_reserve_keyed
Revises: h16_catalog_version
Create Date: 2026-12-07 22:20:00

The function plans each statement once per connection (h15res_stock_reserve_generic) and keeps
that plan for the connection's life (up to 30 minutes in the pool). A connection whose first
reservation came while stock_reservations was empty or nearly so (a new installation, a test
database, a benchmark that had just cleared it) kept sequential scans of it and a hash join that
read every reservation (the update of the document's own ones), so each reservation cost more as
the table grew: 0.90 against 0.50 ms of backend CPU per reservation in bench/reserve_rate.py.

Now the function runs with enable_seqscan off, so every table it reads is read through an index
whatever the planner believed when it planned; the document's own reservations are updated by
their ids (id = ANY) and the balances by their key (warehouse, product = ANY), not through joins
with the arrays, whose plans could read every reservation or every balance row of the warehouse.
A keyed UPDATE per product in a loop was tried too: the same figures for one product, 0.25 ms
more backend CPU for 20 (a statement's overhead each). Same locks in the same order, same checks,
same rows written, the bounds still read by a statement that starts after the balances are locked.
"""
import importlib.util
import os

from alembic import op


revision = 'h17_stock_reserve_keyed'
down_revision = 'h16_catalog_version'
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
SET enable_seqscan = off
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
    -- The rows by their key (warehouse, product = ANY), each product's quantity by its position
    -- in the arrays: not a join with the arrays, whose plan may read every row of the warehouse.
    WITH changed AS (
        UPDATE stock_balances b
        SET reserved = b.reserved + p_qty[array_position(p_products, b.product_id)], version = b.version + 1,
            updated_at = p_now
        WHERE b.warehouse_id = p_warehouse AND b.product_id = ANY (p_products)
          AND b.reserved + p_qty[array_position(p_products, b.product_id)] >= 0
          AND b.on_hand - b.reserved - p_qty[array_position(p_products, b.product_id)] >= 0
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
        -- once each, and write nothing when `verdict` says no. The document's own reservations
        -- are updated by their ids (id = ANY), not through a join with `bounds`.
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
            SET qty = s.qty + (SELECT b.qty FROM bounds b WHERE b.own = s.id),
                min_expiry_date = GREATEST(s.min_expiry_date, (SELECT b.cutoff FROM bounds b WHERE b.own = s.id))
            WHERE s.id = ANY (ARRAY(SELECT b.own FROM bounds b, verdict v WHERE v.fit AND b.own IS NOT NULL))
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
        # CREATE OR REPLACE sets the function's settings anew: enable_seqscan goes with the body.
        path = os.path.join(os.path.dirname(__file__), "h15res_stock_reserve_generic.py")
        spec = importlib.util.spec_from_file_location("h15res_stock_reserve_generic", path)
        previous = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(previous)
        op.execute(previous.FUNCTION)
