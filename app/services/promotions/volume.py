"""The buyer's earlier quantities that volume tiers count (engine kind `volume_tier`, see
multiline.py): for each tier promotion, the units of its covered products on the buyer's orders
placed in its window before `until`, gift lines left out, cancelled and rejected orders left
out (a line cut at approval counts what was kept): the buyer's units per product since each
distinct window start, over its orders since the earliest one (the orders' (buyer, created_at)
index), added up per promotion here.

The cart quote reads them in the statement it runs anyway (`plan_history`, planned from the
process's promotion index before the query): the buyer's orders' version (their number and
latest update) always, and the history itself (one scalar subquery, its rows aggregated into a
string) when this process holds none for the buyer. The index keeps what it read per buyer
(`known_histories`, so a promotions change starts afresh), reused while the version has not
moved. So volume tiers add no statement to a quote, except one `_history_query` after the
buyer's orders changed since this process last read them (or when the promotions changed
between the plan and the query)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Integer, bindparam, case, func, select, text

from app.extensions import db
from app.models import Order, OrderLine, OrderStatus, Product
from app.models.base import UTCDateTime
from app.services.promotions.engine import CompiledPromotion

NOT_COUNTED = (OrderStatus.CANCELLED.value, OrderStatus.REJECTED.value)
MAX_KNOWN_BUYERS = 20_000


def live_tiers(index, buyer, now: datetime) -> list[CompiledPromotion]:
    """The volume tiers of `index` this buyer may get at `now` (no query)."""
    return [p for p in getattr(index, "volume_tiers", ()) if p.live_at(now) and p.targets(buyer)]


@lru_cache(maxsize=64)
def _history_query(starts: int):
    """The buyer's units per product (and its category) since each of `starts` window starts
    (bound parameters s0 ≤ s1 ≤ ...), grouped by product: built once per number of starts, so
    a quote only binds values (SQLAlchemy's statement cache does the rest)."""
    columns = [func.sum(case((Order.created_at >= bindparam(f"s{j}"), OrderLine.qty), else_=0)) for j in range(starts)]
    return (select(OrderLine.product_id, Product.category_id, *columns)
            .join(Order, Order.id == OrderLine.order_id).join(Product, Product.id == OrderLine.product_id)
            .where(Order.buyer_id == bindparam("buyer"), Order.created_at >= bindparam("s0"),
                   Order.created_at < bindparam("until"), Order.status.not_in(NOT_COUNTED), OrderLine.is_gift.is_(False))
            .group_by(OrderLine.product_id, Product.category_id))


def earlier_quantities(buyer_id: int, promos: list[CompiledPromotion], until: datetime) -> dict[int, int]:
    """{promotion id: units} for `promos` (one query; none when `promos` is empty): the rows are
    the buyer's products in the earliest window, each summed since every distinct window start;
    each promotion adds up the products it covers, since its own start."""
    if not promos:
        return {}
    starts = sorted({p.starts_at for p in promos})
    column = {start: 2 + j for j, start in enumerate(starts)}
    params = {f"s{j}": start for j, start in enumerate(starts)}
    rows = db.session.execute(_history_query(len(starts)), dict(params, buyer=buyer_id, until=until)).all()
    return {promo.id: sum(int(row[column[promo.starts_at]] or 0) for row in rows if promo.covers(row[0], row[1]))
            for promo in promos}


@lru_cache(maxsize=64)
def _history_scalar(starts: int, dialect: str):
    """`_history_query` as one scalar subquery for the cart query: its rows as
    "product:category:q0:q1…" joined by ";", bound to vt_buyer, vt_until, vt_s0…. Written as SQL
    text, built once per number of starts: a text clause costs the quote nothing to build or to
    key for SQLAlchemy's statement cache, whatever the number of starts."""
    aggregate = "string_agg" if dialect == "postgresql" else "group_concat"
    sums = ", ".join(f"SUM(CASE WHEN o.created_at >= :vt_s{j} THEN ol.qty ELSE 0 END) AS q{j}" for j in range(starts))
    row = "CAST(h.p AS TEXT) || ':' || COALESCE(CAST(h.c AS TEXT), '')" + "".join(
        f" || ':' || CAST(h.q{j} AS TEXT)" for j in range(starts))
    skipped = ", ".join(f"'{status}'" for status in NOT_COUNTED)
    sql = (f"(SELECT {aggregate}({row}, ';') FROM (SELECT ol.product_id AS p, pr.category_id AS c, {sums} "
           "FROM order_lines ol JOIN orders o ON o.id = ol.order_id JOIN products pr ON pr.id = ol.product_id "
           "WHERE o.buyer_id = :vt_buyer AND o.created_at >= :vt_s0 AND o.created_at < :vt_until "
           f"AND o.status NOT IN ({skipped}) AND NOT ol.is_gift GROUP BY ol.product_id, pr.category_id) AS h)")
    return text(sql).bindparams(bindparam("vt_buyer", type_=Integer()), bindparam("vt_until", type_=UTCDateTime()),
                                *[bindparam(f"vt_s{j}", type_=UTCDateTime()) for j in range(starts)])


@lru_cache(maxsize=4)
def _token_sql(dialect: str):
    """The buyer's orders' version for the cart query: their number and latest `updated_at`
    (every change to an order row moves it, as the nightly facts job also relies on)."""
    return text("(SELECT CAST(COUNT(*) AS TEXT) || ':' || COALESCE(CAST(MAX(o.updated_at) AS TEXT), '') "
                "FROM orders o WHERE o.buyer_id = :vt_buyer)").bindparams(bindparam("vt_buyer", type_=Integer()))


@dataclass
class _Known:
    """A buyer's history as this process last read it: at `token`, per product since each of `starts`."""

    token: str
    starts: tuple
    rows: list  # [(product id, category id, [units since each start])]
    totals: dict = field(default_factory=dict)  # promotion ids → {promotion id: units}


@dataclass(frozen=True)
class HistoryPlan:
    """What the cart query reads for the volume tiers of `index` live at `until`: always the
    buyer's orders' version (short); the history itself only when this process holds none for
    the buyer at these window starts."""

    index: object
    starts: tuple
    until: datetime
    buyer_id: int
    known: _Known | None

    def columns(self) -> list:
        """The last columns of the cart query (text clauses have no label: read them by position)."""
        dialect = db.engine.dialect.name
        if self.known is not None:
            return [_token_sql(dialect)]
        return [_token_sql(dialect), _history_scalar(len(self.starts), dialect)]

    @property
    def width(self) -> int:
        """How many columns `columns` returns."""
        return 1 if self.known is not None else 2

    def params(self) -> dict:
        if self.known is not None:
            return {"vt_buyer": self.buyer_id}
        return dict({f"vt_s{j}": start for j, start in enumerate(self.starts)}, vt_buyer=self.buyer_id,
                    vt_until=self.until)


def plan_history(index, now: datetime, buyer_id: int) -> HistoryPlan | None:
    """What the cart query should read, from the process's current index (None: no volume tier
    is live, or no index is loaded yet)."""
    tiers = [p for p in getattr(index, "volume_tiers", ()) if p.live_at(now)] if index is not None else ()
    if not tiers:
        return None
    starts = tuple(sorted({p.starts_at for p in tiers}))
    known = index.known_histories.get(buyer_id)
    return HistoryPlan(index, starts, now, buyer_id, known if known is not None and known.starts == starts else None)


def quantities_from(plan: HistoryPlan | None, index, read: tuple, buyer_id: int,
                    promos: list[CompiledPromotion], until: datetime) -> dict[int, int]:
    """{promotion id: units} for `promos`: from the cart query's columns (`read`: the orders'
    version, then the history when the plan asked for it), or from this process's copy when the
    version has not moved; else (the buyer's orders changed since, or the promotions changed
    between the plan and the query) read by one query."""
    if not promos:
        return {}
    if plan is None or plan.index is not index or any(p.starts_at not in plan.starts for p in promos):
        return earlier_quantities(buyer_id, promos, until)
    token = read[0] or ""
    known = plan.known
    if known is None:
        known = _Known(token, plan.starts, _parse(read[1]))
    elif known.token != token:
        params = dict({f"s{j}": start for j, start in enumerate(plan.starts)}, buyer=buyer_id, until=plan.until)
        known = _Known(token, plan.starts, [(row[0], row[1], [int(q or 0) for q in row[2:]])
                                            for row in db.session.execute(_history_query(len(plan.starts)), params)])
    cache = index.known_histories
    cache[buyer_id] = known
    cache.move_to_end(buyer_id)
    while len(cache) > MAX_KNOWN_BUYERS:
        cache.popitem(last=False)
    key = tuple(p.id for p in promos)
    totals = known.totals.get(key)
    if totals is None:
        column = {start: j for j, start in enumerate(plan.starts)}
        totals = known.totals[key] = {
            promo.id: sum(row[2][column[promo.starts_at]] for row in known.rows if promo.covers(row[0], row[1]))
            for promo in promos}
    return totals


def _parse(text: str | None) -> list:
    rows = []
    for part in (text or "").split(";"):
        if part:
            product, category, *sums = part.split(":")
            rows.append((int(product), int(category) if category else None, [int(q or 0) for q in sums]))
    return rows
