"""Rebate accruals and settlement: documents accrue as they are created (invoices, returns'
credit notes, payments); a run drafts "earned to date minus already settled"; the same run again
drafts nothing; interim runs on a yearly agreement then the final one pay only the difference; a
return after a settlement becomes a debit the next run drafts, recovered from the next rebate;
approval posts once (credit note or rebate balance); rebuild recomputes the same accruals."""
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Invoice
from app.models.credit import CreditNote
from app.models.rebates import RebateAccrual, RebateLedgerEntry, RebateRun, RebateSettlement
from app.services.core.clock import LOCAL, today_local
from app.services.core.errors import DomainError
from app.services.credit.payments import issue_credit_note, record_payment
from app.services.rebates import accruals, balance, settlement
from tests import builders_ordering as bo
from tests import builders_rebates as br
from tests import factories

TIERS = [[0, 200], [100_000, 300]]  # 2 %, and 3 % on everything from ¥1,000


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.fixture
def drink(world):
    return factories.product(base_price_fen=10_000)  # ¥100 a case


def _run(as_of=None):
    result = settlement.run_settlement(as_of or today_local())
    db.session.commit()
    return result


def _rows(dealer):
    return db.session.scalars(select(RebateSettlement).where(RebateSettlement.dealer_id == dealer.id)
                              .order_by(RebateSettlement.id)).all()


def _approve(world, row):
    settlement.approve(world.users["admin"], row.id)
    db.session.commit()


def test_invoices_accrue_as_issued_and_only_for_the_agreements_dealers(world, drink):
    dealer, dealer_b, brand = world.orgs["dealer"], world.orgs["dealer_b"], world.brand
    agreement = br.agreement(world.users["admin"], dealer, mode="retroactive", tiers=TIERS)
    order = br.invoiced(dealer, brand, [(drink, 6)])
    br.invoiced(dealer_b, brand, [(drink, 9)])                    # not covered
    bo.order(world.orgs["retailer"], dealer, [(drink, 3)], status="shipped")  # dealer selling: not a rebate document
    [row] = db.session.scalars(select(RebateAccrual)).all()
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    assert (row.agreement_id, row.dealer_id, row.source_kind, row.source_id, row.base_value) == (
        agreement.id, dealer.id, "invoice", invoice.id, 60_000)
    assert accruals.on_invoice(invoice) == 0  # recorded once


def test_a_run_drafts_earned_minus_settled_and_the_same_run_again_drafts_nothing(world, drink):
    dealer = world.orgs["dealer"]
    br.agreement(world.users["admin"], dealer, mode="retroactive", tiers=TIERS)
    br.invoiced(dealer, world.brand, [(drink, 6)])   # ¥600 at 2 %: ¥12
    first = _run()
    assert (first.drafted, first.drafted_fen) == (1, 1_200)
    again = _run()
    assert (again.drafted, again.drafted_fen, again.run.id, again.run.passes) == (0, 0, first.run.id, 2)
    br.invoiced(dealer, world.brand, [(drink, 4)])   # ¥1,000 reached: 3 % on all = ¥30; the waiting draft follows
    third = _run()
    [draft] = _rows(dealer)
    assert (third.drafted_fen, draft.earned_fen, draft.amount_fen, draft.status) == (1_800, 3_000, 3_000, "draft")
    assert db.session.scalar(select(func.count()).select_from(RebateRun)) == 1


