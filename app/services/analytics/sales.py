"""The sales report, read only from the daily sales facts: net sales (ordered minus cancelled
and rejected) by product, category, province, region, dealer or channel over a period, against
the period before or the same period a year earlier, with the weekly trend and the movers.

A dealer's report is limited to its own sales (`seller_id`); the brand sees the whole channel.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Category, Organisation, Product, Region
from app.models.analytics import SalesDay
from app.services.forecasting.demand import week_start

DIMENSIONS = ("product", "category", "province", "region", "dealer", "channel")
COMPARISONS = ("previous", "last_year")
MAX_DAYS = 731


@dataclass
class SalesRow:
    key: int | str | None
    value_fen: int
    qty: int
    orders: int
    prior_fen: int
    label: str = ""
    code: str = ""

    @property
    def change(self) -> float | None:
        return None if self.prior_fen <= 0 else (self.value_fen - self.prior_fen) / self.prior_fen


@dataclass
class SalesReport:
    start: date
    end: date
    prior_start: date
    prior_end: date
    by: str
    rows: list[SalesRow]
    value_fen: int
    qty: int
    orders: int
    prior_fen: int
    weeks: list[date] = field(default_factory=list)
    weekly_fen: list[int] = field(default_factory=list)
    compare: str = "previous"

    @property
    def change(self) -> float | None:
        return None if self.prior_fen <= 0 else (self.value_fen - self.prior_fen) / self.prior_fen

    def movers(self, count: int = 5) -> tuple[list[SalesRow], list[SalesRow]]:
        """The rows that gained most and lost most against the comparison period."""
        ranked = sorted(self.rows, key=lambda r: r.value_fen - r.prior_fen)
        risers = [r for r in reversed(ranked) if r.value_fen > r.prior_fen][:count]
        fallers = [r for r in ranked if r.value_fen < r.prior_fen][:count]
        return risers, fallers


def prior_period(start: date, end: date, compare: str) -> tuple[date, date]:
    if compare == "last_year":
        try:
            return start.replace(year=start.year - 1), end.replace(year=end.year - 1)
        except ValueError:  # 29 February
            return start - timedelta(days=365), end - timedelta(days=365)
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def _key(by: str):
    return {"product": SalesDay.product_id, "category": Product.category_id, "province": SalesDay.province_id,
            "region": SalesDay.region_id, "dealer": SalesDay.seller_id, "channel": SalesDay.channel}[by]


def facts_in(query, start: date, end: date, by: str, seller_id: int | None, province_id: int | None):
    query = query.where(SalesDay.day.between(start, end))
    if by == "category":
        query = query.join(Product, Product.id == SalesDay.product_id)
    if by == "dealer" or seller_id is None:
        # The brand's view of the market: retailer purchases (dealer replenishment is not end demand).
        query = query.where(SalesDay.channel != "dealer")
    if seller_id is not None:
        query = query.where(SalesDay.seller_id == seller_id)
    if province_id is not None:
        query = query.where(SalesDay.province_id == province_id)
    return query


def _totals(start, end, by, seller_id, province_id):
    key = _key(by).label("key")
    net = func.sum(SalesDay.value_fen - SalesDay.lost_fen)
    query = select(key, net, func.sum(SalesDay.qty - SalesDay.lost_qty), func.sum(SalesDay.orders))
    query = facts_in(query, start, end, by, seller_id, province_id).group_by(key)
    return {k: (int(v or 0), int(q or 0), int(o or 0)) for k, v, q, o in db.session.execute(query)}


def _label(rows: list[SalesRow], by: str, locale: str, channel_labels: dict) -> None:
    keys = [r.key for r in rows if r.key is not None]
    if by == "product":
        names = {p.id: (p.name(locale), p.code) for p in db.session.scalars(select(Product).where(Product.id.in_(keys)))}
    elif by == "category":
        names = {c.id: (c.name_en if locale.startswith("en") else c.name_zh, "")
                 for c in db.session.scalars(select(Category).where(Category.id.in_(keys)))}
    elif by in ("province", "region"):
        names = {r.id: (r.name, r.code) for r in db.session.scalars(select(Region).where(Region.id.in_(keys)))}
    elif by == "dealer":
        names = {o.id: (o.name, o.code) for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(keys)))}
    else:
        names = {k: (str(channel_labels.get(k, k)), "") for k in keys}
    for row in rows:
        row.label, row.code = names.get(row.key, ("—", ""))


def sales_report(start: date, end: date, by: str = "product", compare: str = "previous",
                 seller_id: int | None = None, province_id: int | None = None, locale: str = "zh_CN",
                 channel_labels: dict | None = None) -> SalesReport:
    if by not in DIMENSIONS or compare not in COMPARISONS:
        raise ValueError("unknown dimension or comparison")
    prior_start, prior_end = prior_period(start, end, compare)
    current = _totals(start, end, by, seller_id, province_id)
    prior = _totals(prior_start, prior_end, by, seller_id, province_id)
    rows = [SalesRow(k, v, q, o, prior.get(k, (0, 0, 0))[0]) for k, (v, q, o) in current.items()]
    rows += [SalesRow(k, 0, 0, 0, p[0]) for k, p in prior.items() if k not in current]
    rows.sort(key=lambda r: (-r.value_fen, -r.prior_fen, str(r.key)))
    _label(rows, by, locale, channel_labels or {})
    week = week_start(SalesDay.day).label("week")
    trend = facts_in(select(week, func.sum(SalesDay.value_fen - SalesDay.lost_fen)), start, end, "product",
                      seller_id, province_id).group_by(week)
    weekly = {(date.fromisoformat(w) if isinstance(w, str) else w): int(v or 0) for w, v in db.session.execute(trend)}
    first_week = start - timedelta(days=start.weekday())
    weeks = [first_week + timedelta(weeks=i) for i in range((end - first_week).days // 7 + 1)]
    return SalesReport(start, end, prior_start, prior_end, by, rows,
                       sum(r.value_fen for r in rows), sum(r.qty for r in rows), sum(r.orders for r in rows),
                       sum(r.prior_fen for r in rows), weeks, [weekly.get(w, 0) for w in weeks], compare)
