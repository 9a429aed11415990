"""Presale release and the balance window: the jobs' side of services/campaigns/presale.py.

- `release_campaign(campaign_id)`: every order still 'presale_held' moves into the normal flow:
  approved with its stock reserved first-expiry-first-out (lifecycle.transition → inventory
  reserve_order, in the seller's warehouse), or 'submitted' with the shortage written on it when
  the seller lacks stock (its desk's shortage tools take over). Then its balance is settled by
  the order's payment method (see presale.py) and the buyer is told what is due and by when.
  Each order in its own savepoint; safe to run twice (a released order is no longer held).
- `cancel_unpaid(today)`: orders still 'due' after balance_closes_on are cancelled (the stock
  reservation is released by the lifecycle), the allocation goes back, and the deposit is
  refunded by a credit note or forfeited per the campaign's rule. Rows are locked and re-read:
  two runs at once issue one credit note. An order already shipped stays: its invoice carries
  the balance like any credit sale ('on_account').
- `order_withdrawn(order)`: the lifecycle calls it when a presale order is cancelled or rejected
  another way (the seller after release): everything paid comes back by a credit note.
- `apply_held_money(invoice)`: the invoicing calls it for a presale order: what the prepayment
  paid (deposit, balance) settles the invoice, through the wallet and record_payment.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Invoice, Order, Organisation, User, utcnow
from app.models.credit import CreditNoteReason
from app.models.presale import PresaleCampaign, PresaleOrder
from app.models.vocabulary import OrderPayment, OrderStatus, PresaleBalance, PresaleRule, PresaleStatus
from app.services.campaigns.presale import give_back
from app.services.core import audit
from app.services.core.clock import today_local
from app.services.core.errors import DomainError
from app.services.core.messages import message
from app.services.credit import payments
from app.services.ordering import lifecycle

S = OrderStatus
CANCELLABLE = (S.SUBMITTED.value, S.ON_HOLD.value, S.APPROVED.value, S.PICKING.value)


def release_campaign(campaign_id: int, actor_id: int | None = None) -> int:
    """Release the campaign's held orders; the number released by this call."""
    from app.services.inventory import StockShortage

    campaign = db.session.scalar(select(PresaleCampaign).where(PresaleCampaign.id == campaign_id).with_for_update()
                                 .execution_options(populate_existing=True))
    if campaign is None or campaign.status not in (PresaleStatus.OPEN.value, PresaleStatus.CLOSED.value,
                                                   PresaleStatus.RELEASED.value):
        return 0
    held = list(db.session.scalars(
        select(PresaleOrder).join(Order, Order.id == PresaleOrder.order_id)
        .where(PresaleOrder.campaign_id == campaign.id, Order.status == S.PRESALE_HELD.value)
        .options(joinedload(PresaleOrder.order)).order_by(PresaleOrder.id)))
    released = 0
    for row in held:
        try:
            with db.session.begin_nested():
                lifecycle.transition(row.order_id, S.APPROVED.value, actor_id, message("presale.released"),
                                     expected={S.PRESALE_HELD.value})
        except StockShortage as shortage:
            lifecycle.transition(row.order_id, S.SUBMITTED.value, actor_id,
                                 message("presale.released_short", detail=shortage.detail),
                                 expected={S.PRESALE_HELD.value})
        _settle_balance(row, actor_id)
        row.released_at = utcnow()
        released += 1
    if campaign.status != PresaleStatus.RELEASED.value:
        audit.record(actor_id, "presale.status", "presale_campaign", campaign.id, {"status": campaign.status},
                     {"status": PresaleStatus.RELEASED.value, "orders": released})
        campaign.status, campaign.released_at = PresaleStatus.RELEASED.value, utcnow()
    db.session.flush()
    return released


def _settle_balance(row: PresaleOrder, actor_id: int | None) -> None:
    """The balance at release, by the order's payment method (the rule in presale.py)."""
    order = row.order
    if row.balance_fen == 0:
        row.balance = PresaleBalance.PAID.value
    elif order.payment_method == OrderPayment.COD.value:
        row.balance = PresaleBalance.ON_DELIVERY.value
    elif order.payment_method == OrderPayment.CREDIT.value:
        from app.services.credit.limits import check_credit

        row.balance = PresaleBalance.DUE.value if check_credit(order) else PresaleBalance.ON_ACCOUNT.value
    else:
        try:
            with db.session.begin_nested():
                payments.hold_prepayment(actor_id, customer_id=row.buyer_id, seller_id=row.seller_id,
                                         amount_fen=row.balance_fen, reference=order.number or "",
                                         note="预售尾款")
            row.balance, row.balance_paid_fen = PresaleBalance.PAID.value, row.balance_fen
        except DomainError:
            row.balance = PresaleBalance.DUE.value
    _notify(row)


def _notify(row: PresaleOrder) -> None:
    from app.services.notifications import Audience, Subject, notify

    notify(Audience(row.buyer_id, "retailer"), kind="presale", message="presale.released",
           params={"n": row.order.number, "balance": f"{row.balance_fen // 100}.{row.balance_fen % 100:02d}", "state": row.balance,
                   "due": row.campaign.balance_closes_on.isoformat()},
           about=Subject("order", row.order_id), dedupe_key=f"presale:{row.id}:released")


def cancel_unpaid(today: date | None = None, actor_id: int | None = None) -> int:
    """Cancel the orders whose balance window ended unpaid; finish campaigns with nothing left."""
    today = today or today_local()
    ids = list(db.session.scalars(
        select(PresaleOrder.id).join(PresaleCampaign, PresaleCampaign.id == PresaleOrder.campaign_id)
        .where(PresaleOrder.balance == PresaleBalance.DUE.value, PresaleCampaign.balance_closes_on < today)
        .order_by(PresaleOrder.id)))
    cancelled = 0
    for presale_order_id in ids:
        with db.session.begin_nested():
            cancelled += _cancel_one(presale_order_id, actor_id)
    _finish_campaigns(today, actor_id)
    db.session.flush()
    return cancelled


