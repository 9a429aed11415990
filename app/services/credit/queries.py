"""Read-only queries for the credit pages, each scoped to the organisation that asks."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Invoice, Organisation, OrgKind
from app.models.credit import CreditNote, Payment, PaymentAllocation, PrepaymentAccount, PrepaymentEntry
from app.services.core.errors import NotFound
from app.services.credit.limits import is_customer
from app.services.credit.payments import open_invoices_query

RECENT = 20


def customer_for_brand(customer_id: int) -> Organisation:
    """Any dealer or retailer: the brand grants credit to all of them; NotFound otherwise."""
    customer = db.session.get(Organisation, customer_id)
    if not is_customer(customer):
        raise NotFound(_("客户不存在。"))
    return customer


def customer_for_dealer(dealer_id: int, customer_id: int) -> Organisation:
    """A retailer the dealer serves, or one it has invoiced; NotFound for anyone else's."""
    customer = db.session.get(Organisation, customer_id)
    if customer is not None and customer.kind == OrgKind.RETAILER.value:
        if customer.dealer_id == dealer_id or db.session.scalar(
                select(Invoice.id).where(Invoice.seller_id == dealer_id, Invoice.buyer_id == customer_id).limit(1)):
            return customer
    raise NotFound(_("客户不存在。"))


def invoice_for_party(org_id: int, invoice_id: int) -> Invoice:
    """An invoice the organisation issued or received; NotFound otherwise."""
    invoice = db.session.scalar(select(Invoice).where(Invoice.id == invoice_id,
                                                      or_(Invoice.seller_id == org_id, Invoice.buyer_id == org_id)))
    if invoice is None:
        raise NotFound(_("发票不存在。"))
    return invoice


def invoice_payments(invoice_id: int) -> list[tuple[PaymentAllocation, Payment]]:
    return list(db.session.execute(
        select(PaymentAllocation, Payment).join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.invoice_id == invoice_id).order_by(Payment.received_on, Payment.id)).tuples())


def open_invoices(customer_id: int, seller_id: int | None = None, limit: int = 200) -> list[Invoice]:
    """Oldest first, bounded (a payment without a chosen invoice reaches the rest)."""
    return list(db.session.scalars(open_invoices_query(customer_id, seller_id).limit(limit)))


def receivables_query(seller_id: int, text: str = ""):
    """The seller's open invoices with their buyers, earliest due first."""
    query = (select(Invoice, Organisation).join(Organisation, Organisation.id == Invoice.buyer_id)
             .where(Invoice.seller_id == seller_id, Invoice.status == "open", Invoice.paid_fen < Invoice.total_fen))
    text = text.strip()
    if text:
        like = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Organisation.code.ilike(like), Organisation.name.ilike(like)))
    return query.order_by(Invoice.due_on.is_(None), Invoice.due_on, Invoice.id)


def recent_payments(customer_id: int, seller_id: int | None = None, limit: int = RECENT) -> list[Payment]:
    query = (select(Payment).where(Payment.customer_id == customer_id)
             .options(selectinload(Payment.allocations).selectinload(PaymentAllocation.invoice))
             .order_by(Payment.received_on.desc(), Payment.id.desc()).limit(limit))
    if seller_id is not None:
        query = query.where(Payment.seller_id == seller_id)
    return list(db.session.scalars(query))


def recent_credit_notes(customer_id: int, seller_id: int | None = None, limit: int = RECENT) -> list[CreditNote]:
    query = (select(CreditNote).where(CreditNote.customer_id == customer_id)
             .order_by(CreditNote.issued_at.desc(), CreditNote.id.desc()).limit(limit))
    if seller_id is not None:
        query = query.where(CreditNote.seller_id == seller_id)
    return list(db.session.scalars(query))


def recent_prepayment_entries(customer_id: int, seller_id: int | None = None,
                              limit: int = RECENT) -> list[PrepaymentEntry]:
    query = (select(PrepaymentEntry).join(PrepaymentAccount, PrepaymentAccount.id == PrepaymentEntry.account_id)
             .where(PrepaymentAccount.customer_id == customer_id)
             .order_by(PrepaymentEntry.id.desc()).limit(limit))
    if seller_id is not None:
        query = query.where(PrepaymentAccount.seller_id == seller_id)
    return list(db.session.scalars(query))
