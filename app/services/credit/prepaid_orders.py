"""Orders paid from the prepayment balance (payment method "prepayment", 预存款余额).

The rule, one for every channel (web, rep, API):
- At approval (the automatic review, the seller's approve and recheck: all through
  credit.limits.check_credit, under the buyer's row lock) a prepayment order must be covered by
  the buyer's prepayment balance with the order's seller, less what its other prepayment orders
  with that seller already claim (approved and not yet invoiced). When it is short the order is
  HELD, not refused, with the reason "prepayment_short" naming the order, the balance and what
  is claimed: the buyer tops up and the seller rechecks (or approves with a confirmed reason, as
  for credit). The credit limit is not checked for such an order: it is not bought on credit
  (a hold on the customer and overdue invoices still stop it).
- When the order is invoiced (credit.invoicing.ensure_invoice, the one place invoices are
  made), its invoice is paid from the prepayment at once: a Payment by method "prepayment" that
  the statement, the prepayment history and the credit pages show like any other. If the
  balance was spent meanwhile, what it covers is paid and the rest stays open on the invoice.
"""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Invoice, Order
from app.models.credit import PrepaymentAccount
from app.models.vocabulary import OrderPayment
from app.services.core.errors import DomainError
from app.services.core.messages import message

PREPAYMENT = OrderPayment.PREPAYMENT.value


def is_prepaid(order: Order) -> bool:
    """A standard (or group-buy) order paid from the balance; a presale order's money follows the
    presale rule (campaigns/presale.py: the deposit and balance are held ahead)."""
    return order.payment_method == PREPAYMENT and order.kind != "presale"


def claimed_fen(customer_id: int, seller_id: int | None, exclude_order_id: int | None = None) -> int:
    """What the customer's accepted, uninvoiced prepayment orders with the seller (None: every
    seller) will draw."""
    from app.services.credit.limits import UNINVOICED_OPEN_STATUSES

    query = (select(func.coalesce(func.sum(Order.total_fen), 0))
             .outerjoin(Invoice, Invoice.order_id == Order.id)
             .where(Order.buyer_id == customer_id, Order.payment_method == PREPAYMENT, Order.kind != "presale",
                    Order.status.in_(UNINVOICED_OPEN_STATUSES), Invoice.id.is_(None)))
    if seller_id is not None:
        query = query.where(Order.seller_id == seller_id)
    if exclude_order_id is not None:
        query = query.where(Order.id != exclude_order_id)
    return int(db.session.scalar(query))


def balance_fen(customer_id: int, seller_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(PrepaymentAccount.balance_fen), 0)).where(
        PrepaymentAccount.customer_id == customer_id, PrepaymentAccount.seller_id == seller_id)))


def shortfall_reason(order: Order):
    """HoldReason "prepayment_short" when the prepayment does not cover the order, else None.
    Called by check_credit with the buyer's row locked."""
    from app.services.credit.limits import HoldReason, format_yuan

    balance = balance_fen(order.buyer_id, order.seller_id)
    claimed = claimed_fen(order.buyer_id, order.seller_id, exclude_order_id=order.id)
    if balance - claimed >= order.total_fen:
        return None
    return HoldReason("prepayment_short", message(
        "credit.prepayment_short", order=format_yuan(order.total_fen),
        available=format_yuan(max(0, balance - claimed)), balance=format_yuan(balance),
        claimed=format_yuan(claimed)))


def pay_invoice_if_prepaid(order: Order, invoice: Invoice, actor_id: int | None = None) -> None:
    """Pay a just-issued invoice of a prepayment order from the balance (as far as it goes).
    In a savepoint: money spent by a concurrent request leaves the invoice open, it never fails
    the shipment that issued the invoice."""
    from app.services.credit.payments import settle_invoice_from_prepayment

    if not is_prepaid(order):
        return
    try:
        with db.session.begin_nested():
            settle_invoice_from_prepayment(invoice, actor_id, reference=order.number or "")
    except DomainError:
        pass
