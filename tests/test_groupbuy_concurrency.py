"""Shops committing to one group-buy at the same moment: each commitment moves the pool by one
conditional UPDATE, so the pool is exactly the sum of what was committed and never passes the
cap (the refused ones change nothing). PostgreSQL only: SQLite serialises whole transactions."""
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, Organisation, User
from app.models.groupbuy import GroupBuyCampaign, GroupBuyCommitment
from app.services.campaigns import groupbuy
from app.services.core.errors import DomainError
from tests import builders_groupbuy as gb
from tests import factories

pytestmark = pytest.mark.postgres(reason="concurrent conditional UPDATEs race only on PostgreSQL")
SHOPS = 8


def _commit_all_at_once(app, shops, campaign_id, qty):
    """Every shop commits `qty` in its own thread and transaction, released together."""
    barrier = threading.Barrier(len(shops))
    outcomes: dict[int, str] = {}

    def commit(user_id, shop_id):
        with app.app_context(), app.test_request_context():
            try:
                user = db.session.get(User, user_id)
                shop = db.session.get(Organisation, shop_id)
                user.org  # loaded before the race starts
                barrier.wait(10)
                groupbuy.commit_quantity(user, shop, campaign_id, qty)
                db.session.commit()
                outcomes[shop_id] = "ok"
            except DomainError as error:
                db.session.rollback()
                outcomes[shop_id] = f"refused: {error.message}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=commit, args=(u.id, s.id)) for u, s in shops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_concurrent_commitments_are_counted_exactly(app, world):
    campaign = gb.campaign(world.orgs["dealer"], factories.product())
    shops = [gb.shop_of(world) for _ in range(SHOPS)]
    db.session.commit()

    outcomes = _commit_all_at_once(app, shops, campaign.id, 70)

    assert list(outcomes.values()) == ["ok"] * SHOPS, outcomes
    db.session.expire_all()
    assert db.session.get(GroupBuyCampaign, campaign.id).pool_qty == 70 * SHOPS
    assert db.session.scalar(select(func.sum(GroupBuyCommitment.qty))) == 70 * SHOPS
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.kind == "groupbuy")) == SHOPS


def test_concurrent_commitments_never_pass_the_cap(app, world):
    campaign = gb.campaign(world.orgs["dealer"], factories.product(), cap=500)
    shops = [gb.shop_of(world) for _ in range(SHOPS)]
    db.session.commit()

    outcomes = _commit_all_at_once(app, shops, campaign.id, 70)  # 8 × 70 = 560 asked, 500 available

    accepted = [shop for shop, outcome in outcomes.items() if outcome == "ok"]
    assert len(accepted) == 7 and len(outcomes) == SHOPS, outcomes
    db.session.expire_all()
    assert db.session.get(GroupBuyCampaign, campaign.id).pool_qty == 490
    assert db.session.scalar(select(func.count()).select_from(Order)) == 7  # the refused one left no order
