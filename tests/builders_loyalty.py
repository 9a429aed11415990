"""Points made directly through the loyalty ledger, and reads of an account for assertions."""
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import PointsAccount, PointsEntry, PointsLot
from app.services.core.clock import today_local
from app.services.loyalty import ledger, settings, tiers

_seq = iter(range(1, 10**9))


def earn(retailer, points: int, expires_in_days: int = 100, value_fen: int = 0, kind: str = "adjust") -> PointsLot:
    """A lot of `points` expiring in `expires_in_days` (negative: already due)."""
    change = ledger.earn(retailer.id, points, f"test:earn:{next(_seq)}", today_local() + timedelta(days=expires_in_days),
                         kind=kind, value_fen=value_fen)
    if value_fen:  # the delivered value counts towards the tier, as at a sign-off
        tiers.note_spend(retailer.id, value_fen, settings.current())
    db.session.flush()
    return db.session.scalar(select(PointsLot).where(PointsLot.entry_id == change.entry_id))


def balance(retailer) -> int:
    row = db.session.get(PointsAccount, retailer.id, populate_existing=True)
    return row.balance if row else 0


def lots_remaining(retailer) -> dict[date, int]:
    """{expiry date: points left} (lots expiring on the same day summed)."""
    found: dict[date, int] = {}
    for lot in db.session.scalars(
        select(PointsLot).where(PointsLot.retailer_id == retailer.id).order_by(PointsLot.expires_on)
        .execution_options(populate_existing=True)):
        found[lot.expires_on] = found.get(lot.expires_on, 0) + lot.remaining
    return found


def entries(retailer, kind: str | None = None) -> list[PointsEntry]:
    query = select(PointsEntry).where(PointsEntry.retailer_id == retailer.id).order_by(PointsEntry.id)
    if kind:
        query = query.where(PointsEntry.kind == kind)
    return list(db.session.scalars(query))


def consistent(retailer) -> bool:
    """The ledger's invariant: the balance is the sum of the lots' remaining points."""
    total = db.session.scalar(select(func.coalesce(func.sum(PointsLot.remaining), 0))
                              .where(PointsLot.retailer_id == retailer.id))
    return balance(retailer) == total
