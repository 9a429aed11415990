"""The daily sales fact (`SalesDay`), rebuilt per business day, incrementally and idempotently.

A business day is a calendar day in Asia/Shanghai; an order counts on the day it was placed.
`rebuild_days` replaces the rows of the given days by a fresh aggregate of the order tables,
so re-running any range changes nothing. `refresh` rebuilds only the days holding an order
whose `updated_at` moved since the last run (the watermark), re-reading a small overlap
(`OVERLAP`) because a transaction can commit an `updated_at` slightly older than the moment
the previous run read the watermark.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Date, and_, case, delete, distinct, func, insert, literal, select, text
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Order, OrderLine, OrderStatus, Organisation, Region
from app.models.analytics import FactWatermark, SalesDay, SalesRollup
from app.services.core.clock import LOCAL, now_utc

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


def _day_aggregate(day: date):
    start, end = day_bounds(day)
    buyer = aliased(Organisation)
    region = aliased(Region)
    parent = aliased(Region)
    is_lost = Order.status.in_(LOST)
    province = case((region.level == 1, region.id), (region.level == 2, region.parent_id), else_=parent.parent_id)
    return (
        select(literal(day).label("day"), OrderLine.product_id, Order.buyer_id, Order.seller_id,
               buyer.region_id, province.label("province_id"),
               func.coalesce(buyer.channel, buyer.kind).label("channel"),
               func.count(distinct(Order.id)), func.sum(OrderLine.qty), func.sum(OrderLine.line_total_fen),
               func.sum(case((is_lost, OrderLine.qty), else_=0)),
               func.sum(case((is_lost, OrderLine.line_total_fen), else_=0)))
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(buyer, buyer.id == Order.buyer_id)
        .outerjoin(region, region.id == buyer.region_id)
        .outerjoin(parent, parent.id == region.parent_id)
        .where(and_(Order.created_at >= start, Order.created_at < end))
        .group_by(OrderLine.product_id, Order.buyer_id, Order.seller_id, buyer.region_id, region.level, region.id,
                  region.parent_id, parent.parent_id, buyer.channel, buyer.kind)
    )


COLUMNS = ("day", "product_id", "buyer_id", "seller_id", "region_id", "province_id", "channel", "orders", "qty",
           "value_fen", "lost_qty", "lost_fen")


# The rollup's grains: the dimensions each keeps (always with the channel). "product_province" is
# kept by week only: a report filtered to a province reads its edge days from the facts, whose
# province index makes that cheap, rather than storing millions of daily rows. "receipts" keeps
# the buyer of the brand's sales to dealers only (channel "dealer"): each dealer's receipts.
GRAINS = {"product": ("product_id",), "product_province": ("product_id", "province_id"),
          "province": ("province_id",), "region": ("region_id", "province_id"),
          "seller": ("seller_id", "province_id"), "receipts": ("buyer_id",)}
WEEKLY_ONLY = ("product_province",)
DEALER_ONLY = ("receipts",)
MEASURES = ("orders", "qty", "value_fen", "lost_qty", "lost_fen")


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


def _weekly_from_daily(week: date, grain: str):
    """A week's rows of `grain` summed from its daily rollup rows (a few hundred times fewer than
    the facts they sum)."""
    r = SalesRollup
    keys = [getattr(r, k) for k in GRAINS[grain]] + [r.channel]
    columns = [literal("w").label("period"), literal(week, Date).label("day"), literal(grain).label("grain"), *keys,
               *[func.sum(getattr(r, m)).label(m) for m in MEASURES]]
    query = (select(*columns).where(r.grain == grain, r.period == "d", r.day.between(week, week + timedelta(days=6)))
             .group_by(*keys))
    return query, ("period", "day", "grain", *GRAINS[grain], "channel", *MEASURES)


def rebuild_rollup(days) -> None:
    """Replace the rollup rows of `days` and of the weeks holding them: the days from the facts,
    the weeks from the daily rows (weekly-only grains from the facts). Every day holding facts has
    its daily rows, so a week's other days are there to sum."""
    days = sorted(set(days))
    if not days:
        return
    db.session.execute(delete(SalesRollup).where(SalesRollup.period == "d", SalesRollup.day.in_(days)))
    for grain in GRAINS:
        if grain not in WEEKLY_ONLY:
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
                query, names = _weekly_from_daily(week, grain)
            db.session.execute(insert(SalesRollup).from_select(names, query))


def rebuild_days(days) -> int:
    """Replace the facts of each day by a fresh aggregate, and their rollup; returns the fact rows
    written."""
    days = sorted(set(days))
    for day in days:
        db.session.execute(delete(SalesDay).where(SalesDay.day == day))
        db.session.execute(insert(SalesDay).from_select(COLUMNS, _day_aggregate(day)))
    if not days:
        return 0
    rebuild_rollup(days)
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


def changed_days(since: datetime | None, up_to: datetime) -> set[date]:
    """Business days holding an order changed after `since` (all days when None), up to `up_to`."""
    query = select(distinct(Order.created_at)).where(Order.updated_at <= up_to)
    if since is not None:
        query = query.where(Order.updated_at > since - OVERLAP)
    return {local_day(moment) for moment in db.session.scalars(query)}


def refresh() -> Refresh:
    """Bring the facts up to date: rebuild only the days whose orders changed since the last run."""
    mark = _watermark()
    up_to = db.session.scalar(select(func.max(Order.updated_at)))
    if up_to is None:
        return Refresh(0, 0, None, None)
    if mark.changed_up_to is None:
        first = local_day(db.session.scalar(select(func.min(Order.created_at))))
        result = rebuild_range(first, local_day(db.session.scalar(select(func.max(Order.created_at)))))
    else:
        days = changed_days(mark.changed_up_to, up_to)
        result = Refresh(len(days), rebuild_days(days), min(days, default=None), max(days, default=None),
                         frozenset(days))
    mark.changed_up_to = up_to
    mark.built_at = now_utc()
    db.session.flush()
    from app.services.analytics import service_facts  # the per-order service facts, on their own watermark
    service_facts.refresh()
    return result


# A rebuild of more days than this vacuums and analyzes the fact tables at once. With the
# statistics of the tables before it, PostgreSQL picked a seller-index scan of 1.6 M rows (3.7 s)
# over a buyer-index scan of 6,000; without a vacuum after the rewrite, the visibility map is
# unset, index-only scans would visit the heap, and the brand's channel report read the rollup by
# a sequential scan (1.6 s instead of 0.1 s), until autovacuum caught up.
ANALYZE_AFTER_DAYS = 30
FACT_TABLES = ("sales_daily", "sales_rollup", "service_facts", "service_rollup")


def analyze_after(result: Refresh) -> bool:
    """After a large rebuild, and its commit: VACUUM ANALYZE the fact tables (PostgreSQL; VACUUM
    runs outside a transaction). True if it did."""
    if result.days <= ANALYZE_AFTER_DAYS or db.session.get_bind().dialect.name != "postgresql":
        return False
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in FACT_TABLES:
            connection.execute(text(f"VACUUM (ANALYZE) {table}"))
    return True
