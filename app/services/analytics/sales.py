"""The sales report, read only from the daily sales facts: net sales (ordered minus cancelled
and rejected, minus accepted returns), with what was ordered, shipped, delivered and returned in
the period (each counted on the day it happened), by product, category, province, region, dealer or channel over a period, against
the period before or the same period a year earlier, with the weekly trend and the movers.

A dealer's report is limited to its own sales (`seller_id`); the brand sees the whole channel.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select, union_all

from app.extensions import db
from app.models import Category, Organisation, Product, Region, RepRoute, User
from app.models.analytics import SalesDay, SalesRollup
from app.services.analytics.facts import DEALER_ONLY, WEEKLY_ONLY
from app.services.forecasting.demand import week_start

DIMENSIONS = ("product", "category", "province", "region", "dealer", "channel", "rep", "retailer")
PAGE_SIZE = 50
# The rep serving a shop: the one whose route holds it (the lowest id when two routes do, so a
# shop's sales count once).
SERVING = (select(RepRoute.retailer_id, func.min(RepRoute.rep_id).label("rep_id"))
           .group_by(RepRoute.retailer_id).subquery("serving"))
COMPARISONS = ("previous", "last_year")
MAX_DAYS = 731


# What a report sums per key, in this order: net value and cases (ordered − cancelled/rejected
# − returned), orders placed, ordered value (less cancelled/rejected), shipped, delivered and
# returned value. Each SalesDay column is a sum over its rows, and so is each rollup column.
MEASURES = ("value_fen", "qty", "orders", "ordered_fen", "shipped_fen", "delivered_fen", "returned_fen")
ZERO = (0,) * len(MEASURES)


def sums(c) -> list:
    """The sums of MEASURES over `c` (SalesDay, or a rollup subquery's columns)."""
    return [func.sum(c.value_fen - c.lost_fen - c.returned_fen), func.sum(c.qty - c.lost_qty - c.returned_qty),
            func.sum(c.orders), func.sum(c.value_fen - c.lost_fen), func.sum(c.shipped_fen),
            func.sum(c.delivered_fen), func.sum(c.returned_fen)]


def _measures(values) -> tuple:
    return tuple(int(v or 0) for v in values)


def _add(a: tuple, b: tuple) -> tuple:
    return tuple(x + y for x, y in zip(a, b))


@dataclass
class SalesRow:
    key: int | str | None
    value_fen: int
    qty: int
    orders: int
    ordered_fen: int
    shipped_fen: int
    delivered_fen: int
    returned_fen: int
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
    ordered_fen: int = 0
    shipped_fen: int = 0
    delivered_fen: int = 0
    returned_fen: int = 0
    weeks: list[date] = field(default_factory=list)
    weekly_fen: list[int] = field(default_factory=list)
    compare: str = "previous"
    page: int = 1

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.rows) // PAGE_SIZE))

    @property
    def number(self) -> int:  # the pager macro's names
        return self.page

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def page_rows(self) -> list[SalesRow]:
        """The rows of the page shown (ranked by net sales; the totals and movers cover them all)."""
        return self.rows[(self.page - 1) * PAGE_SIZE:self.page * PAGE_SIZE]

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
            "region": SalesDay.region_id, "dealer": SalesDay.seller_id, "channel": SalesDay.channel,
            "rep": SERVING.c.rep_id, "retailer": SalesDay.buyer_id}[by]


def facts_in(query, start: date, end: date, by: str, seller_id: int | None, province_id: int | None,
             buyers=None):
    """`query` on the facts of [start, end] in the caller's scope: a dealer's sales (`seller_id`),
    or the brand's market; `buyers` (a select of ids) narrows either to those shops."""
    query = query.where(SalesDay.day.between(start, end))
    if by == "category":
        query = query.join(Product, Product.id == SalesDay.product_id)
    if by == "rep":
        query = query.outerjoin(SERVING, SERVING.c.retailer_id == SalesDay.buyer_id)
    if buyers is not None:
        query = query.where(SalesDay.buyer_id.in_(buyers))
    if by == "dealer" or seller_id is None:
        # The brand's view of the market: retailer purchases (dealer replenishment is not end demand).
        query = query.where(SalesDay.channel != "dealer")
    if seller_id is not None:
        query = query.where(SalesDay.seller_id == seller_id)
    if province_id is not None:
        query = query.where(SalesDay.province_id == province_id)
    return query


def _fact_totals(start, end, by, seller_id, province_id, buyers=None) -> dict:
    key = _key(by).label("key")
    query = facts_in(select(key, *sums(SalesDay)), start, end, by, seller_id, province_id, buyers).group_by(key)
    return {k: _measures(values) for k, *values in db.session.execute(query)}


