"""A customer's statement of account (对账单) for a period.

The balance is what the customer owes, net of the money it has put with the seller:
  + invoices issued (void ones left out)
  − money received: bank transfers and cash on delivery, and prepayment top-ups
  − credit notes issued
  + online payments refunded (app/services/payments/refunds.py: the money left the seller)
Paying an invoice from prepayment or with a credit note moves money the customer already has
with the seller, so it does not change the balance; the period's settlements list every payment
with the invoices it settled. Hence closing balance = unpaid invoices − prepayment balance −
unused credit notes, and opening + lines = closing for any period.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Invoice, Order, Organisation
from app.models.payments import PaymentIntent, PaymentRefund
from app.models.credit import CASH_METHODS, CreditNote, Payment, PaymentAllocation, PrepaymentAccount, PrepaymentEntry
from app.services.core.errors import DomainError
from app.services.core.clock import LOCAL

MAX_PERIOD_DAYS = 366
KIND_ORDER = {"invoice": 0, "credit_note": 1, "receipt": 2, "topup": 3, "refund": 4}


@dataclass
class StatementLine:
    on: date
    kind: str  # invoice | receipt | topup | credit_note
    number: str
    seller_id: int
    debit_fen: int = 0  # raises what the customer owes
    credit_fen: int = 0  # lowers it
    balance_fen: int = 0
    method: str = ""  # receipts
    reason: str = ""  # credit notes
    reference: str = ""  # bank reference, order number, invoice number


@dataclass
class Settlement:
    payment: Payment
    invoice_numbers: list[str]


@dataclass
class Statement:
    customer: Organisation
    seller: Organisation | None
    start: date
    end: date
    opening_fen: int
    closing_fen: int = 0
    lines: list[StatementLine] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)
    seller_names: dict[int, str] = field(default_factory=dict)
    invoiced_fen: int = 0
    received_fen: int = 0
    credited_fen: int = 0


def _utc_start_of(day: date) -> datetime:
    return datetime.combine(day, time(), LOCAL).astimezone(timezone.utc)


def default_period(today: date) -> tuple[date, date]:
    """The current month up to today."""
    return today.replace(day=1), today


def _sum(query) -> int:
    return int(db.session.scalar(query) or 0)


def _opening(customer_id: int, seller_id: int | None, start: date) -> int:
    def scoped(query, column):
        return query.where(column == seller_id) if seller_id is not None else query

    invoiced = _sum(scoped(select(func.sum(Invoice.total_fen)).where(
        Invoice.buyer_id == customer_id, Invoice.status != "void", Invoice.issued_at < _utc_start_of(start)),
        Invoice.seller_id))
    received = _sum(scoped(select(func.sum(Payment.amount_fen)).where(
        Payment.customer_id == customer_id, Payment.method.in_(CASH_METHODS), Payment.received_on < start),
        Payment.seller_id))
    topped_up = _sum(scoped(select(func.sum(PrepaymentEntry.amount_fen))
                            .join(PrepaymentAccount, PrepaymentAccount.id == PrepaymentEntry.account_id)
                            .where(PrepaymentAccount.customer_id == customer_id, PrepaymentEntry.kind == "topup",
                                   PrepaymentEntry.entered_on < start), PrepaymentAccount.seller_id))
    credited = _sum(scoped(select(func.sum(CreditNote.amount_fen)).where(
        CreditNote.customer_id == customer_id, CreditNote.issued_on < start), CreditNote.seller_id))
    refunded = _sum(scoped(select(func.sum(PaymentRefund.amount_fen))
                           .join(PaymentIntent, PaymentIntent.id == PaymentRefund.intent_id)
                           .where(PaymentIntent.payer_id == customer_id,
                                  PaymentRefund.refunded_at < _utc_start_of(start)), PaymentIntent.seller_id))
    return invoiced - received - topped_up - credited + refunded


def _period_lines(customer_id: int, seller_id: int | None, start: date, end: date) -> list[StatementLine]:
    lines: list[StatementLine] = []
    after, before = _utc_start_of(start), _utc_start_of(end + timedelta(days=1))

    invoices = (select(Invoice, Order.number).join(Order, Order.id == Invoice.order_id)
                .where(Invoice.buyer_id == customer_id, Invoice.status != "void",
                       Invoice.issued_at >= after, Invoice.issued_at < before))
    receipts = select(Payment).where(Payment.customer_id == customer_id, Payment.method.in_(CASH_METHODS),
                                     Payment.received_on >= start, Payment.received_on <= end)
    topups = (select(PrepaymentEntry, PrepaymentAccount.seller_id)
              .join(PrepaymentAccount, PrepaymentAccount.id == PrepaymentEntry.account_id)
              .where(PrepaymentAccount.customer_id == customer_id, PrepaymentEntry.kind == "topup",
                     PrepaymentEntry.entered_on >= start, PrepaymentEntry.entered_on <= end))
    notes = (select(CreditNote, Invoice.number).outerjoin(Invoice, Invoice.id == CreditNote.invoice_id)
             .where(CreditNote.customer_id == customer_id, CreditNote.issued_on >= start,
                    CreditNote.issued_on <= end))
    refunds = (select(PaymentRefund, PaymentIntent.seller_id)
               .join(PaymentIntent, PaymentIntent.id == PaymentRefund.intent_id)
               .where(PaymentIntent.payer_id == customer_id, PaymentRefund.refunded_at >= after,
                      PaymentRefund.refunded_at < before))
    if seller_id is not None:
        refunds = refunds.where(PaymentIntent.seller_id == seller_id)
        invoices = invoices.where(Invoice.seller_id == seller_id)
        receipts = receipts.where(Payment.seller_id == seller_id)
        topups = topups.where(PrepaymentAccount.seller_id == seller_id)
        notes = notes.where(CreditNote.seller_id == seller_id)

    for invoice, order_number in db.session.execute(invoices):
        lines.append(StatementLine(invoice.issued_at.astimezone(LOCAL).date(), "invoice", invoice.number,
                                   invoice.seller_id, debit_fen=invoice.total_fen, reference=order_number or ""))
    for payment in db.session.scalars(receipts):
        lines.append(StatementLine(payment.received_on, "receipt", payment.number or "", payment.seller_id,
                                   credit_fen=payment.amount_fen, method=payment.method,
                                   reference=payment.reference))
    for entry, entry_seller_id in db.session.execute(topups):
        lines.append(StatementLine(entry.entered_on, "topup", f"YC{entry.id:08d}", entry_seller_id,
                                   credit_fen=entry.amount_fen, reference=entry.reference))
    for note, invoice_number in db.session.execute(notes):
        lines.append(StatementLine(note.issued_on, "credit_note", note.number or "", note.seller_id,
                                   credit_fen=note.amount_fen, reason=note.reason, reference=invoice_number or ""))
    for refund, refund_seller_id in db.session.execute(refunds):
        lines.append(StatementLine(refund.refunded_at.astimezone(LOCAL).date(), "refund", refund.reference,
                                   refund_seller_id, debit_fen=refund.amount_fen, reference=refund.reason))
    lines.sort(key=lambda line: (line.on, KIND_ORDER[line.kind], line.number))
    return lines


def _settlements(customer_id: int, seller_id: int | None, start: date, end: date) -> list[Settlement]:
    query = (select(Payment).where(Payment.customer_id == customer_id, Payment.received_on >= start,
                                   Payment.received_on <= end)
             .options(selectinload(Payment.allocations).selectinload(PaymentAllocation.invoice))
             .order_by(Payment.received_on, Payment.id))
    if seller_id is not None:
        query = query.where(Payment.seller_id == seller_id)
    return [Settlement(p, [a.invoice.number for a in p.allocations]) for p in db.session.scalars(query)]


def statement(customer: Organisation, start: date, end: date, seller: Organisation | None = None) -> Statement:
    """The statement of `customer` for [start, end] (local dates, both included), with `seller`
    only, or with every seller when none is given."""
    if end < start:
        raise DomainError(_("结束日期不能早于开始日期。"), field="end")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise DomainError(_("对账期间最长 %(n)d 天。", n=MAX_PERIOD_DAYS), field="end")
    seller_id = seller.id if seller else None
    result = Statement(customer=customer, seller=seller, start=start, end=end,
                       opening_fen=_opening(customer.id, seller_id, start))
    balance = result.opening_fen
    for line in _period_lines(customer.id, seller_id, start, end):
        balance += line.debit_fen - line.credit_fen
        line.balance_fen = balance
        result.lines.append(line)
        if line.kind == "invoice":
            result.invoiced_fen += line.debit_fen
        elif line.kind == "credit_note":
            result.credited_fen += line.credit_fen
        else:
            result.received_fen += line.credit_fen
    result.closing_fen = balance
    result.settlements = _settlements(customer.id, seller_id, start, end)
    seller_ids = {line.seller_id for line in result.lines} | {s.payment.seller_id for s in result.settlements}
    if seller_ids:
        result.seller_names = dict(db.session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(seller_ids))).all())
    return result
