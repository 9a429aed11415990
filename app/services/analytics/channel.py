"""The channel and stock report: how goods move through the dealers over a period.

- sell-through: a dealer's net sales to retailers ÷ its net receipts from the brand (cases), both
  from the daily sales facts by order day (what was ordered and not cancelled or rejected);
- days of supply: the dealer's stock on hand as the period ended (the last daily stock snapshot
  on or before the day after its end) ÷ its average daily sales in the period;
- stock-out days: the warehouse × product days of the period whose snapshot had nothing
  available, out of all the snapshot days of the dealer's stocked pairs (the rate);
- value expiring: the dealer's lots on hand whose expiry date falls within 30, 60 or 90 days from
  today (cumulative; already-expired lots are not counted), at the product's list price.

The brand sees one row per dealer (optionally the dealers of one province); a dealer sees its own
figures by product. Receipts are the brand's sales to the dealer (seller = the brand, channel
"dealer"): the brand's view reads them from the rollup's "receipts" grain (by dealer), a dealer's
view from its own facts; likewise the dealers' sales to retailers come from the rollup (brand
view) or the dealer's own facts (dealer view).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Organisation, Product, Region, StockLot, Warehouse
from app.models.analytics import SalesDay, StockSnapshot, StockSnapshotOwner
from app.services.analytics.sales import rollup_in
from app.services.core.clock import today_local

HORIZONS = (30, 60, 90)


@dataclass
class ChannelRow:
    key: int
    received_qty: int = 0
    received_fen: int = 0
    sold_qty: int = 0
    sold_fen: int = 0
    on_hand: int = 0
    expiring_fen: list[int] = field(default_factory=lambda: [0] * len(HORIZONS))
    days: int = 1
    label: str = ""
    code: str = ""
    out_days: int = 0  # warehouse × product days with nothing available
    stock_days: int = 0  # warehouse × product days with a snapshot

    @property
    def out_rate(self) -> float | None:
        return self.out_days / self.stock_days if self.stock_days else None

    @property
    def sell_through(self) -> float | None:
        return self.sold_qty / self.received_qty if self.received_qty else None

    @property
    def daily_sales(self) -> float:
        return self.sold_qty / self.days

    @property
    def days_of_supply(self) -> float | None:
        return self.on_hand / self.daily_sales if self.sold_qty else None


@dataclass
class ChannelReport:
    start: date
    end: date
    by: str  # "dealer" (the brand's view) or "product" (a dealer's own)
    rows: list[ChannelRow]
    total: ChannelRow
    stock_day: date | None = None  # the snapshot the on-hand figures come from


def dealer_provinces() -> dict[int, int | None]:
    """Each dealer's province id."""
    region, parent = aliased(Region), aliased(Region)
    province = case((region.level == 1, region.id), (region.level == 2, region.parent_id), else_=parent.parent_id)
    query = (select(Organisation.id, province).where(Organisation.kind == "dealer")
             .outerjoin(region, region.id == Organisation.region_id).outerjoin(parent, parent.id == region.parent_id))
    return dict(db.session.execute(query).all())


def _brand_id() -> int | None:
    return db.session.scalar(select(Organisation.id).where(Organisation.kind == "brand").order_by(Organisation.id))


def _own_receipts(start, end, dealer_id: int) -> dict:
    """One dealer's receipts per product, from its facts (the buyer index keeps that small)."""
    query = select(SalesDay.product_id, func.sum(SalesDay.qty - SalesDay.lost_qty),
                   func.sum(SalesDay.value_fen - SalesDay.lost_fen)) \
        .where(SalesDay.buyer_id == dealer_id, SalesDay.seller_id == _brand_id(), SalesDay.channel == "dealer",
               SalesDay.day.between(start, end))
    return {k: (int(q or 0), int(v or 0)) for k, q, v in db.session.execute(query.group_by(SalesDay.product_id))}


def _rollup_sums(start, end, grain: str, key: str) -> dict:
    """Net cases and value per `key` of a rollup grain over the period (whole weeks by week)."""
    r = rollup_in(start, end, grain, None)
    key = getattr(r.c, key)
    query = select(key, func.sum(r.c.qty - r.c.lost_qty), func.sum(r.c.value_fen - r.c.lost_fen)).group_by(key)
    return {k: (int(q or 0), int(v or 0)) for k, q, v in db.session.execute(query)}


def _own_sales(start, end, dealer_id: int) -> dict:
    query = select(SalesDay.product_id, func.sum(SalesDay.qty - SalesDay.lost_qty),
                   func.sum(SalesDay.value_fen - SalesDay.lost_fen)) \
        .where(SalesDay.seller_id == dealer_id, SalesDay.day.between(start, end), SalesDay.channel != "dealer") \
        .group_by(SalesDay.product_id)
    return {k: (int(q or 0), int(v or 0)) for k, q, v in db.session.execute(query)}


