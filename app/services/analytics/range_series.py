"""Any range of the brand's sales report by retailer or by rep, kept by the fact job (PostgreSQL).

The form's presets are served by per-shop totals (shop_totals.py); any other range (a start and end
typed into the form) summed ~1 M weekly "buyer"-grain rows per request (~1.7–2 s at full scale).
Two structures make any range a handful of lookups:

- By retailer, `SalesShopSeries`: per shop, the sorted days on which it has market facts and its
  net sales up to each (an array pair, ~21 days and 300 bytes a shop). A range's net sales are a
  difference of two running sums found by `width_bucket` (a binary search in C), so the ranking
  reads ~100 k short rows instead of summing ~1 M, and ranks only the shops whose running sums are
  wide enough to reach the page or the movers (`ranking`); the shops shown get their other
  measures from the buyer index and the whole from the province grain, as before.
- By rep, `SalesRepDay` and `SalesRepWeek`: the market per day, rep and province, and its running
  sums per week. A range is the week rows at its two ends (whole weeks) and the day rows of its
  edges (at most six days each side): a few thousand rows for the whole market. The rep is the one
  serving the shop when it was mapped (`SalesRepShop`); the shops whose routes changed since
  (`SalesRouteChange`, kept by a trigger) are moved to the rep serving them now from their own
  facts, so the report follows the routes as they are now, as the general path joins them.

Freshness: `refresh(days)` runs inside `facts.rebuild_days`, in the transaction that rebuilt those
days' facts: the series of the shops with facts on those days (or that had some), the rep rows of
those days, the routes' changes, then the week rows again. The first call (no `sales_series`
watermark: a new or just-migrated database) builds everything; until then the report sums the
rollup. SQLite (`make run`'s zero-setup database) keeps the general path: no arrays there.
A page reads the structures and the route changes in separate statements: a job committing in
between can show one request a mix (as the preset totals can), never a stored error.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import (BigInteger, Date, and_, bindparam, case, cast, func, literal, literal_column, or_, select, text,
                        type_coerce, union_all)
from sqlalchemy.dialects import postgresql

from app.extensions import db
from app.models.analytics import FactWatermark, SalesShopSeries
from app.services.core.clock import now_utc

NAME = "sales_series"  # the FactWatermark row written by the first build
MEASURES = ("value_fen", "qty", "orders", "ordered_fen", "shipped_fen", "delivered_fen", "returned_fen")
# Per fact row, the report's measures (sales.measures) and their names.
_FACT_MEASURES = ("value_fen - lost_fen - returned_fen", "qty - lost_qty - returned_qty", "orders",
                  "value_fen - lost_fen", "shipped_fen", "delivered_fen", "returned_fen")
_SUMS = ", ".join(f"CAST(sum({m}) AS bigint) AS {n}" for m, n in zip(_FACT_MEASURES, MEASURES))
_COLUMNS = ", ".join(MEASURES)


def on_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def available() -> bool:
    """True once the first build ran (PostgreSQL): the structures then hold every fact. (A query,
    not the session's identity map: one statement per report, whatever ran before.)"""
    return on_postgres() and db.session.scalar(select(FactWatermark.name).where(FactWatermark.name == NAME)) is not None


# -- keeping them ---------------------------------------------------------------------------------

def refresh(days) -> None:
    """Bring the structures up to the facts of `days` (just rebuilt), and the rep routes' changes;
    the first call builds everything. PostgreSQL only; in the caller's transaction."""
    if not on_postgres():
        return
    days = sorted(set(days))
    if db.session.get(FactWatermark, NAME) is None:
        _build_all()
        db.session.add(FactWatermark(name=NAME, changed_up_to=None, built_at=now_utc()))
        db.session.flush()
        return
    moved = _apply_route_changes()
    if days:
        _map_new_shops(days)
        _rebuild_rep_days(days)
        _rebuild_shop_series(days)
    if days or moved:
        _rebuild_rep_weeks()


def _serving(shop: str) -> str:
    """SQL: the rep serving `shop` now (the lowest id of the routes holding it, as sales.SERVING), or 0."""
    return f"coalesce((SELECT min(r.rep_id) FROM rep_routes r WHERE r.retailer_id = {shop}), 0)"


def _shop_days(where: str) -> str:
    """SQL: the market's facts matching `where` per shop, province and day, with every measure."""
    return (f"SELECT buyer_id, province_id, day, {_SUMS} FROM sales_daily "
            f"WHERE channel <> 'dealer' AND {where} GROUP BY buyer_id, province_id, day")


def _build_all() -> None:
    """Every shop's series, the mapping of every shop to the rep serving it now, every day's rep
    rows and the week rows; the route changes listed so far are then reflected."""
    execute = db.session.execute
    changes = execute(text("SELECT id FROM sales_route_changes")).scalars().all()
    execute(text("SET LOCAL work_mem = '64MB'"))
    for table in ("sales_shop_series", "sales_rep_shops", "sales_rep_days", "sales_rep_weeks"):
        execute(text(f"DELETE FROM {table}"))
    execute(text("DROP TABLE IF EXISTS pg_temp.shop_days"))
    execute(text(f"CREATE TEMP TABLE shop_days ON COMMIT DROP AS {_shop_days('TRUE')}"))
    execute(text(f"INSERT INTO sales_rep_shops (buyer_id, rep_id) SELECT buyer_id, {_serving('buyer_id')} "
                 "FROM (SELECT DISTINCT buyer_id FROM shop_days) shops"))
    execute(text(_insert_rep_days("shop_days")))
    execute(text(_insert_series("shop_days")))
    execute(text("DROP TABLE shop_days"))
    _rebuild_rep_weeks()
    execute(text("DELETE FROM sales_route_changes WHERE id = ANY(:ids)"), {"ids": changes})


def _insert_rep_days(source: str) -> str:
    """SQL: the rep rows of the per-shop days in `source` (a relation like `_shop_days`)."""
    return (f"INSERT INTO sales_rep_days (day, rep_id, province_id, {_COLUMNS}, active) "
            f"SELECT s.day, m.rep_id, coalesce(s.province_id, 0), "
            + ", ".join(f"sum(s.{n})" for n in MEASURES) + ", count(*) "
            f"FROM {source} s JOIN sales_rep_shops m ON m.buyer_id = s.buyer_id "
            "GROUP BY s.day, m.rep_id, coalesce(s.province_id, 0)")


def _insert_series(source: str) -> str:
    """SQL: the series of the shops in `source` (a relation like `_shop_days`, each shop whole):
    the whole shop (piece 0), and a row per province of a shop whose facts hold several."""
    return f"""
        WITH days AS (SELECT buyer_id, province_id, day, value_fen FROM {source} AS src),
        shops AS (SELECT buyer_id, count(DISTINCT coalesce(province_id, 0)) AS provinces,
                         max(province_id) AS province_id FROM days GROUP BY buyer_id),
        whole AS (SELECT buyer_id, day, CAST(sum(sum(value_fen)) OVER (PARTITION BY buyer_id ORDER BY day)
                                             AS bigint) AS net
                  FROM days GROUP BY buyer_id, day),
        pieces AS (SELECT d.buyer_id, d.province_id, d.day,
                          CAST(sum(d.value_fen) OVER (PARTITION BY d.buyer_id, d.province_id ORDER BY d.day)
                               AS bigint) AS net
                   FROM days d JOIN shops s ON s.buyer_id = d.buyer_id
                   WHERE s.provinces > 1 AND d.province_id IS NOT NULL)
        INSERT INTO sales_shop_series (buyer_id, piece, province_id, days, net, span)
        SELECT w.buyer_id, 0, CASE WHEN s.provinces = 1 THEN s.province_id END,
               array_agg(w.day ORDER BY w.day), array_agg(w.net ORDER BY w.day),
               greatest(max(w.net), 0) - least(min(w.net), 0)
        FROM whole w JOIN shops s ON s.buyer_id = w.buyer_id GROUP BY w.buyer_id, s.provinces, s.province_id
        UNION ALL
        SELECT buyer_id, province_id, province_id, array_agg(day ORDER BY day), array_agg(net ORDER BY day),
               greatest(max(net), 0) - least(min(net), 0)
        FROM pieces GROUP BY buyer_id, province_id"""


def _map_new_shops(days: list[date]) -> None:
    """Map the shops with facts on `days` that no rep row holds yet to the rep serving them now."""
    db.session.execute(text(
        f"INSERT INTO sales_rep_shops (buyer_id, rep_id) SELECT buyer_id, {_serving('buyer_id')} "
        "FROM (SELECT DISTINCT buyer_id FROM sales_daily WHERE day = ANY(:days) AND channel <> 'dealer') shops "
        "WHERE NOT EXISTS (SELECT 1 FROM sales_rep_shops m WHERE m.buyer_id = shops.buyer_id)"), {"days": days})


def _rebuild_rep_days(days: list[date]) -> None:
    db.session.execute(text("DELETE FROM sales_rep_days WHERE day = ANY(:days)"), {"days": days})
    db.session.execute(text(_insert_rep_days(f"({_shop_days('day = ANY(:days)')})")), {"days": days})


def _rebuild_shop_series(days: list[date]) -> None:
    """The series of the shops with facts on `days`, or whose series held one of them (facts gone)."""
    params = {"days": days}
    db.session.execute(text(
        "CREATE TEMP TABLE IF NOT EXISTS changed_shops (buyer_id integer PRIMARY KEY) ON COMMIT DROP"))
    db.session.execute(text("DELETE FROM changed_shops"))
    db.session.execute(text(
        "INSERT INTO changed_shops SELECT buyer_id FROM sales_daily WHERE day = ANY(:days) AND channel <> 'dealer' "
        "UNION SELECT buyer_id FROM sales_shop_series WHERE days && CAST(:days AS date[])"), params)
    db.session.execute(text("DELETE FROM sales_shop_series WHERE buyer_id IN (SELECT buyer_id FROM changed_shops)"))
    source = f"({_shop_days('buyer_id IN (SELECT buyer_id FROM changed_shops)')})"
    db.session.execute(text(_insert_series(source)))


def _apply_route_changes() -> int:
    """Move the shops whose serving rep changed since they were mapped, with all their facts, to the
    rep serving them now; forget the changes read. Returns the shops moved."""
    execute = db.session.execute
    changes = execute(text("SELECT id FROM sales_route_changes")).scalars().all()
    if not changes:
        return 0
    moved = execute(text(
        f"SELECT buyer_id, rep_id, now FROM (SELECT m.buyer_id, m.rep_id, {_serving('m.buyer_id')} AS now "
        "FROM sales_rep_shops m WHERE m.buyer_id IN "
        "(SELECT retailer_id FROM sales_route_changes WHERE id = ANY(:ids))) shops WHERE rep_id <> now"),
        {"ids": changes}).all()
    if moved:
        shops = [m.buyer_id for m in moved]
        execute(text("DROP TABLE IF EXISTS pg_temp.moved_shops"))
        execute(text("CREATE TEMP TABLE moved_shops (buyer_id integer PRIMARY KEY, old integer, new integer) "
                     "ON COMMIT DROP"))
        execute(text("INSERT INTO moved_shops SELECT * FROM unnest(CAST(:b AS integer[]), CAST(:o AS integer[]), "
                     "CAST(:n AS integer[]))"),
                {"b": shops, "o": [m.rep_id for m in moved], "n": [m.now for m in moved]})
        source = f"({_shop_days('buyer_id IN (SELECT buyer_id FROM moved_shops)')})"
        for rep, sign in (("old", "-"), ("new", "")):
            sums = ", ".join(f"{sign}sum(s.{n})" for n in MEASURES)
            updates = ", ".join(f"{n} = sales_rep_days.{n} + excluded.{n}" for n in (*MEASURES, "active"))
            execute(text(
                f"INSERT INTO sales_rep_days (day, rep_id, province_id, {_COLUMNS}, active) "
                f"SELECT s.day, m.{rep}, coalesce(s.province_id, 0), {sums}, {sign}count(*) "
                f"FROM {source} s JOIN moved_shops m ON m.buyer_id = s.buyer_id "
                f"GROUP BY s.day, m.{rep}, coalesce(s.province_id, 0) "
                f"ON CONFLICT (day, rep_id, province_id) DO UPDATE SET {updates}"))
        execute(text("DELETE FROM sales_rep_days WHERE active = 0"))
        execute(text("UPDATE sales_rep_shops m SET rep_id = moved_shops.new FROM moved_shops "
                     "WHERE m.buyer_id = moved_shops.buyer_id"))
        execute(text("DROP TABLE moved_shops"))
    execute(text("DELETE FROM sales_route_changes WHERE id = ANY(:ids)"), {"ids": changes})
    return len(moved)


def _rebuild_rep_weeks() -> None:
    """Every week row again from the day rows: a row per rep and province for each week from the
    first day's to the last day's (some 36 k rows at full scale)."""
    db.session.execute(text("DELETE FROM sales_rep_weeks"))
    running = ", ".join(f"sum(coalesce(w.{n}, 0)) OVER running" for n in (*MEASURES, "active"))
    db.session.execute(text(f"""
        WITH sums AS (SELECT CAST(date_trunc('week', day) AS date) AS week, rep_id, province_id,
                             {", ".join(f"sum({n}) AS {n}" for n in (*MEASURES, "active"))}
                      FROM sales_rep_days GROUP BY 1, rep_id, province_id),
        groups AS (SELECT DISTINCT rep_id, province_id FROM sums),
        weeks AS (SELECT CAST(generate_series(min(week), max(week), interval '7 days') AS date) AS week FROM sums)
        INSERT INTO sales_rep_weeks (week, rep_id, province_id, {_COLUMNS}, active)
        SELECT k.week, g.rep_id, g.province_id, {running}
        FROM groups g CROSS JOIN weeks k
        LEFT JOIN sums w ON w.week = k.week AND w.rep_id = g.rep_id AND w.province_id = g.province_id
        WINDOW running AS (PARTITION BY g.rep_id, g.province_id ORDER BY k.week)"""))


# -- reading them ---------------------------------------------------------------------------------

# The shops with the widest running sums whose values bound the page's, the top rows' and the movers'
# (HEAD_PER_ROW per row wanted, at least HEAD_MIN): ~1 % of the market left to rank for a page.
HEAD_PER_ROW = 4
HEAD_MIN = 500
# When the head holds too few risers or fallers (a comparison period before the data: nearly every
# shop rises), the movers' bounds come from this many: the fallers are then smaller shops.
HEAD_WIDE = 10_000


def ranking(start: date, end: date, prior_start: date, prior_end: date, province_id: int | None, page: int):
    """The statement of sales._ranking (the page's, the top rows' and the movers' keys with their net
    sales, and the row count and both periods' net sales) from the shops' running sums, in the
    brand's market or one province's part of it. Each shop's net sales over a range are two lookups
    (~40 ms of CPU for the ~100 k shops), and sorting them four times cost as much again (128 ms
    in all at full scale), so only the row count reads every shop (its days only, ~20 ms) and only
    candidates are ranked: a shop's net sales over any range are bounded by its `span` (the width
    of its running sums), its change by twice that, and the shops with the widest spans give values
    that at least as many rows reach (the page's: `HEAD_PER_ROW` per row wanted, at least
    `HEAD_MIN`; the movers': `HEAD_WIDE` when those are too few or too weak). Only the shops whose
    span reaches a bound can be on the page, among the top rows or the movers; the span index finds
    them (~1-20 k shops for a one-year range); without a bound every shop is a candidate. Equal to
    the ranking of every shop, ties included (a bound keeps every shop that can equal it). The
    comparison period's net sales (the "total" row) come from the province grain."""
    from app.services.analytics.sales import MOVERS, PAGE_SIZE, _ranking

    t = SalesShopSeries
    bounds = sorted({start - timedelta(days=1), end, prior_start - timedelta(days=1), prior_end})
    scope = t.piece == 0 if province_id is None else t.province_id == province_id

    def shops(name: str, *where, head: int | None = None):
        """(key, value_fen, prior_fen, change) of the shops in scope with facts in either period."""
        # Each distinct bound once: the number of days ≤ it (a binary search per shop and bound).
        counts = {d: func.width_bucket(literal(d, Date), t.days).label(f"x{i}") for i, d in enumerate(bounds)}
        inner = select(t.buyer_id.label("key"), t.net, *counts.values()).where(scope, *where)
        # OFFSET 0 keeps the subquery whole: inlined, each count would be computed once per use.
        inner = inner.order_by(t.span.desc()).limit(head) if head else inner.offset(0)
        c = inner.subquery(f"{name}_series").c
        sums = type_coerce(c.net, postgresql.ARRAY(BigInteger))

        def count(day: date):
            return c[counts[day].name]

        def net(a: date, b: date):
            return cast(func.coalesce(sums[count(b)], 0) - func.coalesce(sums[count(a - timedelta(days=1))], 0),
                        BigInteger)

        value, prior = net(start, end), net(prior_start, prior_end)
        present = or_(*[count(b) > count(a - timedelta(days=1)) for a, b in ((start, end), (prior_start, prior_end))])
        return select(c.key, value.label("value_fen"), prior.label("prior_fen"),
                      (value - prior).label("change")).where(present)

    wanted = max(1, page) * PAGE_SIZE

    def nth(column, n: int, *where, descending: bool = True):
        return (select(column).where(*where).order_by(column.desc() if descending else column)
                .limit(1).offset(n - 1).scalar_subquery())

    def movers_of(head) -> tuple:
        """The head's MOVERS-th rise and fall (NULL when it has fewer)."""
        return (nth(head.c.change, MOVERS, head.c.change > 0),
                nth(head.c.change, MOVERS, head.c.change < 0, descending=False))

    def halved(rise, fall):
        """Twice the span must reach a rise or a fall: half of either, rounded up (NULL without
        both: LEAST skips a NULL)."""
        return case((and_(rise.is_not(None), fall.is_not(None)), func.least(rise + 1, 1 - fall) / 2))

    # From the shops of widest span: the wanted-th net sales, and the bound on the movers' spans.
    # When the widest shops nearly all rise (a comparison period before the data, say), the biggest
    # fallers are smaller shops: the movers' bound then comes from more of them (a subquery only run
    # then). Read first, so that the candidates' statements have the bounds as constants: the
    # planner then reads them by the span index (as parameters it estimated a third of the market
    # and scanned it).
    head = shops("head", head=max(HEAD_MIN, HEAD_PER_ROW * wanted)).cte("head")
    wide = shops("wide", head=HEAD_WIDE).cte("wide")
    value = nth(head.c.value_fen, wanted)
    narrow = halved(*movers_of(head))
    weak = or_(narrow.is_(None), and_(value > 0, narrow * 8 < value))
    value, movers_bound = db.session.execute(select(value, case((weak, halved(*movers_of(wide))), else_=narrow))).one()
    page_bound = value if value is not None and value > 0 else None

    # The page and the top rows: a shop's net sales reach `value` only if its span does. The movers:
    # a change reaches `rise` (or falls to `fall`) only if twice the span does. Without enough of
    # them in the head (few fallers, say: a comparison period before the data) or a bound above 0,
    # every shop is a candidate: then one pass computes them all, and counts them.
    every = shops("every").cte("every") if page_bound is None or movers_bound is None else None
    ranked = every if page_bound is None else shops("ranked", t.span >= literal(page_bound, BigInteger)).cte("ranked")
    if movers_bound is None:
        movers = every
    elif page_bound is None or movers_bound >= page_bound:
        movers = ranked
    else:
        movers = shops("movers", t.span >= literal(movers_bound, BigInteger)).cte("movers")
    if every is not None:
        count = select(func.count()).select_from(every).scalar_subquery()
    else:  # every shop's days only
        present = select(t.buyer_id).where(scope, or_(*[
            func.width_bucket(literal(b, Date), t.days) > func.width_bucket(literal(a - timedelta(days=1), Date), t.days)
            for a, b in ((start, end), (prior_start, prior_end))])).subquery("present")
        count = select(func.count()).select_from(present).scalar_subquery()
    # The comparison period's net sales, the market's, from the province grain (a shop without
    # facts in the period adds 0); the period's own total comes with the details (sales.py).
    whole = select(cast(literal_column("NULL"), BigInteger), _market_net(prior_start, prior_end, province_id), count)
    return _ranking(ranked, ranked.c.change, page, whole, movers)


def _market_net(start: date, end: date, province_id: int | None):
    """The brand's market's net sales over [start, end] (or a province's), from the province grain."""
    from app.services.analytics.sales import _unsummed, measures

    parts = _unsummed(start, end, "province", None, province_id, None, lambda c: [measures(c)[0].label("net")])
    rows = union_all(*parts).subquery("market")
    return select(func.sum(rows.c.net)).scalar_subquery()


def rep_totals(start: date, end: date, prior_start: date, prior_end: date,
               province_id: int | None) -> tuple[dict, dict]:
    """MEASURES per serving rep (None: no rep) of the period, and the comparison period's net sales,
    as sales._totals gives them by rep: only the reps with facts in each period."""
    from app.services.analytics.sales import ZERO, split_weeks

    parts, days = [], {}
    where = "" if province_id is None else " AND province_id = :province"

    def day(value: date) -> str:  # a bound parameter for the date
        days[f"d{len(days)}"] = value
        return f":d{len(days) - 1}"

    for period, (a, b) in enumerate(((start, end), (prior_start, prior_end))):
        weeks, edges = split_weeks(a, b)
        if weeks:  # the running sums at the last whole week less those before the first
            for sign, week in (("", weeks[1]), ("-", weeks[0] - timedelta(days=7))):
                parts.append(f"SELECT {period} AS period, rep_id, "
                             + ", ".join(f"{sign}{n} AS {n}" for n in (*MEASURES, "active"))
                             + f" FROM sales_rep_weeks WHERE week = least({day(week)}, "
                             f"(SELECT max(week) FROM sales_rep_weeks)){where}")
        for first, last in edges:  # the days outside whole weeks
            parts.append(f"SELECT {period} AS period, rep_id, {_COLUMNS}, active FROM sales_rep_days "
                         f"WHERE day BETWEEN {day(first)} AND {day(last)}{where}")
    rows = {}
    if parts:
        query = text(f"SELECT period, rep_id, {', '.join(f'sum({n})' for n in (*MEASURES, 'active'))} "
                     f"FROM ({' UNION ALL '.join(parts)}) parts GROUP BY period, rep_id")
        query = query.bindparams(*[bindparam(k, type_=Date) for k in days])
        for period, rep, *values in db.session.execute(query, {**days, "province": province_id}):
            rows[period, rep] = [int(v or 0) for v in values]
    for period, rep, values in _moved_shops(start, end, prior_start, prior_end, province_id):
        total = rows.setdefault((period, rep), [0] * (len(MEASURES) + 1))
        rows[period, rep] = [x + y for x, y in zip(total, values)]
    current = {rep or None: tuple(v[:-1]) for (period, rep), v in rows.items() if period == 0 and v[-1]}
    prior = {rep or None: (v[0], *ZERO[1:]) for (period, rep), v in rows.items() if period == 1 and v[-1]}
    return current, prior


def _moved_shops(start, end, prior_start, prior_end, province_id):
    """(period, rep, figures) corrections for the shops whose serving rep is no longer the one their
    rep rows count them under: their figures taken from that rep and given to the one serving them
    now, from their own facts (the buyer index; a route edit moves a few shops)."""
    moved = db.session.execute(text(
        f"SELECT buyer_id, rep_id, now FROM (SELECT m.buyer_id, m.rep_id, {_serving('m.buyer_id')} AS now "
        "FROM sales_rep_shops m WHERE m.buyer_id IN (SELECT retailer_id FROM sales_route_changes)) shops "
        "WHERE rep_id <> now")).all()
    if not moved:
        return []
    where = "buyer_id = ANY(:shops) AND day BETWEEN :a AND :b"
    if province_id is not None:
        where += " AND province_id = :province"
    reps = {m.buyer_id: (m.rep_id, m.now) for m in moved}
    corrections = []
    for period, (a, b) in enumerate(((start, end), (prior_start, prior_end))):
        query = text(f"SELECT buyer_id, {', '.join(f'sum({n})' for n in MEASURES)}, count(*) "
                     f"FROM ({_shop_days(where)}) s GROUP BY buyer_id")
        found = db.session.execute(query, {"shops": list(reps), "a": a, "b": b, "province": province_id})
        for shop, *values in found:
            values = [int(v or 0) for v in values]
            old, new = reps[shop]
            corrections += [(period, old, [-v for v in values]), (period, new, values)]
    return corrections
