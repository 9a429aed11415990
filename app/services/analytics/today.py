"""What each role's home shows: the few things that need action today, each a count the page
links to the filtered list it came from, and the last weeks' sales from the daily facts.

Every figure is one aggregate query over an indexed column, so a home costs the same number of
queries whatever the size of the organisation (tested). Counts come from the same tables and
conditions as the lists they link to: the desk's status counts, the seller's returns, the low
stock list, the receivables and the failed documents."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from app.extensions import db
from app.models import Invoice, Order, Organisation, Product, ReturnRequest
from app.services.analytics.sales import weekly_net
from app.services.catalog.visibility import visible_products
from app.services.core.clock import LOCAL, today_local
from app.services.credit import limits
from app.services.documents.requests import troubled_documents_query
from app.services.fulfilment.desk import status_counts
from app.services.inventory.queries import BalanceFilter, balances_query, expiring_lots_query
from app.services.inventory.scope import scope_for_org
from app.services.pricing.prices import region_profile

TREND_WEEKS = 8
NEW_PRODUCT_DAYS = 60
EXPIRY_DAYS = 30  # the expiring list's default window


@dataclass
class Trend:
    """Net sales (ordered less cancelled and rejected) per Monday-starting week, oldest first,
    the current (partial) week last, from the daily facts as of their last refresh."""
    weeks: list[date] = field(default_factory=list)
    values_fen: list[int] = field(default_factory=list)

    @property
    def total_fen(self) -> int:
        return sum(self.values_fen)


@dataclass
class DealerToday:
    orders: dict[str, int]  # the desk's count per order status (the list's tabs)
    returns_to_decide: int
    low_stock: int
    expiring: int
    receivable_fen: int  # what the dealer's retailers owe on open invoices
    owed_to_brand_fen: int  # what the dealer owes the brand (the brand's credit exposure figure)
    trend: Trend


@dataclass
class BrandToday:
    orders_today: int
    sales_today_fen: int  # every order placed today in the channel, at its order total
    replenishment_today: int  # of which dealers' orders to the brand
    orders: dict[str, int]  # the brand's own desk: count per order status
    low_stock: int  # balances at or below their reorder point in the brand's own warehouses
    expiring: int  # lots expiring within 30 days in every warehouse (the expiring list's default)
    failed_documents: int
    trend: Trend


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(), LOCAL).astimezone(timezone.utc)


def sales_trend(seller_id: int | None = None, today: date | None = None, weeks: int = TREND_WEEKS) -> Trend:
    """One grouped query over the facts (seller_id None: the whole channel, from the rollup)."""
    today = today or today_local()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    week_keys = [first + timedelta(weeks=i) for i in range(weeks)]
    # The sales report's definition and source: the brand's view counts retailer purchases only.
    totals = weekly_net(first, today, seller_id, None)
    return Trend(week_keys, [totals.get(w, 0) for w in week_keys])


def _count(query) -> int:
    return int(db.session.scalar(query) or 0)


def _list_count(query) -> int:
    """The number of rows a list page's query would show."""
    return _count(select(func.count()).select_from(query.order_by(None).subquery()))


def dealer_today(dealer_id: int, today: date | None = None) -> DealerToday:
    counts = status_counts(dealer_id)
    returns = _count(select(func.count()).select_from(ReturnRequest).where(
        ReturnRequest.seller_id == dealer_id, ReturnRequest.status == "requested"))
    scope = scope_for_org(dealer_id, False)
    receivable = _count(select(func.sum(Invoice.total_fen - Invoice.paid_fen)).where(
        Invoice.seller_id == dealer_id, Invoice.status == "open", Invoice.paid_fen < Invoice.total_fen))
    return DealerToday(
        orders=counts, returns_to_decide=returns,
        low_stock=_list_count(balances_query(scope, BalanceFilter(low_only=True))),
        expiring=_list_count(expiring_lots_query(scope, EXPIRY_DAYS)),
        receivable_fen=receivable, owed_to_brand_fen=limits.outstanding_fen(dealer_id),
        trend=sales_trend(dealer_id, today))


def brand_today(brand_id: int, today: date | None = None) -> BrandToday:
    today = today or today_local()
    start = _utc(today)
    placed = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Order.total_fen), 0),
               func.count().filter(Order.seller_id == brand_id))
        # updated_at is never before created_at: the condition lets the query use its index
        .where(Order.created_at >= start, Order.updated_at >= start)).one()
    counts = status_counts(brand_id)
    scope = scope_for_org(brand_id, True)
    failed = _list_count(troubled_documents_query())
    return BrandToday(
        orders_today=int(placed[0]), sales_today_fen=int(placed[1]), replenishment_today=int(placed[2]),
        orders=counts,
        low_stock=_list_count(balances_query(scope, BalanceFilter(owner="brand", low_only=True))),
        expiring=_list_count(expiring_lots_query(scope, EXPIRY_DAYS)),
        failed_documents=failed, trend=sales_trend(None, today))


def new_products(retailer: Organisation, today: date | None = None, limit: int = 5) -> list[Product]:
    """Products launched in the last 60 days that this retailer may order, newest first."""
    today = today or today_local()
    return list(db.session.scalars(
        visible_products(region_profile(retailer))
        .where(Product.launch_date.is_not(None), Product.launch_date > today - timedelta(days=NEW_PRODUCT_DAYS),
               Product.launch_date <= today)
        .order_by(Product.launch_date.desc(), Product.id.desc()).limit(limit)))

