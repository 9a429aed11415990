"""The daily sales fact (`SalesDay`), rebuilt per business day, incrementally and idempotently.

A business day is a calendar day in Asia/Shanghai; an order counts on the day it was placed.
`rebuild_days` replaces the rows of the given days by a fresh aggregate of the order tables,
so re-running any range changes nothing. `refresh` rebuilds only the days holding an order
whose `updated_at` moved since the last run (the watermark), re-reading a small overlap
(`OVERLAP`) because a transaction can commit an `updated_at` slightly older than the moment
the previous run read the watermark.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import BigInteger, Date, Integer, and_, case, delete, distinct, func, insert, literal, select, text, union_all
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import (DeliveryDiscrepancy, DeliverySignOff, Order, OrderLine, OrderStatus, Organisation, Region,
                        ReturnLine, ReturnRequest, Shipment, ShipmentLine)
from app.models.vocabulary import ReturnStatus
from app.models.analytics import FactWatermark, SalesDay, SalesRollup
from app.services.core.clock import LOCAL, now_utc
from app.services.inventory.daysql import local_day as sql_local_day

NAME = "sales_daily"
OVERLAP = timedelta(minutes=15)
LOST = (OrderStatus.CANCELLED.value, OrderStatus.REJECTED.value)


@dataclass(frozen=True)
class Refresh:
    days: int
    rows: int
    first_day: date | None
    last_day: date | None
    rebuilt: frozenset = frozenset()  # the days rebuilt, for an incremental refresh


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants where the Shanghai business day `day` starts and the next one starts."""
    start = datetime.combine(day, time.min, LOCAL).astimezone(timezone.utc)
    return start, datetime.combine(day + timedelta(days=1), time.min, LOCAL).astimezone(timezone.utc)


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL).date()


def _half_up(total, part, whole):
    """total × part ÷ whole in whole fen, half up (non-negative integers, portable SQL)."""
    return (total * part * 2 + whole) // (whole * 2)


def _zero(kind=Integer):
    return literal(0, kind)


