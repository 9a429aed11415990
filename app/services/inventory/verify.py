"""Recompute balances, lots and reservations from the ledger and report every difference
(`flask stock verify`)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.models import StockBalance, StockLot, StockMovement, StockReservation


@dataclass(frozen=True)
class Difference:
    what: str  # "balance.on_hand", "balance.reserved", "lot.on_hand", "reserved_vs_reservations"
    key: tuple
    stored: int
    from_ledger: int

    def __str__(self) -> str:
        return f"{self.what} {self.key}: stored {self.stored}, ledger {self.from_ledger}"


def verify_stock() -> list[Difference]:
    differences: list[Difference] = []
    ledger = {(w, p): (int(h or 0), int(r or 0)) for w, p, h, r in db.session.execute(
        select(StockMovement.warehouse_id, StockMovement.product_id, func.sum(StockMovement.on_hand_delta),
               func.sum(StockMovement.reserved_delta)).group_by(StockMovement.warehouse_id, StockMovement.product_id))}
    stored = {(w, p): (h, r) for w, p, h, r in db.session.execute(
        select(StockBalance.warehouse_id, StockBalance.product_id, StockBalance.on_hand, StockBalance.reserved))}
    for key in sorted(set(ledger) | set(stored)):
        s_on_hand, s_reserved = stored.get(key, (0, 0))
        l_on_hand, l_reserved = ledger.get(key, (0, 0))
        if s_on_hand != l_on_hand:
            differences.append(Difference("balance.on_hand", key, s_on_hand, l_on_hand))
        if s_reserved != l_reserved:
            differences.append(Difference("balance.reserved", key, s_reserved, l_reserved))

    lot_ledger = dict(db.session.execute(select(StockMovement.lot_id, func.sum(StockMovement.on_hand_delta))
                                         .where(StockMovement.lot_id.is_not(None)).group_by(StockMovement.lot_id)).all())
    for lot_id, on_hand in db.session.execute(select(StockLot.id, StockLot.on_hand)):
        from_ledger = int(lot_ledger.get(lot_id) or 0)
        if on_hand != from_ledger:
            differences.append(Difference("lot.on_hand", (lot_id,), on_hand, from_ledger))

    held = {(w, p): int(q) for w, p, q in db.session.execute(
        select(StockReservation.warehouse_id, StockReservation.product_id, func.sum(StockReservation.qty))
        .group_by(StockReservation.warehouse_id, StockReservation.product_id))}
    for key in sorted(set(held) | set(stored)):
        reserved = stored.get(key, (0, 0))[1]
        if reserved != held.get(key, 0):
            differences.append(Difference("reserved_vs_reservations", key, reserved, held.get(key, 0)))
    return differences
