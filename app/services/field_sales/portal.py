"""The sales rep's day: route of the day, a retailer's card, visit check-ins, and ordering on a
retailer's behalf.

A rep reaches a retailer only through a `RepRoute` row (the retailer is on the rep's route):
`rep_retailer` is the one door, and it answers NotFound for any other retailer id, so another
rep's shop looks exactly like a missing one. Pages built here run a fixed number of queries
whatever the number of retailers, orders or visits.

Ordering on behalf uses the shared cart and checkout services (app.services.ordering.cart and
app.services.ordering.orders) with the rep as the cart's owner and the retailer as the buyer: the
retailer's own prices and visibility, the order routed to the retailer's dealer, channel "rep",
`placed_by` the rep, exactly once per idempotency key.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, desc, func, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Order, OrderChannel, OrderLine, OrderStatus, Organisation, OrgKind, Product, RepRoute, User
from app.models.visits import Visit
from app.services.approval import automatic as approval
from app.services.ordering import cart
from app.services import notifications
from app.services.ordering import orders as ordering
from app.services.catalog import storefront
from app.services.core.errors import DomainError, NotFound
from app.services.core.money import yuan_text
from app.services.core.paging import Page, paginate
from app.services.pricing.prices import Price, quote_prices, region_profile
from app.services.core.clock import LOCAL, now_utc
from app.services.catalog.visibility import visible_clause

# A retailer with no order for this many days is marked overdue on the route and its card.
OVERDUE_AFTER_DAYS = 14
# "Usual products": the most ordered products of the retailer over this many days.
USUAL_PRODUCTS_DAYS = 90
USUAL_PRODUCTS_LIMIT = 8
RECENT_ORDERS_LIMIT = 5
OPEN_ORDERS_LIMIT = 20
RECENT_VISITS_LIMIT = 10
ROUTE_PAGE_SIZE = 100
MAX_VISIT_NOTE = 500
MAX_SEARCH_LENGTH = 40

# Orders that did not happen: they are no one's "last order" and count towards no target.
VOID_STATUSES = (OrderStatus.REJECTED.value, OrderStatus.CANCELLED.value)
# Orders the retailer is still waiting for (the card's "open issues").
OPEN_STATUSES = (OrderStatus.SUBMITTED.value, OrderStatus.APPROVED.value, OrderStatus.PICKING.value,
                 OrderStatus.PARTLY_SHIPPED.value,                  OrderStatus.SHIPPED.value, OrderStatus.ON_HOLD.value)


def local_weekday(at: datetime | None = None) -> int:
    """Today's weekday (0 = Monday) on the Asia/Shanghai calendar, which routes follow."""
    return (at or now_utc()).astimezone(LOCAL).weekday()


def is_overdue(last_order_at: datetime | None, now: datetime | None = None) -> bool:
    return last_order_at is None or last_order_at < (now or now_utc()) - timedelta(days=OVERDUE_AFTER_DAYS)


# -- the rep's retailers -------------------------------------------------------------------

def route_retailer_ids(rep: User):
    """A subquery of the ids of the retailers on the rep's route."""
    return select(RepRoute.retailer_id).where(RepRoute.rep_id == rep.id)


def rep_retailer(rep: User, retailer_id: int) -> tuple[Organisation, RepRoute]:
    """The retailer and its route row when it is on the rep's route; NotFound otherwise."""
    row = None
    if isinstance(retailer_id, int) and 0 < retailer_id < 2**63:
        row = db.session.execute(
            select(Organisation, RepRoute).join(RepRoute, RepRoute.retailer_id == Organisation.id)
            .where(RepRoute.rep_id == rep.id, Organisation.id == retailer_id,
                   Organisation.kind == OrgKind.RETAILER.value)
            .options(joinedload(Organisation.region))).first()
    if row is None:
        raise NotFound(_("客户不存在。"))
    return row[0], row[1]


@dataclass
class RouteStop:
    retailer: Organisation
    weekday: int
    last_order_at: datetime | None
    last_visit: Visit | None
    overdue: bool
    visited_today: bool


def last_order_dates(retailer_ids: list[int]) -> dict[int, datetime]:
    """{retailer id: time of its newest real order} (one grouped query on the buyer index)."""
    if not retailer_ids:
        return {}
    rows = db.session.execute(select(Order.buyer_id, func.max(Order.created_at))
                              .where(Order.buyer_id.in_(retailer_ids), Order.status.not_in(VOID_STATUSES))
                              .group_by(Order.buyer_id))
    return dict(rows.all())


