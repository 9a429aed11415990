"""The brand's product × province forecast split to one dealer by its trailing share.

A dealer's share of a product in a province is its net retailer sales of the product there over
the `SHARE_WEEKS` weeks ending with the run's last history week, divided by all dealers' net
retailer sales of it there over the same weeks (from the daily sales facts). Its forecast for a
week is the sum over provinces of the province forecast × that share. A product it did not sell
in the window gets no share (a new listing has no trailing share to go by).

The same shares feed its reorder levels (app/services/forecasting/replenishment.py) and its
forecast page (`dealer_forecast`), so what the page shows is what the replenishment suggestions use.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Product, Region
from app.models.analytics import DemandForecast, ForecastRun, ForecastSeries, SalesDay
from app.services.forecasting.demand import latest_run, week_start

SHARE_WEEKS = 13


def share_window(run: ForecastRun) -> tuple[date, date]:
    """The first and last day of the trailing weeks the shares are measured on."""
    return run.history_to - timedelta(weeks=SHARE_WEEKS - 1), run.history_to + timedelta(days=6)


def dealer_sales(dealer_id: int, run: ForecastRun) -> dict[tuple[int, int], float]:
    """{(product_id, province_id): net cases} the dealer sold to retailers over the share window."""
    first, last = share_window(run)
    net = func.sum(SalesDay.qty - SalesDay.lost_qty)
    return {(p, r): float(q or 0) for p, r, q in db.session.execute(
        select(SalesDay.product_id, SalesDay.province_id, net)
        .where(SalesDay.seller_id == dealer_id, SalesDay.day.between(first, last), SalesDay.channel != "dealer",
               SalesDay.province_id.is_not(None))
        .group_by(SalesDay.product_id, SalesDay.province_id))}


def dealer_shares(dealer_id: int, run: ForecastRun,
                  mine: dict[tuple[int, int], float] | None = None) -> dict[tuple[int, int], float]:
    """{(product_id, province_id): the dealer's share of the province's retailer demand}."""
    mine = dealer_sales(dealer_id, run) if mine is None else mine
    if not mine:
        return {}
    first, last = share_window(run)
    net = func.sum(SalesDay.qty - SalesDay.lost_qty)
    provinces = sorted({r for _, r in mine})
    totals = {(p, r): float(q or 0) for p, r, q in db.session.execute(
        select(SalesDay.product_id, SalesDay.province_id, net)
        .where(SalesDay.day.between(first, last), SalesDay.channel != "dealer", SalesDay.province_id.in_(provinces))
        .group_by(SalesDay.product_id, SalesDay.province_id))}
    return {key: qty / totals[key] for key, qty in mine.items() if qty > 0 and totals.get(key, 0) > 0}


@dataclass
class ProvinceShare:
    province: Region
    share: float


@dataclass
class DealerProductForecast:
    product: Product
    sold_qty: float  # the dealer's net cases over the share window
    weekly: list[float]  # the dealer's part of the forecast, per week of the run's horizon
    shares: list[ProvinceShare] = field(default_factory=list)
    wape: float | None = None  # the province series' backtest WAPE, weighted by the dealer's part

    @property
    def total(self) -> float:
        return sum(self.weekly)

    @property
    def accuracy(self) -> float | None:
        return None if self.wape is None else 1 - self.wape  # < 0 when WAPE > 100 %; never clamped to 0


@dataclass
class DealerForecast:
    run: ForecastRun
    weeks: list[date]
    rows: list[DealerProductForecast]
    past_weeks: list[date]
    past_qty: list[float]  # the dealer's net retailer sales per week of the share window

    @property
    def weekly_total(self) -> list[float]:
        return [sum(r.weekly[i] for r in self.rows) for i in range(len(self.weeks))]

    @property
    def wape(self) -> float | None:
        weighted = [(r.wape, r.total) for r in self.rows if r.wape is not None and r.total > 0]
        volume = sum(t for _, t in weighted)
        return sum(w * t for w, t in weighted) / volume if volume else None


def dealer_forecast(dealer_id: int) -> DealerForecast | None:
    """The latest run split to the dealer (None before the first run)."""
    run = latest_run()
    if run is None:
        return None
    weeks = [run.history_to + timedelta(weeks=i + 1) for i in range(run.horizon)]
    mine = dealer_sales(dealer_id, run)
    shares = dealer_shares(dealer_id, run, mine)
    past_weeks = [run.history_to - timedelta(weeks=SHARE_WEEKS - 1 - i) for i in range(SHARE_WEEKS)]
    past = _weekly_sales(dealer_id, run)
    if not shares:
        return DealerForecast(run, weeks, [], past_weeks, [past.get(w, 0.0) for w in past_weeks])
    product_ids = sorted({p for p, _ in shares})
    province_ids = sorted({r for _, r in shares})
    ahead = db.session.execute(
        select(DemandForecast.product_id, DemandForecast.province_id, DemandForecast.week, DemandForecast.qty)
        .where(DemandForecast.run_id == run.id, DemandForecast.product_id.in_(product_ids),
               DemandForecast.province_id.in_(province_ids))).all()
    errors = {(p, r): w for p, r, w in db.session.execute(
        select(ForecastSeries.product_id, ForecastSeries.province_id, ForecastSeries.wape)
        .where(ForecastSeries.run_id == run.id, ForecastSeries.product_id.in_(product_ids),
               ForecastSeries.province_id.in_(province_ids)))}
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(product_ids)))}
    regions = {r.id: r for r in db.session.scalars(select(Region).where(Region.id.in_(province_ids)))}
    index = {w: i for i, w in enumerate(weeks)}
    rows: dict[int, DealerProductForecast] = {}
    part_by_series: dict[tuple[int, int], float] = {}
    for product_id, province_id, week, qty in ahead:
        share = shares.get((product_id, province_id))
        week = date.fromisoformat(week) if isinstance(week, str) else week
        if share is None or week not in index:
            continue
        row = rows.setdefault(product_id, DealerProductForecast(products[product_id], 0.0, [0.0] * len(weeks)))
        row.weekly[index[week]] += float(qty) * share
        part_by_series[(product_id, province_id)] = part_by_series.get((product_id, province_id), 0.0) + qty * share
    for (product_id, province_id), share in sorted(shares.items()):
        row = rows.get(product_id)
        if row is None:
            continue
        row.sold_qty += mine.get((product_id, province_id), 0.0)
        row.shares.append(ProvinceShare(regions[province_id], share))
    for row in rows.values():
        weighted = [(errors.get((row.product.id, s.province.id)), part_by_series.get((row.product.id, s.province.id), 0))
                    for s in row.shares]
        weighted = [(w, t) for w, t in weighted if w is not None and t > 0]
        volume = sum(t for _, t in weighted)
        row.wape = sum(w * t for w, t in weighted) / volume if volume else None
    ordered = sorted(rows.values(), key=lambda r: (-r.total, r.product.code))
    return DealerForecast(run, weeks, ordered, past_weeks, [past.get(w, 0.0) for w in past_weeks])


def _weekly_sales(dealer_id: int, run: ForecastRun) -> dict[date, float]:
    first, last = share_window(run)
    week = week_start(SalesDay.day).label("week")
    rows = db.session.execute(
        select(week, func.sum(SalesDay.qty - SalesDay.lost_qty))
        .where(SalesDay.seller_id == dealer_id, SalesDay.day.between(first, last), SalesDay.channel != "dealer")
        .group_by(week))
    return {(date.fromisoformat(w) if isinstance(w, str) else w): float(q or 0) for w, q in rows}