def _snapshots(start, end, dealer_id: int | None) -> tuple[date | None, dict, dict]:
    """The stock as the period ended: the last snapshot on or before the day after `end` (the
    nightly job takes the day's snapshot in the small hours, so the stock a day ended with is in
    the next day's snapshot until the ledger backfill replaces it), the on hand then, and (out
    days, stocked days) over the period, per dealer (the brand's view, from the per-owner sums) or per product
    (a dealer's own, from its snapshot rows)."""
    # One statement: the last snapshot day as a scalar subquery, the rows of the period and of
    # that day, summed per key (the home pages count their queries).
    if dealer_id is None:
        t = StockSnapshotOwner
        key, out, stocked = t.owner_id, t.out_pairs, t.pairs
        scope = t.owner_id.in_(select(Organisation.id).where(Organisation.kind == "dealer"))
        last = select(func.max(t.day)).where(t.day <= end + timedelta(days=1)).scalar_subquery()
    else:
        t = StockSnapshot
        key, out, stocked = t.product_id, case((t.available <= 0, 1), else_=0), literal(1)
        scope = t.owner_id == dealer_id
        last = select(func.max(t.day)).where(t.owner_id == dealer_id, t.day <= end + timedelta(days=1)) \
            .scalar_subquery()
    in_period = t.day.between(start, end)
    query = (select(key, func.max(case((t.day == last, t.day))),
                    func.sum(case((t.day == last, t.on_hand), else_=0)),
                    func.sum(case((in_period, out), else_=0)), func.sum(case((in_period, stocked), else_=0)))
             .where(scope, or_(in_period, t.day == last)).group_by(key))
    stock_day, on_hand, out_days = None, {}, {}
    for k, day, held, outs, days in db.session.execute(query):
        stock_day = day or stock_day
        on_hand[k] = int(held or 0)
        out_days[k] = (int(outs or 0), int(days or 0))
    if isinstance(stock_day, str):
        stock_day = date.fromisoformat(stock_day)
    return stock_day, on_hand, out_days


def _expiring(key, dealer_id: int | None) -> dict:
    """Value expiring within each horizon, per key, at the dealers' warehouses (their lots now)."""
    dealers = select(Organisation.id).where(Organisation.kind == "dealer") if dealer_id is None else [dealer_id]
    today = today_local()
    lot_key = key if key is Warehouse.owner_id else StockLot.product_id
    value = StockLot.on_hand * Product.base_price_fen
    sums = [func.coalesce(func.sum(case((StockLot.expiry_date < today + timedelta(days=h), value), else_=0)), 0)
            for h in HORIZONS]
    expiring = {k: [int(v) for v in values] for k, *values in db.session.execute(
        select(lot_key, *sums).join(Warehouse, Warehouse.id == StockLot.warehouse_id)
        .join(Product, Product.id == StockLot.product_id)
        .where(Warehouse.owner_id.in_(dealers), StockLot.on_hand > 0, StockLot.expiry_date >= today,
               StockLot.expiry_date < today + timedelta(days=max(HORIZONS)))
        .group_by(lot_key))}
    return expiring


def channel_report(start: date, end: date, dealer_id: int | None = None, province_id: int | None = None,
                   locale: str = "zh_CN") -> ChannelReport:
    days = (end - start).days + 1
    if dealer_id is None:
        by = "dealer"
        received = _rollup_sums(start, end, "receipts", "buyer_id")
        sold = _rollup_sums(start, end, "seller", "seller_id")
        stock_day, on_hand, out_days = _snapshots(start, end, None)
        expiring = _expiring(Warehouse.owner_id, None)
        provinces = dealer_provinces()
        keys = [k for k, p in provinces.items() if province_id is None or p == province_id]
    else:
        by = "product"
        received = _own_receipts(start, end, dealer_id)
        sold = _own_sales(start, end, dealer_id)
        stock_day, on_hand, out_days = _snapshots(start, end, dealer_id)
        expiring = _expiring(StockLot.product_id, dealer_id)
        keys = sorted(set(received) | set(sold) | {k for k, v in on_hand.items() if v} | set(expiring)
                      | {k for k, (out, _n) in out_days.items() if out})
    rows = []
    for key in keys:
        rq, rv = received.get(key, (0, 0))
        sq, sv = sold.get(key, (0, 0))
        row = ChannelRow(key, rq, rv, sq, sv, on_hand.get(key, 0), expiring.get(key, [0] * len(HORIZONS)), days)
        row.out_days, row.stock_days = out_days.get(key, (0, 0))
        if by == "product" or rq or sq or row.on_hand or row.out_days:
            rows.append(row)
    rows.sort(key=lambda r: (-r.received_fen, -r.sold_fen, r.key))
    if by == "dealer":
        names = {o.id: (o.name, o.code) for o in db.session.scalars(
            select(Organisation).where(Organisation.id.in_([r.key for r in rows])))}
    else:
        names = {p.id: (p.name(locale), p.code) for p in db.session.scalars(
            select(Product).where(Product.id.in_([r.key for r in rows])))}
    for row in rows:
        row.label, row.code = names.get(row.key, ("—", ""))
    total = ChannelRow(0, days=days)
    for row in rows:
        total.received_qty += row.received_qty
        total.received_fen += row.received_fen
        total.sold_qty += row.sold_qty
        total.sold_fen += row.sold_fen
        total.on_hand += row.on_hand
        total.out_days += row.out_days
        total.stock_days += row.stock_days
        total.expiring_fen = [a + b for a, b in zip(total.expiring_fen, row.expiring_fen)]
    return ChannelReport(start, end, by, rows, total, stock_day)
