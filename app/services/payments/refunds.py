"""Refunds of paid intents, by the seller (the rule is in the package docstring): the wallet part
first (a reversing `refund` entry), then a credit note paid out at once."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Organisation, User
from app.models.credit import CreditNoteReason, PrepaymentEntry
from app.models.payments import PaymentIntent, PaymentRefund
from app.services.core import audit
from app.services.core.clock import today_local
from app.services.core.errors import DomainError, checked_text
from app.services.credit.payments import _move_prepayment, issue_credit_note, prepayment_account
from app.services.payments.intents import new_reference
from app.services.payments.providers import provider

MAX_REASON = 80


def _wallet_left(intent: PaymentIntent) -> int:
    """What of this intent went to the wallet and has not been refunded from it yet."""
    if intent.prepayment_entry_id is None:
        return 0
    put = db.session.get(PrepaymentEntry, intent.prepayment_entry_id).amount_fen
    taken = db.session.scalar(select(func.coalesce(func.sum(PrepaymentEntry.amount_fen), 0))
                              .join(PaymentRefund, PaymentRefund.prepayment_entry_id == PrepaymentEntry.id)
                              .where(PaymentRefund.intent_id == intent.id))
    return put + int(taken)  # refund entries are negative


def refund_intent(actor: User, intent: PaymentIntent, amount_fen: int, reason: str = "",
                  reference: str | None = None) -> PaymentRefund:
    """Give back `amount_fen` of a paid intent. The seller (or the brand) does it; the provider is
    asked first, so a refused refund changes nothing here.

    `reference` (a refund form's own key, "RF" + 24 hex digits) makes a repeat of the same request
    (a double submit) return the refund already made instead of refunding twice; the caller holds
    the intent's row lock (SELECT ... FOR UPDATE), so the repeat waits for the first to commit."""
    if actor.org_id != intent.seller_id and db.session.get(Organisation, actor.org_id).kind != "brand":
        raise DomainError(_("只有收款方可以退款。"))
    reason = checked_text(reason, "reason", MAX_REASON)
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise DomainError(_("金额必须大于 0。"), field="amount")
    if reference is not None:
        done = db.session.scalar(select(PaymentRefund).where(PaymentRefund.reference == reference))
        if done is not None:
            if (done.intent_id, done.amount_fen) != (intent.id, amount_fen):
                raise DomainError(_("该退款表单已提交过另一笔退款，请重新打开页面。"), field="amount")
            return done
    # The counter moves first, conditionally: two refunds racing cannot give back more than was paid.
    taken = db.session.execute(
        update(PaymentIntent).where(PaymentIntent.id == intent.id, PaymentIntent.status == "paid",
                                    PaymentIntent.refunded_fen + amount_fen <= PaymentIntent.amount_fen)
        .values(refunded_fen=PaymentIntent.refunded_fen + amount_fen)
        .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        db.session.refresh(intent)
        raise DomainError(_("退款金额超过可退金额 %(n)s 分。", n=intent.refundable_fen), field="amount")
    db.session.refresh(intent)
    if intent.refunded_fen == intent.amount_fen:
        intent.status = "refunded"
    refund = PaymentRefund(intent_id=intent.id, reference=reference or new_reference("RF"), amount_fen=amount_fen,
                           reason=reason,
                           refunded_by_id=actor.id)
    db.session.add(refund)
    db.session.flush()
    seller = db.session.get(Organisation, intent.seller_id)
    payer = db.session.get(Organisation, intent.payer_id)
    from_wallet = min(amount_fen, _wallet_left(intent))
    if from_wallet > 0:
        account = prepayment_account(payer.id, seller.id)
        balance = _move_prepayment(account, -from_wallet)
        entry = PrepaymentEntry(account_id=account.id, kind="refund", amount_fen=-from_wallet,
                                balance_after_fen=balance, entered_on=today_local(), reference=refund.reference,
                                note=reason, recorded_by_id=actor.id)
        db.session.add(entry)
        db.session.flush()
        refund.prepayment_entry_id = entry.id
    rest = amount_fen - from_wallet
    if rest > 0:
        note = issue_credit_note(actor, seller=seller, customer=payer, amount_fen=rest,
                                 reason=CreditNoteReason.ADJUSTMENT.value, source_ref=f"refund:{intent.reference}",
                                 note=reason)
        note.order_id = intent.order_id
        note.remaining_fen = 0  # paid out to the payer by this refund
        refund.credit_note_id = note.id
    refund.provider_refund_id = provider(intent.provider).refund(intent, refund)
    audit.record(actor.id, "payment_intent.refund", "payment_intent", intent.id, None,
                 {"refund": refund.reference, "amount_fen": amount_fen, "from_wallet_fen": from_wallet,
                  "credit_note_id": refund.credit_note_id, "provider_refund_id": refund.provider_refund_id})
    db.session.flush()
    return refund


def refunds_of(intent_id: int) -> list[PaymentRefund]:
    return list(db.session.scalars(select(PaymentRefund).where(PaymentRefund.intent_id == intent_id)
                                   .order_by(PaymentRefund.id)))



