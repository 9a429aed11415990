"""Credit and payment services: limits and hold reasons, partial payments, prepayment, credit
notes and statements that add up, all in integer fen."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AuditEvent, Invoice
from app.models.credit import CreditNote, Payment, PaymentAllocation, PrepaymentAccount, PrepaymentEntry
from app.services.credit import limits as credit
from app.services.credit.payments import (issue_credit_note, pay_order_from_prepayment, record_payment,
                                          settle_invoice_from_prepayment, top_up_prepayment)
from app.services.credit.statements import statement
from app.services.core.errors import DomainError
from app.services.core.clock import today_local
from tests import builders_credit as build


@pytest.fixture(autouse=True)
def request_context(app):
    # Messages are translated for the caller's locale, which lives in the request.
    with app.test_request_context():
        yield


@pytest.fixture
def parties(world):
    dealer, brand = world.orgs["dealer"], world.brand
    dealer.credit_limit_fen = 100_000  # ¥1,000.00
    dealer.payment_terms_days = 30
    db.session.commit()
    return world, dealer, brand, world.users["admin"]


def codes(reasons):
    return [r.code for r in reasons]


# --- credit check ---------------------------------------------------------------------------

def test_order_within_limit_passes(parties):
    world, dealer, brand, admin = parties
    build.invoice(dealer, brand, 60_000)
    order = build.order(dealer, brand, 40_000, status="submitted")
    assert credit.check_credit(order) == []


def test_order_over_limit_is_held_with_the_amount(parties):
    world, dealer, brand, admin = parties
    build.invoice(dealer, brand, 60_000)  # outstanding ¥600
    build.order(dealer, brand, 30_000, status="approved")  # open, not invoiced: ¥300
    build.order(dealer, brand, 99_000, status="rejected")  # not counted
    order = build.order(dealer, brand, 20_000, status="submitted")
    reasons = credit.check_credit(order)
    assert codes(reasons) == ["credit_limit"]
    assert "¥100.00" in str(reasons[0].message)  # 600 + 300 + 200 − 1000
    summary = credit.summary(dealer)
    assert (summary.outstanding_fen, summary.open_orders_fen, summary.available_fen) == (60_000, 30_000, 10_000)


def test_prepayment_with_the_seller_counts_towards_the_order(parties):
    world, dealer, brand, admin = parties
    build.invoice(dealer, brand, 90_000)
    order = build.order(dealer, brand, 20_000, status="submitted")
    assert codes(credit.check_credit(order)) == ["credit_limit"]
    top_up_prepayment(admin, seller=brand, customer=dealer, amount_fen=10_000, received_on=today_local())
    assert credit.check_credit(order) == []


def test_manual_hold_and_overdue_invoices_are_reasons(parties):
    world, dealer, brand, admin = parties
    build.invoice(dealer, brand, 5_000, due_on=today_local() - timedelta(days=1))
    credit.update_settings(admin, dealer, credit_limit_fen=100_000, payment_terms_days=30, allow_credit=True,
                           on_hold=True, hold_reason="对账未完成")
    order = build.order(dealer, brand, 1_000, status="submitted")
    reasons = credit.check_credit(order)
    assert codes(reasons) == ["on_hold", "overdue"]
    assert "对账未完成" in str(reasons[0].message) and "¥50.00" in str(reasons[1].message)


def test_retailer_without_credit_is_not_limit_checked_but_with_credit_is(parties):
    world, dealer, brand, admin = parties
    retailer = world.orgs["retailer"]
    order = build.order(retailer, dealer, 500_000, status="submitted")
    assert credit.check_credit(order) == []  # pays on delivery
    credit.update_settings(admin, retailer, credit_limit_fen=100_000, payment_terms_days=7, allow_credit=True,
                           on_hold=False)
    assert codes(credit.check_credit(order)) == ["credit_limit"]


def test_due_date_follows_payment_terms(parties):
    world, dealer, brand, admin = parties
    assert credit.due_date(dealer, date(2025, 1, 20)) == date(2025, 2, 19)


def test_settings_are_validated_and_audited(parties):
    world, dealer, brand, admin = parties
    with pytest.raises(DomainError) as error:
        credit.update_settings(admin, dealer, credit_limit_fen=-1, payment_terms_days=30, allow_credit=True,
                               on_hold=False)
    assert error.value.field == "credit_limit"
    with pytest.raises(DomainError) as error:
        credit.update_settings(admin, dealer, credit_limit_fen=1, payment_terms_days=30, allow_credit=True,
                               on_hold=True, hold_reason=" ")
    assert error.value.field == "hold_reason"
    credit.update_settings(admin, dealer, credit_limit_fen=200_000, payment_terms_days=45, allow_credit=True,
                           on_hold=False)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "credit.settings"))
    assert event.before == {"credit_limit_fen": 100_000, "payment_terms_days": 30}
    assert event.after == {"credit_limit_fen": 200_000, "payment_terms_days": 45}


# --- payments -------------------------------------------------------------------------------

def test_partial_payment_settles_oldest_invoices_first(parties):
    world, dealer, brand, admin = parties
    old = build.invoice(dealer, brand, 10_000, issued_at=build.days_ago(20))
    new = build.invoice(dealer, brand, 20_000, issued_at=build.days_ago(5))
    payment = record_payment(admin, seller=brand, customer=dealer, method="bank_transfer", amount_fen=15_000,
                             reference="BANK-1")
    assert (old.paid_fen, old.status) == (10_000, "paid")
    assert (new.paid_fen, new.status) == (5_000, "open")
    assert [(a.invoice_id, a.amount_fen) for a in payment.allocations] == [(old.id, 10_000), (new.id, 5_000)]
    assert payment.number == f"SK{payment.id:08d}"
    assert credit.outstanding_fen(dealer.id) == 15_000
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.record"))
    assert event.after["amount_fen"] == 15_000 and event.after["invoices"] == {str(old.id): 10_000,
                                                                               str(new.id): 5_000}


def test_payment_to_a_chosen_invoice(parties):
    world, dealer, brand, admin = parties
    old = build.invoice(dealer, brand, 10_000, issued_at=build.days_ago(20))
    new = build.invoice(dealer, brand, 20_000)
    record_payment(admin, seller=brand, customer=dealer, method="cod", amount_fen=20_000, invoice=new)
    assert (old.paid_fen, new.paid_fen, new.status) == (0, 20_000, "paid")


@pytest.mark.parametrize("amount, invoice_key, message", [
    (10_001, "chosen", "¥100.00"),  # more than the chosen invoice owes
    (30_001, None, "¥300.00"),  # more than all invoices owe
    (0, None, "大于 0"),
    (-5, None, "大于 0"),
])
def test_overpaying_or_bad_amounts_are_refused_and_nothing_changes(parties, amount, invoice_key, message):
    world, dealer, brand, admin = parties
    chosen = build.invoice(dealer, brand, 10_000)
    build.invoice(dealer, brand, 20_000)
    db.session.commit()
    with pytest.raises(DomainError) as error:
        record_payment(admin, seller=brand, customer=dealer, method="bank_transfer", amount_fen=amount,
                       invoice=chosen if invoice_key else None)
    db.session.rollback()
    assert error.value.field == "amount" and message in error.value.message
    assert db.session.scalar(select(text("count(*)")).select_from(Payment)) == 0
    assert db.session.scalar(select(text("sum(paid_fen)")).select_from(Invoice)) == 0


def test_amount_must_be_integer_fen(parties):
    world, dealer, brand, admin = parties
    build.invoice(dealer, brand, 10_000)
    with pytest.raises(DomainError):
        record_payment(admin, seller=brand, customer=dealer, method="cod", amount_fen=10.5)


def test_another_sellers_invoice_is_refused(parties):
    world, dealer, brand, admin = parties
    retailer = world.orgs["retailer"]
    foreign = build.invoice(retailer, world.orgs["dealer_b"], 10_000)
    build.invoice(retailer, dealer, 10_000)
    with pytest.raises(DomainError) as error:
        record_payment(admin, seller=dealer, customer=retailer, method="cod", amount_fen=100, invoice=foreign)
    assert error.value.field == "invoice"


def test_future_received_date_is_refused(parties):
    world, dealer, brand, admin = parties
    build.invoice(dealer, brand, 10_000)
    with pytest.raises(DomainError) as error:
        record_payment(admin, seller=brand, customer=dealer, method="cod", amount_fen=100,
                       received_on=today_local() + timedelta(days=1))
    assert error.value.field == "received_on"


# --- prepayment -----------------------------------------------------------------------------

def test_prepayment_pays_an_order_and_cannot_go_negative(parties):
    world, dealer, brand, admin = parties
    top_up_prepayment(admin, seller=brand, customer=dealer, amount_fen=50_000, received_on=today_local(),
                      reference="BANK-9")
    first = build.invoice(dealer, brand, 30_000)
    second = build.invoice(dealer, brand, 30_000)
    payment = pay_order_from_prepayment(admin, first.order)
    assert payment.method == "prepayment" and first.status == "paid"
    assert credit.prepayment_fen(dealer.id, brand.id) == 20_000
    db.session.commit()
    with pytest.raises(DomainError) as error:
        pay_order_from_prepayment(admin, second.order)
    db.session.rollback()
    assert "¥200.00" in error.value.message
    assert credit.prepayment_fen(dealer.id, brand.id) == 20_000 and second.paid_fen == 0
    entries = db.session.scalars(select(PrepaymentEntry).order_by(PrepaymentEntry.id)).all()
    assert [(e.kind, e.amount_fen, e.balance_after_fen) for e in entries] == [("topup", 50_000, 50_000),
                                                                             ("payment", -30_000, 20_000)]


def test_the_database_refuses_a_negative_prepayment_balance(parties):
    world, dealer, brand, admin = parties
    top_up_prepayment(admin, seller=brand, customer=dealer, amount_fen=100, received_on=today_local())
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(update(PrepaymentAccount).values(balance_fen=PrepaymentAccount.balance_fen - 101))
    db.session.rollback()
    assert db.session.scalar(select(PrepaymentAccount.balance_fen)) == 100


def test_order_without_invoice_cannot_be_paid_from_prepayment(parties):
    world, dealer, brand, admin = parties
    top_up_prepayment(admin, seller=brand, customer=dealer, amount_fen=100, received_on=today_local())
    with pytest.raises(DomainError):
        pay_order_from_prepayment(admin, build.order(dealer, brand, 50))


def test_settling_a_new_invoice_from_prepayment_is_safe_to_repeat(parties):
    world, dealer, brand, admin = parties
    top_up_prepayment(admin, seller=brand, customer=dealer, amount_fen=20_000, received_on=today_local())
    invoice = build.invoice(dealer, brand, 50_000)
    assert settle_invoice_from_prepayment(invoice).amount_fen == 20_000
    assert settle_invoice_from_prepayment(invoice) is None
    assert (invoice.paid_fen, credit.prepayment_fen(dealer.id)) == (20_000, 0)


# --- credit notes ---------------------------------------------------------------------------

def test_credit_note_settles_its_invoice_and_keeps_the_rest(parties):
    world, dealer, brand, admin = parties
    invoice = build.invoice(dealer, brand, 10_000, paid_fen=7_000)
    note = issue_credit_note(admin, seller=brand, customer=dealer, amount_fen=5_000, reason="short_delivery",
                             order=invoice.order, source_ref="delivery:1")
    assert note.number == f"CN{note.id:08d}" and note.invoice_id == invoice.id
    assert (invoice.paid_fen, invoice.status, note.remaining_fen) == (10_000, "paid", 2_000)
    later = build.invoice(dealer, brand, 3_000)
    payment = record_payment(admin, seller=brand, customer=dealer, method="credit", amount_fen=2_000)
    assert (note.remaining_fen, later.paid_fen) == (0, 2_000)
    assert payment.allocations[0].invoice_id == later.id
    with pytest.raises(DomainError) as error:
        record_payment(admin, seller=brand, customer=dealer, method="credit", amount_fen=1)
    assert "红字" in error.value.message


# --- statements -----------------------------------------------------------------------------

def test_statement_balances_add_up(parties):
    world, dealer, brand, admin = parties
    today = today_local()
    build.invoice(dealer, brand, 40_000, issued_at=build.days_ago(40))
    build.invoice(dealer, brand, 25_050, issued_at=build.days_ago(10))
    build.invoice(dealer, brand, 99_999, issued_at=build.days_ago(9), status="void")
    build.invoice(dealer, world.orgs["dealer_b"], 7_000)  # another seller
    record_payment(admin, seller=brand, customer=dealer, method="bank_transfer", amount_fen=30_000,
                   received_on=today - timedelta(days=35))
    top_up_prepayment(admin, seller=brand, customer=dealer, amount_fen=12_345, received_on=today - timedelta(days=3))
    record_payment(admin, seller=brand, customer=dealer, method="prepayment", amount_fen=12_000)
    issue_credit_note(admin, seller=brand, customer=dealer, amount_fen=1_000, reason="damaged")

    whole = statement(dealer, today - timedelta(days=60), today, seller=brand)
    assert whole.opening_fen == 0
    assert whole.closing_fen == whole.opening_fen + sum(l.debit_fen - l.credit_fen for l in whole.lines)
    assert whole.closing_fen == (credit.outstanding_fen(dealer.id, brand.id) - credit.prepayment_fen(dealer.id, brand.id)
                                 - credit.unused_credit_fen(dealer.id, brand.id))
    assert whole.closing_fen == 40_000 + 25_050 - 30_000 - 12_345 - 1_000
    assert (whole.invoiced_fen, whole.received_fen, whole.credited_fen) == (65_050, 42_345, 1_000)
    assert [l.kind for l in whole.lines] == ["invoice", "receipt", "invoice", "topup", "credit_note"]
    assert all(isinstance(v, int) for l in whole.lines for v in (l.debit_fen, l.credit_fen, l.balance_fen))
    assert {s.payment.method for s in whole.settlements} == {"bank_transfer", "prepayment"}

    split = today - timedelta(days=20)
    first = statement(dealer, today - timedelta(days=60), split, seller=brand)
    second = statement(dealer, split + timedelta(days=1), today, seller=brand)
    assert first.closing_fen == second.opening_fen == 40_000 - 30_000
    assert second.closing_fen == whole.closing_fen

    every_seller = statement(dealer, today - timedelta(days=60), today)
    assert every_seller.closing_fen == whole.closing_fen + 7_000


def test_statement_period_is_checked(parties):
    world, dealer, brand, admin = parties
    with pytest.raises(DomainError) as error:
        statement(dealer, date(2025, 2, 1), date(2025, 1, 1))
    assert error.value.field == "end"
    with pytest.raises(DomainError):
        statement(dealer, date(2024, 1, 1), date(2025, 6, 1))


def test_allocations_always_add_up_to_payments(parties):
    world, dealer, brand, admin = parties
    for total in (1_001, 2_002, 3_003):
        build.invoice(dealer, brand, total)
    for amount in (500, 1_700, 3_000):
        record_payment(admin, seller=brand, customer=dealer, method="cod", amount_fen=amount)
    for payment in db.session.scalars(select(Payment)):
        assert sum(a.amount_fen for a in payment.allocations) == payment.amount_fen
    assert db.session.scalar(select(text("sum(amount_fen)")).select_from(PaymentAllocation)) == 5_200
    assert db.session.scalar(select(text("sum(paid_fen)")).select_from(Invoice)) == 5_200
    assert db.session.scalar(select(text("count(*)")).select_from(CreditNote)) == 0