def _events_of_range(start: datetime, end: datetime):
    """What happened in [start, end) per business day (Asia/Shanghai, in SQL) and order line's
    product, buyer and seller, as one UNION ALL: lines ordered (with the order for the count, and
    what later became of the order), quantities shipped, delivered (at the sign-off: shipped minus
    short and damaged) and taken back by an accepted return. Values are each line's own value
    (after promotions) pro rata, half up. Set-based: a month is one statement, and each line's
    shipped and missing quantities at its sign-off come from grouped joins, not a subquery per line."""
    is_lost = Order.status.in_(LOST)
    key = (OrderLine.product_id.label("product_id"), Order.buyer_id.label("buyer_id"),
           Order.seller_id.label("seller_id"))

    def row(moment, key=key, order_id=None, **given):
        """An event row's columns: its day, the key, the order id (ordered lines only), then every
        measure, 0 where this kind of event has none."""
        return [moment.label("day"), *key,
                (literal(None, Integer) if order_id is None else order_id).label("order_id"),
                *[given.get(n, _zero(BigInteger)).label(n) for n in EVENT_MEASURES]]

    # One row per order and product (its lines summed), so that counting the orders of a fact row
    # needs no DISTINCT, and the outer aggregate can hash rather than sort.
    ordered = (select(*row(sql_local_day(Order.created_at), order_id=Order.id, qty=func.sum(OrderLine.qty),
                           value_fen=func.sum(OrderLine.line_total_fen),
                           lost_qty=func.sum(case((is_lost, OrderLine.qty), else_=0)),
                           lost_fen=func.sum(case((is_lost, OrderLine.line_total_fen), else_=0))))
               .select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)
               .where(Order.created_at >= start, Order.created_at < end)
               .group_by(Order.id, OrderLine.product_id))
    shipped = (select(*row(sql_local_day(Shipment.shipped_at), shipped_qty=ShipmentLine.qty,
                           shipped_fen=_half_up(OrderLine.line_total_fen, ShipmentLine.qty, OrderLine.qty)))
               .select_from(Shipment).join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
               .join(OrderLine, OrderLine.id == ShipmentLine.order_line_id).join(Order, Order.id == OrderLine.order_id)
               .where(Shipment.shipped_at >= start, Shipment.shipped_at < end))
    # The lines of the orders signed off in the range, with what was sent of each line (all its
    # shipments, whenever made) and what the sign-off found missing.
    signed = (select(DeliverySignOff.order_id.label("order_id"), DeliverySignOff.signed_at.label("signed_at"))
              .where(DeliverySignOff.signed_at >= start, DeliverySignOff.signed_at < end).subquery("signed"))
    sent = (select(ShipmentLine.order_line_id.label("line_id"), func.sum(ShipmentLine.qty).label("qty"))
            .join(OrderLine, OrderLine.id == ShipmentLine.order_line_id)
            .join(signed, signed.c.order_id == OrderLine.order_id)
            .group_by(ShipmentLine.order_line_id).subquery("sent"))
    missing = (select(DeliveryDiscrepancy.order_line_id.label("line_id"), func.sum(DeliveryDiscrepancy.qty).label("qty"))
               .join(OrderLine, OrderLine.id == DeliveryDiscrepancy.order_line_id)
               .join(signed, signed.c.order_id == OrderLine.order_id)
               .group_by(DeliveryDiscrepancy.order_line_id).subquery("missing"))
    arrived = (select(sql_local_day(signed.c.signed_at).label("day"), *key,
                      (func.coalesce(sent.c.qty, 0) - func.coalesce(missing.c.qty, 0)).label("qty"),
                      OrderLine.line_total_fen.label("total"), OrderLine.qty.label("whole"))
               .select_from(signed).join(Order, Order.id == signed.c.order_id)
               .join(OrderLine, OrderLine.order_id == Order.id)
               .outerjoin(sent, sent.c.line_id == OrderLine.id)
               .outerjoin(missing, missing.c.line_id == OrderLine.id)
               .subquery("arrived"))
    delivered = (select(*row(arrived.c.day, key=(arrived.c.product_id, arrived.c.buyer_id, arrived.c.seller_id),
                             delivered_qty=arrived.c.qty,
                             delivered_fen=_half_up(arrived.c.total, arrived.c.qty, arrived.c.whole)))
                 .where(arrived.c.qty > 0))
    returned = (select(*row(sql_local_day(ReturnRequest.decided_at), returned_qty=ReturnLine.qty,
                            returned_fen=_half_up(OrderLine.line_total_fen, ReturnLine.qty, OrderLine.qty)))
                .select_from(ReturnRequest).join(ReturnLine, ReturnLine.return_id == ReturnRequest.id)
                .join(OrderLine, OrderLine.id == ReturnLine.order_line_id).join(Order, Order.id == OrderLine.order_id)
                .where(ReturnRequest.status == ReturnStatus.ACCEPTED.value, ReturnRequest.decided_at >= start,
                       ReturnRequest.decided_at < end))
    return union_all(ordered, shipped, delivered, returned).subquery("events")


# The measures of an event row, in the order of the UNION ALL's columns after the order id.
EVENT_MEASURES = ("qty", "value_fen", "lost_qty", "lost_fen", "shipped_qty", "shipped_fen", "delivered_qty",
                  "delivered_fen", "returned_qty", "returned_fen")


def _range_aggregate(first: date, last: date):
    """The fact rows of the business days `first`…`last`, each event on its own day: the events
    summed by day × product × buyer × seller (integer keys), then the buyer's region, province and
    channel joined to the sums."""
    start, end = day_bounds(first)[0], day_bounds(last)[1]
    events = _events_of_range(start, end)
    keys = (events.c.day, events.c.product_id, events.c.buyer_id, events.c.seller_id)
    totals = (select(*keys, func.count(events.c.order_id).label("orders"),
                     *[func.sum(events.c[m]).label(m) for m in EVENT_MEASURES])
              .group_by(*keys).subquery("totals"))
    buyer = aliased(Organisation)
    region = aliased(Region)
    parent = aliased(Region)
    province = case((region.level == 1, region.id), (region.level == 2, region.parent_id), else_=parent.parent_id)
    return (
        select(totals.c.day, totals.c.product_id, totals.c.buyer_id, totals.c.seller_id,
               buyer.region_id, province.label("province_id"),
               func.coalesce(buyer.channel, buyer.kind).label("channel"),
               totals.c.orders, *[totals.c[m] for m in EVENT_MEASURES])
        .select_from(totals)
        .join(buyer, buyer.id == totals.c.buyer_id)
        .outerjoin(region, region.id == buyer.region_id)
        .outerjoin(parent, parent.id == region.parent_id)
    )


