"""Payment intents: create one for an order's invoice or a prepayment top-up, settle it from
a provider's notification exactly once, and post its money through the credit services.
(The rules are written in the package docstring.)"""
from __future__ import annotations

import logging
import secrets
from typing import Mapping

from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Invoice, Order, Organisation, OrgKind, User, utcnow
from app.models.credit import PaymentMethod
from app.models.payments import PaymentIntent
from app.services.core import audit
from app.services.core.clock import today_local
from app.services.core.errors import DomainError, NotFound
from app.services.credit.payments import MAX_AMOUNT_FEN, record_payment, top_up_prepayment
from app.services.payments.providers import (FAILED, PAID, Notice, NotificationRefused, ProviderError,
                                             configured_name, known, provider)

log = logging.getLogger(__name__)


def new_reference(prefix: str = "PI") -> str:
    """Our number for the provider (out_trade_no: 6-32 letters and digits), random so a sandbox
    checkout link cannot be guessed."""
    return prefix + secrets.token_hex(12).upper()


def _check_online() -> str:
    name = configured_name()
    if not known(name):
        raise DomainError(_("在线支付未开通。"))
    return name


def _check_amount(amount_fen, limit: int) -> int:
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise DomainError(_("金额必须大于 0。"), field="amount")
    if amount_fen > limit:
        raise DomainError(_("金额超过应付金额。"), field="amount")
    return amount_fen


def amount_due_fen(order: Order) -> int:
    """What online payment may pay for the order: the unpaid part of its open invoice (0 before
    the order is invoiced)."""
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    if invoice is None or invoice.status != "open":
        return 0
    return invoice.total_fen - invoice.paid_fen


def _open(intent: PaymentIntent, notify_url: str) -> PaymentIntent:
    db.session.add(intent)
    db.session.flush()
    intent.checkout_url = provider(intent.provider).create(intent, notify_url).url
    audit.record(intent.created_by_id, "payment_intent.create", "payment_intent", intent.id, None,
                 {"reference": intent.reference, "purpose": intent.purpose, "order_id": intent.order_id,
                  "amount_fen": intent.amount_fen, "provider": intent.provider})
    return intent


def create_order_intent(actor: User, order: Order, notify_url: str, amount_fen: int | None = None) -> PaymentIntent:
    """An intent paying `order`'s invoice (all that is unpaid, or `amount_fen` of it). The actor
    acts for the buyer; an open intent of the same amount is handed back instead of a new one."""
    name = _check_online()
    if order.buyer_id != actor.org_id and db.session.get(Organisation, actor.org_id).kind != OrgKind.BRAND.value:
        raise NotFound(_("订单不存在。"))
    due = amount_due_fen(order)
    if due == 0:
        raise DomainError(_("该订单没有待付金额（发货开票后才能在线支付）。"))
    amount = _check_amount(due if amount_fen is None else amount_fen, due)
    existing = db.session.scalar(select(PaymentIntent).where(
        PaymentIntent.order_id == order.id, PaymentIntent.status == "created", PaymentIntent.amount_fen == amount,
        PaymentIntent.provider == name).order_by(PaymentIntent.id.desc()).limit(1))
    if existing is not None:
        return existing
    return _open(PaymentIntent(reference=new_reference(), purpose="order", order_id=order.id, payer_id=order.buyer_id,
                               seller_id=order.seller_id, amount_fen=amount, refunded_fen=0, status="created",
                               provider=name, created_by_id=actor.id), notify_url)


def top_up_seller(payer: Organisation) -> Organisation:
    """Whom a customer's prepayment is held with: a retailer's dealer, a dealer's brand."""
    if payer.kind == OrgKind.RETAILER.value and payer.dealer_id:
        return db.session.get(Organisation, payer.dealer_id)
    if payer.kind == OrgKind.DEALER.value:
        brand = db.session.scalar(select(Organisation).where(Organisation.kind == OrgKind.BRAND.value)
                                  .order_by(Organisation.id).limit(1))
        if brand is not None:
            return brand
    raise DomainError(_("无法为该账户充值预存款。"))


def create_topup_intent(actor: User, amount_fen: int, notify_url: str) -> PaymentIntent:
    name = _check_online()
    payer = db.session.get(Organisation, actor.org_id)
    seller = top_up_seller(payer)
    amount = _check_amount(amount_fen, MAX_AMOUNT_FEN)
    return _open(PaymentIntent(reference=new_reference(), purpose="topup", payer_id=payer.id, seller_id=seller.id,
                               amount_fen=amount, refunded_fen=0, status="created", provider=name,
                               created_by_id=actor.id), notify_url)


# --- notifications ----------------------------------------------------------------------------

