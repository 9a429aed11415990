"""The nightly expiry of points lots, and the "expiring soon" notice.

`expire_due(today)` expires every lot whose expiry date is today or earlier and still holds
points, one lot at a time through ledger.expire_lot (account row locked first, then the lot):
an entry per lot with ref "expire:lot:<id>", so running twice expires nothing more.
`notify_expiring(today)` tells each retailer with points expiring within `notice_days` once per
week of the year (the notice's dedupe key), in its language when it reads it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import PointsLot
from app.services.loyalty import ledger, settings

BATCH = 1000


@dataclass(frozen=True)
class Expired:
    lots: int
    points: int


def expire_due(today: date, commit_every: int | None = None) -> Expired:
    """Expire the lots due by `today`; `commit_every` commits each batch (the job) so a long
    run keeps its progress and short locks."""
    lots = points = 0
    last_id = 0
    while True:
        ids = list(db.session.scalars(select(PointsLot.id).where(
            PointsLot.expires_on <= today, PointsLot.remaining > 0, PointsLot.id > last_id)
            .order_by(PointsLot.id).limit(commit_every or BATCH)))
        if not ids:
            break
        for lot_id in ids:
            change = ledger.expire_lot(lot_id, today)
            if change is not None:
                lots, points = lots + 1, points - change.points
        last_id = ids[-1]
        if commit_every:
            db.session.commit()
    return Expired(lots, points)


def expiring_soon(today: date, days: int):
    """{retailer_id: (points, first expiry date)} for points expiring within `days`."""
    return {rid: (int(pts), first) for rid, pts, first in db.session.execute(
        select(PointsLot.retailer_id, func.sum(PointsLot.remaining), func.min(PointsLot.expires_on))
        .where(PointsLot.remaining > 0, PointsLot.expires_on > today,
               PointsLot.expires_on <= today + timedelta(days=days))
        .group_by(PointsLot.retailer_id)).all()}


def notify_expiring(today: date) -> int:
    """One notice per retailer with points expiring soon (deduplicated per ISO week)."""
    from app.services.notifications import Audience, Notice, notify_all

    config = settings.current()
    soon = expiring_soon(today, config.notice_days)
    week = today.isocalendar()
    notices = [Notice(Audience(rid, "retailer"), "points_expiring", "loyalty.expiring",
                      {"points": pts, "date": first.isoformat()}, None,
                      f"points-expiring:{rid}:{week.year}-{week.week}")
               for rid, (pts, first) in sorted(soon.items())]
    return len(notify_all(notices)) if notices else 0