def split_weeks(start: date, end: date) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """The whole Monday-to-Sunday weeks inside [start, end] (as the Mondays of the first and last),
    and the days outside them as up to two ranges."""
    first = start + timedelta(days=(7 - start.weekday()) % 7)
    last = end - timedelta(days=(end.weekday() + 1) % 7) - timedelta(days=6)
    if first > last:
        return None, [(start, end)]
    edges = [(a, b) for a, b in ((start, first - timedelta(days=1)), (last + timedelta(days=7), end)) if a <= b]
    return (first, last), edges


# What the "buyer" grain can group a set of shops by (everything but the product).
BUYER_GRAIN_DIMENSIONS = ("province", "region", "dealer", "channel", "rep", "retailer")


def _grain(by: str, province_id: int | None, buyers=None) -> str:
    if buyers is not None:
        return "buyer"
    if by in ("product", "category", "channel"):
        return "product_province" if province_id is not None else "product"
    return {"province": "province", "region": "region", "dealer": "seller", "rep": "buyer", "retailer": "buyer"}[by]


ROLLUP_COLUMNS = ("day", "product_id", "province_id", "region_id", "seller_id", "buyer_id", "channel", "orders", "qty",
                  "value_fen", "lost_qty", "lost_fen", "shipped_qty", "shipped_fen", "delivered_qty", "delivered_fen",
                  "returned_qty", "returned_fen")


def rollup_in(start: date, end: date, grain: str, province_id: int | None, daily: bool = True, buyers=None):
    """The brand's market (channel other than dealer; for the "receipts" grain, the brand's sales
    to the dealers) from the rollup, as a subquery: whole weeks by week, the edge days by day
    (`daily` False: whole weeks only, the caller reads the edges elsewhere); `buyers` (a select of
    ids, "buyer" grain) narrows it to those shops. One index range scan per part (an OR of ranges
    would scan the whole grain)."""
    market = SalesRollup.channel == "dealer" if grain in DEALER_ONLY else SalesRollup.channel != "dealer"
    weeks, edges = split_weeks(start, end)
    parts = ([("w", *weeks)] if weeks else []) + ([("d", a, b) for a, b in edges] if daily else [])
    selects = []
    for period, first, last in parts or [("w", end, start)]:  # no part: an empty range
        query = select(*[getattr(SalesRollup, c) for c in ROLLUP_COLUMNS]).where(
            SalesRollup.grain == grain, SalesRollup.period == period, SalesRollup.day.between(first, last), market)
        if province_id is not None:
            query = query.where(SalesRollup.province_id == province_id)
        if buyers is not None:
            query = query.where(SalesRollup.buyer_id.in_(buyers))
        selects.append(query)
    return (union_all(*selects) if len(selects) > 1 else selects[0]).subquery("rollup")


def _rollup_totals(start, end, by, province_id, buyers=None) -> dict:
    grain = _grain(by, province_id, buyers)
    weekly_only = grain in WEEKLY_ONLY
    r = rollup_in(start, end, grain, province_id, daily=not weekly_only, buyers=buyers)
    key = {"product": r.c.product_id, "category": Product.category_id, "province": r.c.province_id,
           "region": r.c.region_id, "dealer": r.c.seller_id, "channel": r.c.channel, "rep": SERVING.c.rep_id,
           "retailer": r.c.buyer_id}[by]
    query = select(key.label("key"), *sums(r.c)).select_from(r)
    if by == "category":
        query = query.join(Product, Product.id == r.c.product_id)
    if by == "rep":  # the rep serving the shop today, as the facts' report joins it
        query = query.outerjoin(SERVING, SERVING.c.retailer_id == r.c.buyer_id)
    totals = {k: _measures(values) for k, *values in db.session.execute(query.group_by(key))}
    if weekly_only:  # the edge days (at most six each side) from the facts
        for a, b in split_weeks(start, end)[1]:
            for k, values in _fact_totals(a, b, by, None, province_id, buyers).items():
                totals[k] = _add(totals.get(k, ZERO), values)
    return totals


def _totals(start, end, by, seller_id, province_id, buyers=None) -> dict:
    """MEASURES per key: a dealer's from its facts (its seller index keeps that small), a set of
    shops' from the rollup's "buyer" grain (by product or category from their facts, by the buyer
    index), the brand's whole market from the rollup (by rep or retailer from the "buyer" grain)."""
    if seller_id is not None or (buyers is not None and by not in BUYER_GRAIN_DIMENSIONS):
        return _fact_totals(start, end, by, seller_id, province_id, buyers)
    return _rollup_totals(start, end, by, province_id, buyers)


