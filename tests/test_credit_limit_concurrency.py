"""Two orders of one buyer reviewed at the same moment (two of the dealer's users, or a rep and
the shop) must not both pass the credit limit on the same exposure: the credit check locks the
buyer's row, so the second review waits for the first to commit and then counts its order.

PostgreSQL only (DATABASE_URL): SQLite serialises whole write transactions, so there is no race
to show there."""
import os
import threading
import time

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import Order
from app.models.approval import OrderReviewReason
from app.services.approval import automatic as approval
from tests import builders_lifecycle as b
from tests import factories

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="row locks race only on PostgreSQL (set DATABASE_URL)")
DEADLINE_S = 10


def _backend_waits_on_lock(pid: int) -> bool:
    with db.engine.connect() as connection:  # its own connection: stats are cached per transaction
        return connection.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                                  {"pid": pid}).scalar() == "Lock"


def test_two_orders_of_one_buyer_cannot_both_pass_the_limit(app, world):
    dealer = world.orgs["dealer"]
    dealer.credit_limit_fen = 10_000
    product = factories.product(base_price_fen=3_000)
    first, second = (b.order(dealer, world.brand, [(product, 2)]).id for _ in range(2))  # 6,000 fen each
    db.session.commit()

    a_reviewed, b_reviewed = threading.Event(), threading.Event()
    b_pid: list[int] = []
    outcomes: dict[str, str] = {}

    def review_a():
        with app.app_context(), app.test_request_context():
            try:
                outcomes["a"] = approval.auto_review(first).outcome
                a_reviewed.set()
                # Hold the transaction open until B is either blocked on our lock (the fix) or has
                # finished its own review on the same exposure (the race): then commit.
                deadline = time.monotonic() + DEADLINE_S
                while not b_reviewed.wait(0.01) and time.monotonic() < deadline:
                    if b_pid and _backend_waits_on_lock(b_pid[0]):
                        outcomes["b_waited"] = "yes"
                        break
                db.session.commit()
            finally:
                a_reviewed.set()
                db.session.remove()

    def review_b():
        with app.app_context(), app.test_request_context():
            try:
                b_pid.append(db.session.execute(text("SELECT pg_backend_pid()")).scalar())
                a_reviewed.wait(DEADLINE_S)
                outcomes["b"] = approval.auto_review(second).outcome
                b_reviewed.set()
                db.session.commit()
            finally:
                b_reviewed.set()
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
    assert db.session.scalars(select(OrderReviewReason.code).where(OrderReviewReason.order_id == second)).all() \
        == ["credit_limit"]


def test_orders_of_two_buyers_do_not_wait_for_each_other(app, world):
    """The lock is the buyer's: another buyer's review goes ahead while the first is open."""
    product = factories.product(base_price_fen=3_000)
    first = b.order(world.orgs["dealer"], world.brand, [(product, 2)]).id
    other = b.order(world.orgs["dealer_b"], world.brand, [(product, 2)]).id
    db.session.commit()
    a_reviewed, b_done = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}

    def review_a():
        with app.app_context(), app.test_request_context():
            try:
                outcomes["a"] = approval.auto_review(first).outcome
                a_reviewed.set()
                outcomes["b_finished_first"] = "yes" if b_done.wait(DEADLINE_S) else "no"
                db.session.commit()
            finally:
                a_reviewed.set()
                db.session.remove()

    def review_b():
        with app.app_context(), app.test_request_context():
            try:
                a_reviewed.wait(DEADLINE_S)
                outcomes["b"] = approval.auto_review(other).outcome
                db.session.commit()
            finally:
                b_done.set()
                db.session.remove()

    threads = [threading.Thread(target=review_a), threading.Thread(target=review_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes == {"a": "approved", "b": "approved", "b_finished_first": "yes"}, outcomes