COLUMNS = ("day", "product_id", "buyer_id", "seller_id", "region_id", "province_id", "channel", "orders",
           *EVENT_MEASURES)


# The rollup's grains: the dimensions each keeps (always with the channel). "product_province" is
# kept by week only: a report filtered to a province reads its edge days from the facts, whose
# province index makes that cheap, rather than storing millions of daily rows. "receipts" keeps
# the buyer of the brand's sales to dealers only (channel "dealer"): each dealer's receipts.
# "buyer" keeps every buyer without the product (its region and province come with it, adding
# no rows), by week only like "product_province" (a day holds a few thousand buyers: daily rows
# would be nearly as many as the facts): the brand's report by retailer or by rep, and a rep's
# shops by anything but the product, read it instead of the facts.
GRAINS = {"product": ("product_id",), "product_province": ("product_id", "province_id"),
          "province": ("province_id",), "region": ("region_id", "province_id"),
          "seller": ("seller_id", "province_id"), "receipts": ("buyer_id",),
          "buyer": ("buyer_id", "seller_id", "region_id", "province_id")}
WEEKLY_ONLY = ("product_province", "buyer")
DEALER_ONLY = ("receipts",)
MEASURES = ("orders", *EVENT_MEASURES)


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _rollup_select(period: str, day, grain: str, where):
    keys = [getattr(SalesDay, k) for k in GRAINS[grain]] + [SalesDay.channel]
    columns = [literal(period).label("period"), day.label("day"), literal(grain).label("grain"), *keys,
               *[func.sum(getattr(SalesDay, m)).label(m) for m in MEASURES]]
    group = keys if period == "w" else [SalesDay.day, *keys]
    if grain in DEALER_ONLY:
        where = and_(where, SalesDay.channel == "dealer")
    return select(*columns).where(where).group_by(*group), ("period", "day", "grain", *GRAINS[grain], "channel",
                                                            *MEASURES)


# A grain whose keys are among a finer grain's: its daily rows are summed from that grain's daily
# rows rather than from the facts (one pass over the facts fewer in a long rebuild).
FROM_FINER = {"province": "region"}


def _summed_rollup(period: str, day, grain: str, source: str, where):
    """Rows of `grain` summed from the daily rollup rows of `source` (the same grain, or a finer
    one) that match `where`: a few hundred times fewer than the facts they sum."""
    r = SalesRollup
    keys = [getattr(r, k) for k in GRAINS[grain]] + [r.channel]
    columns = [literal(period).label("period"), day.label("day"), literal(grain).label("grain"), *keys,
               *[func.sum(getattr(r, m)).label(m) for m in MEASURES]]
    group = keys if period == "w" else [r.day, *keys]
    query = select(*columns).where(r.grain == source, r.period == "d", where).group_by(*group)
    return query, ("period", "day", "grain", *GRAINS[grain], "channel", *MEASURES)


def rebuild_rollup(days) -> None:
    """Replace the rollup rows of `days` and of the weeks holding them: the days from the facts,
    the weeks from the daily rows (weekly-only grains from the facts). Every day holding facts has
    its daily rows, so a week's other days are there to sum."""
    days = sorted(set(days))
    if not days:
        return
    db.session.execute(delete(SalesRollup).where(SalesRollup.period == "d", SalesRollup.day.in_(days)))
    for grain in sorted(GRAINS, key=lambda g: g in FROM_FINER):  # the finer grains first
        if grain in FROM_FINER:
            query, names = _summed_rollup("d", SalesRollup.day, grain, FROM_FINER[grain], SalesRollup.day.in_(days))
            db.session.execute(insert(SalesRollup).from_select(names, query))
        elif grain not in WEEKLY_ONLY:
            query, names = _rollup_select("d", SalesDay.day, grain, SalesDay.day.in_(days))
            db.session.execute(insert(SalesRollup).from_select(names, query))
    weeks = sorted({week_of(d) for d in days})
    db.session.execute(delete(SalesRollup).where(SalesRollup.period == "w", SalesRollup.day.in_(weeks)))
    for week in weeks:
        for grain in GRAINS:
            if grain in WEEKLY_ONLY:
                query, names = _rollup_select("w", literal(week, Date), grain,
                                              SalesDay.day.between(week, week + timedelta(days=6)))
            else:
                query, names = _summed_rollup("w", literal(week, Date), grain, grain,
                                              SalesRollup.day.between(week, week + timedelta(days=6)))
            db.session.execute(insert(SalesRollup).from_select(names, query))


