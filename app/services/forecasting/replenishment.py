"""Reorder levels from the demand forecast, for the warehouses of a dealer (or the brand).

A dealer's weekly demand for a product is the forecast of each province it sells in times its
trailing share of that province's retailer demand (app/services/forecasting/dealer_split.py: its
net sales of the product there over the last 13 weeks, divided by all dealers' net sales there,
the split its forecast page shows); the brand's is the whole forecast. A warehouse takes the part of its owner's demand that it shipped over the window
(`warehouse_share`; all of it when the owner has one warehouse).

For a lead time of L days:

    d̄  = forecast demand over the next ⌈L / 7⌉ weeks, per day
    σ  = forecast error per day: 1.25 × MAE per week / √7, where MAE per week = WAPE × the
         series' average weekly demand (1.25 × MAE approximates the standard deviation of
         normally distributed errors)
    SS  = ⌈ z × σ × √L ⌉        ROP = ⌈ d̄ × L ⌉ + SS

so safety stock follows how wrong the forecast has measured to be, not how noisy past demand
was. Series without a backtest (too short) fall back to the demand-history rule.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Organisation, OrgKind
from app.models.analytics import DemandForecast, ForecastSeries
from app.services.forecasting.dealer_split import dealer_shares
from app.services.forecasting.demand import latest_run

NORMAL_MAE_TO_SIGMA = 1.25


@dataclass(frozen=True)
class ForecastDemand:
    """Per day, for one owner (dealer or brand) and product."""
    mean: float
    sigma: float


def owner_demand(owner: Organisation, lead_time_days: int) -> dict[int, ForecastDemand]:
    """{product_id: ForecastDemand} for the owner from the latest forecast run ({} without one)."""
    run = latest_run()
    if run is None:
        return {}
    weeks = max(1, math.ceil(lead_time_days / 7))
    horizon_end = run.history_to + timedelta(weeks=weeks)
    shares: dict[tuple[int, int], float] | None = None
    if owner.kind == OrgKind.DEALER.value:
        shares = dealer_shares(owner.id, run)
        if not shares:
            return {}
    series = db.session.execute(
        select(ForecastSeries.product_id, ForecastSeries.province_id, ForecastSeries.wape, ForecastSeries.history_qty,
               ForecastSeries.history_weeks).where(ForecastSeries.run_id == run.id)).all()
    ahead = db.session.execute(
        select(DemandForecast.product_id, DemandForecast.province_id, func.sum(DemandForecast.qty))
        .where(DemandForecast.run_id == run.id, DemandForecast.week <= horizon_end)
        .group_by(DemandForecast.product_id, DemandForecast.province_id)).all()
    forecast = {(p, r): float(q) for p, r, q in ahead}
    means: dict[int, float] = {}
    variances: dict[int, float] = {}
    missing_error: set[int] = set()
    for product_id, province_id, wape, history_qty, history_weeks in series:
        share = 1.0 if shares is None else shares.get((product_id, province_id), 0.0)
        if share <= 0:
            continue
        means[product_id] = means.get(product_id, 0.0) + forecast.get((product_id, province_id), 0.0) * share / (7 * weeks)
        if wape is None:
            missing_error.add(product_id)
            continue
        mae_week = wape * (history_qty / max(1, history_weeks)) * share
        sigma_day = NORMAL_MAE_TO_SIGMA * mae_week / math.sqrt(7)
        variances[product_id] = variances.get(product_id, 0.0) + sigma_day ** 2  # provinces' errors independent
    return {p: ForecastDemand(mean, math.sqrt(variances.get(p, 0.0)))
            for p, mean in means.items() if p not in missing_error}


def reorder_levels(demand: ForecastDemand, lead_time_days: int, z: float) -> tuple[int, int]:
    """(safety stock, reorder point) for a forecast demand and a lead time."""
    safety = math.ceil(z * demand.sigma * math.sqrt(lead_time_days) - 1e-9)
    return safety, math.ceil(demand.mean * lead_time_days - 1e-9) + safety