def test_interim_runs_on_a_yearly_agreement_then_the_final_run_pay_only_the_difference(world, drink):
    dealer, admin = world.orgs["dealer"], world.users["admin"]
    year = today_local().year - 1
    br.agreement(admin, dealer, period="year", mode="retroactive", tiers=TIERS)
    for month, qty in ((1, 6), (2, 6)):
        order = bo.order(dealer, world.brand, [(drink, qty)], status="shipped")
        issued = datetime.combine(date(year, month, 15), time(10), LOCAL)
        invoice = Invoice(number=f"INVT{order.id}", order_id=order.id, seller_id=world.brand.id, buyer_id=dealer.id,
                          total_fen=order.total_fen, tax_fen=order.tax_fen, issued_at=issued, status="open", paid_fen=0)
        db.session.add(invoice)
        db.session.flush()
        accruals.on_invoice(invoice)
    db.session.commit()
    _run(date(year, 1, 31))
    [jan] = _rows(dealer)
    assert jan.amount_fen == 1_200          # ¥600 at 2 %
    _approve(world, jan)
    _run(date(year, 2, 28))
    feb = _rows(dealer)[-1]
    assert (feb.earned_fen, feb.settled_before_fen, feb.amount_fen) == (3_600, 1_200, 2_400)  # ¥1,200 at 3 % on all
    _approve(world, feb)
    final = _run(date(year, 12, 31))
    assert final.drafted == 0
    notes = db.session.scalars(select(CreditNote.amount_fen).where(CreditNote.customer_id == dealer.id)
                               .order_by(CreditNote.id)).all()
    assert notes == [1_200, 2_400] and sum(notes) == 3_600


def test_a_return_after_settlement_becomes_a_debit_recovered_from_the_next_rebate(world, drink):
    dealer, admin = world.orgs["dealer"], world.users["admin"]
    br.agreement(admin, dealer, mode="retroactive", tiers=TIERS)
    order = br.invoiced(dealer, world.brand, [(drink, 10)])  # ¥1,000 at 3 %: ¥30
    _run()
    _approve(world, _rows(dealer)[0])
    issue_credit_note(admin, seller=world.brand, customer=dealer, amount_fen=20_000, reason="return", order=order)
    db.session.commit()                                       # ¥800 left at 2 %: ¥16, so ¥14 is owed back
    assert db.session.scalar(select(func.sum(RebateAccrual.base_value))) == 80_000
    _run()
    debit = _rows(dealer)[-1]
    assert (debit.earned_fen, debit.settled_before_fen, debit.amount_fen) == (1_600, 3_000, -1_400)
    _approve(world, debit)
    assert (debit.posted_fen, debit.outstanding_fen) == (0, -1_400)  # a credit-note payout: waits for the next rebate
    br.invoiced(dealer, world.brand, [(drink, 7)])            # ¥1,500 at 3 %: ¥45, ¥29 more than settled
    _run()
    latest = _rows(dealer)[-1]
    assert latest.amount_fen == 2_900
    _approve(world, latest)
    db.session.refresh(debit)
    assert (latest.posted_fen, debit.outstanding_fen) == (1_500, 0)
    notes = db.session.scalars(select(CreditNote.amount_fen).where(CreditNote.customer_id == dealer.id,
                                                                   CreditNote.reason == "adjustment")).all()
    assert sorted(notes) == [1_500, 3_000]  # ¥30 then ¥15: in all ¥45 = what ¥1,500 earns


def test_approval_posts_once_and_a_balance_payout_credits_the_ledger(world, drink):
    dealer, admin = world.orgs["dealer"], world.users["admin"]
    br.agreement(admin, dealer, mode="flat", rate_bp=500, payout="balance", balance_share_pct=30)
    order = br.invoiced(dealer, world.brand, [(drink, 10)])   # ¥1,000 at 5 % = ¥50
    _run()
    [row] = _rows(dealer)
    _approve(world, row)
    with pytest.raises(DomainError):
        settlement.approve(admin, row.id)
    db.session.rollback()
    assert balance.balance_of(dealer.id) == 5_000
    assert db.session.scalar(select(func.count()).select_from(CreditNote)) == 0
    # a return of ¥600 claws back ¥30: the debit takes it from the balance
    issue_credit_note(admin, seller=world.brand, customer=dealer, amount_fen=60_000, reason="return", order=order)
    db.session.commit()
    _run()
    debit = _rows(dealer)[-1]
    _approve(world, debit)
    assert (debit.amount_fen, debit.posted_fen, debit.outstanding_fen) == (-3_000, -3_000, 0)
    assert balance.balance_of(dealer.id) == 2_000
    kinds = db.session.scalars(select(RebateLedgerEntry.kind).order_by(RebateLedgerEntry.id)).all()
    assert kinds == ["settlement", "debit"]


