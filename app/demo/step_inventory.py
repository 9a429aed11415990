"""Demo step "inventory" (after "orders"): warehouses, lots, about fifteen weeks of stock ledger,
balances, reorder rules, standard costs and shelf-life rules.

- The brand has two distribution centres (Shanghai, default; and a western one); every dealer
  has a warehouse, and every eighth dealer a second, smaller one (so transfer suggestions have
  something to suggest).
- Per warehouse and active product: an older lot received up to eight weeks ago that weekly
  shipments have been drawing down, and usually a fresh lot received this week. About one pair
  in twelve is left at or below its reorder point and one in twenty-five holds a lot that
  expires within a few weeks, so the low-stock and near-expiry pages and alerts show something.
- Before that older lot, earlier lots back to LEDGER_DAYS ago (so the turnover report's default
  90 days is all ledger), each drawn down to nothing by weekly shipments; the next one usually
  arrives the day the last one runs out, but each pair has its own reliability and sometimes
  waits a few days empty, so stock-out rates vary from 0 to about a third, as in real books.
- Every number is in the ledger: balances and lots equal the sum of their movements, so
  `flask stock verify` passes on the demo data. Nothing is reserved (orders reserve at approval).
- Reorder rules are written as if computed from that demand (method "computed"), with the
  formula in app/services/inventory/safety.py.
"""
from __future__ import annotations

import json
import math
from datetime import date, timedelta

from sqlalchemy import select

from app.demo.builder import register_step
from app.extensions import db
from app.models import Product
from app.services.inventory.daysql import start_of_local_day
from app.services.inventory.safety import DEFAULT_LEAD_TIME_DAYS, DEFAULT_SAFETY_FACTOR

HISTORY_WEEKS = 8
LEDGER_DAYS = 105
CHUNK_WAREHOUSES = 40
LOW_SHARE, NEAR_EXPIRY_SHARE = 1 / 12, 1 / 25
SECOND_WAREHOUSE_EVERY = 8
MOVEMENT_COLUMNS = ("id", "at", "warehouse_id", "product_id", "lot_id", "kind", "on_hand_delta", "reserved_delta",
                    "actor_id", "reason_message", "document")
# Movement reasons the system writes are messages (app/services/core/messages.py), as JSON text.
RECEIVED = json.dumps({"code": "stock.received", "params": {}})
SHIPPED = json.dumps({"code": "stock.shipped", "params": {}})
LOT_COLUMNS = ("id", "warehouse_id", "product_id", "batch_no", "production_date", "expiry_date", "on_hand",
               "received_at")


def build_inventory(ctx) -> None:
    loader, rng = ctx.loader, ctx.rng
    products = db.session.execute(select(Product.id, Product.shelf_life_days, Product.base_price_fen)
                                  .where(Product.status == "active").order_by(Product.id)).all()
    popularity = {p.id: p.popularity for p in ctx.products}
    warehouses = _warehouses(ctx)
    loader.load("product_costs", ("product_id", "cost_fen"),
                [(pid, round(price * rng.uniform(0.55, 0.7))) for pid, _shelf, price in products])
    rules = [(1, "超市：剩余保质期不少于三分之一", "retailer", None, "supermarket", 34),
             (2, "便利店：剩余保质期不少于四分之一", "retailer", None, "convenience", 25)]
    loader.allocate_ids("shelf_life_rules", len(rules))
    loader.load("shelf_life_rules", ("id", "name", "audience", "tier", "channel", "min_remaining_pct"), rules)

    for start in range(0, len(warehouses), CHUNK_WAREHOUSES):
        lots, movements, balances, reorder = [], [], [], []
        for warehouse_id, size, assortment in warehouses[start:start + CHUNK_WAREHOUSES]:
            for product_id, shelf_life, _price in products:
                if assortment < 1 and rng.random() > assortment * (0.5 + popularity.get(product_id, 1) / 10):
                    continue
                weekly = max(1, round(popularity.get(product_id, 1.0) * size * rng.uniform(0.6, 1.4)))
                _stock_pair(ctx.today, rng, warehouse_id, product_id, shelf_life, weekly, lots, movements,
                            balances, reorder)
        lot_ids = iter(loader.allocate_ids("stock_lots", len(lots)))
        lot_id_of = {}
        lot_rows = []
        for key, row in lots:
            lot_id_of[key] = next(lot_ids)
            lot_rows.append((lot_id_of[key], *row))
        loader.load("stock_lots", LOT_COLUMNS, lot_rows)
        movement_ids = loader.allocate_ids("stock_movements", len(movements))
        loader.load("stock_movements", MOVEMENT_COLUMNS,
                    ((mid, at, w, p, lot_id_of[lot_key], kind, delta, 0, None, reason, document)
                     for mid, (at, w, p, lot_key, kind, delta, reason, document) in zip(movement_ids, movements)))
        loader.load("stock_balances", ("warehouse_id", "product_id", "on_hand", "reserved"), balances)
        loader.load("reorder_rules", ("warehouse_id", "product_id", "safety_stock", "reorder_point", "lead_time_days",
                                      "method", "avg_daily_demand", "demand_std"), reorder)


