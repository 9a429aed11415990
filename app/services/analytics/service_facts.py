"""The per-order service fact (`ServiceFact`): when an order was submitted, approved (and whether
by the automatic review), shipped and delivered, and how much of it was shipped, for the
service report. Kept like the sales facts (facts.py): `refresh` rebuilds only the orders whose
`updated_at` moved since its own watermark (a status change, a shipment or a delivery moves it),
with the same overlap; `rebuild_orders` replaces any set of orders, so re-running changes nothing.
The weekly rollup (`ServiceRollup`) of the weeks holding those orders is rebuilt with them.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Date, Integer, and_, case, delete, func, insert, literal, or_, select, true
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Order, OrderEvent, OrderLine, OrderStatus, Organisation, Region, Shipment, ShipmentLine
from app.models.analytics import SERVICE_MEASURES, FactWatermark, ServiceFact, ServiceRollup
from app.services.analytics.facts import OVERLAP, week_of
from app.services.analytics.service import measures, open_order
from app.services.core.clock import now_utc
from app.services.inventory.daysql import local_day

NAME = "service_facts"
S = OrderStatus


def _seconds(later, earlier):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.cast(func.extract("epoch", later - earlier), Integer)
    return func.cast((func.julianday(later) - func.julianday(earlier)) * 86400.0 + 0.5, Integer)


def _aggregate(orders):
    """SELECT of the fact rows of the orders whose ids `orders` (a select of ids) yields; None: all."""
    def among(column):
        return true() if orders is None else column.in_(orders)

    approved = OrderEvent.to_status == S.APPROVED.value
    events = (select(OrderEvent.order_id.label("order_id"),
                     func.min(case((approved, OrderEvent.at))).label("approved_at"),
                     func.max(case((and_(approved, OrderEvent.actor_id.is_(None)), 1), else_=0)).label("by_rule"),
                     func.min(case((OrderEvent.to_status == S.DELIVERED.value, OrderEvent.at))).label("delivered_at"))
              .where(among(OrderEvent.order_id), OrderEvent.to_status.in_((S.APPROVED.value, S.DELIVERED.value)))
              .group_by(OrderEvent.order_id).subquery("events"))
    shipped_at = (select(Shipment.order_id.label("order_id"), func.max(Shipment.shipped_at).label("at"))
                  .where(among(Shipment.order_id)).group_by(Shipment.order_id).subquery("shipped_at"))
    per_line = (select(ShipmentLine.order_line_id.label("line_id"), func.sum(ShipmentLine.qty).label("qty"))
                .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
                .where(among(Shipment.order_id)).group_by(ShipmentLine.order_line_id).subquery("per_line"))
    sent = func.coalesce(per_line.c.qty, 0)
    sent = case((sent > OrderLine.qty, OrderLine.qty), else_=sent)
    # Half up, once per line: (total × sent × 2 + qty) div (2 × qty).
    sent_fen = (OrderLine.line_total_fen * sent * 2 + OrderLine.qty) // (OrderLine.qty * 2)
    lines = (select(OrderLine.order_id.label("order_id"), func.count().label("lines"),
                    func.sum(case((sent >= OrderLine.qty, 1), else_=0)).label("filled"),
                    func.sum(OrderLine.qty).label("qty"), func.sum(sent).label("sent"),
                    func.sum(OrderLine.line_total_fen).label("fen"), func.sum(sent_fen).label("sent_fen"))
             .outerjoin(per_line, per_line.c.line_id == OrderLine.id)
             .where(among(OrderLine.order_id)).group_by(OrderLine.order_id).subquery("lines"))
    buyer, region, parent = aliased(Organisation), aliased(Region), aliased(Region)
    province = case((region.level == 1, region.id), (region.level == 2, region.parent_id), else_=parent.parent_id)
    query = (select(Order.id, local_day(Order.created_at), Order.seller_id, Order.buyer_id, province, Order.status,
                    Order.created_at, events.c.approved_at, func.coalesce(events.c.by_rule, 0) == 1, shipped_at.c.at,
                    events.c.delivered_at, _seconds(events.c.delivered_at, Order.created_at),
                    func.coalesce(lines.c.lines, 0), func.coalesce(lines.c.filled, 0), func.coalesce(lines.c.qty, 0),
                    func.coalesce(lines.c.sent, 0), func.coalesce(lines.c.fen, 0), func.coalesce(lines.c.sent_fen, 0))
             .select_from(Order)
             .join(buyer, buyer.id == Order.buyer_id)
             .outerjoin(region, region.id == buyer.region_id)
             .outerjoin(parent, parent.id == region.parent_id)
             .outerjoin(events, events.c.order_id == Order.id)
             .outerjoin(shipped_at, shipped_at.c.order_id == Order.id)
             .outerjoin(lines, lines.c.order_id == Order.id)
             .where(among(Order.id)))
    return query


COLUMNS = ("order_id", "day", "seller_id", "buyer_id", "province_id", "status", "submitted_at", "approved_at",
           "approved_by_rule", "shipped_at", "delivered_at", "cycle_seconds", "lines", "filled_lines", "ordered_qty",
           "shipped_qty", "ordered_fen", "shipped_fen")


def rebuild_orders(orders) -> None:
    """Replace the facts of the orders `orders` (a select of order ids) by a fresh aggregate, and
    the rollup of their weeks."""
    db.session.execute(delete(ServiceFact).where(ServiceFact.order_id.in_(orders)))
    db.session.execute(insert(ServiceFact).from_select(COLUMNS, _aggregate(orders)))
    days = db.session.scalars(select(ServiceFact.day).where(ServiceFact.order_id.in_(orders)).distinct())
    rebuild_rollup({week_of(day) for day in days})


def rebuild_rollup(weeks) -> None:
    """Replace the rollup rows of the weeks keyed by the Mondays `weeks`, from the facts."""
    f = ServiceFact
    due_when_old = or_(f.delivered_at.is_not(None), open_order(f))
    names = ("week", "seller_id", "province_id", *SERVICE_MEASURES)
    for week in sorted(weeks):
        db.session.execute(delete(ServiceRollup).where(ServiceRollup.week == week))
        query = (select(literal(week, Date), f.seller_id, f.province_id, *measures(f, due_when_old))
                 .where(f.day.between(week, week + timedelta(days=6))).group_by(f.seller_id, f.province_id))
        db.session.execute(insert(ServiceRollup).from_select(names, query))


def _all_weeks() -> list[date]:
    first, last = db.session.execute(select(func.min(ServiceFact.day), func.max(ServiceFact.day))).one()
    if first is None:
        return []
    return [week_of(first) + timedelta(weeks=n) for n in range((week_of(last) - week_of(first)).days // 7 + 1)]


def refresh() -> int:
    """Bring the service facts up to date; returns how many orders were rebuilt."""
    mark = db.session.get(FactWatermark, NAME)
    if mark is None:
        mark = FactWatermark(name=NAME, changed_up_to=None, built_at=now_utc())
        db.session.add(mark)
    up_to = db.session.scalar(select(func.max(Order.updated_at)))
    if up_to is None:
        return 0
    changed = select(Order.id).where(Order.updated_at <= up_to)
    if mark.changed_up_to is not None:
        changed = changed.where(Order.updated_at > mark.changed_up_to - OVERLAP)
    count = db.session.scalar(select(func.count()).select_from(changed.subquery()))
    if mark.changed_up_to is None:
        db.session.execute(delete(ServiceFact))
        db.session.execute(insert(ServiceFact).from_select(COLUMNS, _aggregate(None)))
        db.session.execute(delete(ServiceRollup))
        rebuild_rollup(_all_weeks())
    elif count:
        rebuild_orders(changed)
    mark.changed_up_to = up_to
    mark.built_at = now_utc()
    db.session.flush()
    return count
