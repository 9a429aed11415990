"""Customer health from the daily sales facts: each retailer's own ordering rhythm, and who is
slipping away.

A retailer is *at risk* when it has not ordered for longer than K times its own median gap
between order days over the last year (a shop that orders every 5 days is at risk after 11
quiet days; one that orders monthly only after about two months). With fewer than three order
days there is no rhythm to go by, and a fixed 60 days applies. Segments, in this order:
never (no order at all), new (first order within 90 days), inactive (nothing for 180 days),
at risk (above), active (the rest). Net sales exclude cancelled and rejected orders, as on the
sales report.

Read for a bounded set of retailers (a rep's route, a dealer's customers: a few hundred), by the
facts' buyer index, in two queries whatever their number (one without region names)."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Organisation, Region
from app.models.analytics import SalesDay
from app.services.core.clock import today_local

K = 2.0
MIN_ORDER_DAYS = 3
NO_RHYTHM_DAYS = 60
NEW_DAYS = 90
INACTIVE_DAYS = 180
WINDOW_DAYS = 365
SEGMENTS = ("at_risk", "new", "active", "inactive", "never")


@dataclass
class ShopHealth:
    shop: Organisation
    region: str
    first_day: date | None
    last_day: date | None
    order_days: int  # days with an order in the last year
    value_fen: int  # net sales in the last year
    median_gap: float | None  # days between order days, the shop's own rhythm
    days_since: int | None
    segment: str

    @property
    def overdue_ratio(self) -> float:
        """How far past its own rhythm the shop is (1.0: exactly one usual gap)."""
        if self.days_since is None:
            return 0.0
        return self.days_since / (self.median_gap or NO_RHYTHM_DAYS / K)


def _segment(first: date | None, last: date | None, days_since: int | None, gap: float | None, today: date) -> str:
    if last is None:
        return "never"
    if first is not None and (today - first).days <= NEW_DAYS:
        return "new"
    if days_since > INACTIVE_DAYS:
        return "inactive"
    limit = K * gap if gap is not None else NO_RHYTHM_DAYS
    return "at_risk" if days_since > limit else "active"


def shop_health(shops: list[Organisation], today: date | None = None, with_regions: bool = True) -> list[ShopHealth]:
    """Health of each shop, most at risk first (`with_regions`: with the region's name)."""
    today = today or today_local()
    ids = [s.id for s in shops]
    if not ids:
        return []
    since = today - timedelta(days=WINDOW_DAYS)
    days: dict[int, list[date]] = {i: [] for i in ids}
    value: dict[int, int] = dict.fromkeys(ids, 0)
    firsts: dict[int, date] = {}
    # Every order day of these shops, all time (their first order tells a new shop): one query.
    rows = db.session.execute(
        select(SalesDay.buyer_id, SalesDay.day, func.sum(SalesDay.value_fen - SalesDay.lost_fen))
        .where(SalesDay.buyer_id.in_(ids), SalesDay.day <= today)
        .group_by(SalesDay.buyer_id, SalesDay.day).having(func.sum(SalesDay.qty - SalesDay.lost_qty) > 0))
    for buyer_id, day, fen in rows:
        day = date.fromisoformat(day) if isinstance(day, str) else day
        firsts[buyer_id] = min(day, firsts.get(buyer_id, day))
        if day >= since:
            days[buyer_id].append(day)
            value[buyer_id] += int(fen or 0)
    regions = dict(db.session.execute(select(Region.id, Region.name).where(
        Region.id.in_({s.region_id for s in shops if s.region_id}))).all()) if with_regions else {}
    result = []
    for shop in shops:
        ordered = sorted(days[shop.id])
        first = firsts.get(shop.id)
        gaps = [(b - a).days for a, b in zip(ordered, ordered[1:])]
        gap = float(statistics.median(gaps)) if len(ordered) >= MIN_ORDER_DAYS else None
        last = ordered[-1] if ordered else None
        if last is None and first is not None:  # ordered, but not in the last year
            last = since - timedelta(days=1)
        since_last = (today - last).days if last else None
        result.append(ShopHealth(shop, regions.get(shop.region_id, ""), first, ordered[-1] if ordered else None,
                                 len(ordered), value[shop.id], gap, since_last,
                                 _segment(first, last, since_last, gap, today)))
    order = {s: i for i, s in enumerate(SEGMENTS)}
    result.sort(key=lambda h: (order[h.segment], -h.overdue_ratio, -h.value_fen, h.shop.code))
    return result


def segment_counts(health: list[ShopHealth]) -> dict[str, int]:
    counts = dict.fromkeys(SEGMENTS, 0)
    for h in health:
        counts[h.segment] += 1
    return counts
