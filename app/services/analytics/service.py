"""The service report, read only from the per-order service facts (service_facts.py), over the
orders submitted in a period of business days (Asia/Shanghai), by dealer (the seller) or by
province, with the total:

- fill rate, for the orders whose fulfilment is over (shipped, delivered, completed, with a
  shipment on record): by lines
  (lines shipped in full ÷ lines ordered) and by value (shipped ÷ ordered, fen);
- on-time-in-full: delivered complete (every line shipped in full) within 48 hours of submit.
  Orders carry no promised date in this portal, so 48 h (the requirements' "under 2 days") is the
  promise for every order. The denominator is the orders due: delivered, or submitted more than
  48 h ago and neither cancelled, rejected nor closed, so an order still on the road after 48 h
  is late. Orders closed without a shipment or delivery record (imported history) are left out;
- order-cycle time (submit → first "delivered" event) as a histogram of the delivered orders;
- automatic-approval share: orders approved by the automatic review ÷ orders submitted.

A dealer's report is limited to its own sales (`seller_id`). Whole weeks that ended at least three
days ago are read from the weekly rollup (`ServiceRollup`), the other days from the facts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select

from app.extensions import db
from app.models import OrderStatus, Organisation, Region
from app.models.analytics import SERVICE_MEASURES, ServiceFact, ServiceRollup
from app.services.analytics.sales import split_weeks
from app.services.core.clock import now_utc, today_local

S = OrderStatus
DIMENSIONS = ("dealer", "province")
TARGET_HOURS = 48
MAX_DAYS = 731
FULFILLED = (S.SHIPPED.value, S.DELIVERED.value, S.COMPLETED.value)
LOST = (S.CANCELLED.value, S.REJECTED.value)
# Upper bounds of the cycle-time histogram's buckets, in hours (the last bucket is open).
BUCKETS = (24, 48, 72, 120, 168)
ROW_MEASURES = ("submitted", "auto_approved", "fulfilled", "lines", "filled_lines", "ordered_fen", "shipped_fen",
                "due", "otif", "delivered")


@dataclass
class ServiceRow:
    key: int | None
    submitted: int = 0
    auto_approved: int = 0
    fulfilled: int = 0
    lines: int = 0
    filled_lines: int = 0
    ordered_fen: int = 0
    shipped_fen: int = 0
    due: int = 0
    otif: int = 0
    delivered: int = 0
    label: str = ""
    code: str = ""

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def line_fill(self) -> float | None:
        return self._share(self.filled_lines, self.lines)

    @property
    def value_fill(self) -> float | None:
        return self._share(self.shipped_fen, self.ordered_fen)

    @property
    def otif_rate(self) -> float | None:
        return self._share(self.otif, self.due)

    @property
    def auto_rate(self) -> float | None:
        return self._share(self.auto_approved, self.submitted)


@dataclass
class ServiceReport:
    start: date
    end: date
    by: str
    total: ServiceRow
    rows: list[ServiceRow]
    histogram: list[int] = field(default_factory=list)  # delivered orders per bucket of BUCKETS (+ open)


def measures(f, due) -> list:
    """The SERVICE_MEASURES of the facts `f` (the table or a subquery of it) as aggregates, in
    ServiceRow's order; `due` is the condition that makes an order due."""
    # An order closed without a shipment or delivery record (history imported from the old
    # system) says nothing about how it was served: it is left out rather than counted as a failure.
    fulfilled = and_(f.status.in_(FULFILLED), f.shipped_at.is_not(None))
    delivered = f.delivered_at.is_not(None)
    otif = and_(delivered, f.cycle_seconds <= TARGET_HOURS * 3600, f.filled_lines == f.lines)

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def sum_if(condition, column):
        return func.coalesce(func.sum(case((condition, column), else_=0)), 0)

    columns = [func.count(), count_if(f.approved_by_rule), count_if(fulfilled), sum_if(fulfilled, f.lines),
               sum_if(fulfilled, f.filled_lines), sum_if(fulfilled, f.ordered_fen), sum_if(fulfilled, f.shipped_fen),
               count_if(due), count_if(otif), count_if(delivered)]
    # The cycle-time histogram of the delivered orders, in the same pass over the facts.
    low = [0, *BUCKETS]
    columns += [count_if(and_(delivered, f.cycle_seconds >= low[i] * 3600,
                              *([f.cycle_seconds < BUCKETS[i] * 3600] if i < len(BUCKETS) else [])))
                for i in range(len(BUCKETS) + 1)]
    return columns


