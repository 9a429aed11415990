"""Issue 10: payment method "prepayment" did not draw the prepayment balance. The rule
(app/services/credit/prepaid_orders.py): held at approval when the balance (less what other
prepayment orders claim) is short; paid from the balance when invoiced; shown alike on the order
page, the statement and the credit pages."""
import os
import threading
import time

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import Invoice, Order, Payment
from app.models.approval import OrderReviewReason
from app.services.approval import automatic as approval
from app.services.core.clock import today_local
from app.services.credit import limits, payments
from tests import builders_fulfilment as bf
from tests import builders_lifecycle as bl
from tests import factories

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@pytest.fixture
def goods(world):
    product = factories.product(name_zh="预存款商品", base_price_fen=3_000)
    bf.stocked_dealer(world, [product])
    retailer, dealer = world.orgs["retailer"], world.orgs["dealer"]
    payments.top_up_prepayment(world.users["dealer"], seller=dealer, customer=retailer, amount_fen=10_000,
                               received_on=today_local())
    db.session.commit()
    return product


def prepaid_order(world, product, qty, method="prepayment"):
    order = bl.order(world.orgs["retailer"], world.orgs["dealer"], [(product, qty)])
    order.payment_method = method
    db.session.flush()
    return order


def reasons(order):
    return [r.code for r in db.session.scalars(select(OrderReviewReason).where(OrderReviewReason.order_id == order.id))]


def test_held_when_short_paid_when_invoiced_and_shown_alike(world, goods, login_as):
    first = prepaid_order(world, goods, 2)  # ¥60 of ¥100
    assert approval.auto_review(first.id).outcome == "approved"
    second = prepaid_order(world, goods, 2)  # ¥60 more: only ¥40 is not claimed by the first
    assert approval.auto_review(second.id).outcome == "held" and reasons(second) == ["prepayment_short"]
    on_credit = prepaid_order(world, goods, 2, method="credit")  # the rule is for prepayment orders only
    assert "prepayment_short" not in [r.code for r in limits.check_credit(on_credit, lock=False)]
    db.session.commit()

    retailer = world.orgs["retailer"]
    summary = limits.summary(retailer, world.orgs["dealer"].id)
    assert (summary.prepayment_fen, summary.prepayment_claimed_fen, summary.prepayment_free_fen) == (10_000, 6_000, 4_000)
    assert summary.open_orders_fen == 0  # a prepayment order does not use credit

    bf.ship_all(world, first)
    db.session.commit()
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == first.id))
    assert (invoice.status, invoice.paid_fen) == ("paid", 6_000)
    [payment] = db.session.scalars(select(Payment)).all()
    assert (payment.method, payment.amount_fen, payment.reference) == ("prepayment", 6_000, first.number)
    summary = limits.summary(retailer, world.orgs["dealer"].id)
    assert (summary.prepayment_fen, summary.prepayment_claimed_fen, summary.outstanding_fen) == (4_000, 0, 0)

    # the order page says how it is paid; the statement and the dealer's credit page show the draw
    shop = login_as("retailer")
    page = shop.get(f"/retailer/orders/{first.id}").get_data(as_text=True)
    assert "付款方式：预存款余额" in page and "开票时从预存款余额扣款" in page
    statement = shop.get("/retailer/statement").get_data(as_text=True)
    assert invoice.number in statement and "¥60.00" in statement and "预存款" in statement
    desk = login_as("dealer").get(f"/dealer/credit/customers/{retailer.id}").get_data(as_text=True)
    assert "¥40.00" in desk and payment.number in desk

    # still short for the held order (¥40 < ¥60); after a top-up the seller's recheck approves it
    assert approval.recheck(world.orgs["dealer"].id, second.id, world.users["dealer"]).outcome == "held"
    payments.top_up_prepayment(world.users["dealer"], seller=world.orgs["dealer"], customer=retailer,
                               amount_fen=2_000, received_on=today_local())
    assert approval.recheck(world.orgs["dealer"].id, second.id, world.users["dealer"]).outcome == "approved"


def test_an_invoice_the_balance_no_longer_covers_is_paid_in_part_and_the_shipment_goes_through(world, goods):
    order = prepaid_order(world, goods, 3)  # ¥90
    assert approval.auto_review(order.id).outcome == "approved"
    account = payments.prepayment_account(world.orgs["retailer"].id, world.orgs["dealer"].id)
    payments._move_prepayment(account, -5_000)  # spent elsewhere after approval (say a manual payment)
    bf.ship_all(world, order)
    db.session.commit()
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    assert (invoice.status, invoice.paid_fen) == ("open", 5_000) and bf.status_of(order) == "shipped"


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks race only on PostgreSQL (set DATABASE_URL)")
def test_two_prepayment_orders_reviewed_at_once_cannot_both_claim_the_same_money(app, world, goods):
    """Both fit the ¥100 balance alone, not together: the buyer's row lock (check_credit) makes
    the second review wait for the first and count its claim."""
    first, second = (prepaid_order(world, goods, 2).id for _ in range(2))
    db.session.commit()
    a_done, b_done = threading.Event(), threading.Event()
    b_pid, outcomes = [], {}

    def review_a():
        with app.app_context(), app.test_request_context():
            try:
                outcomes["a"] = approval.auto_review(first).outcome
                a_done.set()
                deadline = time.monotonic() + 10
                while not b_done.wait(0.01) and time.monotonic() < deadline:
                    with db.engine.connect() as connection:
                        if b_pid and connection.execute(text("SELECT wait_event_type FROM pg_stat_activity "
                                                             "WHERE pid = :pid"), {"pid": b_pid[0]}).scalar() == "Lock":
                            outcomes["b_waited"] = "yes"
                            break
                db.session.commit()
            finally:
                a_done.set()
                db.session.remove()

    def review_b():
        with app.app_context(), app.test_request_context():
            try:
                b_pid.append(db.session.execute(text("SELECT pg_backend_pid()")).scalar())
                a_done.wait(10)
                outcomes["b"] = approval.auto_review(second).outcome
                b_done.set()
                db.session.commit()
            finally:
                b_done.set()
                db.session.remove()

    threads = [threading.Thread(target=review_a), threading.Thread(target=review_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes.get("b_waited") == "yes", outcomes
    assert (outcomes["a"], outcomes["b"]) == ("approved", "held"), outcomes
    db.session.expire_all()
    assert [db.session.get(Order, i).status for i in (first, second)] == ["approved", "on_hold"]
