"""Closing a group-buy (at the end of its window, or early by its owner's button).

The close locks the campaign row and acts only on an open campaign, in one transaction: a
second close (a retried job, the button and the schedule together) waits for the first, finds
it closed and does nothing; a worker killed midway rolls everything back.

The pool is recounted from the live commitments (a commitment whose order the seller rejected
or cancelled during the window no longer counts). Then:
- pool ≥ minimum: succeeded. The price reached is the ladder's price for the pool; each
  commitment's final price is min(committed, reached). Its order stays billed as placed, and
  the difference qty × (committed − final) is posted as a credit note from the seller to the
  retailer through the credit services (it settles the order's invoice when there is one, or
  stays as credit that the retailer's next invoices use). Each order has one line priced per
  case in fen, so each difference is exact: nothing to round, and the notes sum to the total
  difference. The retailer gets a notice; the orders then follow the normal flow.
- otherwise: failed. Every commitment's order is cancelled (stock released, the retailer told
  through the order's own notice, whose reason is stored as a code and parameters); an order
  the seller has already partly shipped cannot be cancelled whole and is left to the seller.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Order, OrderStatus
from app.models.groupbuy import GroupBuyCampaign, GroupBuyCommitment, GroupBuyResult, GroupBuyStatus
from app.models.vocabulary import CreditNoteReason
from app.services.campaigns.groupbuy import ACTIVE, CANCELLED, price_at
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.errors import NotFound
from app.services.core.messages import message
from app.services.ordering import lifecycle

DROPPED = frozenset({OrderStatus.CANCELLED.value, OrderStatus.REJECTED.value})


@dataclass
class CloseResult:
    campaign: GroupBuyCampaign
    closed_now: bool = False  # False: already closed (or not due yet): nothing was done
    credit_notes: int = 0
    credited_fen: int = 0
    cancelled: int = 0


def close_campaign(campaign_id: int, actor_id: int | None = None, *, early: bool = False) -> CloseResult:
    """Close the campaign if it is open and its window has ended (or `early`: the owner's button)."""
    campaign = db.session.scalar(select(GroupBuyCampaign).where(GroupBuyCampaign.id == campaign_id)
                                 .with_for_update().execution_options(populate_existing=True))
    if campaign is None:
        raise NotFound("group-buy campaign")
    now = now_utc()
    if campaign.status != GroupBuyStatus.OPEN.value or (not early and campaign.ends_at > now):
        return CloseResult(campaign)
    commitments = list(db.session.scalars(
        select(GroupBuyCommitment).where(GroupBuyCommitment.campaign_id == campaign.id,
                                         GroupBuyCommitment.status == ACTIVE)
        .options(joinedload(GroupBuyCommitment.order).joinedload(Order.seller),
                 joinedload(GroupBuyCommitment.retailer))
        .order_by(GroupBuyCommitment.id).execution_options(populate_existing=True)))
    for commitment in commitments:
        if commitment.order.status in DROPPED:
            commitment.status = CANCELLED
    live = [c for c in commitments if c.status == ACTIVE]
    pool = sum(c.qty for c in live)
    succeeded = pool >= campaign.min_pool_qty
    result = CloseResult(campaign, closed_now=True)
    campaign.pool_qty = pool
    campaign.status, campaign.closed_at = GroupBuyStatus.CLOSED.value, now
    if succeeded:
        campaign.result = GroupBuyResult.SUCCEEDED.value
        campaign.final_price_fen = price_at(campaign, pool)
        for commitment in live:
            _credit_difference(campaign, commitment, result)
    else:
        campaign.result = GroupBuyResult.FAILED.value
        for commitment in live:
            _cancel(campaign, commitment, pool, actor_id, result)
    db.session.flush()
    audit.record(actor_id, "groupbuy.close", "groupbuy_campaign", campaign.id, {"status": "open"},
                 {"status": "closed", "result": campaign.result, "pool": pool, "final_price_fen": campaign.final_price_fen,
                  "credit_notes": result.credit_notes, "credited_fen": result.credited_fen,
                  "cancelled": result.cancelled})
    return result


def _credit_difference(campaign: GroupBuyCampaign, commitment: GroupBuyCommitment, result: CloseResult) -> None:
    from app.services.credit.payments import issue_credit_note
    from app.services.notifications import Audience, Subject, notify

    final = min(commitment.committed_price_fen, campaign.final_price_fen)
    commitment.final_price_fen = final
    difference = commitment.qty * (commitment.committed_price_fen - final)
    if difference <= 0:
        return
    order = commitment.order
    note = issue_credit_note(None, seller=order.seller, customer=commitment.retailer, amount_fen=difference,
                             reason=CreditNoteReason.ADJUSTMENT.value, order=order,
                             source_ref=f"groupbuy:{campaign.id}")
    commitment.credit_note_id = note.id
    result.credit_notes += 1
    result.credited_fen += difference
    notify(Audience(commitment.retailer_id, "retailer"), kind="groupbuy", message="groupbuy.succeeded",
           params={"name": campaign.name, "price": _yuan(final), "n": order.number, "credit": _yuan(difference),
                   "note": note.number},
           about=Subject("order", order.id), dedupe_key=f"groupbuy:{campaign.id}:{order.id}")


def _cancel(campaign: GroupBuyCampaign, commitment: GroupBuyCommitment, pool: int, actor_id: int | None,
            result: CloseResult) -> None:
    order = commitment.order
    if not lifecycle.can_move(order.status, OrderStatus.CANCELLED.value) or not lifecycle.may_cancel_whole(order.id):
        return  # goods on the road: the seller settles it with the shop
    lifecycle.transition(order.id, OrderStatus.CANCELLED.value, actor_id,
                         message("groupbuy.failed", name=campaign.name, pool=pool, min=campaign.min_pool_qty))
    commitment.status = CANCELLED
    result.cancelled += 1


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def due_campaign_ids(limit: int = 500) -> list[int]:
    """Open campaigns whose window has ended (the schedule closes them)."""
    return list(db.session.scalars(select(GroupBuyCampaign.id).where(
        GroupBuyCampaign.status == GroupBuyStatus.OPEN.value, GroupBuyCampaign.ends_at <= now_utc())
        .order_by(GroupBuyCampaign.ends_at).limit(limit)))
