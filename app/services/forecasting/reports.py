"""What the forecast page shows: the latest run, its series with their accuracy, one series'
history against its forecast, and the accuracy of earlier runs against what really happened."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import Product, Region
from app.models.analytics import DemandForecast, ForecastRun, ForecastSeries, SalesDay
from app.services.core.paging import paginate
from app.services.forecasting.demand import latest_run, week_start


@dataclass(frozen=True)
class PastAccuracy:
    """An earlier run against the weeks that have closed since: Σ|forecast − actual| / Σ actual."""
    run: ForecastRun
    weeks: int
    forecast: float
    actual: float
    error: float

    @property
    def accuracy(self) -> float | None:
        return None if self.actual <= 0 else 1 - self.error / self.actual  # < 0 when WAPE > 100 %; never clamped to 0


def series_page(run: ForecastRun, search: str | None, province_id: int | None, page: int, per_page: int = 50):
    query = (select(ForecastSeries, Product, Region)
             .join(Product, Product.id == ForecastSeries.product_id)
             .join(Region, Region.id == ForecastSeries.province_id)
             .where(ForecastSeries.run_id == run.id))
    if search:
        like = f"%{search}%"
        query = query.where(or_(Product.code.ilike(like), Product.name_zh.ilike(like), Product.name_en.ilike(like)))
    if province_id:
        query = query.where(ForecastSeries.province_id == province_id)
    query = query.order_by(ForecastSeries.forecast_qty.desc(), ForecastSeries.product_id, ForecastSeries.province_id)
    return paginate(query, page, per_page, scalars=False)


def provinces() -> list[Region]:
    return list(db.session.scalars(select(Region).where(Region.level == 1).order_by(Region.code)))


def history_and_forecast(run: ForecastRun, product_id: int | None, province_id: int | None,
                         weeks: int = 52) -> tuple[list[date], list[float], list[date], list[float]]:
    """Net retailer demand for the last `weeks` weeks of the run's history and the run's forecast,
    for one product and/or province, or the whole channel when neither is given."""
    first = run.history_to - timedelta(weeks=weeks - 1)
    week = week_start(SalesDay.day).label("week")
    history = select(week, func.sum(SalesDay.qty - SalesDay.lost_qty)).where(
        SalesDay.day >= first, SalesDay.day < run.history_to + timedelta(days=7), SalesDay.channel != "dealer")
    future = select(DemandForecast.week, func.sum(DemandForecast.qty)).where(DemandForecast.run_id == run.id)
    if product_id:
        history = history.where(SalesDay.product_id == product_id)
        future = future.where(DemandForecast.product_id == product_id)
    if province_id:
        history = history.where(SalesDay.province_id == province_id)
        future = future.where(DemandForecast.province_id == province_id)
    past = {(date.fromisoformat(w) if isinstance(w, str) else w): float(q or 0)
            for w, q in db.session.execute(history.group_by(week))}
    past_weeks = [first + timedelta(weeks=i) for i in range(weeks)]
    ahead = sorted(db.session.execute(future.group_by(DemandForecast.week)).all())
    return past_weeks, [past.get(w, 0.0) for w in past_weeks], [w for w, _ in ahead], [float(q) for _, q in ahead]


def past_accuracy(limit: int = 8) -> list[PastAccuracy]:
    """Earlier runs scored on the weeks that have since closed (all series together)."""
    current = latest_run()
    if current is None:
        return []
    runs = list(db.session.scalars(select(ForecastRun).where(ForecastRun.finished_at.is_not(None),
                                                                ForecastRun.history_to < current.history_to)
                                   .order_by(ForecastRun.id.desc()).limit(limit)))
    results = []
    for run in runs:
        closed_to = current.history_to
        rows = db.session.execute(
            select(DemandForecast.product_id, DemandForecast.province_id, DemandForecast.week, DemandForecast.qty)
            .where(DemandForecast.run_id == run.id, DemandForecast.week <= closed_to)).all()
        if not rows:
            continue
        week = week_start(SalesDay.day).label("week")
        actual = {(p, r, date.fromisoformat(w) if isinstance(w, str) else w): float(q or 0)
                  for p, r, w, q in db.session.execute(
                      select(SalesDay.product_id, SalesDay.province_id, week, func.sum(SalesDay.qty - SalesDay.lost_qty))
                      .where(SalesDay.day > run.history_to + timedelta(days=6),
                             SalesDay.day < closed_to + timedelta(days=7), SalesDay.channel != "dealer")
                      .group_by(SalesDay.product_id, SalesDay.province_id, week))}
        error = sum(abs(q - actual.get((p, r, w), 0.0)) for p, r, w, q in rows)
        weeks = len({w for _, _, w, _ in rows})
        actual_total = sum(actual.get((p, r, w), 0.0) for p, r, w, _ in rows)
        results.append(PastAccuracy(run, weeks, sum(q for *_, q in rows), actual_total, error))
    return results
