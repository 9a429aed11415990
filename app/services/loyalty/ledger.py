"""The one place a retailer's points change: the balance by conditional UPDATE, the lots first
expiring first out (FEFO), one append-only entry per event.

Invariant: an account's `balance` equals the sum of its lots' `remaining`. Every change locks the
account row first (the UPDATE of the balance, or SELECT ... FOR UPDATE), then the lots, so two
changes of one retailer's points run one after the other on PostgreSQL and the balance never goes
below zero (the UPDATE's `WHERE balance >= n`, and a CHECK constraint behind it).

Each event has a `ref` ("earn:order:7", "redeem:order:7", "expire:lot:3", ...) that is unique:
repeating an event changes nothing (jobs and retries are safe).

Lots whose expiry date has passed stay spendable until the nightly job expires them (at most a
day later): spending takes them first, like any FEFO consumer."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import insert, select, update

from app.extensions import db
from app.models import PointsAccount, PointsEntry, PointsLot, PointsLotUse
from app.models.base import utcnow
from app.services.core.errors import DomainError
from app.services.inventory.ledger import insert_ignoring_conflicts


class NotEnoughPoints(DomainError):
    """The balance cannot cover the points (nothing changed)."""


@dataclass(frozen=True)
class Change:
    entry_id: int
    points: int  # signed, as recorded
    balance_after: int
    shortfall: int = 0


def ensure_account(retailer_id: int) -> None:
    db.session.execute(insert_ignoring_conflicts(PointsAccount).values(
        retailer_id=retailer_id, balance=0, tier="member", spend_12m_fen=0))


def done(ref: str) -> bool:
    return db.session.scalar(select(PointsEntry.id).where(PointsEntry.ref == ref)) is not None


def _entry(retailer_id: int, kind: str, points: int, balance_after: int, ref: str, order_id: int | None,
           value_fen: int, shortfall: int = 0) -> int:
    return db.session.scalar(insert(PointsEntry).values(
        retailer_id=retailer_id, at=utcnow(), kind=kind, points=points, balance_after=balance_after,
        value_fen=value_fen, shortfall=shortfall, order_id=order_id, ref=ref).returning(PointsEntry.id))


def _add_to_balance(retailer_id: int, points: int) -> int:
    ensure_account(retailer_id)
    table = PointsAccount.__table__
    return db.session.scalar(update(table).where(table.c.retailer_id == retailer_id)
                             .values(balance=table.c.balance + points).returning(table.c.balance))


def _take_from_balance(retailer_id: int, points: int) -> int | None:
    """balance − points if the balance covers them (the new balance), else None (nothing changed)."""
    table = PointsAccount.__table__
    return db.session.scalar(update(table).where(table.c.retailer_id == retailer_id, table.c.balance >= points)
                             .values(balance=table.c.balance - points).returning(table.c.balance))


def earn(retailer_id: int, points: int, ref: str, expires_on: date, *, kind: str = "earn",
         order_id: int | None = None, value_fen: int = 0) -> Change | None:
    """Add `points` as a new lot expiring on `expires_on`; None when `ref` was already recorded.
    An earn of 0 points still records its entry (the delivered value counts towards the tier)."""
    if done(ref):
        return None
    balance = _add_to_balance(retailer_id, points)
    entry_id = _entry(retailer_id, kind, points, balance, ref, order_id, value_fen)
    if points > 0:
        db.session.execute(insert(PointsLot).values(retailer_id=retailer_id, entry_id=entry_id, points=points,
                                                    remaining=points, expires_on=expires_on))
    return Change(entry_id, points, balance)


def spend(retailer_id: int, points: int, kind: str, ref: str, *, order_id: int | None = None,
          value_fen: int = 0, partial: bool = False) -> Change | None:
    """Take `points` from the lots that expire first. NotEnoughPoints when the balance is short,
    unless `partial`: then take what there is and record the rest as `shortfall` (the balance
    absorbs only down to 0). None when `ref` was already recorded."""
    if done(ref):
        return None
    ensure_account(retailer_id)
    wanted = points
    if partial:
        balance = db.session.scalar(select(PointsAccount.balance).where(PointsAccount.retailer_id == retailer_id)
                                    .with_for_update())
        points = min(points, balance or 0)
    balance_after = _take_from_balance(retailer_id, points)
    if balance_after is None:
        raise NotEnoughPoints(_("积分余额不足。"), field="use_points")
    entry_id = _entry(retailer_id, kind, -points, balance_after, ref, order_id, value_fen, wanted - points)
    _take_from_lots(retailer_id, entry_id, points)
    return Change(entry_id, -points, balance_after, wanted - points)


def _take_from_lots(retailer_id: int, entry_id: int, points: int) -> None:
    if points <= 0:
        return
    lots = db.session.execute(select(PointsLot.id, PointsLot.remaining).where(
        PointsLot.retailer_id == retailer_id, PointsLot.remaining > 0)
        .order_by(PointsLot.expires_on, PointsLot.id).with_for_update()).all()
    left, uses = points, []
    for lot_id, remaining in lots:
        if left <= 0:
            break
        take = min(left, remaining)
        uses.append({"entry_id": entry_id, "lot_id": lot_id, "points": take})
        left -= take
    if left:  # the invariant was broken elsewhere: refuse rather than go on inconsistent
        raise RuntimeError(f"points lots of retailer {retailer_id} short of the balance by {left}")
    table = PointsLot.__table__
    for use in uses:
        db.session.execute(update(table).where(table.c.id == use["lot_id"])
                           .values(remaining=table.c.remaining - use["points"]))
    db.session.execute(insert(PointsLotUse), uses)


def give_back(retailer_id: int, spent_ref: str, kind: str, ref: str, *, order_id: int | None = None) -> Change | None:
    """Undo the spending recorded as `spent_ref`: the same points back into the same lots (a lot
    that has expired meanwhile is expired again by the next nightly run). None when there is
    nothing to give back or `ref` was already recorded."""
    spent = db.session.scalar(select(PointsEntry).where(PointsEntry.ref == spent_ref))
    if spent is None or spent.points >= 0 or done(ref):
        return None
    uses = db.session.execute(select(PointsLotUse.lot_id, PointsLotUse.points)
                              .where(PointsLotUse.entry_id == spent.id)).all()
    balance = _add_to_balance(retailer_id, -spent.points)
    entry_id = _entry(retailer_id, kind, -spent.points, balance, ref, order_id, 0)
    table = PointsLot.__table__
    for lot_id, points in uses:
        db.session.execute(update(table).where(table.c.id == lot_id).values(remaining=table.c.remaining + points))
    return Change(entry_id, -spent.points, balance)


def expire_lot(lot_id: int, today: date) -> Change | None:
    """Expire what is left of a lot due by `today` (account locked first, then the lot read
    afresh); None when nothing is left or it was expired already."""
    lot = db.session.get(PointsLot, lot_id)
    if lot is None or lot.expires_on > today:
        return None
    db.session.scalar(select(PointsAccount.balance).where(PointsAccount.retailer_id == lot.retailer_id)
                      .with_for_update())
    remaining = db.session.scalar(select(PointsLot.remaining).where(PointsLot.id == lot_id)
                                  .execution_options(populate_existing=True))
    ref = f"expire:lot:{lot_id}"
    if not remaining or done(ref):
        return None
    balance_after = _take_from_balance(lot.retailer_id, remaining)
    if balance_after is None:
        raise RuntimeError(f"points account of retailer {lot.retailer_id} below its lots")
    entry_id = _entry(lot.retailer_id, "expire", -remaining, balance_after, ref, None, 0)
    table = PointsLot.__table__
    db.session.execute(update(table).where(table.c.id == lot_id).values(remaining=0))
    db.session.execute(insert(PointsLotUse).values(entry_id=entry_id, lot_id=lot_id, points=remaining))
    return Change(entry_id, -remaining, balance_after)
