"""Safety stock and reorder points computed from recent demand.

For each product in a warehouse, over the last `days` days (default 90) of shipments to
customers (ledger `ship` movements; days without any count as zero demand):

    d̄  = average daily demand (sales units per day)
    σ  = standard deviation of daily demand
    L  = lead time in days (the rule's own, else 7)
    z  = safety factor (default 1.65, about a 95 % chance of not running out during L)

    safety stock   SS  = ⌈ z × σ × √L ⌉
    reorder point  ROP = ⌈ d̄ × L ⌉ + SS

Where a demand forecast exists for the warehouse's owner and product, d̄ and the safety stock
come from the forecast and its measured error instead (`method = forecast`; see
app/services/forecasting/replenishment.py); the history rule above is the fallback.

Rules set by hand (`method = manual`) are left alone unless `overwrite_manual` is given.
"""
from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import MovementKind, ReorderRule, StockMovement, Warehouse
from app.services.core import audit
from app.services.inventory.daysql import as_date, local_day, start_of_local_day
from app.services.core.clock import today_local

DEFAULT_LEAD_TIME_DAYS = 7
DEFAULT_SAFETY_FACTOR = 1.65


def reorder_levels(daily: list[int], lead_time_days: int, z: float) -> tuple[int, int, float, float]:
    """(safety stock, reorder point, mean, std) for a series of daily demands."""
    n = len(daily)
    mean = sum(daily) / n if n else 0.0
    std = math.sqrt(sum((x - mean) ** 2 for x in daily) / (n - 1)) if n > 1 else 0.0
    safety = math.ceil(z * std * math.sqrt(lead_time_days) - 1e-9)
    return safety, math.ceil(mean * lead_time_days - 1e-9) + safety, mean, std


def daily_demand(warehouse_id: int, days: int) -> dict[int, dict]:
    """{product_id: {day: qty shipped}} over the last `days` full days."""
    end = today_local()
    start = end - timedelta(days=days)
    day = local_day(StockMovement.at)
    rows = db.session.execute(
        select(StockMovement.product_id, day, -func.sum(StockMovement.on_hand_delta))
        .where(StockMovement.warehouse_id == warehouse_id, StockMovement.kind == MovementKind.SHIP.value,
               StockMovement.at >= start_of_local_day(start), StockMovement.at < start_of_local_day(end))
        .group_by(StockMovement.product_id, day)).all()
    demand: dict[int, dict] = {}
    for product_id, d, qty in rows:
        demand.setdefault(product_id, {})[as_date(d)] = int(qty)
    return demand


def compute_reorder_rules(warehouse_id: int, *, actor_id: int | None, days: int = 90,
                          z: float = DEFAULT_SAFETY_FACTOR, overwrite_manual: bool = False,
                          product_ids: list[int] | None = None) -> int:
    """Recompute rules for products with demand (or an existing computed rule) in the window;
    returns how many rules were written."""
    from app.services.forecasting import replenishment as forecast_levels

    demand = daily_demand(warehouse_id, days)
    rules = {r.product_id: r for r in db.session.scalars(select(ReorderRule).where(ReorderRule.warehouse_id == warehouse_id))}
    warehouse = db.session.get(Warehouse, warehouse_id)
    forecasts = forecast_levels.owner_demand(warehouse.owner, DEFAULT_LEAD_TIME_DAYS) if warehouse else {}
    share = warehouse_share(warehouse, days) if forecasts else 1.0
    candidates = set(demand) | set(forecasts) | {pid for pid, r in rules.items() if r.method in ("computed", "forecast")}
    if product_ids is not None:
        candidates &= set(product_ids)
    start = today_local() - timedelta(days=days)
    written = 0
    for product_id in sorted(candidates):
        rule = rules.get(product_id)
        if rule is not None and rule.method == "manual" and not overwrite_manual:
            continue
        by_day = demand.get(product_id, {})
        series = [by_day.get(start + timedelta(days=i), 0) for i in range(days)]
        lead = rule.lead_time_days if rule is not None else DEFAULT_LEAD_TIME_DAYS
        predicted = forecasts.get(product_id)
        if predicted is not None:
            if lead != DEFAULT_LEAD_TIME_DAYS:
                predicted = forecast_levels.owner_demand(warehouse.owner, lead).get(product_id, predicted)
            predicted = forecast_levels.ForecastDemand(predicted.mean * share, predicted.sigma * share)
            safety, reorder_point = forecast_levels.reorder_levels(predicted, lead, z)
            mean, std, method = predicted.mean, predicted.sigma, "forecast"
        else:
            safety, reorder_point, mean, std = reorder_levels(series, lead, z)
            method = "computed"
        if rule is None:
            rule = ReorderRule(warehouse_id=warehouse_id, product_id=product_id, lead_time_days=lead)
            db.session.add(rule)
        rule.safety_stock, rule.reorder_point = safety, reorder_point
        rule.avg_daily_demand, rule.demand_std, rule.method = round(mean, 3), round(std, 3), method
        written += 1
    db.session.flush()
    audit.record(actor_id, "stock.reorder_rules.compute", "warehouse", warehouse_id, None,
                 {"rules": written, "days": days, "z": z})
    return written


def warehouse_share(warehouse: Warehouse, days: int) -> float:
    """The part of its owner's shipments this warehouse made over the last `days` days (1 when
    the owner has one active warehouse, or shipped nothing)."""
    siblings = list(db.session.scalars(select(Warehouse.id).where(Warehouse.owner_id == warehouse.owner_id,
                                                                  Warehouse.active.is_(True))))
    if len(siblings) <= 1:
        return 1.0
    start = start_of_local_day(today_local() - timedelta(days=days))
    shipped = dict(db.session.execute(
        select(StockMovement.warehouse_id, -func.sum(StockMovement.on_hand_delta))
        .where(StockMovement.warehouse_id.in_(siblings), StockMovement.kind == MovementKind.SHIP.value,
               StockMovement.at >= start).group_by(StockMovement.warehouse_id)).all())
    total = sum(float(v or 0) for v in shipped.values())
    return 1.0 / len(siblings) if total <= 0 else float(shipped.get(warehouse.id) or 0) / total
