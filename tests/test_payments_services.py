"""Issue 14, payments: intents for an order's invoice or a top-up, notifications applied exactly
once, money posted through the credit services, refunds, and the statement staying coherent."""
import json
import logging

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Invoice, Payment
from app.models.credit import CreditNote, PrepaymentAccount, PrepaymentEntry
from app.models.payments import PaymentIntent
from app.services.core.clock import today_local
from app.services.core.errors import DomainError
from app.services.credit.limits import outstanding_fen
from app.services.credit.statements import statement
from app.services.payments.intents import accept_notification, create_order_intent, create_topup_intent
from app.services.payments.providers import NotificationRefused
from app.services.payments.refunds import refund_intent
from tests.builders_payments import invoiced_order, sandbox_notification

NOTIFY = "http://localhost/api/v1/payments/notify/sandbox"


def _payments():
    return db.session.scalar(select(func.count()).select_from(Payment))


def _wallet(world):
    account = db.session.scalar(select(PrepaymentAccount).where(
        PrepaymentAccount.customer_id == world.orgs["retailer"].id))
    return account.balance_fen if account else 0


def test_an_order_intent_pays_the_unpaid_part_of_its_invoice(world):
    order, invoice = invoiced_order(world, 10_000, paid_fen=3_000)
    intent = create_order_intent(world.users["retailer"], order, NOTIFY)
    assert (intent.amount_fen, intent.status, intent.provider) == (7_000, "created", "sandbox")
    assert intent.checkout_url == f"/payments/sandbox/{intent.reference}"
    # a second click hands back the same open intent, another amount is a partial payment
    assert create_order_intent(world.users["retailer"], order, NOTIFY).id == intent.id
    partial = create_order_intent(world.users["retailer"], order, NOTIFY, amount_fen=2_000)
    assert partial.id != intent.id and partial.amount_fen == 2_000
    with pytest.raises(DomainError):
        create_order_intent(world.users["retailer"], order, NOTIFY, amount_fen=7_001)


def test_an_order_not_yet_invoiced_cannot_be_paid_online(world):
    from tests.builders_credit import order

    approved = order(world.orgs["retailer"], world.orgs["dealer"], 5_000)
    with pytest.raises(DomainError, match="开票"):
        create_order_intent(world.users["retailer"], approved, NOTIFY)


def test_another_buyer_cannot_pay_the_order(world):
    from app.services.core.errors import NotFound

    order, _invoice = invoiced_order(world)
    with pytest.raises(NotFound):
        create_order_intent(world.users["retailer_b"], order, NOTIFY)


def test_a_paid_notification_posts_the_payment_exactly_once(world):
    order, invoice = invoiced_order(world, 10_000)
    intent = create_order_intent(world.users["retailer"], order, NOTIFY)
    db.session.commit()
    headers, body = sandbox_notification(intent, "paid")
    for _ in range(3):  # the provider retries; each repeat is harmless
        assert accept_notification("sandbox", headers, body).status == "paid"
        db.session.commit()
    db.session.expire_all()
    assert _payments() == 1
    payment = db.session.scalar(select(Payment))
    assert (payment.method, payment.amount_fen, payment.reference) == ("online", 10_000, intent.reference)
    assert db.session.get(Invoice, invoice.id).status == "paid"
    assert db.session.get(PaymentIntent, intent.id).payment_id == payment.id
    assert outstanding_fen(world.orgs["retailer"].id, world.orgs["dealer"].id) == 0


def test_failed_then_paid_posts_the_money_and_failed_after_paid_changes_nothing(world):
    order, _invoice = invoiced_order(world, 10_000)
    intent = create_order_intent(world.users["retailer"], order, NOTIFY)
    db.session.commit()
    failed = sandbox_notification(intent, "failed", "余额不足")
    paid = sandbox_notification(intent, "paid")
    assert accept_notification("sandbox", *failed).status == "failed"
    assert accept_notification("sandbox", *paid).status == "paid"
    assert accept_notification("sandbox", *failed).status == "paid"
    db.session.commit()
    assert _payments() == 1


def test_money_beyond_what_the_invoice_still_owes_goes_to_the_wallet(world):
    order, invoice = invoiced_order(world, 10_000)
    intent = create_order_intent(world.users["retailer"], order, NOTIFY)
    invoice.paid_fen = 6_000  # the dealer recorded a bank transfer meanwhile
    db.session.commit()
    accept_notification("sandbox", *sandbox_notification(intent, "paid"))
    db.session.commit()
    assert db.session.scalar(select(Payment)).amount_fen == 4_000
    assert _wallet(world) == 6_000