def accept_notification(provider_name: str, headers: Mapping[str, str], body: bytes) -> PaymentIntent:
    """Verify a provider's notification and apply it (exactly once). NotificationRefused (logged)
    when it is not authentic, names no intent of that provider, or its amount is not the intent's."""
    if not known(provider_name):
        raise NotificationRefused(f"unknown provider {provider_name!r}")
    try:
        notice = provider(provider_name).parse_notification(headers, body)
    except ProviderError as error:  # not configured: nothing can be authentic
        raise NotificationRefused(str(error)) from None
    return apply_notice(provider_name, notice)


def apply_notice(provider_name: str, notice: Notice) -> PaymentIntent:
    intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.reference == notice.reference,
                                                           PaymentIntent.provider == provider_name))
    if intent is None:
        raise NotificationRefused(f"no intent {notice.reference!r}")
    if notice.amount_fen != intent.amount_fen:
        raise NotificationRefused(f"amount {notice.amount_fen} is not the intent's {intent.amount_fen}")
    if notice.outcome == PAID:
        mark_paid(intent, notice.provider_txn_id or None)
    elif notice.outcome == FAILED:
        mark_failed(intent, notice.reason)
    db.session.refresh(intent)
    return intent


def mark_paid(intent: PaymentIntent, provider_txn_id: str | None) -> bool:
    """created/failed → paid in one conditional UPDATE: of any number of concurrent or repeated
    notifications exactly one gets the row and posts the money. True for that one."""
    try:
        with db.session.begin_nested():
            won = db.session.execute(
                update(PaymentIntent).where(PaymentIntent.id == intent.id,
                                            PaymentIntent.status.in_(("created", "failed")))
                .values(status="paid", provider_txn_id=provider_txn_id, settled_at=utcnow(), failure_reason="")
                .execution_options(synchronize_session=False)).rowcount == 1
    except IntegrityError:
        raise NotificationRefused(f"transaction {provider_txn_id!r} already paid another intent") from None
    if not won:
        return False
    db.session.refresh(intent)
    _post(intent)
    return True


def mark_failed(intent: PaymentIntent, reason: str) -> bool:
    """created → failed; a failure reported after the payment changes nothing."""
    return db.session.execute(
        update(PaymentIntent).where(PaymentIntent.id == intent.id, PaymentIntent.status == "created")
        .values(status="failed", settled_at=utcnow(), failure_reason=reason[:200])
        .execution_options(synchronize_session=False)).rowcount == 1


def _post(intent: PaymentIntent) -> None:
    """Post the money of an intent that has just become paid (see the package's rules)."""
    seller = db.session.get(Organisation, intent.seller_id)
    payer = db.session.get(Organisation, intent.payer_id)
    to_invoice = 0
    invoice = None
    if intent.order_id is not None:
        invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == intent.order_id)
                                    .with_for_update().execution_options(populate_existing=True))
        if invoice is not None and invoice.status == "open":
            to_invoice = min(intent.amount_fen, invoice.total_fen - invoice.paid_fen)
    if to_invoice > 0:
        payment = record_payment(None, seller=seller, customer=payer, method=PaymentMethod.ONLINE.value,
                                 amount_fen=to_invoice, invoice=invoice, reference=intent.reference)
        intent.payment_id = payment.id
    rest = intent.amount_fen - to_invoice
    if rest > 0:
        actor = db.session.get(User, intent.created_by_id)
        entry = top_up_prepayment(actor, seller=seller, customer=payer, amount_fen=rest,
                                  received_on=today_local(), reference=intent.reference,
                                  note=_("在线支付") if intent.order_id is None else _("在线支付超出发票未付金额"))
        intent.prepayment_entry_id = entry.id
    audit.record(None, "payment_intent.paid", "payment_intent", intent.id, {"status": "created"},
                 {"status": "paid", "provider_txn_id": intent.provider_txn_id, "to_invoice_fen": to_invoice,
                  "to_prepayment_fen": rest})
    db.session.flush()


def refresh_from_provider(intent: PaymentIntent) -> PaymentIntent:
    """Ask the provider about an open intent (a lost notification): apply what it says."""
    if intent.status != "created":
        return intent
    notice = provider(intent.provider).query(intent)
    if notice is not None and notice.outcome:
        apply_notice(intent.provider, notice)
    return intent


# --- reading ------------------------------------------------------------------------------------

def intents_visible_to(org: Organisation):
    """Intents an organisation may see: its own payments, those paid to it, all for the brand."""
    query = select(PaymentIntent)
    if org.kind != OrgKind.BRAND.value:
        query = query.where(or_(PaymentIntent.payer_id == org.id, PaymentIntent.seller_id == org.id))
    return query


def order_intents(order_id: int) -> list[PaymentIntent]:
    return list(db.session.scalars(select(PaymentIntent).where(PaymentIntent.order_id == order_id)
                                   .order_by(PaymentIntent.id.desc())))
