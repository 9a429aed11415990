"""The key numbers' trends on the role homes, each read from the report behind it.

- Brand: this week's net retailer demand (cases) by province against the forecast for the week.
  "This week" is the week holding yesterday (the facts are rebuilt nightly), so on a Monday it is
  last week, whole. The forecast is the one for that week from the newest finished run made
  before the week began, prorated by the days the facts hold (elapsed ÷ 7), so a Wednesday
  compares three days of sales with three sevenths of the week's forecast.
- Dealer: month-to-date against the same days of last month, with sell-through and days of
  supply, from the channel report (`channel_report`, read-only here; last month's sales with the
  report's own definition).

Each is a fixed number of grouped queries, whatever the size of the channel.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Region
from app.models.analytics import DemandForecast, ForecastRun, SalesDay
from app.services.analytics.channel import ChannelRow, channel_report
from app.services.analytics.sales import rollup_in
from app.services.core.clock import today_local


@dataclass
class ProvinceWeek:
    province_id: int
    label: str
    actual_qty: int
    forecast_qty: float  # prorated to the days elapsed


@dataclass
class ForecastWeek:
    week: date  # its Monday
    last_day: date  # the last day the facts hold (yesterday)
    run_id: int | None
    rows: list[ProvinceWeek] = field(default_factory=list)

    @property
    def elapsed_days(self) -> int:
        return (self.last_day - self.week).days + 1

    @property
    def actual_qty(self) -> int:
        return sum(r.actual_qty for r in self.rows)

    @property
    def forecast_qty(self) -> float:
        return sum(r.forecast_qty for r in self.rows)

    @property
    def gap(self) -> float | None:
        """(actual − forecast) ÷ forecast, or None without a forecast."""
        return None if self.forecast_qty <= 0 else (self.actual_qty - self.forecast_qty) / self.forecast_qty


def week_vs_forecast(today: date | None = None) -> ForecastWeek:
    yesterday = (today or today_local()) - timedelta(days=1)
    week = yesterday - timedelta(days=yesterday.weekday())
    result = ForecastWeek(week, yesterday, None)
    r = rollup_in(week, yesterday, "province", None)
    actual = {p: int(q or 0) for p, q in db.session.execute(
        select(r.c.province_id, func.sum(r.c.qty - r.c.lost_qty)).where(r.c.province_id.is_not(None))
        .group_by(r.c.province_id))}
    newest = (select(func.max(ForecastRun.id)).where(ForecastRun.finished_at.is_not(None),
                                                     ForecastRun.history_to < week).scalar_subquery())
    forecast_rows = db.session.execute(
        select(DemandForecast.run_id, DemandForecast.province_id, func.sum(DemandForecast.qty))
        .where(DemandForecast.run_id == newest, DemandForecast.week == week)
        .group_by(DemandForecast.run_id, DemandForecast.province_id)).all()
    share = result.elapsed_days / 7
    forecast = {p: float(q or 0) * share for _run, p, q in forecast_rows}
    result.run_id = forecast_rows[0][0] if forecast_rows else None
    keys = set(actual) | set(forecast)
    names = dict(db.session.execute(select(Region.id, Region.name).where(Region.id.in_(keys))).all()) if keys else {}
    result.rows = sorted((ProvinceWeek(p, names.get(p, "—"), actual.get(p, 0), forecast.get(p, 0.0)) for p in keys),
                         key=lambda row: (-max(row.forecast_qty, row.actual_qty), row.label))
    return result


@dataclass
class DealerMonth:
    start: date  # the first of this month
    end: date  # yesterday (the facts' last day)
    prior_start: date
    prior_end: date  # the same day of last month (or its last day)
    current: ChannelRow
    prior_fen: int  # net sales to retailers over the prior days (the channel report's `sold_fen`)

    @property
    def change(self) -> float | None:
        if self.prior_fen <= 0:
            return None
        return (self.current.sold_fen - self.prior_fen) / self.prior_fen


def dealer_month(dealer_id: int, today: date | None = None) -> DealerMonth:
    """Month to date (up to yesterday) against the same days of last month, from the channel report.
    On the first of a month, "this month" is the whole of last month, against the month before."""
    end = (today or today_local()) - timedelta(days=1)
    start = end.replace(day=1)
    prior_end_month = start - timedelta(days=1)
    prior_start = prior_end_month.replace(day=1)
    prior_end = prior_start + timedelta(days=min(end.day, prior_end_month.day) - 1)
    current = channel_report(start, end, dealer_id=dealer_id).total
    # Last month needs only the sales figure: one sum with the channel report's definition (its
    # dealer view's net sales to retailers) rather than the whole report with its stock queries.
    prior = db.session.scalar(
        select(func.coalesce(func.sum(SalesDay.value_fen - SalesDay.lost_fen), 0))
        .where(SalesDay.seller_id == dealer_id, SalesDay.day.between(prior_start, prior_end),
               SalesDay.channel != "dealer"))
    return DealerMonth(start, end, prior_start, prior_end, current, int(prior or 0))