def weekly_net(start: date, end: date, seller_id: int | None, province_id: int | None,
               buyers=None) -> dict[date, int]:
    """Net sales per week (keyed by its Monday) within [start, end]: the brand's from the rollup, a
    set of shops' whole weeks from the "buyer" grain and their edge days from their facts, a
    dealer's from its facts."""
    if seller_id is None and buyers is None:
        r = rollup_in(start, end, "province", province_id)
        rows = db.session.execute(select(r.c.day, sums(r.c)[0]).group_by(r.c.day)).all()
    else:
        ranges, rows = [(start, end)], []
        if seller_id is None:
            r = rollup_in(start, end, "buyer", province_id, daily=False, buyers=buyers)
            rows = db.session.execute(select(r.c.day, sums(r.c)[0]).group_by(r.c.day)).all()
            ranges = split_weeks(start, end)[1]
        week = week_start(SalesDay.day).label("week")
        for a, b in ranges:
            trend = facts_in(select(week, sums(SalesDay)[0]), a, b, "product", seller_id, province_id,
                             buyers).group_by(week)
            rows += db.session.execute(trend).all()
    weekly: dict[date, int] = {}
    for day, value in rows:
        day = date.fromisoformat(day) if isinstance(day, str) else day
        monday = day - timedelta(days=day.weekday())
        weekly[monday] = weekly.get(monday, 0) + int(value or 0)
    return weekly


def _label(rows: list[SalesRow], by: str, locale: str, channel_labels: dict) -> None:
    keys = [r.key for r in rows if r.key is not None]
    if by == "product":
        names = {p.id: (p.name(locale), p.code) for p in db.session.scalars(select(Product).where(Product.id.in_(keys)))}
    elif by == "category":
        names = {c.id: (c.name_en if locale.startswith("en") else c.name_zh, "")
                 for c in db.session.scalars(select(Category).where(Category.id.in_(keys)))}
    elif by in ("province", "region"):
        names = {r.id: (r.name, r.code) for r in db.session.scalars(select(Region).where(Region.id.in_(keys)))}
    elif by in ("dealer", "retailer"):
        names = {o.id: (o.name, o.code) for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(keys)))}
    elif by == "rep":
        names = {u.id: (u.display_name or u.username, u.username)
                 for u in db.session.scalars(select(User).where(User.id.in_(keys)))}
    else:
        names = {k: (str(channel_labels.get(k, k)), "") for k in keys}
    for row in rows:
        row.label, row.code = names.get(row.key, ("—", ""))


def sales_report(start: date, end: date, by: str = "product", compare: str = "previous",
                 seller_id: int | None = None, province_id: int | None = None, locale: str = "zh_CN",
                 channel_labels: dict | None = None, buyers=None, page: int = 1,
                 label_all: bool = True) -> SalesReport:
    """The report over [start, end] in the scope of `seller_id` (a dealer) and `buyers` (a select
    of shop ids: a rep's route); `label_all` False labels only the page shown and the movers."""
    if by not in DIMENSIONS or compare not in COMPARISONS:
        raise ValueError("unknown dimension or comparison")
    prior_start, prior_end = prior_period(start, end, compare)
    current = _totals(start, end, by, seller_id, province_id, buyers)
    prior = _totals(prior_start, prior_end, by, seller_id, province_id, buyers)
    rows = [SalesRow(k, *values, prior.get(k, ZERO)[0]) for k, values in current.items()]
    rows += [SalesRow(k, *ZERO, p[0]) for k, p in prior.items() if k not in current]
    rows.sort(key=lambda r: (-r.value_fen, -r.prior_fen, str(r.key)))
    weekly = weekly_net(start, end, seller_id, province_id, buyers)
    first_week = start - timedelta(days=start.weekday())
    weeks = [first_week + timedelta(weeks=i) for i in range((end - first_week).days // 7 + 1)]
    total = {m: sum(getattr(r, m) for r in rows) for m in (*MEASURES, "prior_fen")}
    report = SalesReport(start, end, prior_start, prior_end, by, rows, total["value_fen"], total["qty"],
                         total["orders"], total["prior_fen"], total["ordered_fen"], total["shipped_fen"],
                         total["delivered_fen"], total["returned_fen"], weeks, [weekly.get(w, 0) for w in weeks],
                         compare)
    report.page = min(max(1, page), report.pages)
    if label_all:
        _label(rows, by, locale, channel_labels or {})
    else:
        risers, fallers = report.movers()
        _label(list({id(r): r for r in (*report.page_rows, *rows[:15], *risers, *fallers)}.values()), by, locale,
               channel_labels or {})
    return report
