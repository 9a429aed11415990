"""Analytics facts kept by jobs, and demand forecasts with their backtest accuracy.

`SalesDay` is the daily sales fact: one row per business day (Asia/Shanghai) × product × buyer ×
seller — what was ordered that day, and what was shipped, delivered and returned that day — with the buyer's region, province and channel copied in so reports group without joins.
`FactWatermark` remembers up to which `orders.updated_at` a fact table has been brought, so the
nightly job rebuilds only the days whose orders changed.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


BUYER_INCLUDE = ["product_id", "seller_id", "province_id", "channel", "orders", "qty", "lost_qty", "value_fen",
                 "lost_fen", "shipped_fen", "delivered_fen", "returned_qty", "returned_fen"]


class SalesDay(Base):
    """Derived data, rebuilt from the order tables: no foreign keys, which would cost a lookup per
    key on every one of millions of inserted rows."""
    __tablename__ = "sales_daily"
    # covering (PostgreSQL INCLUDE): a product's days read from the index alone (the launch
    # report reads 13 weeks of each new product's buyers; the heap rows are scattered over the days)
    __table_args__ = (Index("ix_sales_daily_product_day", "product_id", "day",
                            postgresql_include=["buyer_id", "seller_id", "channel", "qty", "lost_qty"]),
                      Index("ix_sales_daily_seller_day", "seller_id", "day"),
                      Index("ix_sales_daily_province_day", "province_id", "day"),
                      # covering: a shop's order days and net value, and a rep's shops by product
                      # (every measure the sales report sums), come from the index alone
                      Index("ix_sales_daily_buyer_day", "buyer_id", "day", postgresql_include=BUYER_INCLUDE))
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int | None] = mapped_column(Integer)
    province_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))  # the retailer's channel, or "dealer"
    orders: Mapped[int] = mapped_column(Integer)
    qty: Mapped[int] = mapped_column(Integer)  # ordered, whatever became of the order
    value_fen: Mapped[int] = mapped_column(BigInteger)
    lost_qty: Mapped[int] = mapped_column(Integer)  # of which on orders later cancelled or rejected
    lost_fen: Mapped[int] = mapped_column(BigInteger)
    # What happened on this day to earlier (or this day's) orders: shipped, delivered at the
    # sign-off (shipped minus short and damaged), taken back by an accepted return; values are the
    # line's value after promotions, pro rata (facts.py).
    shipped_qty: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    shipped_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    delivered_qty: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    delivered_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    returned_qty: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    returned_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


ROLLUP_INCLUDE = ["product_id", "province_id", "region_id", "seller_id", "buyer_id", "channel", "orders", "qty", "value_fen",
                  "lost_qty", "lost_fen", "shipped_qty", "shipped_fen", "delivered_qty", "delivered_fen",
                  "returned_qty", "returned_fen"]


class SalesRollup(Base):
    """`SalesDay` summed without the buyer, so a brand report over a year reads thousands of rows,
    not millions. Each row is one `grain` (the dimensions it keeps; the others are NULL), always
    with the channel, for one day (`period` "d") or one Monday-to-Sunday week keyed by its Monday
    (`period` "w", the sum of its days). Rebuilt with the facts, for the same days."""
    __tablename__ = "sales_rollup"
    # Covering (PostgreSQL INCLUDE): a report reads the index alone, never the scattered heap rows.
    __table_args__ = (Index("ix_sales_rollup_grain_period_day", "grain", "period", "day",
                            postgresql_include=ROLLUP_INCLUDE),
                      Index("ix_sales_rollup_grain_province_day", "grain", "province_id", "period", "day",
                            postgresql_include=ROLLUP_INCLUDE),
                      # a set of shops (a rep's route) in the "buyer" grain: one short range per shop
                      Index("ix_sales_rollup_buyer_period_day", "buyer_id", "period", "day",
                            postgresql_include=[c for c in ROLLUP_INCLUDE if c != "buyer_id"],
                            postgresql_where=text("grain = 'buyer'"),
                            sqlite_where=text("grain = 'buyer'")))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    period: Mapped[str] = mapped_column(String(1))
    day: Mapped[date] = mapped_column(Date)
    grain: Mapped[str] = mapped_column(String(16))
    product_id: Mapped[int | None] = mapped_column(Integer)
    province_id: Mapped[int | None] = mapped_column(Integer)
    region_id: Mapped[int | None] = mapped_column(Integer)
    seller_id: Mapped[int | None] = mapped_column(Integer)
    buyer_id: Mapped[int | None] = mapped_column(Integer)  # the "receipts" grain: the dealer that bought
    channel: Mapped[str] = mapped_column(String(20))
    orders: Mapped[int] = mapped_column(Integer)
    qty: Mapped[int] = mapped_column(Integer)
    value_fen: Mapped[int] = mapped_column(BigInteger)
    lost_qty: Mapped[int] = mapped_column(Integer)
    lost_fen: Mapped[int] = mapped_column(BigInteger)
    shipped_qty: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    shipped_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    delivered_qty: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    delivered_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    returned_qty: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    returned_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


SHOP_TOTAL_MEASURES = ("value_fen", "qty", "orders", "ordered_fen", "shipped_fen", "delivered_fen", "returned_fen")


class SalesShopPeriod(Base):
    """A period preset (近30天, 本年 ...) whose per-shop totals `SalesShopTotal` holds: the ranges
    they were summed over. Rewritten with them, in the transaction that rebuilt the facts."""
    __tablename__ = "sales_shop_periods"
    preset: Mapped[str] = mapped_column(String(12), primary_key=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    previous_start: Mapped[date] = mapped_column(Date)
    previous_end: Mapped[date] = mapped_column(Date)
    last_year_start: Mapped[date] = mapped_column(Date)
    last_year_end: Mapped[date] = mapped_column(Date)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class _ReportMeasures:
    """The sales report's seven measures (sales.MEASURES); `value_fen` is net: ordered −
    cancelled/rejected − returned."""
    value_fen: Mapped[int] = mapped_column(BigInteger)
    qty: Mapped[int] = mapped_column(BigInteger)
    orders: Mapped[int] = mapped_column(BigInteger)
    ordered_fen: Mapped[int] = mapped_column(BigInteger)
    shipped_fen: Mapped[int] = mapped_column(BigInteger)
    delivered_fen: Mapped[int] = mapped_column(BigInteger)
    returned_fen: Mapped[int] = mapped_column(BigInteger)


class SalesShopTotal(_ReportMeasures, Base):
    """The brand's market per shop over a preset period and its comparison period: the report's
    measures of the period and the comparison's net sales (`prior_fen`), as the report by retailer
    sums them from the rollup. `piece` 0 is the shop's whole, with `province_id` its province when
    its rows hold one (else NULL); a shop whose rows hold several provinces also has a row per
    province (`piece` = `province_id`), for a report filtered to one. Derived data: no foreign keys."""
    __tablename__ = "sales_shop_totals"
    # The ranking (net sales, then the comparison, both descending: a backward scan) and the movers
    # (by the change) read an index in order; a province's few thousand shops by theirs.
    __table_args__ = (Index("ix_sales_shop_totals_rank", "preset", "compare", "piece", "value_fen", "prior_fen",
                            "buyer_id"),
                      Index("ix_sales_shop_totals_change", "preset", "compare", "piece", "change_fen"),
                      Index("ix_sales_shop_totals_province", "preset", "compare", "province_id"))
    preset: Mapped[str] = mapped_column(String(12), primary_key=True)
    compare: Mapped[str] = mapped_column(String(10), primary_key=True)
    buyer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    piece: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_id: Mapped[int | None] = mapped_column(Integer)
    prior_fen: Mapped[int] = mapped_column(BigInteger)  # the comparison period's net sales
    change_fen: Mapped[int] = mapped_column(BigInteger)  # value_fen − prior_fen


# A list column: an array on PostgreSQL; text elsewhere, where the tables stay empty (the general path).
def _array(item):
    return Text().with_variant(postgresql.ARRAY(item), "postgresql")


class SalesShopSeries(Base):
    """Each shop's net sales to date, for any range's sum by two lookups (the brand's report by
    retailer over a custom range): `days`, the sorted business days on which the shop has market
    facts (any event), and `net`, its net sales (ordered − cancelled/rejected − returned) summed up
    to and including each of them. Over [a, b]: `net[width_bucket(b, days)] −
    net[width_bucket(a − 1, days)]` (PostgreSQL's `width_bucket` over a sorted array counts the
    elements ≤ its operand; index 0 reads NULL, as 0), and the shop has rows in the range when the
    two counts differ. `piece` 0 is the shop's whole, with `province_id` its province when its facts
    hold one (else NULL); a shop whose facts hold several provinces also has a row per province
    (`piece` = `province_id`), as `SalesShopTotal` keeps them. PostgreSQL only (range_series.py)."""
    __tablename__ = "sales_shop_series"
    # The ranking's candidates by span, in the whole market or a province (range_series.ranking).
    __table_args__ = (Index("ix_sales_shop_series_piece_span", "piece", "span"),
                      Index("ix_sales_shop_series_province_span", "province_id", "span"))
    buyer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    piece: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_id: Mapped[int | None] = mapped_column(Integer)
    days: Mapped[list] = mapped_column(_array(Date))
    net: Mapped[list] = mapped_column(_array(BigInteger))
    # The widest net sales of any range: max(0, running sums) − min(0, running sums). It bounds a
    # range's net sales in absolute value (and twice it the change between two ranges).
    span: Mapped[int] = mapped_column(BigInteger)


class SalesRepShop(Base):
    """The rep whose sums in `SalesRepDay` hold a shop's facts (0: none), as the routes served it
    when it was last mapped; `SalesRouteChange` lists the shops whose routes changed since, which a
    report moves to the rep serving them now (range_series.py)."""
    __tablename__ = "sales_rep_shops"
    buyer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rep_id: Mapped[int] = mapped_column(Integer)


class _RepMeasures(_ReportMeasures):
    """The sales report's seven measures and `active` (the shops with facts), as `SalesRepDay` and
    `SalesRepWeek` keep them."""
    active: Mapped[int] = mapped_column(BigInteger)


class SalesRepDay(_RepMeasures, Base):
    """The brand's market per business day, rep (`SalesRepShop`; 0: no rep) and province (0:
    none): the sales report's seven measures and `active`, the shops with facts that day (a rep
    has rows in a range when its count there is not 0)."""
    __tablename__ = "sales_rep_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rep_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    province_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class SalesRepWeek(_RepMeasures, Base):
    """`SalesRepDay` summed from the first week of the data up to the end of each Monday-to-Sunday
    week (keyed by its Monday), a row per rep and province for every week from the first to the
    last: whole weeks [w1, w2] are the row of w2 less the row of the week before w1."""
    __tablename__ = "sales_rep_weeks"
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    rep_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    province_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class SalesRouteChange(Base):
    """A shop whose rep routes changed (written by a PostgreSQL trigger on `rep_routes`, migration
    h13c_range_series), until the fact job maps it to the rep serving it now."""
    __tablename__ = "sales_route_changes"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    retailer_id: Mapped[int] = mapped_column(Integer)


class FactWatermark(Base):
    __tablename__ = "fact_watermarks"
    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    changed_up_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ForecastRun(Base):
    """One weekly forecast of every product × province series, with its overall accuracy."""
    __tablename__ = "forecast_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    history_to: Mapped[date] = mapped_column(Date)  # the Monday of the last full week used
    horizon: Mapped[int] = mapped_column(Integer)
    series_count: Mapped[int] = mapped_column(Integer, default=0)
    wape: Mapped[float | None] = mapped_column(Float)
    mase: Mapped[float | None] = mapped_column(Float)
    bias: Mapped[float | None] = mapped_column(Float)
    backtest_weeks: Mapped[int] = mapped_column(Integer, default=0)


class ForecastSeries(Base):
    """A series of a run: the model chosen by the backtest and its accuracy."""
    __tablename__ = "forecast_series"
    run_id: Mapped[int] = mapped_column(ForeignKey("forecast_runs.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), primary_key=True)
    model: Mapped[str] = mapped_column(String(20))
    wape: Mapped[float | None] = mapped_column(Float)
    mase: Mapped[float | None] = mapped_column(Float)
    bias: Mapped[float | None] = mapped_column(Float)
    history_weeks: Mapped[int] = mapped_column(Integer)
    history_qty: Mapped[int] = mapped_column(BigInteger)  # net cases over the whole history
    forecast_qty: Mapped[float] = mapped_column(Float)  # over the horizon


class DemandForecast(Base):
    """Forecast cases for one week of one series."""
    __tablename__ = "demand_forecasts"
    run_id: Mapped[int] = mapped_column(ForeignKey("forecast_runs.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    qty: Mapped[float] = mapped_column(Float)


SERVICE_INCLUDE = ["seller_id", "province_id", "status", "submitted_at", "approved_by_rule", "shipped_at", "delivered_at",
                   "cycle_seconds", "lines", "filled_lines", "ordered_qty", "shipped_qty", "ordered_fen", "shipped_fen"]


class ServiceFact(Base):
    """One row per order for the service report (fill rate, on-time-in-full, order cycle,
    automatic approval), rebuilt from the order tables for the orders whose `updated_at` moved
    (app/services/analytics/service_facts.py). `day` is the Shanghai business day of the submit.
    Derived data: no foreign keys."""
    __tablename__ = "service_facts"
    __table_args__ = (Index("ix_service_facts_day", "day", postgresql_include=SERVICE_INCLUDE),
                      Index("ix_service_facts_seller_day", "seller_id", "day", postgresql_include=SERVICE_INCLUDE))
    order_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    seller_id: Mapped[int] = mapped_column(Integer)
    buyer_id: Mapped[int] = mapped_column(Integer)
    province_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(15))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_rule: Mapped[bool] = mapped_column(Boolean)  # an "approved" event without a person
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last shipment
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the first "delivered" event
    cycle_seconds: Mapped[int | None] = mapped_column(Integer)  # delivered_at − submitted_at
    lines: Mapped[int] = mapped_column(Integer)
    filled_lines: Mapped[int] = mapped_column(Integer)  # lines shipped in full
    ordered_qty: Mapped[int] = mapped_column(Integer)
    shipped_qty: Mapped[int] = mapped_column(Integer)  # per line at most what was ordered
    ordered_fen: Mapped[int] = mapped_column(BigInteger)
    shipped_fen: Mapped[int] = mapped_column(BigInteger)  # per line, line total × shipped ÷ ordered, rounded once


SERVICE_MEASURES = ("submitted", "auto_approved", "fulfilled", "lines", "filled_lines", "ordered_fen", "shipped_fen",
                    "due_when_old", "otif", "delivered", "cycle_0", "cycle_1", "cycle_2", "cycle_3", "cycle_4",
                    "cycle_5")


class ServiceRollup(Base):
    """`ServiceFact` summed by Monday-to-Sunday week (keyed by its Monday), seller and province, so
    the brand's service report over a year reads tens of thousands of rows, not a million orders.
    `due_when_old` counts the orders delivered or still open: the orders due once 48 h have passed
    since their submit, true of every order of a week that ended at least three days ago (the
    report reads later days, and the part-weeks at its edges, from the facts). `cycle_0…5` are the
    delivered orders per bucket of the cycle-time histogram (services/analytics/service.py BUCKETS).
    Rebuilt with the facts, for the weeks holding the orders that changed. Derived: no foreign keys."""
    __tablename__ = "service_rollup"
    __table_args__ = (Index("ix_service_rollup_week", "week", postgresql_include=["seller_id", "province_id",
                                                                                  *SERVICE_MEASURES]),
                      Index("ix_service_rollup_seller_week", "seller_id", "week"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    week: Mapped[date] = mapped_column(Date)
    seller_id: Mapped[int] = mapped_column(Integer)
    province_id: Mapped[int | None] = mapped_column(Integer)
    submitted: Mapped[int] = mapped_column(Integer)
    auto_approved: Mapped[int] = mapped_column(Integer)
    fulfilled: Mapped[int] = mapped_column(Integer)
    lines: Mapped[int] = mapped_column(Integer)
    filled_lines: Mapped[int] = mapped_column(Integer)
    ordered_fen: Mapped[int] = mapped_column(BigInteger)
    shipped_fen: Mapped[int] = mapped_column(BigInteger)
    due_when_old: Mapped[int] = mapped_column(Integer)
    otif: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer)
    cycle_0: Mapped[int] = mapped_column(Integer)
    cycle_1: Mapped[int] = mapped_column(Integer)
    cycle_2: Mapped[int] = mapped_column(Integer)
    cycle_3: Mapped[int] = mapped_column(Integer)
    cycle_4: Mapped[int] = mapped_column(Integer)
    cycle_5: Mapped[int] = mapped_column(Integer)


class LaunchPlan(Base):
    """The brand's plan for a new product's first 13 weeks: the share of active retailers that
    should have bought it (`target_reach_bp`, basis points of a percent: 2,500 = 25 %) and the net
    cases sold (`target_cases`), both counted at the end of week 13. One plan per product."""
    __tablename__ = "launch_plans"
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    target_reach_bp: Mapped[int] = mapped_column(Integer)
    target_cases: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class StockSnapshot(Base):
    """Stock of one product in one warehouse as a business day (Asia/Shanghai) ended, or as the
    nightly job found it on the day it ran: on hand, reserved, available, and value at the list
    price. `owner_id` (the warehouse's owner) is copied in so a dealer's rows are one index range.
    Written by app/services/analytics/stock_snapshots.py. Derived data: no foreign keys."""
    __tablename__ = "stock_snapshots"
    __table_args__ = (Index("ix_stock_snapshots_owner_day", "owner_id", "day",
                            postgresql_include=["product_id", "on_hand", "available"]),)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer)
    on_hand: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer)
    available: Mapped[int] = mapped_column(Integer)
    value_fen: Mapped[int] = mapped_column(BigInteger)


class StockSnapshotOwner(Base):
    """`StockSnapshot` summed per day and owner, so the brand's channel report over a quarter reads
    tens of thousands of rows: `pairs` warehouse × product rows, `out_pairs` of them with nothing
    available (a stock-out), and the on-hand, available and value totals."""
    __tablename__ = "stock_snapshot_owners"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pairs: Mapped[int] = mapped_column(Integer)
    out_pairs: Mapped[int] = mapped_column(Integer)
    on_hand: Mapped[int] = mapped_column(BigInteger)
    available: Mapped[int] = mapped_column(BigInteger)
    value_fen: Mapped[int] = mapped_column(BigInteger)


class LaunchRollup(Base):
    """A launched product's first 13 weeks summed per day, for the launch report: the retailers
    whose first purchase of it fell on the day (`new_buyers`, and of them those that bought it
    again on a later day of the window, `repeat_buyers`) and the net cases bought that day. One
    set of rows for the whole market (`seller_id` 0) and one per dealer (its own customers).
    Rebuilt with the sales facts (app/services/analytics/launch_rollup.py); `LaunchBuild` says
    for which launch date and up to which day, so a report never reads a stale build."""
    __tablename__ = "launch_rollup"
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: every seller
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    new_buyers: Mapped[int] = mapped_column(Integer)
    repeat_buyers: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(BigInteger)


class LaunchBuild(Base):
    __tablename__ = "launch_builds"
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    launch_date: Mapped[date] = mapped_column(Date)
    through: Mapped[date] = mapped_column(Date)  # the last day of the window the build read
