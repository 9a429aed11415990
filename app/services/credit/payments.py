"""Payments, the prepayment wallet (预存款) and credit notes.

Every payment is allocated in full to the seller's invoices, to a chosen invoice or oldest
first; nobody can pay more than is owed (the surplus belongs in a prepayment top-up). Each
allocation raises the invoice's paid_fen and closes it when fully paid. Invoices and the wallet
row are locked while they change (PostgreSQL), and CHECK constraints refuse an overpaid invoice
or a negative wallet even if two requests race.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Invoice, Order, Organisation, OrgKind, User
from app.models.credit import (CreditNote, CreditNoteReason, Payment, PaymentAllocation, PaymentMethod,
                               PrepaymentAccount, PrepaymentEntry)
from app.services.core import audit
from app.services.integrations import outbox
from app.services.rebates import accruals as rebate_accruals
from app.services.credit.limits import format_yuan, is_customer
from app.services.core.errors import DomainError
from app.services.core.clock import today_local

METHODS = tuple(m.value for m in PaymentMethod)
MAX_AMOUNT_FEN = 100_000_000 * 100


def _check_amount(amount_fen: int) -> None:
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool):
        raise DomainError(_("金额必须是整数分。"), field="amount")
    if amount_fen <= 0:
        raise DomainError(_("金额必须大于 0。"), field="amount")
    if amount_fen > MAX_AMOUNT_FEN:
        raise DomainError(_("金额过大。"), field="amount")


def _check_received_on(received_on: date) -> None:
    if received_on > today_local():
        raise DomainError(_("收款日期不能晚于今天。"), field="received_on")


def _check_parties(seller: Organisation, customer: Organisation) -> None:
    """The brand or a dealer sells; a dealer or a retailer buys."""
    if not is_customer(customer) or seller.id == customer.id or seller.kind == OrgKind.RETAILER.value:
        raise DomainError(_("客户无效。"))


def _locked(query):
    """Lock the rows (PostgreSQL) and read them afresh: an object already in the session would
    otherwise keep the values it had before another request changed and committed them."""
    return query.with_for_update().execution_options(populate_existing=True)


# --- invoices -------------------------------------------------------------------------------

def open_invoices_query(customer_id: int, seller_id: int | None = None):
    """Open invoices with something unpaid, oldest first (the order payments settle them in)."""
    query = select(Invoice).where(Invoice.buyer_id == customer_id, Invoice.status == "open",
                                  Invoice.paid_fen < Invoice.total_fen)
    if seller_id is not None:
        query = query.where(Invoice.seller_id == seller_id)
    return query.order_by(Invoice.issued_at, Invoice.id)


def _allocate(payment: Payment, invoices: list[Invoice], amount_fen: int) -> None:
    left = amount_fen
    for invoice in invoices:
        if left == 0:
            break
        share = min(left, invoice.total_fen - invoice.paid_fen)
        if share <= 0:
            continue
        invoice.paid_fen += share
        if invoice.paid_fen == invoice.total_fen:
            invoice.status = "paid"
        payment.allocations.append(PaymentAllocation(invoice_id=invoice.id, amount_fen=share))
        left -= share
    assert left == 0, "caller checked the amount against what is owed"


def _target_invoices(seller: Organisation, customer: Organisation, invoice: Invoice | None,
                     amount_fen: int) -> list[Invoice]:
    """The invoices a payment settles, locked; refuses an amount above what they owe."""
    if invoice is not None:
        if invoice.seller_id != seller.id or invoice.buyer_id != customer.id:
            raise DomainError(_("发票不属于该客户。"), field="invoice")
        invoice = db.session.scalar(_locked(select(Invoice).where(Invoice.id == invoice.id)))
        if invoice.status != "open":
            raise DomainError(_("该发票不是未结清状态。"), field="invoice")
        unpaid = invoice.total_fen - invoice.paid_fen
        if amount_fen > unpaid:
            raise DomainError(_("金额超过该发票未付金额 %(unpaid)s。", unpaid=format_yuan(unpaid)), field="amount")
        return [invoice]
    invoices = list(db.session.scalars(_locked(open_invoices_query(customer.id, seller.id))))
    unpaid = sum(i.total_fen - i.paid_fen for i in invoices)
    if unpaid == 0:
        raise DomainError(_("该客户没有未付发票；预付款请用预存款充值。"), field="amount")
    if amount_fen > unpaid:
        raise DomainError(_("金额超过未付总额 %(unpaid)s；多余款项请用预存款充值。", unpaid=format_yuan(unpaid)),
                          field="amount")
    return invoices


# --- the prepayment wallet ------------------------------------------------------------------

def prepayment_account(customer_id: int, seller_id: int, create: bool = False) -> PrepaymentAccount | None:
    account = db.session.scalar(select(PrepaymentAccount).where(
        PrepaymentAccount.customer_id == customer_id, PrepaymentAccount.seller_id == seller_id))
    if account is None and create:
        try:
            with db.session.begin_nested():
                account = PrepaymentAccount(customer_id=customer_id, seller_id=seller_id, balance_fen=0)
                db.session.add(account)
        except IntegrityError:  # created by a concurrent request: use that one
            account = db.session.scalar(select(PrepaymentAccount).where(
                PrepaymentAccount.customer_id == customer_id, PrepaymentAccount.seller_id == seller_id))
    return account


def _move_prepayment(account: PrepaymentAccount, delta_fen: int) -> int:
    """Change the balance in one UPDATE (no lost update under concurrency); the CHECK
    constraint refuses a negative result. Returns the new balance."""
    try:
        with db.session.begin_nested():
            balance = db.session.execute(
                update(PrepaymentAccount).where(PrepaymentAccount.id == account.id)
                .values(balance_fen=PrepaymentAccount.balance_fen + delta_fen)
                .returning(PrepaymentAccount.balance_fen)
                .execution_options(synchronize_session=False)).scalar_one()
    except IntegrityError:
        raise DomainError(_("预存款余额不足。"), field="amount") from None
    db.session.expire(account, ["balance_fen"])
    return balance


def top_up_prepayment(actor: User, *, seller: Organisation, customer: Organisation, amount_fen: int,
                      received_on: date, reference: str = "", note: str = "") -> PrepaymentEntry:
    """Money received in advance: it goes to the customer's prepayment with `seller`."""
    _check_parties(seller, customer)
    _check_amount(amount_fen)
    _check_received_on(received_on)
    account = prepayment_account(customer.id, seller.id, create=True)
    balance = _move_prepayment(account, amount_fen)
    entry = PrepaymentEntry(account_id=account.id, kind="topup", amount_fen=amount_fen, balance_after_fen=balance,
                            entered_on=received_on, reference=reference.strip(), note=note.strip(),
                            recorded_by_id=actor.id)
    db.session.add(entry)
    db.session.flush()
    audit.record(actor.id, "prepayment.topup", "prepayment_account", account.id,
                 {"balance_fen": balance - amount_fen},
                 {"balance_fen": balance, "amount_fen": amount_fen, "reference": entry.reference})
    return entry


