"""Inventory turnover, days of supply and stock-out rate per product and warehouse.

For a period of N days [start, end] (Shanghai days):
- closing on-hand of every day is rebuilt from the ledger: today's balance minus the movements
  after that day;
- average inventory = mean of the N daily closings; its value = average × unit cost;
- cost of goods shipped (COGS) = units shipped to customers (ledger `ship`) × unit cost;
- turnover = COGS ÷ average inventory value, and annualised × 365 / N (the requirements
  promise to move it from 4 to 6 a year);
- days of supply = closing on-hand at the end ÷ average daily units shipped;
- stock-out rate = days that closed with nothing available (on hand − reserved, rebuilt from the
  ledger like on-hand) ÷ days the warehouse carried the product in the period: the days before a
  pair's first ledger movement are days it was not stocked yet, not days it ran out (a product a
  warehouse started carrying last week is not "out of stock" for the eighty days before).

Unit cost depends on whose books the report is:
- the brand values stock at the product's standard cost (ProductCost); products without one are
  valued at their list price and flagged, so the report never silently mixes bases;
- a dealer values stock at what it paid the brand: the quantity-weighted average unit price of
  its replenishment order lines for the product (orders neither rejected nor cancelled), or,
  for a product it never bought, its current purchase price from the brand (flagged). The
  brand's standard cost is never used for a dealer: cost of goods ÷ units would reveal it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, or_, select

from app.extensions import db
from app.models import (MovementKind, Order, OrderLine, OrderStatus, OrgKind, Organisation, Product, ProductCost,
                        StockBalance, StockMovement, Warehouse)
from app.services.pricing.prices import quote_prices, region_profile
from app.services.inventory.daysql import as_date, local_day, start_of_local_day


@dataclass
class TurnoverRow:
    warehouse: Warehouse
    product: Product
    unit_cost_fen: int
    cost_is_estimate: bool  # no standard cost (brand) / never bought (dealer): valued at a price
    shipped_qty: int
    on_hand_end: int
    avg_on_hand: float
    stockout_days: int
    days: int
    days_carried: int  # days of the period from the pair's first ledger movement on

    @property
    def cost_is_list_price(self) -> bool:
        return self.cost_is_estimate

    @property
    def cogs_fen(self) -> int:
        return self.shipped_qty * self.unit_cost_fen

    @property
    def avg_value_fen(self) -> int:
        return round(self.avg_on_hand * self.unit_cost_fen)

    @property
    def turnover(self) -> float | None:
        return self.cogs_fen / self.avg_value_fen if self.avg_value_fen else None

    @property
    def annual_turnover(self) -> float | None:
        return self.turnover * 365 / self.days if self.turnover is not None else None

    @property
    def days_of_supply(self) -> float | None:
        return self.on_hand_end / (self.shipped_qty / self.days) if self.shipped_qty else None

    @property
    def stockout_rate(self) -> float:
        return self.stockout_days / self.days_carried if self.days_carried else 0.0


@dataclass
class TurnoverReport:
    start: date
    end: date
    rows: list[TurnoverRow]
    cost_basis: str = "standard"  # "standard" (the brand's books) or "purchase" (a dealer's)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def cogs_fen(self) -> int:
        return sum(r.cogs_fen for r in self.rows)

    @property
    def avg_value_fen(self) -> int:
        return sum(r.avg_value_fen for r in self.rows)

    @property
    def annual_turnover(self) -> float | None:
        return self.cogs_fen / self.avg_value_fen * 365 / self.days if self.avg_value_fen else None

    @property
    def stockout_rate(self) -> float | None:
        carried = sum(r.days_carried for r in self.rows)
        return sum(r.stockout_days for r in self.rows) / carried if carried else None

    @property
    def uses_list_prices(self) -> bool:
        return any(r.cost_is_estimate for r in self.rows)


def standard_costs(product_ids: set[int]) -> dict[int, int]:
    return dict(db.session.execute(select(ProductCost.product_id, ProductCost.cost_fen)
                                   .where(ProductCost.product_id.in_(product_ids))).all())


PURCHASE_STATUSES_EXCLUDED = (OrderStatus.REJECTED.value, OrderStatus.CANCELLED.value)


def purchase_costs(dealer_id: int, product_ids: set[int]) -> dict[int, int]:
    """What the dealer paid the brand per unit: line totals ÷ quantities of its replenishment
    orders (bought from the brand, neither rejected nor cancelled), per product."""
    rows = db.session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.line_total_fen), func.sum(OrderLine.qty))
        .join(Order, Order.id == OrderLine.order_id)
        .join(Organisation, Organisation.id == Order.seller_id)
        .where(Order.buyer_id == dealer_id, Organisation.kind == OrgKind.BRAND.value,
               Order.status.not_in(PURCHASE_STATUSES_EXCLUDED), OrderLine.product_id.in_(product_ids))
        .group_by(OrderLine.product_id)).all()
    return {p: round(int(total) / int(qty)) for p, total, qty in rows if qty}


def current_purchase_prices(dealer_id: int, product_ids: set[int]) -> dict[int, int]:
    """The dealer's price from the brand today (contract, price list or base price), per unit."""
    dealer = db.session.get(Organisation, dealer_id)
    if dealer is None or not product_ids:
        return {}
    return {p: price.unit_price_fen for p, price in
            quote_prices(region_profile(dealer), {p: 1 for p in product_ids}).items()}