def _warehouses(ctx) -> list[tuple[int, float, float]]:
    """Create the warehouses; (id, weekly demand scale, share of the catalogue stocked)."""
    rows, plan = [], []
    provinces = list(ctx.province_ids.values())
    west = ctx.province_ids.get("四川省", provinces[-1])
    brand = [("DC-SH", "华东配送中心（上海）", ctx.province_ids["上海市"], True), ("DC-CD", "西部配送中心（成都）", west, False)]
    for code, name, region_id, default in brand:
        rows.append((code, name, ctx.brand_id, region_id, default, max(4.0, len(ctx.dealers) / 6), 1.0))
    for dealer in ctx.dealers:
        size = max(0.6, (dealer.retailer_count or 40) / 60)
        rows.append((f"W{dealer.code}", f"{dealer.code} 主仓", dealer.id, dealer.region_id, True, size, 1.0))
        if dealer.index % SECOND_WAREHOUSE_EVERY == SECOND_WAREHOUSE_EVERY - 1:
            rows.append((f"W{dealer.code}-2", f"{dealer.code} 二仓", dealer.id, dealer.region_id, False, size / 3, 0.35))
    ids = ctx.loader.allocate_ids("warehouses", len(rows))
    ctx.loader.load("warehouses", ("id", "code", "name", "owner_id", "region_id", "address", "is_default", "active"),
                    [(wid, code, name, owner, region, "", default, True)
                     for wid, (code, name, owner, region, default, _s, _a) in zip(ids, rows)])
    for wid, (_c, _n, _o, _r, _d, size, assortment) in zip(ids, rows):
        plan.append((wid, size, assortment))
    return plan


def _at(today: date, day_offset: int, hour: int):
    return start_of_local_day(today + timedelta(days=day_offset)) + timedelta(hours=hour)