def hold_prepayment(actor_id: int | None, *, customer_id: int, seller_id: int, amount_fen: int,
                    reference: str, note: str) -> PrepaymentEntry:
    """Take money out of the wallet for an order not invoiced yet (a presale deposit or balance):
    all or nothing, one conditional UPDATE (the CHECK refuses a negative balance under a race)."""
    _check_amount(amount_fen)
    account = prepayment_account(customer_id, seller_id)
    held = account.balance_fen if account else 0
    if account is None or held < amount_fen:
        raise DomainError(_("预存款余额不足（可用 %(held)s，需 %(need)s），请先充值。",
                            held=format_yuan(held), need=format_yuan(amount_fen)), field="amount")
    balance = _move_prepayment(account, -amount_fen)
    entry = PrepaymentEntry(account_id=account.id, kind="payment", amount_fen=-amount_fen, balance_after_fen=balance,
                            entered_on=today_local(), reference=reference[:60], note=note, recorded_by_id=actor_id)
    db.session.add(entry)
    db.session.flush()
    return entry


def unhold_prepayment(actor_id: int | None, *, customer_id: int, seller_id: int, amount_fen: int,
                      reference: str, note: str) -> PrepaymentEntry:
    """Put money taken by hold_prepayment back into the wallet (so the order's invoice is then
    paid from it by record_payment, like any prepayment payment)."""
    _check_amount(amount_fen)
    account = prepayment_account(customer_id, seller_id, create=True)
    balance = _move_prepayment(account, amount_fen)
    entry = PrepaymentEntry(account_id=account.id, kind="topup", amount_fen=amount_fen, balance_after_fen=balance,
                            entered_on=today_local(), reference=reference[:60], note=note, recorded_by_id=actor_id)
    db.session.add(entry)
    db.session.flush()
    return entry