@pytest.mark.parametrize("tamper", ["signature", "body", "amount", "stale", "unknown"])
def test_a_notification_that_does_not_check_out_is_refused(world, tamper):
    order, _invoice = invoiced_order(world)
    intent = create_order_intent(world.users["retailer"], order, NOTIFY)
    db.session.commit()
    headers, body = sandbox_notification(intent, "paid")
    if tamper == "signature":
        headers["Sandbox-Signature"] = headers["Sandbox-Signature"][::-1]
    elif tamper == "body":
        body = body.replace(b"SUCCESS", b"FAILED")
    elif tamper == "amount":
        intent.amount_fen = 1
        headers, body = sandbox_notification(intent, "paid")
        db.session.rollback()
    elif tamper == "stale":
        from app.services.payments.signing import hmac_signature, notification_message
        from flask import current_app

        headers["Sandbox-Timestamp"] = str(int(headers["Sandbox-Timestamp"]) - 3600)
        headers["Sandbox-Signature"] = hmac_signature(current_app.config["PAYMENTS_SANDBOX_SECRET"], notification_message(
            headers["Sandbox-Timestamp"], headers["Sandbox-Nonce"], body))
    else:
        body = body.replace(intent.reference.encode(), b"PI000000000000000000000000")
        from app.services.payments.signing import hmac_signature, notification_message
        from flask import current_app

        headers["Sandbox-Signature"] = hmac_signature(current_app.config["PAYMENTS_SANDBOX_SECRET"], notification_message(
            headers["Sandbox-Timestamp"], headers["Sandbox-Nonce"], body))
    with pytest.raises(NotificationRefused):
        accept_notification("sandbox", headers, body)
    db.session.rollback()
    assert db.session.get(PaymentIntent, intent.id).status == "created" and _payments() == 0


def test_a_top_up_intent_tops_up_the_wallet_with_the_dealer(world):
    intent = create_topup_intent(world.users["retailer"], 50_000, NOTIFY)
    assert intent.seller_id == world.orgs["dealer"].id and intent.purpose == "topup"
    db.session.commit()
    accept_notification("sandbox", *sandbox_notification(intent, "paid"))
    accept_notification("sandbox", *sandbox_notification(intent, "paid"))
    db.session.commit()
    assert _wallet(world) == 50_000
    dealer_intent = create_topup_intent(world.users["dealer"], 100, NOTIFY)
    assert dealer_intent.seller_id == world.brand.id


def test_refund_of_a_top_up_reverses_the_wallet_then_pays_out_a_credit_note(world):
    intent = create_topup_intent(world.users["retailer"], 10_000, NOTIFY)
    db.session.commit()
    accept_notification("sandbox", *sandbox_notification(intent, "paid"))
    db.session.commit()
    refund = refund_intent(world.users["dealer"], intent, 4_000, "多充")
    db.session.commit()
    assert refund.prepayment_entry_id and refund.credit_note_id is None
    assert _wallet(world) == 6_000
    with pytest.raises(DomainError):
        refund_intent(world.users["dealer"], intent, 6_001)
    with pytest.raises(DomainError):
        refund_intent(world.users["retailer"], intent, 1)  # the payer does not refund itself
    db.session.rollback()
    entry = db.session.scalar(select(PrepaymentEntry).where(PrepaymentEntry.kind == "refund"))
    assert entry.amount_fen == -4_000


def test_refund_of_an_order_payment_is_a_credit_note_paid_out_and_the_statement_balances(world):
    order, invoice = invoiced_order(world, 10_000)
    intent = create_order_intent(world.users["retailer"], order, NOTIFY)
    db.session.commit()
    accept_notification("sandbox", *sandbox_notification(intent, "paid"))
    db.session.commit()
    refund_intent(world.users["dealer"], intent, 10_000, "退货退款")
    db.session.commit()
    note = db.session.scalar(select(CreditNote))
    assert (note.amount_fen, note.remaining_fen, note.source_ref) == (10_000, 0, f"refund:{intent.reference}")
    assert db.session.get(PaymentIntent, intent.id).status == "refunded"
    assert db.session.get(Invoice, invoice.id).status == "paid"  # refunds never reopen an invoice
    today = today_local()
    result = statement(world.orgs["retailer"], today.replace(day=1), today, world.orgs["dealer"])
    kinds = sorted(line.kind for line in result.lines)
    assert kinds == ["credit_note", "invoice", "receipt", "refund"]
    assert result.closing_fen == result.opening_fen + sum(l.debit_fen - l.credit_fen for l in result.lines) == 0
