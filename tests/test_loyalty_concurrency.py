"""Two checkouts of one shop spending points at the same moment (the shop's owner on its phone
and the sales rep's order for it) must not both spend the same balance: the balance moves by a
conditional UPDATE (`WHERE balance >= n`), so the second waits for the first to commit, finds
the balance short and is refused; the balance never goes below zero and equals its lots.

PostgreSQL only (DATABASE_URL): SQLite serialises whole write transactions."""
import os
import threading
import time

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import LoyaltySettings, Order, Organisation, User
from app.services.ordering import orders as ordering
from tests import builders_loyalty as pts
from tests import builders_ordering as b
from tests import factories

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="row locks race only on PostgreSQL (set DATABASE_URL)")
DEADLINE_S = 10


def _waits_on_lock(pid: int) -> bool:
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                                  {"pid": pid}).scalar() == "Lock"


def test_two_checkouts_cannot_spend_the_same_points(app, world):
    shop, owner, rep = world.orgs["retailer"], world.users["retailer"], world.users["rep"]
    db.session.add(LoyaltySettings(id=1, earn_points_per_yuan=1, redeem_points_per_yuan=100, max_redeem_pct=100,
                                   lot_life_days=365, notice_days=30, silver_from_fen=1, gold_from_fen=2,
                                   diamond_from_fen=3, grace_days=0))
    pts.earn(shop, 6_000, expires_in_days=10)
    pts.earn(shop, 4_000, expires_in_days=200)
    for who in (owner, rep):  # two carts for the shop, each worth ¥60: each alone could spend 6,000 points
        b.cart_line(who, shop, factories.product(base_price_fen=6_000), 1, quoted=6_000)
    db.session.commit()

    a_spent, b_done = threading.Event(), threading.Event()
    b_pid: list[int] = []
    outcomes: dict[str, str] = {}

    def checkout(user_id: int, key: str):
        user, buyer = db.session.get(User, user_id), db.session.get(Organisation, shop.id)
        return ordering.submit_order(user, buyer, key, use_points=True)

    def first():
        with app.app_context(), app.test_request_context():
            try:
                checkout(owner.id, "points-race-a-0001")
                outcomes["a"] = "ordered"
                a_spent.set()
                deadline = time.monotonic() + DEADLINE_S
                while not b_done.wait(0.01) and time.monotonic() < deadline:
                    if b_pid and _waits_on_lock(b_pid[0]):
                        outcomes["b_waited"] = "yes"
                        break
                db.session.commit()
            finally:
                a_spent.set()
                db.session.remove()

    def second():
        with app.app_context(), app.test_request_context():
            try:
                b_pid.append(db.session.execute(text("SELECT pg_backend_pid()")).scalar())
                a_spent.wait(DEADLINE_S)
                try:
                    checkout(rep.id, "points-race-b-0001")
                    db.session.commit()
                    outcomes["b"] = "ordered"
                except Exception as error:  # noqa: BLE001 - the refusal is what we look for
                    db.session.rollback()
                    outcomes["b"] = type(error).__name__
            finally:
                b_done.set()
                db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert outcomes.get("b_waited") == "yes", outcomes
    assert (outcomes["a"], outcomes["b"]) == ("ordered", "NotEnoughPoints"), outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.buyer_id == shop.id)) == 1
    assert pts.balance(shop) == 4_000 and pts.consistent(shop)
    assert sorted(pts.lots_remaining(shop).values()) == [0, 4_000]  # the first-expiring lot was spent
