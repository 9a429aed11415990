"""Issue 14: a provider's notification repeated 20 times at the same moment, and refunds racing,
on PostgreSQL: the intent is paid exactly once (one Payment) and never refunded beyond its amount."""
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Invoice, Payment, User
from app.models.payments import PaymentIntent, PaymentRefund
from app.services.core.errors import DomainError
from app.services.payments.intents import accept_notification, create_order_intent, create_topup_intent
from app.services.payments.refunds import refund_intent
from tests.builders_payments import invoiced_order, sandbox_notification

pytestmark = pytest.mark.postgres(reason="conditional UPDATEs under concurrent notifications; "
                                          "SQLite serialises whole transactions")
NOTIFY = "http://localhost/api/v1/payments/notify/sandbox"


def _race(app, act, attempts: int) -> list[str]:
    barrier = threading.Barrier(attempts)
    results = [""] * attempts

    def worker(i):
        with app.app_context(), app.test_request_context():
            barrier.wait()
            try:
                act(i)
                db.session.commit()
                results[i] = "ok"
            except DomainError as error:
                db.session.rollback()
                results[i] = error.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_twenty_identical_notifications_at_once_pay_once(app, world):
    order, invoice = invoiced_order(world, 10_000)
    intent = create_order_intent(world.users["retailer"], order, NOTIFY)
    db.session.commit()
    headers, body = sandbox_notification(intent, "paid")
    results = _race(app, lambda i: accept_notification("sandbox", headers, body), 20)
    assert results == ["ok"] * 20
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert db.session.get(Invoice, invoice.id).paid_fen == 10_000
    assert db.session.get(PaymentIntent, intent.id).status == "paid"


def test_racing_refunds_never_give_back_more_than_was_paid(app, world):
    intent = create_topup_intent(world.users["retailer"], 10_000, NOTIFY)
    db.session.commit()
    accept_notification("sandbox", *sandbox_notification(intent, "paid"))
    db.session.commit()
    intent_id, dealer_id = intent.id, world.users["dealer"].id

    def refund(i):
        refund_intent(db.session.get(User, dealer_id), db.session.get(PaymentIntent, intent_id), 3_000)

    results = _race(app, refund, 5)
    assert results.count("ok") == 3, results
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(PaymentRefund.amount_fen))) == 9_000
    assert db.session.get(PaymentIntent, intent_id).refunded_fen == 9_000
