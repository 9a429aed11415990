"""The sales report, read only from the daily sales facts: net sales (ordered minus cancelled
and rejected, minus accepted returns), with what was ordered, shipped, delivered and returned in
the period (each counted on the day it happened), by product, category, province, region, dealer or channel over a period, against
the period before or the same period a year earlier, with the weekly trend and the movers.

A dealer's report is limited to its own sales (`seller_id`); the brand sees the whole channel.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext
from sqlalchemy import BigInteger, Integer, cast, func, literal_column, select, text, union_all

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


def measures(c) -> list:
    """MEASURES of one row of `c` (SalesDay, or a rollup subquery's columns)."""
    return [c.value_fen - c.lost_fen - c.returned_fen, c.qty - c.lost_qty - c.returned_qty, c.orders,
            c.value_fen - c.lost_fen, c.shipped_fen, c.delivered_fen, c.returned_fen]


def sums(c) -> list:
    """The sums of MEASURES over `c` (SalesDay, or a rollup subquery's columns)."""
    return [func.sum(m) for m in measures(c)]


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


def rank(row: SalesRow) -> tuple:
    """A row's place in the report: the biggest net sales first, then the biggest comparison,
    then by key (no key last); the SQL ranking orders by the same."""
    return -row.value_fen, -row.prior_fen, row.key is None, 0 if row.key is None else row.key


def movers(rows: list[SalesRow], count: int = 5) -> tuple[list[SalesRow], list[SalesRow]]:
    """The rows (ranked) that gained most and lost most against the comparison period."""
    risers = sorted((r for r in rows if r.value_fen > r.prior_fen), key=lambda r: r.prior_fen - r.value_fen)
    fallers = sorted((r for r in rows if r.value_fen < r.prior_fen), key=lambda r: r.value_fen - r.prior_fen)
    return risers[:count], fallers[:count]


TOP = 15  # the rows the bar chart shows
MOVERS = 5


@dataclass
class SalesReport:
    """A report's totals and weekly trend, with either every row (`rows`, ranked: the export) or
    only what a page shows (`rows` None): the page's rows, the top rows for the chart and the
    movers, all with `row_count` the number of rows in all."""
    start: date
    end: date
    prior_start: date
    prior_end: date
    by: str
    rows: list[SalesRow] | None
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
    row_count: int = 0
    page_rows: list[SalesRow] = field(default_factory=list)
    top: list[SalesRow] = field(default_factory=list)
    risers: list[SalesRow] = field(default_factory=list)
    fallers: list[SalesRow] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return pages_of(self.row_count)

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
    def change(self) -> float | None:
        return None if self.prior_fen <= 0 else (self.value_fen - self.prior_fen) / self.prior_fen

    def movers(self) -> tuple[list[SalesRow], list[SalesRow]]:
        return self.risers, self.fallers


def pages_of(row_count: int) -> int:
    return max(1, -(-row_count // PAGE_SIZE))


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


def _fact_select(start, end, by, seller_id, province_id, buyers=None, columns=sums, grouped=True):
    """`columns(SalesDay)` per key over the facts of [start, end] in the caller's scope (not
    `grouped`: per fact row, for the caller to sum)."""
    key = _key(by).label("key")
    query = facts_in(select(key, *columns(SalesDay)), start, end, by, seller_id, province_id, buyers)
    return query.group_by(key) if grouped else query


def _fetch(queries) -> dict:
    """MEASURES per key, summed over `queries` (each grouped by key)."""
    totals: dict = {}
    for query in queries:
        for k, *values in db.session.execute(query):
            totals[k] = _add(totals.get(k, ZERO), _measures(values))
    return totals


def _fact_totals(start, end, by, seller_id, province_id, buyers=None) -> dict:
    return _fetch([_fact_select(start, end, by, seller_id, province_id, buyers)])


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
    for period, first, last in parts or [("w", end + timedelta(days=1), end)]:  # no part: an empty range (first > last)
        query = select(*[getattr(SalesRollup, c) for c in ROLLUP_COLUMNS]).where(
            SalesRollup.grain == grain, SalesRollup.period == period, SalesRollup.day.between(first, last), market)
        if province_id is not None:
            query = query.where(SalesRollup.province_id == province_id)
        if buyers is not None:
            query = query.where(SalesRollup.buyer_id.in_(buyers))
        selects.append(query)
    return (union_all(*selects) if len(selects) > 1 else selects[0]).subquery("rollup")


def _rollup_selects(start, end, by, province_id, buyers=None, columns=sums, grouped=True) -> list:
    """`columns(...)` per key over the rollup's grain for `by` (the edge days of a weekly-only
    grain from the facts): one query per part, each grouped by key."""
    grain = _grain(by, province_id, buyers)
    weekly_only = grain in WEEKLY_ONLY
    r = rollup_in(start, end, grain, province_id, daily=not weekly_only, buyers=buyers)
    key = {"product": r.c.product_id, "category": Product.category_id, "province": r.c.province_id,
           "region": r.c.region_id, "dealer": r.c.seller_id, "channel": r.c.channel, "rep": SERVING.c.rep_id,
           "retailer": r.c.buyer_id}[by]
    query = select(key.label("key"), *columns(r.c)).select_from(r)
    if by == "category":
        query = query.join(Product, Product.id == r.c.product_id)
    if by == "rep":  # the rep serving the shop today, as the facts' report joins it
        query = query.outerjoin(SERVING, SERVING.c.retailer_id == r.c.buyer_id)
    queries = [query.group_by(key) if grouped else query]
    if weekly_only:  # the edge days (at most six each side) from the facts
        queries += [_fact_select(a, b, by, None, province_id, buyers, columns, grouped)
                    for a, b in split_weeks(start, end)[1]]
    return queries


def _rollup_totals(start, end, by, province_id, buyers=None) -> dict:
    return _fetch(_rollup_selects(start, end, by, province_id, buyers))


def _selects(start, end, by, seller_id, province_id, buyers=None, columns=sums, grouped=True) -> list:
    """The queries whose rows, summed per key, give `columns` per key: a dealer's from its facts
    (its seller index keeps that small), a set of shops' from the rollup's "buyer" grain (by
    product or category from their facts, by the buyer index), the brand's whole market from the
    rollup (by rep or retailer from the "buyer" grain)."""
    if seller_id is not None or (buyers is not None and by not in BUYER_GRAIN_DIMENSIONS):
        return [_fact_select(start, end, by, seller_id, province_id, buyers, columns, grouped)]
    return _rollup_selects(start, end, by, province_id, buyers, columns, grouped)


def _totals(start, end, by, seller_id, province_id, buyers=None) -> dict:
    """MEASURES per key over [start, end] (see `_selects`)."""
    return _fetch(_selects(start, end, by, seller_id, province_id, buyers))


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


IN_CHUNK = 10_000  # ids per IN list: PostgreSQL's protocol takes at most 65,535 parameters a statement


def _label(rows: list[SalesRow], by: str, locale: str, channel_labels: dict) -> None:
    keys = [r.key for r in rows if r.key is not None]
    if by == "product":
        names = {p.id: (p.name(locale), p.code) for p in db.session.scalars(select(Product).where(Product.id.in_(keys)))}
    elif by == "category":
        names = {c.id: (c.name_en if locale.startswith("en") else c.name_zh, "")
                 for c in db.session.scalars(select(Category).where(Category.id.in_(keys)))}
    elif by in ("province", "region"):
        names = {r.id: (r.name, r.code) for r in db.session.scalars(select(Region).where(Region.id.in_(keys)))}
    elif by in ("dealer", "retailer"):  # the brand's export by retailer names ~10⁵ shops: in chunks
        names = {}
        for i in range(0, len(keys), IN_CHUNK):
            names.update((k, (name, code)) for k, name, code in db.session.execute(
                select(Organisation.id, Organisation.name, Organisation.code)
                .where(Organisation.id.in_(keys[i:i + IN_CHUNK]))))
    elif by == "rep":
        names = {u.id: (u.display_name or u.username, u.username)
                 for u in db.session.scalars(select(User).where(User.id.in_(keys)))}
        names[None] = (gettext("未分配业务员"), "")  # the shops on no rep's route
    else:
        names = {k: (str(channel_labels.get(k, k)), "") for k in keys}
    for row in rows:
        row.label, row.code = names.get(row.key, ("—", ""))


def _report(start, end, by, compare, seller_id, province_id, buyers, totals: tuple, prior_fen: int, **kwargs):
    prior_start, prior_end = prior_period(start, end, compare)
    weekly = weekly_net(start, end, seller_id, province_id, buyers)
    first_week = start - timedelta(days=start.weekday())
    weeks = [first_week + timedelta(weeks=i) for i in range((end - first_week).days // 7 + 1)]
    value_fen, qty, orders, ordered_fen, shipped_fen, delivered_fen, returned_fen = totals
    return SalesReport(start, end, prior_start, prior_end, by, value_fen=value_fen, qty=qty, orders=orders,
                       prior_fen=prior_fen, ordered_fen=ordered_fen, shipped_fen=shipped_fen,
                       delivered_fen=delivered_fen, returned_fen=returned_fen, weeks=weeks,
                       weekly_fen=[weekly.get(w, 0) for w in weeks], compare=compare, **kwargs)


def _check(by: str, compare: str) -> None:
    if by not in DIMENSIONS or compare not in COMPARISONS:
        raise ValueError("unknown dimension or comparison")


def sales_report(start: date, end: date, by: str = "product", compare: str = "previous",
                 seller_id: int | None = None, province_id: int | None = None, locale: str = "zh_CN",
                 channel_labels: dict | None = None, buyers=None, page: int = 1,
                 label_all: bool = True, precomputed: bool = True) -> SalesReport:
    """The report over [start, end] in the scope of `seller_id` (a dealer) and `buyers` (a select
    of shop ids: a rep's route), with every row, ranked (the export): each period summed per key
    by the database, ranked in Python; `label_all` False labels only what a page shows. The
    brand's report by rep over any range reads the reps' running sums (range_series.py, once built,
    PostgreSQL), by retailer over a preset period the per-shop totals (`precomputed`; False: always
    the rollup, the general path, which SQLite always takes)."""
    _check(by, compare)
    prior_start, prior_end = prior_period(start, end, compare)
    # By rep the reps' running sums (a few thousand rows) serve any range, presets included: the
    # presets' per-shop totals sum ~100 k shops per rep.
    by_rep = by == "rep" and _any_range(by, seller_id, buyers, precomputed)
    preset = None if by_rep else _preset(start, end, by, compare, seller_id, buyers, precomputed)
    if by_rep:
        from app.services.analytics import range_series
        current, prior = range_series.rep_totals(start, end, prior_start, prior_end, province_id)
    elif preset is not None:
        current, prior = _preset_totals(preset, by, province_id)
    else:
        current = _totals(start, end, by, seller_id, province_id, buyers)
        prior = _totals(prior_start, prior_end, by, seller_id, province_id, buyers)
    rows = [SalesRow(k, *values, prior.get(k, ZERO)[0]) for k, values in current.items()]
    rows += [SalesRow(k, *ZERO, p[0]) for k, p in prior.items() if k not in current]
    rows.sort(key=rank)
    totals = tuple(sum(getattr(r, m) for r in rows) for m in MEASURES)
    page = min(max(1, page), pages_of(len(rows)))
    risers, fallers = movers(rows, MOVERS)
    page_rows = rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    _label(rows if label_all else [*page_rows, *rows[:TOP], *risers, *fallers], by, locale, channel_labels or {})
    return _report(start, end, by, compare, seller_id, province_id, buyers, totals, sum(r.prior_fen for r in rows),
                   rows=rows, page=page, row_count=len(rows), page_rows=page_rows, top=rows[:TOP], risers=risers,
                   fallers=fallers)


def _unsummed(start, end, by, seller_id, province_id, buyers, columns) -> list:
    """The rows whose `columns` summed per key give the report's figures, unsummed, so that one
    aggregate sums every part."""
    return _selects(start, end, by, seller_id, province_id, buyers, columns, grouped=False)


# The dimensions ranked by the database: by retailer a report has a row per shop, the brand's
# market a hundred thousand, which Python would build, sort, total and search for movers in
# seconds. The others have a few hundred rows at most, summed per key by two statements (as the
# export does) and ranked in Python: by rep, one statement ranking in SQL cost more than those
# two (1.6-2.2 s against 1.0-2.0 s at full scale, load 4-5: the routes joined to a million rows).
SQL_RANKED = ("retailer",)


def _ranked_statement(start, end, by, compare, seller_id, province_id, buyers, page: int):
    """One statement ranking the report's keys: the net sales of both periods per key (net sales
    only: each sum costs, over the market's million rollup rows), then from those the keys of the
    page ("page"), of the top rows when the page is not the first ("top") and of the movers
    ("rise", "fall"), with the number of rows and the net sales of both periods ("total")."""
    prior_start, prior_end = prior_period(start, end, compare)
    names = ("value_fen", "prior_fen")
    zero = literal_column("0")
    parts = (_unsummed(start, end, by, seller_id, province_id, buyers,
                       lambda c: [measures(c)[0].label("value_fen"), zero.label("prior_fen")])
             + _unsummed(prior_start, prior_end, by, seller_id, province_id, buyers,
                         lambda c: [zero.label("value_fen"), measures(c)[0].label("prior_fen")]))
    both = union_all(*parts).subquery("both")
    ranked = (select(both.c.key, *[func.sum(both.c[n]).label(n) for n in names])
              .group_by(both.c.key).cte("ranked"))
    return _ranking(ranked, ranked.c.value_fen - ranked.c.prior_fen, page)


def _ranking(ranked, delta, page: int, whole=None, movers=None):
    """From `ranked` (key, value_fen, prior_fen per key) the keys of the page, of the top rows when
    the page is not the first, of the movers (by `delta`, the change; from `movers` when given, with
    its column "change"), and the row count and both periods' net sales ("total"; `whole`: a select
    of those three, when `ranked` holds only the rows that can be shown)."""
    c = ranked.c
    order = (c.value_fen.desc(), c.prior_fen.desc(), c.key.is_(None), c.key)
    none = literal_column("NULL")

    def rows(kind: str, query):
        sub = query.subquery(kind)
        return select(literal_column(f"'{kind}'").label("kind"), sub.c.key, sub.c.value_fen, sub.c.prior_fen,
                      cast(none, BigInteger).label("n"))  # typed: PostgreSQL types a UNION's NULLs as text

    branches = [rows("page", select(ranked).order_by(*order).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))]
    if page > 1:
        branches.append(rows("top", select(ranked).order_by(*order).limit(TOP)))
    moving, m_order = ranked, order
    if movers is not None:
        m = movers.c
        moving, delta, m_order = movers, m.change, (m.value_fen.desc(), m.prior_fen.desc(), m.key.is_(None), m.key)
    branches += [rows("rise", select(moving).where(delta > 0).order_by(delta.desc(), *m_order).limit(MOVERS)),
                 rows("fall", select(moving).where(delta < 0).order_by(delta, *m_order).limit(MOVERS)),
                 select(literal_column("'total'"), none, func.sum(c.value_fen), func.sum(c.prior_fen), func.count())
                 .select_from(ranked) if whole is None else
                 select(literal_column("'total'"), none, *whole.subquery("whole").c)]
    return union_all(*branches)


def _details_statement(start, end, by, seller_id, province_id, buyers, keys: set):
    """Every measure of the rows shown (`keys`), and of the period as a whole ("total", key NULL):
    the shops shown by their index (the "buyer" grain or the dealer's facts), the whole from the
    coarsest source that holds it (the brand's by province, a few thousand rollup rows)."""
    def unsummed(by, buyers):
        rows = union_all(*_unsummed(start, end, by, seller_id, province_id, buyers,
                                    lambda c: [m.label(n) for m, n in zip(measures(c), MEASURES)])).subquery("rows")
        return rows, [func.sum(rows.c[n]) for n in MEASURES]

    known = [k for k in keys if k is not None]
    # A shop's id is its key: the shops shown read by the buyer index, not the whole market.
    rows, totals = unsummed(by, known)
    shown = (select(literal_column("'row'").label("kind"), *totals, rows.c.key).where(rows.c.key.in_(known))
             .group_by(rows.c.key))
    return union_all(shown, _whole_statement(start, end, seller_id, province_id, buyers))


def _whole_statement(start, end, seller_id, province_id, buyers):
    """Every measure of the period as a whole ("total", key NULL): the whole market's totals are
    the same by province, a few thousand rollup rows."""
    rows = union_all(*_unsummed(start, end, "province", seller_id, province_id, buyers,
                                lambda c: [m.label(n) for m, n in zip(measures(c), MEASURES)])).subquery("rows")
    return select(literal_column("'total'").label("kind"), *[func.sum(rows.c[n]) for n in MEASURES],
                  cast(literal_column("NULL"), Integer).label("key")).select_from(rows)


def _preset(start, end, by, compare, seller_id, buyers, precomputed: bool) -> tuple[str, str] | None:
    """The period preset whose per-shop totals serve this report (shop_totals.py): the brand's
    market (no dealer, no set of shops) by retailer or rep over a preset's stored range."""
    if not precomputed or by not in ("retailer", "rep") or seller_id is not None or buyers is not None:
        return None
    from app.services.analytics import shop_totals
    return shop_totals.preset_of(start, end, compare)


def _any_range(by, seller_id, buyers, precomputed: bool) -> bool:
    """Whether the fact job's range structures serve this report (range_series.py): the brand's
    market (no dealer, no set of shops) by retailer or rep, once built (PostgreSQL only)."""
    if not precomputed or by not in ("retailer", "rep") or seller_id is not None or buyers is not None:
        return False
    from app.services.analytics import range_series
    return range_series.available()


def _preset_totals(preset, by, province_id) -> tuple[dict, dict]:
    """MEASURES per key of the period and of the comparison period (net sales only) from the
    per-shop totals (`preset`: its name and the comparison its rows are stored under): by retailer the shops' rows, by rep their sums per serving rep (the routes
    as they are now, as the general path joins them)."""
    from app.models.analytics import SalesShopTotal as t
    from app.services.analytics.shop_totals import scoped
    columns = [getattr(t, n) for n in MEASURES] + [t.prior_fen]
    if by == "rep":
        key = SERVING.c.rep_id
        query = (select(key, *[func.sum(c) for c in columns]).select_from(t)
                 .outerjoin(SERVING, SERVING.c.retailer_id == t.buyer_id).group_by(key))
    else:
        query = select(t.buyer_id, *columns)
    current, prior = {}, {}
    for k, *values in db.session.execute(query.where(*scoped(*preset, province_id))):
        *values, prior_fen = _measures(values)
        current[k], prior[k] = tuple(values), (prior_fen, *ZERO[1:])
    return current, prior


def sales_report_page(start: date, end: date, by: str = "product", compare: str = "previous",
                      seller_id: int | None = None, province_id: int | None = None, locale: str = "zh_CN",
                      channel_labels: dict | None = None, buyers=None, page: int = 1,
                      precomputed: bool = True) -> SalesReport:
    """What the report's page shows, ranked by the database (`rows` is None): the brand's market by
    retailer is some hundred thousand rows, which Python would build, sort, total and search for
    movers in seconds. By retailer one statement ranks, a second sums every measure of the rows
    shown and of the whole; the other dimensions rank in Python (see SQL_RANKED). The brand's
    ranking (`precomputed`) reads, over a preset period, the per-shop totals' indexes, over any
    other range the shops' running sums (range_series.py; PostgreSQL, once the fact job built them)
    instead of summing the rollup. Equal to `sales_report`'s page, top rows, movers and totals."""
    _check(by, compare)
    if by not in SQL_RANKED:
        report = sales_report(start, end, by, compare, seller_id, province_id, locale, channel_labels, buyers, page,
                              label_all=False, precomputed=precomputed)
        report.rows = None
        return report
    page = max(1, page)
    preset = _preset(start, end, by, compare, seller_id, buyers, precomputed)
    if preset is not None:
        from app.models.analytics import SalesShopTotal as t
        from app.services.analytics.shop_totals import scoped
        ranked = (select(t.buyer_id.label("key"), t.value_fen, t.prior_fen, t.change_fen)
                  .where(*scoped(*preset, province_id)).subquery("ranked"))

        def ranking(page):
            return _ranking(ranked, ranked.c.change_fen, page)

        def details(keys):  # the shops shown from their rows, the whole from the province grain
            shown = (select(literal_column("'row'").label("kind"), *[getattr(t, n) for n in MEASURES],
                            t.buyer_id.label("key"))
                     .where(*scoped(*preset, province_id), t.buyer_id.in_([k for k in keys if k is not None])))
            return union_all(shown, _whole_statement(start, end, seller_id, province_id, buyers))
    else:
        if db.session.get_bind().dialect.name == "postgresql":
            # The ranking's hash of a hundred thousand shops (28 MB), or the series' ranked rows (6 MB),
            # in memory, not spilled to disk in batches (4 MB by default): 10-20 % of the statement's
            # time, measured at full scale.
            db.session.execute(text("SET LOCAL work_mem = '32MB'"))
        if _any_range(by, seller_id, buyers, precomputed):  # any range: the shops' running sums
            from app.services.analytics import range_series
            def ranking(page):
                return range_series.ranking(start, end, *prior_period(start, end, compare), province_id, page)
        else:
            def ranking(page):
                return _ranked_statement(start, end, by, compare, seller_id, province_id, buyers, page)

        def details(keys):
            return _details_statement(start, end, by, seller_id, province_id, buyers, keys)
    found = db.session.execute(ranking(page)).all()
    total = next(r for r in found if r.kind == "total")
    row_count = int(total.n or 0)
    if page > pages_of(row_count):  # past the last page (a filter changed): show the last
        page = pages_of(row_count)
        found = db.session.execute(ranking(page)).all()
    keys = {r.key for r in found if r.kind != "total"}
    shown, totals = {}, ZERO
    for kind, *values, key in db.session.execute(details(keys)):
        if kind == "total":
            totals = _measures(values)
        else:
            shown[key] = _measures(values)
    groups: dict[str, list[SalesRow]] = {"page": [], "top": [], "rise": [], "fall": []}
    for r in found:
        if r.kind != "total":  # the net sales as ranked (the same, unless a rebuild ran in between)
            groups[r.kind].append(SalesRow(r.key, int(r.value_fen or 0), *shown.get(r.key, ZERO)[1:],
                                           int(r.prior_fen or 0)))
    page_rows = sorted(groups["page"], key=rank)
    top = sorted(groups["top"], key=rank) if page > 1 else page_rows[:TOP]
    risers, fallers = movers(sorted(groups["rise"], key=rank))[0], movers(sorted(groups["fall"], key=rank))[1]
    _label([*page_rows, *top, *risers, *fallers], by, locale, channel_labels or {})
    return _report(start, end, by, compare, seller_id, province_id, buyers, totals,
                   int(total.prior_fen or 0), rows=None, page=page, row_count=row_count, page_rows=page_rows,
                   top=top, risers=risers, fallers=fallers)
