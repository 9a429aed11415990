"""The product's weekly demand forecast: retailer demand per product × province, from the
daily sales facts, 13 weeks ahead, with the backtest accuracy stored next to every series.

Demand is what retailers ordered, net of orders later cancelled or rejected, per week
(Monday–Sunday in Asia/Shanghai). Only complete weeks count; series with no demand in the last
`ACTIVE_WEEKS` weeks are left out (a delisted product in a province needs no forecast).
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Date, cast, func, insert, literal_column, select

from app.extensions import db
from app.models.analytics import DemandForecast, ForecastRun, ForecastSeries, SalesDay
from app.services.core.clock import now_utc, today_local
from app.services.forecasting.history import WeeklySeries, densify
from app.services.forecasting.holidays import week_of
from app.services.forecasting.selection import forecast

ACTIVE_WEEKS = 26
HISTORY_WEEKS = 156


def week_start(column):
    """SQL for the Monday of the week holding the date `column`."""
    if db.engine.dialect.name == "postgresql":
        return cast(func.date_trunc("week", column), Date)
    return func.date(column, literal_column("'-' || ((CAST(strftime('%w', day) AS INTEGER) + 6) % 7) || ' days'"))


def weekly_history(last_week: date) -> list[WeeklySeries]:
    """Net retailer demand per product × province and week, up to the week starting `last_week`."""
    week = week_start(SalesDay.day).label("week")
    first_day = last_week - timedelta(weeks=HISTORY_WEEKS - 1)
    rows = db.session.execute(
        select(SalesDay.product_id, SalesDay.province_id, week, func.sum(SalesDay.qty - SalesDay.lost_qty))
        .where(SalesDay.day >= first_day, SalesDay.day < last_week + timedelta(days=7),
               SalesDay.channel != "dealer", SalesDay.province_id.is_not(None))
        .group_by(SalesDay.product_id, SalesDay.province_id, week))
    points: dict[tuple[int, int], dict[date, float]] = {}
    for product_id, province_id, monday, qty in rows:
        if isinstance(monday, str):
            monday = date.fromisoformat(monday)
        points.setdefault((product_id, province_id), {})[monday] = float(qty or 0)
    active_from = last_week - timedelta(weeks=ACTIVE_WEEKS - 1)
    series = []
    for (product_id, province_id), weeks in sorted(points.items()):
        if not any(qty > 0 for monday, qty in weeks.items() if monday >= active_from):
            continue
        weeks.setdefault(last_week, 0.0)  # a quiet last week is a week of zero, not a shorter history
        series.append(densify(f"{product_id}:{province_id}", weeks))
    return series


def run_forecast(horizon: int = 13, today: date | None = None) -> ForecastRun:
    """Forecast every active series from the last complete week; store the run and return it."""
    last_week = week_of(today or today_local()) - timedelta(days=7)
    series = weekly_history(last_week)
    run = ForecastRun(history_to=last_week, horizon=horizon, started_at=now_utc())
    db.session.add(run)
    db.session.flush()
    if series:
        result = forecast(series, horizon)
        summary, weekly = [], []
        for item, history in zip(result.series, series):
            product_id, province_id = map(int, item.name.split(":"))
            a = item.accuracy
            summary.append(dict(run_id=run.id, product_id=product_id, province_id=province_id, model=item.model,
                                wape=a.wape, mase=a.mase, bias=a.bias, history_weeks=len(history.values),
                                history_qty=int(round(sum(history.values))), forecast_qty=float(sum(item.values))))
            weekly.extend(dict(run_id=run.id, product_id=product_id, province_id=province_id, week=period, qty=value)
                          for period, value in zip(item.periods, item.values))
        db.session.execute(insert(ForecastSeries), summary)
        for start in range(0, len(weekly), 5000):
            db.session.execute(insert(DemandForecast), weekly[start:start + 5000])
        overall = result.overall
        run.wape, run.mase, run.bias, run.backtest_weeks = overall.wape, overall.mase, overall.bias, overall.weeks
    run.series_count = len(series)
    run.finished_at = now_utc()
    db.session.flush()
    return run


def latest_run() -> ForecastRun | None:
    return db.session.scalars(select(ForecastRun).where(ForecastRun.finished_at.is_not(None))
                              .order_by(ForecastRun.id.desc()).limit(1)).first()