def last_visits(retailer_ids: list[int]) -> dict[int, Visit]:
    """{retailer id: its newest visit, by any rep} (one query)."""
    if not retailer_ids:
        return {}
    newest = (select(Visit.retailer_id, func.max(Visit.at).label("at"))
              .where(Visit.retailer_id.in_(retailer_ids)).group_by(Visit.retailer_id).subquery())
    visits = db.session.scalars(select(Visit).join(newest, and_(Visit.retailer_id == newest.c.retailer_id,
                                                                Visit.at == newest.c.at)))
    return {visit.retailer_id: visit for visit in visits}


def route_stops(rep: User, weekday: int | None, search: str = "", page: int = 1,
                per_page: int = ROUTE_PAGE_SIZE) -> Page:
    """A page of RouteStop: the rep's active retailers visited on `weekday` (all days when None
    or when searching by name or code), with last order, last visit and the overdue mark.
    Four queries whatever the number of retailers."""
    query = (select(Organisation, RepRoute.weekday).join(RepRoute, RepRoute.retailer_id == Organisation.id)
             .where(RepRoute.rep_id == rep.id, Organisation.active.is_(True)))
    term = (search or "").strip()[:MAX_SEARCH_LENGTH]
    if term:
        like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Organisation.name.like(like, escape="\\"), Organisation.code.like(like, escape="\\")))
    elif weekday is not None:
        query = query.where(RepRoute.weekday == weekday)
    result = paginate(query.order_by(RepRoute.weekday, Organisation.code), page, per_page, scalars=False)
    ids = [retailer.id for retailer, _weekday in result.items]
    orders, visits = last_order_dates(ids), last_visits(ids)
    now = now_utc()
    today = now.astimezone(LOCAL).date()
    result.items = [RouteStop(retailer, day, orders.get(retailer.id), visits.get(retailer.id),
                              is_overdue(orders.get(retailer.id), now),
                              retailer.id in visits and visits[retailer.id].at.astimezone(LOCAL).date() == today)
                    for retailer, day in result.items]
    return result


# -- a retailer's card ---------------------------------------------------------------------

@dataclass
class UsualProduct:
    product: Product
    times: int  # orders that had it in the period
    usual_qty: int  # its typical quantity, valid for ordering today
    orderable: bool  # the retailer may still order it
    price: Price | None  # the retailer's price for usual_qty (None when not orderable)


def usual_quantity(product: Product, qty: int) -> int:
    """`qty` moved to the nearest quantity the product accepts today (minimum and multiple)."""
    qty = max(qty, product.min_order_qty)
    multiple = product.order_multiple
    qty = max(multiple, round(qty / multiple) * multiple)
    while qty > cart.MAX_LINE_QTY:
        qty -= multiple
    return max(qty, product.min_order_qty)


def usual_products(retailer: Organisation, limit: int = USUAL_PRODUCTS_LIMIT) -> list[UsualProduct]:
    """The retailer's most ordered products over USUAL_PRODUCTS_DAYS (by number of orders, then
    quantity), each with its usual quantity and the retailer's price for it: two to four
    queries."""
    since = now_utc() - timedelta(days=USUAL_PRODUCTS_DAYS)
    counts = (select(OrderLine.product_id, func.count(func.distinct(OrderLine.order_id)).label("times"),
                     func.sum(OrderLine.qty).label("qty"))
              .join(Order, Order.id == OrderLine.order_id)
              .where(Order.buyer_id == retailer.id, Order.created_at >= since, Order.status.not_in(VOID_STATUSES))
              .group_by(OrderLine.product_id).subquery())
    profile = region_profile(retailer)
    rows = db.session.execute(
        select(Product, counts.c.times, counts.c.qty, visible_clause(profile).label("orderable"))
        .join(counts, counts.c.product_id == Product.id)
        .order_by(desc(counts.c.times), desc(counts.c.qty), Product.id).limit(limit)).all()
    usual = [(product, int(times), usual_quantity(product, round(int(qty) / int(times))), bool(orderable))
             for product, times, qty, orderable in rows]
    orderable = {product.id: product for product, _t, _q, ok in usual if ok}
    prices = quote_prices(profile, {p.id: q for p, _t, q, ok in usual if ok}, products=orderable)
    return [UsualProduct(product, times, qty, ok and product.id in prices, prices.get(product.id))
            for product, times, qty, ok in usual]


@dataclass
class RetailerCard:
    retailer: Organisation
    weekday: int
    last_order_at: datetime | None
    overdue: bool
    recent_orders: list[Order]
    open_orders: list[Order]
    usual: list[UsualProduct]
    visits: list[Visit]


def recent_visits(retailer: Organisation, limit: int = RECENT_VISITS_LIMIT) -> list[Visit]:
    return list(db.session.scalars(select(Visit).where(Visit.retailer_id == retailer.id)
                                   .order_by(Visit.at.desc(), Visit.id.desc()).limit(limit)))


