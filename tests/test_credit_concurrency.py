"""Two requests paying at the same moment, on PostgreSQL (the production database): row locks
and CHECK constraints leave one consistent result. SQLite serialises whole transactions, so these
tests run only when DATABASE_URL names PostgreSQL (as in CI); elsewhere they show as skipped."""
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Invoice, Organisation, User
from app.models.credit import Payment, PrepaymentAccount
from app.services.credit.payments import record_payment, top_up_prepayment
from app.services.core.errors import DomainError
from app.services.core.clock import today_local
from tests import builders_credit as build

pytestmark = pytest.mark.postgres(reason="row locks and CHECK constraints under concurrent payments; "
                                          "SQLite serialises whole transactions")


def _race(app, pay_one, attempts: int = 2) -> list[str]:
    """Run `pay_one(i)` in `attempts` threads released together; each commits or rolls back.
    Returns "ok" or the refusal message per thread."""
    barrier = threading.Barrier(attempts)
    results: list[str] = [""] * attempts

    def worker(i):
        with app.app_context(), app.test_request_context():
            barrier.wait()
            try:
                pay_one(i)
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
        t.join(30)
    return results


def test_two_payments_cannot_overdraw_one_prepayment(app, world):
    dealer, brand, admin = world.orgs["dealer"], world.brand, world.users["admin"]
    with app.test_request_context():
        top_up_prepayment(admin, seller=brand, customer=dealer, amount_fen=10_000, received_on=today_local())
    invoices = [build.invoice(dealer, brand, 6_000).id for _ in range(2)]
    db.session.commit()
    ids = (dealer.id, brand.id, admin.id)

    def pay_one(i):
        customer, seller, actor = (db.session.get(Organisation, ids[0]), db.session.get(Organisation, ids[1]),
                                   db.session.get(User, ids[2]))
        record_payment(actor, seller=seller, customer=customer, method="prepayment", amount_fen=6_000,
                       invoice=db.session.get(Invoice, invoices[i]))

    results = _race(app, pay_one)
    db.session.expire_all()
    assert sorted(r == "ok" for r in results) == [False, True], results
    assert db.session.scalar(select(PrepaymentAccount.balance_fen)) == 4_000
    assert db.session.scalar(select(func.sum(Invoice.paid_fen))) == 6_000

def test_two_payments_cannot_overpay_one_invoice(app, world):
    dealer, brand, admin = world.orgs["dealer"], world.brand, world.users["admin"]
    invoice_id = build.invoice(dealer, brand, 10_000).id
    db.session.commit()
    ids = (dealer.id, brand.id, admin.id)

    def pay_one(i):
        customer, seller, actor = (db.session.get(Organisation, ids[0]), db.session.get(Organisation, ids[1]),
                                   db.session.get(User, ids[2]))
        record_payment(actor, seller=seller, customer=customer, method="cod", amount_fen=6_000,
                       invoice=db.session.get(Invoice, invoice_id))

    results = _race(app, pay_one)
    db.session.expire_all()
    assert sorted(r == "ok" for r in results) == [False, True], results
    assert db.session.get(Invoice, invoice_id).paid_fen == 6_000
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
