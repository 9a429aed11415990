"""Issuing the invoice of a shipped order, exactly once.

An order paid from the prepayment balance has its invoice paid from it as it is issued
(credit.prepaid_orders). `ensure_invoice(order_id)` may run any number of times, in any number of processes at once
(a retried job, a job whose worker died, the ship action and a job racing): the unique
order_id on `invoices` lets one insert win, and every caller gets that one invoice back."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Invoice, Order, OrderStatus, Organisation, utcnow
from app.services.core import audit
from app.services.integrations import outbox
from app.services.credit import prepaid_orders
from app.services.rebates import accruals as rebate_accruals
from app.services.credit.limits import due_date
from app.services.core.errors import DomainError, NotFound
from app.services.core.clock import LOCAL

INVOICEABLE_STATUSES = (OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value, OrderStatus.COMPLETED.value)


def invoice_number(order_id: int, issued_at: datetime) -> str:
    """INV + issue day (Asia/Shanghai) + order id: unique because one invoice per order, and
    readable on the phone when a shop calls about it."""
    return f"INV{issued_at.astimezone(LOCAL):%Y%m%d}{order_id:08d}"


def invoice_for_order(order_id: int) -> Invoice | None:
    return db.session.scalar(select(Invoice).where(Invoice.order_id == order_id))


def ensure_invoice(order_id: int, actor_id: int | None = None) -> Invoice:
    """The order's invoice, issued now if it has none. Only shipped (or later) orders are
    invoiced; the due date follows the buyer's payment terms."""
    existing = invoice_for_order(order_id)
    if existing is not None:
        return existing
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("订单不存在。"))
    if order.status not in INVOICEABLE_STATUSES:
        raise DomainError(_("订单发货后才能开具发票。"))
    buyer = db.session.get(Organisation, order.buyer_id)
    issued_at = utcnow()
    invoice = Invoice(number=invoice_number(order.id, issued_at), order_id=order.id, seller_id=order.seller_id,
                      buyer_id=order.buyer_id, total_fen=order.total_fen, tax_fen=order.tax_fen, paid_fen=0,
                      status="open", issued_at=issued_at, due_on=due_date(buyer, issued_at.astimezone(LOCAL).date()))
    try:
        with db.session.begin_nested():
            db.session.add(invoice)
    except IntegrityError:
        # Another process issued it between our look and our insert: theirs is the invoice.
        existing = invoice_for_order(order_id)
        if existing is None:
            raise
        return existing
    audit.record(actor_id, "invoice.issue", "invoice", invoice.id, None,
                 {"number": invoice.number, "order_id": order.id, "total_fen": invoice.total_fen,
                  "due_on": invoice.due_on.isoformat() if invoice.due_on else None})
    rebate_accruals.on_invoice(invoice)  # dealer rebates accrue on the brand's invoices as they are issued
    outbox.record("invoice.issued", "invoice", invoice.id, (invoice.buyer_id, invoice.seller_id),
                  {"invoice_id": invoice.id, "number": invoice.number, "order_id": invoice.order_id,
                   "buyer_id": invoice.buyer_id, "seller_id": invoice.seller_id, "total_fen": invoice.total_fen,
                   "tax_fen": invoice.tax_fen, "due_on": invoice.due_on.isoformat() if invoice.due_on else None})
    if order.kind == "presale":  # the deposit (and balance) paid ahead settle it at once
        from app.services.campaigns.presale_release import apply_held_money

        apply_held_money(invoice, actor_id)
    else:
        prepaid_orders.pay_invoice_if_prepaid(order, invoice, actor_id)  # only the process that issued it pays
    return invoice