# Days rebuilt by one statement: a month of the full demo data is ~650,000 fact rows, which
# PostgreSQL aggregates within a modest work_mem, while the per-statement overhead is paid 25
# times for two years instead of 731 times.
CHUNK_DAYS = 31


def chunks(days: list[date], size: int | None = None):
    """(first, last) of each run of consecutive days in the sorted `days`, cut every `size` days."""
    size = size or CHUNK_DAYS
    run: list[date] = []
    for day in days:
        if run and (day - run[-1] != timedelta(days=1) or len(run) == size):
            yield run[0], run[-1]
            run = []
        run.append(day)
    if run:
        yield run[0], run[-1]


@contextmanager
def _indexes_built_after(day_count: int):
    """The first build (PostgreSQL, an empty fact table, more than `ANALYZE_AFTER_DAYS` days):
    write the facts without the table's primary key and indexes, then build them once. Keeping
    five B-trees up to date row by row cost more than the aggregate itself (a month of the full
    demo data: 49 s with them, 21 s without, at load 8–9); building them sorted takes a fraction
    of that. The table is locked until the build commits; it held nothing to read anyway."""
    if (day_count <= ANALYZE_AFTER_DAYS or db.session.get_bind().dialect.name != "postgresql"
            or db.session.scalar(select(SalesDay.day).limit(1)) is not None):
        yield
        return
    table = SalesDay.__tablename__
    key = db.session.execute(text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
        "AND contype = 'p'"), {"t": table}).all()
    indexes = db.session.execute(text(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid = CAST(:t AS regclass) AND NOT indisprimary ORDER BY 1"), {"t": table}).all()
    for name, _definition in key:
        db.session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _definition in indexes:
        db.session.execute(text(f"DROP INDEX {name}"))
    yield
    db.session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for name, definition in key:
        db.session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
    for _name, definition in indexes:
        db.session.execute(text(definition))


def rebuild_days(days) -> int:
    """Replace the facts of each day by a fresh aggregate, and their rollup; returns the fact rows
    written."""
    from app.services.analytics import launch_rollup, range_series, shop_totals

    days = sorted(set(days))
    with _indexes_built_after(len(days)):
        for first, last in chunks(days):
            db.session.execute(delete(SalesDay).where(SalesDay.day.between(first, last)))
            db.session.execute(insert(SalesDay).from_select(COLUMNS, _range_aggregate(first, last)))
    launch_rollup.rebuild_for(days)  # the launches whose window holds these days, and the running ones
    if days:
        rebuild_rollup(days)
    # The report's per-shop totals of the presets holding these days, or whose range moved (a new
    # day), in this transaction: never older than the facts they sum.
    shop_totals.refresh_presets(days)
    # Any range of the brand's report by retailer or rep: the shops' running sums and the rep rows
    # of these days (all of them the first time), with the routes' changes.
    range_series.refresh(days)
    if not days:
        return 0
    # psycopg reports no row count for INSERT … SELECT: count what the days hold now.
    return db.session.scalar(select(func.count()).select_from(SalesDay)
                             .where(SalesDay.day.between(days[0], days[-1]), SalesDay.day.in_(days)))


def rebuild_range(first: date, last: date) -> Refresh:
    """Rebuild every day from `first` to `last` inclusive (any range, any number of times)."""
    if last < first:
        raise ValueError("the range ends before it starts")
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    rows = rebuild_days(days)
    return Refresh(len(days), rows, first, last)


def _watermark() -> FactWatermark:
    mark = db.session.get(FactWatermark, NAME)
    if mark is None:
        mark = FactWatermark(name=NAME, changed_up_to=None, built_at=now_utc())
        db.session.add(mark)
    return mark


# The moments at which a fact day changes, besides an order's own change (which moves its
# `updated_at`): an accepted return does not touch its order, so every event is read by its time.
def _event_moments():
    return ((Shipment.shipped_at, None), (DeliverySignOff.signed_at, None),
            (ReturnRequest.decided_at, ReturnRequest.status == ReturnStatus.ACCEPTED.value))


def changed_days(since: datetime | None, up_to: datetime) -> set[date]:
    """Business days holding an order changed, or a shipment, delivery or accepted return made,
    after `since` (all days when None), up to `up_to`."""
    query = select(distinct(Order.created_at)).where(Order.updated_at <= up_to)
    if since is not None:
        query = query.where(Order.updated_at > since - OVERLAP)
    days = {local_day(moment) for moment in db.session.scalars(query)}
    for moment, condition in _event_moments():
        query = select(distinct(moment)).where(moment <= up_to)
        if since is not None:
            query = query.where(moment > since - OVERLAP)
        if condition is not None:
            query = query.where(condition)
        days |= {local_day(m) for m in db.session.scalars(query)}
    return days


def _extreme(which: str, order_column) -> datetime | None:
    """The earliest or latest (`which` "min" or "max") `order_column` of the orders and of the
    events' times."""
    aggregate = getattr(func, which)
    moments = [db.session.scalar(select(aggregate(order_column)))]
    for moment, condition in _event_moments():
        query = select(aggregate(moment))
        moments.append(db.session.scalar(query if condition is None else query.where(condition)))
    moments = [m for m in moments if m is not None]
    return (min if which == "min" else max)(moments, default=None)


def refresh() -> Refresh:
    """Bring the facts up to date: rebuild only the days whose orders or events changed since the
    last run; then the service facts and today's stock snapshot."""
    result = _refresh_sales()
    from app.services.analytics import service_facts, stock_snapshots
    service_facts.refresh()  # the per-order service facts, on their own watermark
    stock_snapshots.snapshot_today()  # the day's stock, for stock-outs and days of supply
    return result


def _refresh_sales() -> Refresh:
    mark = _watermark()
    up_to = _extreme("max", Order.updated_at)  # the newest change the facts can see
    if up_to is None:
        return Refresh(0, 0, None, None)
    if mark.changed_up_to is None:
        result = rebuild_range(local_day(_extreme("min", Order.created_at)),
                               local_day(_extreme("max", Order.created_at)))
    else:
        days = changed_days(mark.changed_up_to, up_to)
        result = Refresh(len(days), rebuild_days(days), min(days, default=None), max(days, default=None),
                         frozenset(days))
    mark.changed_up_to = up_to
    mark.built_at = now_utc()
    db.session.flush()
    return result


# A rebuild of more days than this vacuums and analyzes the fact tables at once. With the
# statistics of the tables before it, PostgreSQL picked a seller-index scan of 1.6 M rows (3.7 s)
# over a buyer-index scan of 6,000; without a vacuum after the rewrite, the visibility map is
# unset, index-only scans would visit the heap, and the brand's channel report read the rollup by
# a sequential scan (1.6 s instead of 0.1 s), until autovacuum caught up.
ANALYZE_AFTER_DAYS = 30
SHOP_TABLES = ("sales_shop_totals", "sales_shop_periods", "sales_shop_series", "sales_rep_shops", "sales_rep_days",
               "sales_rep_weeks", "sales_route_changes")
FACT_TABLES = ("sales_daily", "sales_rollup", "service_facts", "service_rollup", "stock_snapshots",
               "stock_snapshot_owners", *SHOP_TABLES)


def analyze_after(result: Refresh) -> bool:
    """After a large rebuild, and its commit: VACUUM ANALYZE the fact tables (PostgreSQL; VACUUM
    runs outside a transaction; after any refresh the per-shop totals). True if it did all."""
    if db.session.get_bind().dialect.name != "postgresql":
        return False
    every = result.days > ANALYZE_AFTER_DAYS
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # The report's per-shop totals are rewritten every night (the rolling presets move): their
        # index-only scans and plans need the visibility map and statistics of the new rows.
        for table in FACT_TABLES if every else SHOP_TABLES:
            connection.execute(text(f"VACUUM (ANALYZE) {table}"))
    return every
