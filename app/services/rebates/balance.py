"""The rebate balance (返利账户): one row per dealer and an append-only ledger. Every change is
one conditional UPDATE (`balance + delta >= 0`) returning the new balance, so two orders spending
at once can never take it below zero; the CHECK constraint backs that up."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Order
from app.models.rebates import RebateAccount, RebateLedgerEntry


def balance_of(dealer_id: int) -> int:
    return int(db.session.scalar(select(RebateAccount.balance_fen).where(RebateAccount.dealer_id == dealer_id)) or 0)


def _ensure_account(dealer_id: int) -> None:
    if db.session.get(RebateAccount, dealer_id) is None:
        try:
            with db.session.begin_nested():
                db.session.add(RebateAccount(dealer_id=dealer_id, balance_fen=0))
        except IntegrityError:
            pass  # a concurrent transaction created it


def move(dealer_id: int, delta_fen: int, kind: str, *, order_id: int | None = None, settlement_id: int | None = None,
         ref: str = "", shares: dict | None = None) -> RebateLedgerEntry | None:
    """Add `delta_fen` (negative: take) to the balance and write the ledger entry; None (nothing
    changed) when taking more than the balance holds."""
    if delta_fen == 0:
        return None
    _ensure_account(dealer_id)
    after = db.session.execute(
        update(RebateAccount).where(RebateAccount.dealer_id == dealer_id,
                                    RebateAccount.balance_fen + delta_fen >= 0)
        .values(balance_fen=RebateAccount.balance_fen + delta_fen).returning(RebateAccount.balance_fen)
        .execution_options(synchronize_session=False)).scalar()
    if after is None:
        return None
    entry = RebateLedgerEntry(dealer_id=dealer_id, kind=kind, amount_fen=delta_fen, balance_after_fen=after,
                              order_id=order_id, settlement_id=settlement_id, ref=ref[:30], shares=shares or {})
    db.session.add(entry)
    db.session.flush()
    return entry


def take_up_to(dealer_id: int, wanted_fen: int, kind: str, **kw) -> int:
    """Take as much of `wanted_fen` as the balance holds (a debit); returns what was taken."""
    _ensure_account(dealer_id)
    row = db.session.scalar(select(RebateAccount).where(RebateAccount.dealer_id == dealer_id)
                            .with_for_update().execution_options(populate_existing=True))
    taken = min(wanted_fen, row.balance_fen)
    if taken > 0:
        move(dealer_id, -taken, kind, **kw)
    return taken


def ledger(dealer_id: int, limit: int = 200) -> list[RebateLedgerEntry]:
    """The newest entries with their orders' numbers (one query: the page links each order)."""
    return list(db.session.scalars(select(RebateLedgerEntry).where(RebateLedgerEntry.dealer_id == dealer_id)
                                   .options(joinedload(RebateLedgerEntry.order).load_only(Order.id, Order.number))
                                   .order_by(RebateLedgerEntry.id.desc()).limit(limit)))