def _stock_pair(today, rng, warehouse_id, product_id, shelf_life, weekly, lots, movements, balances, reorder) -> None:
    """One warehouse × product: an older lot drawn down by weekly shipments, a fresh lot, a rule."""
    low, near_expiry = rng.random() < LOW_SHARE, rng.random() < NEAR_EXPIRY_SHARE
    received_day = -min(HISTORY_WEEKS * 7 - 1, max(7, shelf_life // 2))
    produced = today + timedelta(days=received_day - rng.randint(2, 10))
    expiry = produced + timedelta(days=shelf_life)
    if near_expiry:
        expiry = today + timedelta(days=rng.randint(3, 25))
        produced = expiry - timedelta(days=shelf_life)
    shipments = []
    for week in range(HISTORY_WEEKS):
        day = -(7 * week + rng.randint(1, 7))
        if day > received_day:
            shipments.append((day, max(1, round(weekly * rng.uniform(0.5, 1.5)))))
    shipped = sum(q for _d, q in shipments)
    daily = weekly / 7
    std = daily * 1.2
    safety = math.ceil(DEFAULT_SAFETY_FACTOR * std * math.sqrt(DEFAULT_LEAD_TIME_DAYS))
    reorder_point = math.ceil(daily * DEFAULT_LEAD_TIME_DAYS) + safety
    left_a = rng.randint(0, max(1, reorder_point // 2)) if low else rng.randint(weekly, 3 * weekly)
    old_key, fresh_key = (warehouse_id, product_id, "A"), (warehouse_id, product_id, "B")
    batch = f"{produced:%y%m%d}-{product_id % 1000:03d}-1"
    lots.append((old_key, (warehouse_id, product_id, batch, produced, expiry, left_a, _at(today, received_day, 9))))
    document = f"demo:receipt:{warehouse_id}"
    movements.append((_at(today, received_day, 9), warehouse_id, product_id, old_key, "receipt", left_a + shipped,
                      RECEIVED, document))
    for day, qty in sorted(shipments):
        movements.append((_at(today, day, 15), warehouse_id, product_id, old_key, "ship", -qty, SHIPPED,
                          f"demo:shipment:{warehouse_id}:{day}"))
    _earlier_lots(today, rng, warehouse_id, product_id, shelf_life, weekly, received_day, lots, movements)
    on_hand = left_a
    if not low:
        fresh_day = -rng.randint(1, 6)
        fresh_produced = today + timedelta(days=fresh_day - 2)
        qty = weekly * rng.randint(1, 3)
        lots.append((fresh_key, (warehouse_id, product_id, f"{fresh_produced:%y%m%d}-{product_id % 1000:03d}-2",
                                 fresh_produced, fresh_produced + timedelta(days=shelf_life), qty,
                                 _at(today, fresh_day, 10))))
        movements.append((_at(today, fresh_day, 10), warehouse_id, product_id, fresh_key, "receipt", qty, RECEIVED,
                          document))
        on_hand += qty
    balances.append((warehouse_id, product_id, on_hand, 0))
    reorder.append((warehouse_id, product_id, safety, reorder_point, DEFAULT_LEAD_TIME_DAYS, "computed",
                    round(daily, 3), round(std, 3)))


def _earlier_lots(today, rng, warehouse_id, product_id, shelf_life, weekly, received_day, lots, movements) -> None:
    """Lots received before `received_day` back to LEDGER_DAYS ago, each shipped out completely;
    between one running out and the next arriving the pair has nothing available."""
    cycle = max(7, min(HISTORY_WEEKS * 7 - 1, shelf_life // 2))
    reliability = rng.random()  # a well-run pair almost never waits for stock; a poor one often
    arrival, number = received_day, 0
    while arrival > -LEDGER_DAYS:
        number += 1
        received = arrival - cycle
        gap = rng.randint(1, max(1, min(12, cycle // 2))) if rng.random() > 0.45 + 0.55 * reliability else 0
        empty_from = arrival - gap  # the day the last shipment empties the lot
        ship_days = sorted({d for d in range(received + rng.randint(1, 3), empty_from, 7)} | {empty_from})
        quantities = [max(1, round(weekly * rng.uniform(0.5, 1.5))) for _d in ship_days]
        key = (warehouse_id, product_id, f"H{number}")
        produced = today + timedelta(days=received - rng.randint(2, 10))
        lots.append((key, (warehouse_id, product_id, f"{produced:%y%m%d}-{product_id % 1000:03d}-0{number}",
                           produced, produced + timedelta(days=shelf_life), 0, _at(today, received, 9))))
        movements.append((_at(today, received, 9), warehouse_id, product_id, key, "receipt", sum(quantities),
                          RECEIVED, f"demo:receipt:{warehouse_id}"))
        for day, qty in zip(ship_days, quantities):
            movements.append((_at(today, day, 15), warehouse_id, product_id, key, "ship", -qty, SHIPPED,
                              f"demo:shipment:{warehouse_id}:{day}"))
        arrival = received


register_step("inventory", build_inventory, after="orders",
              bulk_tables=("stock_lots", "stock_movements", "stock_balances", "reorder_rules"))