def _spend_prepayment(actor_id: int | None, payment: Payment) -> None:
    account = prepayment_account(payment.customer_id, payment.seller_id)
    held = account.balance_fen if account else 0
    if account is None or held < payment.amount_fen:
        raise DomainError(_("预存款余额不足（可用 %(held)s）。", held=format_yuan(held)), field="amount")
    balance = _move_prepayment(account, -payment.amount_fen)
    db.session.add(PrepaymentEntry(account_id=account.id, kind="payment", amount_fen=-payment.amount_fen,
                                   balance_after_fen=balance, entered_on=payment.received_on,
                                   payment_id=payment.id, reference=payment.number or "",
                                   recorded_by_id=actor_id))


def _spend_credit(payment: Payment, first: CreditNote | None) -> list[str]:
    """Use the customer's unused credit-note amounts, `first` then oldest first; the notes' numbers."""
    notes = list(db.session.scalars(_locked(
        select(CreditNote).where(CreditNote.customer_id == payment.customer_id,
                                 CreditNote.seller_id == payment.seller_id, CreditNote.remaining_fen > 0)
        .order_by(CreditNote.issued_at, CreditNote.id))))
    if first is not None and first in notes:
        notes.remove(first)
        notes.insert(0, first)
    held = sum(n.remaining_fen for n in notes)
    if held < payment.amount_fen:
        raise DomainError(_("可用红字额度不足（可用 %(held)s）。", held=format_yuan(held)), field="amount")
    left, used = payment.amount_fen, []
    for note in notes:
        if left == 0:
            break
        share = min(left, note.remaining_fen)
        note.remaining_fen -= share
        left -= share
        used.append(note.number or str(note.id))
    return used


# --- payments -------------------------------------------------------------------------------

def record_payment(actor: User | None, *, seller: Organisation, customer: Organisation, method: str,
                   amount_fen: int, received_on: date | None = None, invoice: Invoice | None = None,
                   reference: str = "", note: str = "", credit_note: CreditNote | None = None) -> Payment:
    """A payment from `customer` to `seller`, settling `invoice` or the oldest open invoices.
    By prepayment it draws on the wallet; by credit on unused credit notes (`credit_note` first,
    then the oldest)."""
    _check_parties(seller, customer)
    if method not in METHODS:
        raise DomainError(_("请选择付款方式。"), field="method")
    _check_amount(amount_fen)
    received_on = received_on or today_local()
    _check_received_on(received_on)
    invoices = _target_invoices(seller, customer, invoice, amount_fen)
    actor_id = actor.id if actor else None
    payment = Payment(customer_id=customer.id, seller_id=seller.id, method=method, amount_fen=amount_fen,
                      received_on=received_on, reference=reference.strip(), note=note.strip(),
                      recorded_by_id=actor_id)
    db.session.add(payment)
    db.session.flush()
    payment.number = f"SK{payment.id:08d}"
    credit_notes: list[str] = []
    if method == PaymentMethod.PREPAYMENT.value:
        _spend_prepayment(actor_id, payment)
    elif method == PaymentMethod.CREDIT.value:
        credit_notes = _spend_credit(payment, credit_note)
    _allocate(payment, invoices, amount_fen)
    db.session.flush()
    audit.record(actor_id, "payment.record", "payment", payment.id, None, {
        "number": payment.number, "customer_id": customer.id, "seller_id": seller.id, "method": method,
        "amount_fen": amount_fen, "received_on": received_on.isoformat(), "reference": payment.reference,
        "invoices": {str(a.invoice_id): a.amount_fen for a in payment.allocations},
        **({"credit_notes": credit_notes} if credit_notes else {})})
    rebate_accruals.on_payment(payment)  # payment-based (回款) dealer rebates accrue as money is received
    outbox.record("payment.received", "payment", payment.id, (customer.id, seller.id),
                  {"payment_id": payment.id, "number": payment.number, "customer_id": customer.id,
                   "seller_id": seller.id, "method": method, "amount_fen": amount_fen,
                   "received_on": received_on.isoformat(), "reference": payment.reference,
                   "invoices": [{"invoice_id": a.invoice_id, "amount_fen": a.amount_fen} for a in payment.allocations]})
    return payment


def invoice_for_order(order: Order) -> Invoice | None:
    return db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))