def test_payments_basis_counts_money_received_not_credit_notes(world, drink):
    dealer, admin = world.orgs["dealer"], world.users["admin"]
    br.agreement(admin, dealer, basis="payments", mode="flat", rate_bp=100)
    order = br.invoiced(dealer, world.brand, [(drink, 10)])
    assert db.session.scalar(select(func.count()).select_from(RebateAccrual)) == 0  # an invoice is not money
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    record_payment(admin, seller=world.brand, customer=dealer, method="bank_transfer", amount_fen=40_000,
                   invoice=invoice)
    issue_credit_note(admin, seller=world.brand, customer=dealer, amount_fen=10_000, reason="damaged", order=order)
    db.session.commit()  # the credit note pays ¥100 of the invoice by "credit": no money moved
    assert db.session.scalars(select(RebateAccrual.base_value)).all() == [40_000]


def test_scope_and_promoted_exclusion_count_only_the_chosen_lines(world, drink):
    dealer, admin = world.orgs["dealer"], world.users["admin"]
    snack = factories.product(base_price_fen=5_000)
    br.agreement(admin, dealer, scope="products", product_ids=[snack.id], mode="flat", rate_bp=100)
    order = br.invoiced(dealer, world.brand, [(drink, 10), (snack, 4)])   # ¥1,000 + ¥200: only ¥200 counts
    assert db.session.scalars(select(RebateAccrual.base_value)).all() == [20_000]
    issue_credit_note(admin, seller=world.brand, customer=dealer, amount_fen=60_000, reason="return", order=order)
    db.session.commit()  # a credit of half the order claws back half the in-scope share: ¥100
    assert sorted(db.session.scalars(select(RebateAccrual.base_value)).all()) == [-10_000, 20_000]


def test_rebuild_recomputes_the_same_accruals_and_is_idempotent(world, drink):
    dealer, admin = world.orgs["dealer"], world.users["admin"]
    br.agreement(admin, dealer, mode="flat", rate_bp=100)
    order = br.invoiced(dealer, world.brand, [(drink, 10)])
    issue_credit_note(admin, seller=world.brand, customer=dealer, amount_fen=10_000, reason="return", order=order)
    db.session.commit()

    def snapshot():
        return sorted(db.session.execute(select(RebateAccrual.source_kind, RebateAccrual.source_id,
                                                RebateAccrual.base_value)).all())

    live = snapshot()
    today = today_local()
    for _ in range(2):
        accruals.rebuild(today - timedelta(days=1), today)
        db.session.commit()
        assert snapshot() == live and len(live) == 2


def test_an_agreement_that_starts_later_or_a_draft_earns_nothing(world, drink):
    dealer, admin = world.orgs["dealer"], world.users["admin"]
    br.agreement(admin, dealer, code="LATER", starts_on=today_local() + timedelta(days=1))
    br.agreement(admin, dealer, code="DRAFT", status="draft")
    br.invoiced(dealer, world.brand, [(drink, 10)])
    assert db.session.scalar(select(func.count()).select_from(RebateAccrual)) == 0


def test_a_tier_agreement_covers_every_dealer_of_the_tier(world, drink):
    br.agreement(world.users["admin"], None, dealer_tier="B", mode="flat", rate_bp=100)
    br.invoiced(world.orgs["dealer"], world.brand, [(drink, 10)])    # tier A
    br.invoiced(world.orgs["dealer_b"], world.brand, [(drink, 10)])  # tier B
    assert db.session.scalars(select(RebateAccrual.dealer_id)).all() == [world.orgs["dealer_b"].id]