def _closings(end_value: int, deltas: dict[date, int], start: date, end: date) -> tuple[float, int]:
    """(sum of daily closings, days closing at zero) over [start, end], walking back from the
    end value through the days that had movements."""
    value, cursor, total, zero_days = end_value, end, 0, 0
    for day in sorted((d for d in deltas if start <= d <= end), reverse=True):
        span = (cursor - day).days + 1
        total += value * span
        zero_days += span if value <= 0 else 0
        value -= deltas[day]
        cursor = day - timedelta(days=1)
    span = (cursor - start).days + 1
    if span > 0:
        total += value * span
        zero_days += span if value <= 0 else 0
    return total, zero_days


def _first_movement_days(warehouse_ids: list[int]) -> dict[tuple[int, int], date]:
    """The Shanghai day of each pair's first ledger movement (when the warehouse began carrying it)."""
    return {(w, p): as_date(d) for w, p, d in db.session.execute(
        select(StockMovement.warehouse_id, StockMovement.product_id, local_day(func.min(StockMovement.at)))
        .where(StockMovement.warehouse_id.in_(warehouse_ids))
        .group_by(StockMovement.warehouse_id, StockMovement.product_id))}


def turnover_report(warehouse_ids: list[int], start: date, end: date, dealer_id: int | None = None) -> TurnoverReport:
    """The report over the warehouses, in the brand's books (standard costs), or in the dealer's
    books (its purchase prices) when `dealer_id` is given."""
    basis = "purchase" if dealer_id is not None else "standard"
    if not warehouse_ids or end < start:
        return TurnoverReport(start, end, [], basis)
    days = (end - start).days + 1
    balances = db.session.execute(
        select(StockBalance.warehouse_id, StockBalance.product_id, StockBalance.on_hand, StockBalance.reserved)
        .where(StockBalance.warehouse_id.in_(warehouse_ids))).all()
    day = local_day(StockMovement.at)
    shipped = case((StockMovement.kind == MovementKind.SHIP.value, -StockMovement.on_hand_delta), else_=0)
    deltas: dict[tuple[int, int], dict[date, int]] = {}
    available_deltas: dict[tuple[int, int], dict[date, int]] = {}
    shipped_by_pair: dict[tuple[int, int], int] = {}
    for w, p, d, delta, reserved_delta, out in db.session.execute(
            select(StockMovement.warehouse_id, StockMovement.product_id, day, func.sum(StockMovement.on_hand_delta),
                   func.sum(StockMovement.reserved_delta), func.sum(shipped))
            .where(StockMovement.warehouse_id.in_(warehouse_ids), StockMovement.at >= start_of_local_day(start),
                   or_(StockMovement.on_hand_delta != 0, StockMovement.reserved_delta != 0))
            .group_by(StockMovement.warehouse_id, StockMovement.product_id, day)):
        d = as_date(d)
        deltas.setdefault((w, p), {})[d] = int(delta)
        available_deltas.setdefault((w, p), {})[d] = int(delta) - int(reserved_delta)
        if d <= end:
            shipped_by_pair[(w, p)] = shipped_by_pair.get((w, p), 0) + int(out or 0)

    pairs = {(w, p): (on_hand, reserved) for w, p, on_hand, reserved in balances}
    first_days = _first_movement_days(warehouse_ids)
    product_ids = {p for _w, p in pairs}
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(product_ids)))}
    if dealer_id is None:
        costs, fallback = standard_costs(product_ids), {}
    else:
        costs = purchase_costs(dealer_id, product_ids)
        fallback = current_purchase_prices(dealer_id, product_ids - set(costs))
    warehouses = {w.id: w for w in db.session.scalars(select(Warehouse).where(Warehouse.id.in_(warehouse_ids)))}
    rows = []
    for (w, p), (on_hand_now, reserved_now) in pairs.items():
        pair_deltas, pair_available = deltas.get((w, p), {}), available_deltas.get((w, p), {})
        on_hand_end = on_hand_now - sum(v for d, v in pair_deltas.items() if d > end)
        total, _zero = _closings(on_hand_end, pair_deltas, start, end)
        carried_from = max(start, first_days.get((w, p), start))
        available_end = on_hand_now - reserved_now - sum(v for d, v in pair_available.items() if d > end)
        _total, zero_days = _closings(available_end, pair_available, carried_from, end)
        days_carried = max(0, (end - carried_from).days + 1)
        product = products[p]
        cost = costs.get(p)
        estimate = cost if cost is not None else fallback.get(p, product.base_price_fen)
        rows.append(TurnoverRow(warehouses[w], product, estimate, cost is None, shipped_by_pair.get((w, p), 0),
                                on_hand_end, total / days, zero_days, days, days_carried))
    rows.sort(key=lambda r: (r.warehouse.code, r.product.code))
    return TurnoverReport(start, end, rows, basis)