def pay_order_from_prepayment(actor: User | None, order: Order) -> Payment:
    """Pay what is left of the order's invoice from the buyer's prepayment with the seller."""
    invoice = invoice_for_order(order)
    if invoice is None:
        raise DomainError(_("订单尚未开票，开票后才能用预存款支付。"))
    if invoice.status != "open" or invoice.paid_fen >= invoice.total_fen:
        raise DomainError(_("该订单的发票已结清。"))
    return record_payment(actor, seller=db.session.get(Organisation, order.seller_id),
                          customer=db.session.get(Organisation, order.buyer_id),
                          method=PaymentMethod.PREPAYMENT.value, amount_fen=invoice.total_fen - invoice.paid_fen,
                          invoice=invoice, reference=order.number or "")


def settle_invoice_from_prepayment(invoice: Invoice, actor_id: int | None = None, reference: str = "") -> Payment | None:
    """Pay as much of an open invoice as the buyer's prepayment with its seller covers (the
    invoice of a prepayment order, see prepaid_orders). The wallet row is locked while it is
    read and drawn, so two draws never count the same money. Safe to run twice (the second run
    finds nothing unpaid or no money left)."""
    account = db.session.scalar(_locked(select(PrepaymentAccount).where(
        PrepaymentAccount.customer_id == invoice.buyer_id, PrepaymentAccount.seller_id == invoice.seller_id)))
    unpaid = invoice.total_fen - invoice.paid_fen
    amount = min(unpaid, account.balance_fen if account else 0)
    if invoice.status != "open" or amount <= 0:
        return None
    actor = db.session.get(User, actor_id) if actor_id else None
    return record_payment(actor, seller=db.session.get(Organisation, invoice.seller_id),
                          customer=db.session.get(Organisation, invoice.buyer_id),
                          method=PaymentMethod.PREPAYMENT.value, amount_fen=amount, invoice=invoice,
                          reference=reference)


# --- credit notes ---------------------------------------------------------------------------

def issue_credit_note(actor: User | None, *, seller: Organisation, customer: Organisation, amount_fen: int,
                      reason: str, order: Order | None = None, invoice: Invoice | None = None,
                      source_ref: str = "", note: str = "") -> CreditNote:
    """A credit note for a short or damaged delivery, an accepted return or an adjustment.
    It settles its invoice (the order's, when only the order is given) as far as that is unpaid;
    the rest stays on the note and pays later invoices by the `credit` method."""
    _check_parties(seller, customer)
    _check_amount(amount_fen)
    if reason not in {r.value for r in CreditNoteReason}:
        raise DomainError(_("请选择红字原因。"), field="reason")
    if order is not None and (order.seller_id != seller.id or order.buyer_id != customer.id):
        raise DomainError(_("订单不属于该客户。"), field="order")
    if invoice is None and order is not None:
        invoice = invoice_for_order(order)
    if invoice is not None and (invoice.seller_id != seller.id or invoice.buyer_id != customer.id):
        raise DomainError(_("发票不属于该客户。"), field="invoice")
    actor_id = actor.id if actor else None
    credit_note = CreditNote(customer_id=customer.id, seller_id=seller.id,
                             order_id=order.id if order else (invoice.order_id if invoice else None),
                             invoice_id=invoice.id if invoice else None, reason=reason, source_ref=source_ref,
                             note=note.strip(), amount_fen=amount_fen, remaining_fen=amount_fen,
                             issued_on=today_local(), issued_by_id=actor_id)
    db.session.add(credit_note)
    db.session.flush()
    credit_note.number = f"CN{credit_note.id:08d}"
    audit.record(actor_id, "credit_note.issue", "credit_note", credit_note.id, None, {
        "number": credit_note.number, "customer_id": customer.id, "seller_id": seller.id,
        "amount_fen": amount_fen, "reason": reason, "invoice_id": credit_note.invoice_id,
        "source_ref": source_ref})
    rebate_accruals.on_credit_note(credit_note)  # returns claw back dealer rebates as they are credited
    outbox.record("credit_note.issued", "credit_note", credit_note.id, (customer.id, seller.id),
                  {"credit_note_id": credit_note.id, "number": credit_note.number, "customer_id": customer.id,
                   "seller_id": seller.id, "order_id": credit_note.order_id, "invoice_id": credit_note.invoice_id,
                   "reason": reason, "amount_fen": amount_fen})
    if invoice is not None and invoice.status == "open" and invoice.paid_fen < invoice.total_fen:
        record_payment(actor, seller=seller, customer=customer, method=PaymentMethod.CREDIT.value,
                       amount_fen=min(amount_fen, invoice.total_fen - invoice.paid_fen), invoice=invoice,
                       reference=credit_note.number, credit_note=credit_note)
    return credit_note