def open_order(f):
    """Neither lost nor delivered: an order still to be served."""
    return f.status.not_in((*LOST, S.DELIVERED.value, S.COMPLETED.value))


def _add(rows: dict, histogram: list[int], query) -> list[int]:
    for k, *values in db.session.execute(query):
        values = [int(v) for v in values]
        row = rows.setdefault(k, ServiceRow(k))
        for name, value in zip(ROW_MEASURES, values):
            setattr(row, name, getattr(row, name) + value)
        histogram = [a + b for a, b in zip(histogram, values[len(ROW_MEASURES):])]
    return histogram


def _counts(by: str, start: date, end: date, seller_id: int | None, province_id: int | None):
    """{key: ServiceRow} and the histogram over the orders submitted from `start` to `end`: whole
    weeks that ended at least three days ago from the rollup, the other days from the facts."""
    f, r = ServiceFact, ServiceRollup
    rows: dict = {}
    histogram = [0] * (len(BUCKETS) + 1)
    # An order of a day up to `settled` was submitted more than 48 h ago, whatever the time now.
    settled = today_local() - timedelta(days=3)
    weeks, fact_days = (split_weeks(start, min(end, settled)) if start <= settled else (None, []))
    if weeks is None:
        fact_days = [(start, end)]
    elif end > settled:
        fact_days = [*fact_days, (settled + timedelta(days=1), end)]
    if weeks is not None:
        key = r.seller_id if by == "dealer" else r.province_id
        where = [r.week.between(*weeks)]
        where += [r.seller_id == seller_id] if seller_id is not None else []
        where += [r.province_id == province_id] if province_id is not None else []
        sums = [func.sum(getattr(r, name)) for name in SERVICE_MEASURES]
        histogram = _add(rows, histogram, select(key, *sums).where(*where).group_by(key))
    if fact_days:
        due = or_(f.delivered_at.is_not(None),
                  and_(open_order(f), f.submitted_at < now_utc() - timedelta(hours=TARGET_HOURS)))
        key = f.seller_id if by == "dealer" else f.province_id
        where = [or_(*[f.day.between(a, b) for a, b in fact_days])]
        where += [f.seller_id == seller_id] if seller_id is not None else []
        where += [f.province_id == province_id] if province_id is not None else []
        histogram = _add(rows, histogram, select(key, *measures(f, due)).where(*where).group_by(key))
    return rows, histogram


def _label(rows: list[ServiceRow], by: str) -> None:
    keys = [r.key for r in rows if r.key is not None]
    model = Organisation if by == "dealer" else Region
    names = {o.id: (o.name, o.code) for o in db.session.scalars(select(model).where(model.id.in_(keys)))}
    for row in rows:
        row.label, row.code = names.get(row.key, ("—", ""))


def service_report(start: date, end: date, by: str = "dealer", seller_id: int | None = None,
                   province_id: int | None = None) -> ServiceReport:
    if by not in DIMENSIONS:
        raise ValueError("unknown dimension")
    by_key, histogram = _counts(by, start, end, seller_id, province_id)
    rows = sorted(by_key.values(), key=lambda r: (-r.submitted, str(r.key)))
    _label(rows, by)
    total = ServiceRow(None)
    for row in rows:
        for name in ROW_MEASURES:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return ServiceReport(start, end, by, total, rows, histogram)
