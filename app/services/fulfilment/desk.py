"""The seller's order desk (a dealer's or the brand's): incoming orders by status and by delivery
day or route, the orders picked for printing, and the pick list. Desk decisions go through the
lifecycle (`lifecycle.act_as_seller`), shipping and returns through their own services.

A retailer's route is the weekday a sales rep visits it (RepRoute; the earliest weekday when
several reps do) and its region: "周一 · 西湖区". Deliveries go out by that day and area, so the
desk filters by them and the pick list groups by route, then retailer. A retailer on no rep's
route is grouped by its region alone.

Lots on the pick list are the ones shipping takes: one allocation (allocation.plan_fefo) serves
both, with the cut-offs of the day the list is printed for, so a list printed and shipped the same
day shows the lots that leave, in whatever order its orders ship."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import (Order, OrderLine, OrderStatus, Organisation, OrgKind, Product, Region, RepRoute, StockLot,
                        StockReservation, Warehouse)
from app.services.core.errors import DomainError, NotFound
from app.services.inventory import allocation
from app.services.inventory.orders import order_document
from app.services.core.paging import Page, paginate

S = OrderStatus
WEEKDAY_LABELS = (_l("周一"), _l("周二"), _l("周三"), _l("周四"), _l("周五"), _l("周六"), _l("周日"))
MAX_SELECTED = 200
# The desk's status tabs, in the order work flows.
DESK_STATUSES = (S.SUBMITTED.value, S.ON_HOLD.value, S.APPROVED.value, S.PICKING.value, S.PARTLY_SHIPPED.value,
                 S.SHIPPED.value,                  S.DELIVERED.value, S.COMPLETED.value, S.REJECTED.value, S.CANCELLED.value)


@dataclass(frozen=True)
class Route:
    weekday: int | None
    region: str

    @property
    def label(self) -> str:
        if self.weekday is None:
            return self.region or _("未分配线路")
        day = str(WEEKDAY_LABELS[self.weekday])
        return f"{day} · {self.region}" if self.region else day

    @property
    def sort_key(self) -> tuple:
        return (7 if self.weekday is None else self.weekday, self.region)


NO_ROUTE = Route(None, "")


def routes_for(buyer_ids) -> dict[int, Route]:
    """Route of each buyer, in two queries whatever the number of buyers."""
    ids = sorted(set(buyer_ids))
    if not ids:
        return {}
    weekdays = dict(db.session.execute(select(RepRoute.retailer_id, func.min(RepRoute.weekday))
                                       .where(RepRoute.retailer_id.in_(ids)).group_by(RepRoute.retailer_id)).all())
    regions = dict(db.session.execute(select(Organisation.id, Region.name)
                                      .join(Region, Region.id == Organisation.region_id, isouter=True)
                                      .where(Organisation.id.in_(ids))).all())
    return {i: Route(weekdays.get(i), regions.get(i) or "") for i in ids}


# ---- the desk list ---------------------------------------------------------------------------

# "To act on": the orders waiting for the seller's decision (the dealer's desk opens on them).
TO_ACT = "to_act"
TO_ACT_STATUSES = (S.SUBMITTED.value, S.ON_HOLD.value)
# Sortable columns: name → the column ordered by (ties broken by id).
SORTS = {"created": Order.created_at, "number": Order.number, "buyer": Organisation.name,
         "total": Order.total_fen, "status": Order.status, "delivery": Order.delivery_date}
DEFAULT_SORT = ("created", True)


@dataclass(frozen=True)
class DeskFilter:
    status: str | None = None  # a status, TO_ACT, or None for every order
    weekday: int | None = None
    region_id: int | None = None
    search: str = ""
    sort: str = DEFAULT_SORT[0]
    descending: bool = DEFAULT_SORT[1]


def desk_query(seller_id: int, criteria: DeskFilter):
    query = select(Order).where(Order.seller_id == seller_id)
    if criteria.status == TO_ACT:
        query = query.where(Order.status.in_(TO_ACT_STATUSES))
    elif criteria.status:
        query = query.where(Order.status == criteria.status)
    if criteria.weekday is not None:
        on_that_day = select(RepRoute.retailer_id).where(RepRoute.weekday == criteria.weekday)
        query = query.where(Order.buyer_id.in_(on_that_day))
    if criteria.region_id is not None:
        in_region = select(Organisation.id).where(Organisation.region_id == criteria.region_id)
        query = query.where(Order.buyer_id.in_(in_region))
    term = criteria.search.strip()
    if term:
        like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        buyers = select(Organisation.id).where(or_(Organisation.name.like(like, escape="\\"),
                                                   Organisation.code.like(like, escape="\\")))
        query = query.where(or_(Order.number.like(like, escape="\\"), Order.buyer_id.in_(buyers)))
    return query


@dataclass(frozen=True)
class DeskRow:
    order: Order
    route: Route


def desk_page(seller_id: int, criteria: DeskFilter, page: int, per_page: int) -> tuple[Page, list[DeskRow]]:
    """A page of the desk in the criteria's order (newest first by default), each order with its
    buyer and route (four queries)."""
    query = desk_query(seller_id, criteria).options(joinedload(Order.buyer))
    column = SORTS.get(criteria.sort, SORTS[DEFAULT_SORT[0]])
    if column is Organisation.name:
        query = query.join(Organisation, Organisation.id == Order.buyer_id)
    if criteria.descending:
        order_by = (column.desc().nulls_last(), Order.id.desc())
    else:
        order_by = (column.asc().nulls_last(), Order.id.asc())
    results = paginate(query.order_by(*order_by), page, per_page)
    routes = routes_for(o.buyer_id for o in results.items)
    return results, [DeskRow(o, routes.get(o.buyer_id, NO_ROUTE)) for o in results.items]


def status_counts(seller_id: int) -> dict[str, int]:
    rows = db.session.execute(select(Order.status, func.count()).where(Order.seller_id == seller_id)
                              .group_by(Order.status)).all()
    return {status: count for status, count in rows}


def region_choices(seller_id: int) -> list[tuple[int, str]]:
    """Regions of the customers the seller serves (for the route filter): a dealer's retailers;
    for the brand, the dealers and the retailers no dealer is assigned to."""
    seller_kind = db.session.scalar(select(Organisation.kind).where(Organisation.id == seller_id))
    if seller_kind == OrgKind.BRAND.value:
        served = or_(Organisation.kind == OrgKind.DEALER.value,
                     (Organisation.kind == OrgKind.RETAILER.value) & Organisation.dealer_id.is_(None))
    else:
        served = Organisation.dealer_id == seller_id
    rows = db.session.execute(
        select(Region.id, Region.name).where(Region.id.in_(
            select(Organisation.region_id).where(served, Organisation.region_id.is_not(None)).distinct()))
        .order_by(Region.name, Region.id)).all()
    return [(region_id, name) for region_id, name in rows]


# ---- printing --------------------------------------------------------------------------------

def selected_orders(seller_id: int, order_ids) -> list[Order]:
    """The seller's orders among `order_ids` (others are ignored, as if they did not exist),
    with lines, products, buyers and their regions, oldest first."""
    ids = sorted({int(i) for i in order_ids})[:MAX_SELECTED]
    if not ids:
        raise DomainError(_("请至少选择一个订单。"), field="order_ids")
    orders = list(db.session.scalars(
        select(Order).where(Order.id.in_(ids), Order.seller_id == seller_id)
        .options(selectinload(Order.lines).joinedload(OrderLine.product),
                 joinedload(Order.buyer).joinedload(Organisation.region), joinedload(Order.seller))
        .order_by(Order.created_at, Order.id)))
    if not orders:
        raise NotFound(_("订单不存在。"))
    return orders


@dataclass
class PickLine:
    line: OrderLine
    lots: list[dict] = field(default_factory=list)  # {lot, qty, expires_on, location}


@dataclass
class PickOrder:
    order: Order
    lines: list[PickLine]


@dataclass
class PickRetailer:
    buyer: Organisation
    orders: list[PickOrder] = field(default_factory=list)


@dataclass
class PickRoute:
    route: Route
    retailers: list[PickRetailer] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.route.label


@dataclass
class PickProduct:
    product: Product
    qty: int = 0
    lots: list[dict] = field(default_factory=list)


@dataclass
class PickList:
    routes: list[PickRoute]
    products: list[PickProduct]
    orders: list[Order]
    printed_on: date

    @property
    def total_qty(self) -> int:
        return sum(p.qty for p in self.products)

    def pdf_routes(self) -> dict[int, str]:
        """order id → route name, for the pick-list PDF job."""
        return {po.order.id: r.name for r in self.routes for ret in r.retailers for po in ret.orders}

    def pdf_lots(self) -> list[dict]:
        return [dict(lot, product_id=p.product.id) for p in self.products for lot in p.lots]


def _plan_lots(orders: list[Order], day: date) -> dict[tuple[int, int], list[dict]]:
    """{(order_id, product_id): [{lot, qty, expires_on, location}]}: the lots shipping on `day`
    takes for each order's reservation (allocation.plan_fefo over every open reservation of
    the product in the warehouse, so the orders not on this list keep theirs)."""
    documents = {order_document(o.id): o.id for o in orders}
    chosen = list(db.session.scalars(select(StockReservation).where(
        StockReservation.document.in_(list(documents)), StockReservation.qty > 0)))
    if not chosen:
        return {}
    keys = {(r.warehouse_id, r.product_id) for r in chosen}
    warehouse_ids, product_ids = {w for w, _ in keys}, {p for _, p in keys}
    queues: dict[tuple[int, int], list[StockReservation]] = defaultdict(list)
    for reservation in db.session.scalars(
            select(StockReservation).where(StockReservation.warehouse_id.in_(warehouse_ids),
                                           StockReservation.product_id.in_(product_ids), StockReservation.qty > 0)
            .order_by(StockReservation.id)):
        queues[(reservation.warehouse_id, reservation.product_id)].append(reservation)
    lots: dict[tuple[int, int], list[StockLot]] = defaultdict(list)
    for lot in db.session.scalars(
            select(StockLot).where(StockLot.warehouse_id.in_(warehouse_ids), StockLot.product_id.in_(product_ids),
                                   StockLot.on_hand > 0, StockLot.expiry_date > day)
            .order_by(StockLot.expiry_date, StockLot.id)):
        lots[(lot.warehouse_id, lot.product_id)].append(lot)
    warehouses = dict(db.session.execute(select(Warehouse.id, Warehouse.name)
                                         .where(Warehouse.id.in_(warehouse_ids))).all())
    plan: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for key in keys:
        picks = allocation.plan_fefo(queues[key], lots[key], day)
        for reservation in queues[key]:
            if reservation.document not in documents:
                continue
            plan[(documents[reservation.document], reservation.product_id)] += [
                {"lot": pick.lot.batch_no, "qty": pick.qty, "expires_on": pick.lot.expiry_date.isoformat(),
                 "location": warehouses.get(pick.lot.warehouse_id, "")} for pick in picks[reservation.id]]
    return plan


def _merge(target: list[dict], lots: list[dict]) -> None:
    for lot in lots:
        for existing in target:
            if existing["lot"] == lot["lot"] and existing["location"] == lot["location"]:
                existing["qty"] += lot["qty"]
                break
        else:
            target.append(dict(lot))


def pick_list(seller_id: int, order_ids, printed_on: date) -> PickList:
    """The chosen orders grouped by route (by weekday, then region), then retailer, each line
    with its lots; and the batch's totals per product with their lots."""
    orders = selected_orders(seller_id, order_ids)
    routes = routes_for(o.buyer_id for o in orders)
    plan: dict[int, dict[int, list[dict]]] = defaultdict(dict)  # order id → product id → lots
    for (order_id, product_id), lots in _plan_lots(orders, printed_on).items():
        plan[order_id][product_id] = lots
    grouped: dict[Route, dict[int, PickRetailer]] = defaultdict(dict)
    products: dict[int, PickProduct] = {}
    for order in sorted(orders, key=lambda o: (o.buyer.name, o.number or "", o.id)):
        remaining = {pid: [dict(lot) for lot in lots] for pid, lots in plan[order.id].items()}
        pick_lines = []
        for line in order.lines:
            lots = _take(remaining.get(line.product_id, []), line.qty)
            pick_lines.append(PickLine(line, lots))
            summary = products.setdefault(line.product_id, PickProduct(line.product))
            summary.qty += line.qty
            _merge(summary.lots, lots)
        route = routes.get(order.buyer_id, NO_ROUTE)
        grouped[route].setdefault(order.buyer_id, PickRetailer(order.buyer)).orders.append(PickOrder(order, pick_lines))
    route_list = [PickRoute(route, list(retailers.values()))
                  for route, retailers in sorted(grouped.items(), key=lambda item: item[0].sort_key)]
    for product in products.values():
        product.lots.sort(key=lambda lot: (lot["expires_on"], lot["lot"]))
    return PickList(route_list, sorted(products.values(), key=lambda p: p.product.code), orders, printed_on)


def _take(lots: list[dict], qty: int) -> list[dict]:
    """Split the order's planned lots of a product between its lines (usually one line)."""
    taken = []
    for lot in lots:
        if qty == 0:
            break
        share = min(qty, lot["qty"])
        if share:
            taken.append(dict(lot, qty=share))
            lot["qty"] -= share
            qty -= share
    return taken
