"""The order-cycle report: how many orders went through without a person, and how long an
order takes from submit to delivery, over a period of business days (Asia/Shanghai).

Everything is computed in SQL from orders, their OrderEvents and the review reasons, in four
queries whatever the volume (no order is loaded into Python), on the indexes declared in
app/models/approval.py (orders by creation time, events by status and time):

- approval figures count the orders SUBMITTED in the period by what happened to them: approved
  automatically (an "approved" event without a person: the automatic review), approved by a
  person, held for review, rejected, cancelled, still waiting;
- cycle time is measured on the orders DELIVERED in the period (their "delivered" event falls
  in it): delivered at − submitted at. Median and 90th percentile, and the share delivered
  within 48 hours (the requirements' target is an order cycle under two days);
- hold reasons count the orders submitted in the period held for each reason.

`seller_kind` narrows everything to orders sold by the brand ("brand") or by dealers ("dealer").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case, func, literal_column, select

from app.extensions import db
from app.models import Order, OrderEvent, OrderStatus, Organisation
from app.models.approval import OrderReviewReason
from app.services.inventory.daysql import start_of_local_day

S = OrderStatus
TARGET_HOURS = 48
MAX_PERIOD_DAYS = 366
SELLER_KINDS = ("brand", "dealer")


@dataclass
class ApprovalReport:
    start: date
    end: date  # inclusive
    seller_kind: str
    submitted: int = 0
    auto_approved: int = 0
    approved_by_person: int = 0
    held: int = 0
    rejected: int = 0
    cancelled: int = 0
    waiting: int = 0
    delivered: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None
    within_target: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def auto_rate(self) -> float | None:
        """Automatically approved ÷ submitted, 0–1 (None without orders)."""
        return self.auto_approved / self.submitted if self.submitted else None

    @property
    def within_target_rate(self) -> float | None:
        return self.within_target / self.delivered if self.delivered else None


def _seller_clause(seller_kind: str):
    if seller_kind not in SELLER_KINDS:
        return None
    return Order.seller_id.in_(select(Organisation.id).where(Organisation.kind == seller_kind))


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _seconds(later, earlier):
    """SQL: seconds between two UTC timestamp columns."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def approval_report(start: date, end: date, seller_kind: str = "") -> ApprovalReport:
    if end < start:
        start, end = end, start
    start = max(start, end - timedelta(days=MAX_PERIOD_DAYS - 1))
    report = ApprovalReport(start, end, seller_kind if seller_kind in SELLER_KINDS else "")
    begins, ends = start_of_local_day(start), start_of_local_day(end + timedelta(days=1))
    submitted = [Order.created_at >= begins, Order.created_at < ends]
    sellers = _seller_clause(seller_kind)
    if sellers is not None:
        submitted.append(sellers)

    # Per order submitted in the period: was it approved by the system, by a person, held? One
    # pass over its approval and hold events, joined to the orders (not a subquery per order).
    approved = OrderEvent.to_status == S.APPROVED.value
    flags = (select(OrderEvent.order_id,
                    func.max(case((and_(approved, OrderEvent.actor_id.is_(None)), 1), else_=0)).label("auto"),
                    func.max(case((and_(approved, OrderEvent.actor_id.is_not(None)), 1), else_=0)).label("person"),
                    func.max(case((OrderEvent.to_status == S.ON_HOLD.value, 1), else_=0)).label("held"))
             .join(Order, Order.id == OrderEvent.order_id)
             .where(*submitted, OrderEvent.to_status.in_((S.APPROVED.value, S.ON_HOLD.value)))
             .group_by(OrderEvent.order_id).subquery())
    row = db.session.execute(select(
        func.count(Order.id),
        func.coalesce(func.sum(flags.c.auto), 0), func.coalesce(func.sum(flags.c.person), 0),
        func.coalesce(func.sum(flags.c.held), 0),
        _count_if(Order.status == S.REJECTED.value),
        _count_if(Order.status == S.CANCELLED.value),
        _count_if(Order.status.in_((S.SUBMITTED.value, S.ON_HOLD.value))),
    ).select_from(Order).outerjoin(flags, flags.c.order_id == Order.id).where(*submitted)).one()
    (report.submitted, report.auto_approved, report.approved_by_person, report.held, report.rejected,
     report.cancelled, report.waiting) = (int(v) for v in row)

    _cycle_times(report, begins, ends, sellers)

    report.reasons = [(code, int(n)) for code, n in db.session.execute(
        select(OrderReviewReason.code, func.count(func.distinct(OrderReviewReason.order_id)))
        .join(Order, Order.id == OrderReviewReason.order_id).where(*submitted)
        .group_by(OrderReviewReason.code).order_by(func.count(func.distinct(OrderReviewReason.order_id)).desc(),
                                                   OrderReviewReason.code))]
    return report


def _cycle_times(report: ApprovalReport, begins, ends, sellers) -> None:
    delivered = [OrderEvent.to_status == S.DELIVERED.value, OrderEvent.at >= begins, OrderEvent.at < ends]
    if sellers is not None:
        delivered.append(sellers)
    seconds = _seconds(OrderEvent.at, Order.created_at)
    base = select(seconds.label("seconds")).select_from(OrderEvent).join(Order, Order.id == OrderEvent.order_id) \
        .where(*delivered)
    if db.session.get_bind().dialect.name == "postgresql":
        sample = base.subquery()
        column = sample.c.seconds
        row = db.session.execute(select(
            func.count(), func.coalesce(func.sum(case((column <= TARGET_HOURS * 3600, 1), else_=0)), 0),
            func.percentile_cont(0.5).within_group(column), func.percentile_cont(0.9).within_group(column),
        ).select_from(sample)).one()
        report.delivered, report.within_target = int(row[0]), int(row[1])
        report.median_hours = row[2] / 3600 if row[2] is not None else None
        report.p90_hours = row[3] / 3600 if row[3] is not None else None
        return
    # SQLite has no percentile function: count, then read the middle rows of the sorted sample.
    sample = base.subquery()
    column = sample.c.seconds
    count, within = db.session.execute(select(
        func.count(), func.coalesce(func.sum(case((column <= TARGET_HOURS * 3600, 1), else_=0)), 0))
        .select_from(sample)).one()
    report.delivered, report.within_target = int(count), int(within)
    if count:
        report.median_hours = _percentile(base, count, 0.5) / 3600
        report.p90_hours = _percentile(base, count, 0.9) / 3600


def _percentile(base, count: int, fraction: float) -> float:
    """Linear interpolation between the two closest ranks, as percentile_cont does."""
    position = (count - 1) * fraction
    lower = int(position)
    ordered = base.order_by(literal_column("seconds")).limit(2).offset(lower)
    values = [float(v) for v in db.session.scalars(ordered)]
    if len(values) == 1 or position == lower:
        return values[0]
    return values[0] + (values[1] - values[0]) * (position - lower)

