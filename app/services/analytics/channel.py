"""The channel and stock report: how goods move through the dealers over a period.

- sell-through: a dealer's net sales to retailers ÷ its net receipts from the brand (cases), both
  from the daily sales facts by order day (what was ordered and not cancelled or rejected);
- days of supply: the dealer's stock on hand now ÷ its average daily sales in the period;
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

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Organisation, Product, Region, StockBalance, StockLot, Warehouse
from app.models.analytics import SalesDay
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


def _stock(key, dealer_id: int | None) -> tuple[dict, dict]:
    """On hand, and value expiring within each horizon, per key, at the dealers' warehouses."""
    dealers = select(Organisation.id).where(Organisation.kind == "dealer") if dealer_id is None else [dealer_id]
    on_hand = dict(db.session.execute(
        select(key, func.sum(StockBalance.on_hand)).join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .where(Warehouse.owner_id.in_(dealers)).group_by(key)).all())
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
    return {k: int(v or 0) for k, v in on_hand.items()}, expiring


def channel_report(start: date, end: date, dealer_id: int | None = None, province_id: int | None = None,
                   locale: str = "zh_CN") -> ChannelReport:
    days = (end - start).days + 1
    if dealer_id is None:
        by = "dealer"
        received = _rollup_sums(start, end, "receipts", "buyer_id")
        sold = _rollup_sums(start, end, "seller", "seller_id")
        on_hand, expiring = _stock(Warehouse.owner_id, None)
        provinces = dealer_provinces()
        keys = [k for k, p in provinces.items() if province_id is None or p == province_id]
    else:
        by = "product"
        received = _own_receipts(start, end, dealer_id)
        sold = _own_sales(start, end, dealer_id)
        on_hand, expiring = _stock(StockBalance.product_id, dealer_id)
        keys = sorted(set(received) | set(sold) | {k for k, v in on_hand.items() if v} | set(expiring))
    rows = []
    for key in keys:
        rq, rv = received.get(key, (0, 0))
        sq, sv = sold.get(key, (0, 0))
        row = ChannelRow(key, rq, rv, sq, sv, on_hand.get(key, 0), expiring.get(key, [0] * len(HORIZONS)), days)
        if by == "product" or rq or sq or row.on_hand:
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
        total.expiring_fen = [a + b for a, b in zip(total.expiring_fen, row.expiring_fen)]
    return ChannelReport(start, end, by, rows, total)
