"""Presale allocation under concurrency: many shops order the last units at the same moment and
exactly the planned quantity is sold (conditional UPDATE on the item row, CHECK as a backstop).

PostgreSQL only (DATABASE_URL): SQLite serialises whole write transactions."""
import os
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, User
from app.models.presale import PresaleItem, PresaleOrder
from app.services.campaigns import presale
from app.services.core.clock import today_local
from app.services.credit import payments
from app.services.core.errors import DomainError
from tests import builders_presale as bp
from tests import factories

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="row locks race only on PostgreSQL (set DATABASE_URL)")
BUYERS = 8


def test_buyers_racing_for_the_last_units_buy_exactly_the_cap(app, world):
    item = bp.campaign(planned=10, price_fen=1_000)
    item.committed_qty = 6  # 4 units left; 8 shops each want 2
    users = []
    for n in range(BUYERS):
        shop = factories.org("retailer", f"抢购小店{n}", region_id=world.regions["hz"].id,
                             dealer_id=world.orgs["dealer"].id)
        users.append(factories.user("retailer", shop, f"racer{n}").id)
        payments.top_up_prepayment(world.users["admin"], seller=world.orgs["dealer"], customer=shop,
                                   amount_fen=10_000, received_on=today_local())
    db.session.commit()
    item_id = item.id  # read here: the threads must not touch this session's objects
    start = threading.Barrier(BUYERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def buy(user_id: int, n: int):
        with app.app_context(), app.test_request_context():
            try:
                user = db.session.get(User, user_id)
                start.wait(timeout=10)
                presale.place_order(user, user.org, item_id, 2, "prepayment", f"race-key-{n:04d}")
                db.session.commit()
                result = "sold"
            except DomainError as error:
                db.session.rollback()
                result = "refused: " + error.message
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=buy, args=(uid, n)) for n, uid in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == BUYERS
    assert outcomes.count("sold") == 2, outcomes
    assert all("只剩" in o for o in outcomes if o != "sold"), outcomes
    db.session.expire_all()
    assert db.session.get(PresaleItem, item_id).committed_qty == 10
    assert db.session.scalar(select(func.sum(PresaleOrder.qty))) == 4
    assert db.session.scalar(select(func.count(Order.id))) == 2