def retailer_card(rep: User, retailer_id: int) -> RetailerCard:
    """Everything the rep looks at before walking into the shop (about ten queries)."""
    retailer, route = rep_retailer(rep, retailer_id)
    bought = ordering.orders_bought_by(retailer.id).options(joinedload(Order.seller))
    recent = list(db.session.scalars(bought.order_by(Order.created_at.desc(), Order.id.desc())
                                     .limit(RECENT_ORDERS_LIMIT)))
    open_orders = list(db.session.scalars(bought.where(Order.status.in_(OPEN_STATUSES))
                                          .order_by(Order.created_at.desc(), Order.id.desc()).limit(OPEN_ORDERS_LIMIT)))
    last_order_at = last_order_dates([retailer.id]).get(retailer.id)
    return RetailerCard(retailer, route.weekday, last_order_at, is_overdue(last_order_at), recent, open_orders,
                        usual_products(retailer), recent_visits(retailer))


# -- visits --------------------------------------------------------------------------------

def check_in(rep: User, retailer_id: int, note: str) -> Visit:
    """Record that the rep is at the retailer now, with a note (required, at most
    MAX_VISIT_NOTE characters)."""
    retailer, _route = rep_retailer(rep, retailer_id)
    text = (note or "").strip()
    if not text:
        raise DomainError(_("请填写拜访记录。"), field="note")
    if len(text) > MAX_VISIT_NOTE:
        raise DomainError(_("拜访记录最多 %(n)d 个字。", n=MAX_VISIT_NOTE), field="note")
    visit = Visit(rep_id=rep.id, retailer_id=retailer.id, at=now_utc(), note=text)
    db.session.add(visit)
    db.session.flush()
    return visit


# -- orders --------------------------------------------------------------------------------

def orders_placed_by(rep: User):
    """The rep's own orders (placed on a retailer's behalf)."""
    return select(Order).where(Order.placed_by_id == rep.id)


def orders_visible_to_rep(rep: User):
    """Orders a rep may open: those the rep placed, and those of the retailers on the route."""
    return select(Order).where(or_(Order.placed_by_id == rep.id, Order.buyer_id.in_(route_retailer_ids(rep))))


def place_order_for_retailer(rep: User, retailer_id: int, idempotency_key: str, fingerprint: str | None,
                             accept_changes: bool = False, note: str = "", terms=None) -> ordering.Submission:
    """Check out the cart the rep built for the retailer: the shared checkout with channel
    "rep", so the order is the retailer's (its prices, its dealer) and placed by the rep. The
    retailer's users are told in their notification centre (once, even on a repeat)."""
    retailer, _route = rep_retailer(rep, retailer_id)
    submission = approval.place_order(rep, retailer, idempotency_key, fingerprint, accept_changes=accept_changes,
                                      channel=OrderChannel.REP.value, note=note, terms=terms)
    if submission.created:
        _tell_retailer(rep, submission.order)
    return submission


def _tell_retailer(rep: User, order: Order) -> None:
    notifications.notify(notifications.Audience(order.buyer_id, "retailer"), kind="order.placed_by_rep",
                         message="order.placed_by_rep",
                         params={"name": rep.display_name or rep.username, "number": order.number,
                                 "n": order.line_count, "total": yuan_text(order.total_fen)},
                         about=notifications.Subject("order", order.id), dedupe_key=f"order:{order.id}:placed-by-rep")


# -- ordering on a retailer's behalf -------------------------------------------------------

@dataclass
class OrderDesk:
    """What the rep's order page shows: the catalog with the retailer's prices, its usual
    products and the cart the rep is building for it."""

    retailer: Organisation
    listing: storefront.CatalogPage
    usual: list[UsualProduct]
    quote: cart.CartQuote


def order_desk(rep: User, retailer_id: int, search: str = "", category_id: int | None = None, page: int = 1,
               per_page: int = 50) -> OrderDesk:
    retailer, _route = rep_retailer(rep, retailer_id)
    listing = storefront.browse_catalog(rep, retailer, search=search, category_id=category_id, page=page,
                                        per_page=per_page)
    return OrderDesk(retailer, listing, usual_products(retailer), cart.quote_cart(rep, retailer))


def add_usual_product(rep: User, retailer_id: int, product_id: int) -> UsualProduct:
    """One tap: put the retailer's usual quantity of one of its usual products in the cart."""
    retailer, _route = rep_retailer(rep, retailer_id)
    usual = next((u for u in usual_products(retailer) if u.product.id == product_id and u.orderable), None)
    if usual is None:  # not one of its usual products (or no longer orderable): nothing to tap
        raise NotFound(_("该商品不存在或暂不可订购。"))
    cart.add_to_cart(rep, retailer, product_id, usual.usual_qty)
    return usual