def _cancel_one(presale_order_id: int, actor_id: int | None) -> int:
    row = db.session.scalar(select(PresaleOrder).where(PresaleOrder.id == presale_order_id).with_for_update()
                            .execution_options(populate_existing=True))
    if row is None or row.balance != PresaleBalance.DUE.value:
        return 0  # paid meanwhile, or another run did it
    order = db.session.get(Order, row.order_id)
    if order.status not in CANCELLABLE:  # goods already left: the invoice carries the balance
        row.balance = PresaleBalance.ON_ACCOUNT.value
        return 0
    rule = row.campaign.non_payment
    row.balance, row.deposit_outcome, row.closed_at = PresaleBalance.CANCELLED.value, rule, utcnow()
    code = "presale.unpaid_refund" if rule == PresaleRule.REFUND.value else "presale.unpaid_forfeit"
    lifecycle.transition(order.id, S.CANCELLED.value, actor_id,
                         message(code, due=row.campaign.balance_closes_on.isoformat()), expected=set(CANCELLABLE))
    give_back(row.item_id, row.buyer_id, row.qty)
    paid_back = row.deposit_paid_fen + row.balance_paid_fen if rule == PresaleRule.REFUND.value \
        else row.balance_paid_fen
    if paid_back:
        row.credit_note_id = _credit(order, paid_back, actor_id, row).id
    audit.record(actor_id, "presale.unpaid", "order", order.id, None,
                 {"rule": rule, "refunded_fen": paid_back, "forfeited_fen": row.deposit_paid_fen - (
                     paid_back - row.balance_paid_fen)})
    return 1


def _credit(order: Order, amount_fen: int, actor_id: int | None, row: PresaleOrder):
    actor = db.session.get(User, actor_id) if actor_id else None
    return payments.issue_credit_note(actor, seller=db.session.get(Organisation, order.seller_id),
                                      customer=db.session.get(Organisation, order.buyer_id), amount_fen=amount_fen,
                                      reason=CreditNoteReason.ADJUSTMENT.value, order=order,
                                      source_ref=f"presale:{row.id}", note="预售退款")


def _finish_campaigns(today: date, actor_id: int | None) -> None:
    for campaign in db.session.scalars(select(PresaleCampaign).where(
            PresaleCampaign.status == PresaleStatus.RELEASED.value, PresaleCampaign.balance_closes_on < today)):
        open_rows = db.session.scalar(select(PresaleOrder.id).where(
            PresaleOrder.campaign_id == campaign.id,
            PresaleOrder.balance.in_((PresaleBalance.DUE.value, PresaleBalance.HELD.value))).limit(1))
        if open_rows is None:
            campaign.status = PresaleStatus.FINISHED.value
            audit.record(actor_id, "presale.status", "presale_campaign", campaign.id,
                         {"status": PresaleStatus.RELEASED.value}, {"status": PresaleStatus.FINISHED.value})


def release_due(today: date | None = None) -> list[int]:
    """Campaigns whose release date has come (the nightly job): their ids, for the release job."""
    today = today or today_local()
    return list(db.session.scalars(select(PresaleCampaign.id).where(
        PresaleCampaign.status.in_((PresaleStatus.OPEN.value, PresaleStatus.CLOSED.value)),
        PresaleCampaign.release_on <= today).order_by(PresaleCampaign.id)))


def order_withdrawn(order: Order, actor_id: int | None) -> None:
    """A presale order cancelled or rejected other than for non-payment: allocation and every
    fen paid go back (a credit note). Nothing when the non-payment rule already handled it."""
    row = db.session.scalar(select(PresaleOrder).where(PresaleOrder.order_id == order.id).with_for_update()
                            .execution_options(populate_existing=True))
    if row is None or row.balance == PresaleBalance.CANCELLED.value:
        return
    row.balance, row.deposit_outcome, row.closed_at = PresaleBalance.CANCELLED.value, PresaleRule.REFUND.value, utcnow()
    give_back(row.item_id, row.buyer_id, row.qty)
    paid = row.deposit_paid_fen + row.balance_paid_fen - row.applied_fen
    if paid > 0:
        row.credit_note_id = _credit(order, paid, actor_id, row).id


def apply_held_money(invoice: Invoice, actor_id: int | None) -> None:
    """What the prepayment paid for the order settles its new invoice (through the wallet, so
    the buyer's statement shows an ordinary prepayment payment)."""
    row = db.session.scalar(select(PresaleOrder).where(PresaleOrder.order_id == invoice.order_id).with_for_update()
                            .execution_options(populate_existing=True))
    if row is None:
        return
    amount = min(row.deposit_paid_fen + row.balance_paid_fen - row.applied_fen, invoice.total_fen - invoice.paid_fen)
    if amount <= 0:
        return
    reference = row.order.number or ""
    payments.unhold_prepayment(actor_id, customer_id=row.buyer_id, seller_id=row.seller_id, amount_fen=amount,
                               reference=reference, note="预售款转付发票")
    actor = db.session.get(User, actor_id) if actor_id else None
    payments.record_payment(actor, seller=db.session.get(Organisation, row.seller_id),
                            customer=db.session.get(Organisation, row.buyer_id), method="prepayment",
                            amount_fen=amount, invoice=invoice, reference=reference)
    row.applied_fen += amount
