"""A promotion's uplift against the demand forecast: what the promoted products sold during the
promotion against what the forecast expected for the same days without it.

The baseline is the newest finished forecast run whose history ends before the promotion's first
week and whose horizon reaches its last week, so the promotion's own weeks are never in the
history the baseline was fitted on (they are masked by construction; earlier promotions of the
same products do remain in that history). A promotion no such run covers has no forecast
baseline, and the page says so.

Measured in cases of retailer demand (net of cancelled and rejected orders, from the daily
facts) for the promoted products (all products for an order-level promotion), over the days from
the promotion's start to its end or yesterday, whichever is first; each forecast week counts for
the share of its days inside that window. A dealer's own promotion compares the dealer's sales
with its split of the forecast (app/services/forecasting/dealer_split.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Organisation, OrgKind, Product
from app.models.analytics import DemandForecast, ForecastRun, SalesDay
from app.services.forecasting.dealer_split import dealer_shares


@dataclass(frozen=True)
class ForecastBaseline:
    run: ForecastRun
    first_day: date
    last_day: date
    actual_qty: int
    forecast_qty: float

    @property
    def uplift_qty(self) -> float:
        return self.actual_qty - self.forecast_qty

    @property
    def uplift(self) -> float | None:
        """(actual − forecast) ÷ forecast, or None when the forecast expected nothing."""
        return None if self.forecast_qty <= 0 else self.uplift_qty / self.forecast_qty


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def covering_run(first_day: date, last_day: date) -> ForecastRun | None:
    first_week, last_week = _monday(first_day), _monday(last_day)
    runs = db.session.scalars(select(ForecastRun).where(ForecastRun.finished_at.is_not(None),
                                                        ForecastRun.history_to < first_week)
                              .order_by(ForecastRun.history_to.desc(), ForecastRun.id.desc()).limit(1))
    run = runs.first()
    if run is None or run.history_to + timedelta(weeks=run.horizon) < last_week:
        return None
    return run


def promotion_baseline(product_ids: list[int], category_ids: list[int], first_day: date, last_day: date,
                       owner_id: int | None = None) -> ForecastBaseline | None:
    """The forecast baseline of the days [first_day, last_day] for a promotion of `owner_id` (the
    brand, or a dealer: its own sales and split), or None when no run covers them."""
    if last_day < first_day:
        return None
    run = covering_run(first_day, last_day)
    if run is None:
        return None
    owner = db.session.get(Organisation, owner_id) if owner_id is not None else None
    seller_id = owner.id if owner is not None and owner.kind == OrgKind.DEALER.value else None
    products = set(product_ids or [])
    if category_ids:
        products |= set(db.session.scalars(select(Product.id).where(Product.category_id.in_(category_ids))))
    everything = not product_ids and not category_ids
    forecast_query = (select(DemandForecast.product_id, DemandForecast.province_id, DemandForecast.week,
                             DemandForecast.qty)
                      .where(DemandForecast.run_id == run.id,
                             DemandForecast.week.between(_monday(first_day), _monday(last_day))))
    actual_query = select(func.coalesce(func.sum(SalesDay.qty - SalesDay.lost_qty), 0)).where(
        SalesDay.day.between(first_day, last_day), SalesDay.channel != "dealer")
    if not everything:
        forecast_query = forecast_query.where(DemandForecast.product_id.in_(sorted(products) or [-1]))
        actual_query = actual_query.where(SalesDay.product_id.in_(sorted(products) or [-1]))
    shares = None
    if seller_id is not None:
        shares = dealer_shares(seller_id, run)
        actual_query = actual_query.where(SalesDay.seller_id == seller_id)
    forecast = 0.0
    for product_id, province_id, week, qty in db.session.execute(forecast_query):
        week = date.fromisoformat(week) if isinstance(week, str) else week
        days_inside = (min(week + timedelta(days=6), last_day) - max(week, first_day)).days + 1
        share = 1.0 if shares is None else shares.get((product_id, province_id), 0.0)
        forecast += float(qty) * share * days_inside / 7
    actual = int(db.session.scalar(actual_query) or 0)
    return ForecastBaseline(run, first_day, last_day, actual, forecast)
