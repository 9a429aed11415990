"""A promotion's effect page: orders, buyers, units, discount and gift cost, the same buyers'
sales during the window versus the same length before it, and return on spend, with the page
saying it is a simple before/after comparison; a dealer sees only its own promotions' effect."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import Order
from app.services.core.clock import now_utc
from app.services.ordering import cart
from app.services.ordering import orders as ordering
from app.services.promotions import redemption, reports
from tests import builders_ordering as b
from tests import builders_promotions as bp
from tests import factories

_keys = iter(range(1, 10_000))


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def _order(world, product, qty, buyer_key="retailer"):
    user, buyer = world.users[buyer_key], world.orgs[buyer_key]
    cart.add_to_cart(user, buyer, product.id, qty)
    quote = cart.quote_cart(user, buyer)
    order = ordering.submit_order(user, buyer, f"effect-{next(_keys):06d}", quote.fingerprint).order
    db.session.commit()
    return order


def test_effect_compares_the_buyers_sales_with_the_same_length_before(world, login_as):
    drink, other = factories.product(base_price_fen=10_000), factories.product(base_price_fen=5_000)
    start = now_utc() - timedelta(days=10)
    promo = bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 1000},
                         product_ids=[drink.id], starts_at=start, ends_at=now_utc() + timedelta(days=20))
    # before the promotion: an order of 500 yuan 15 days ago (inside the 10 days before), one 25 days ago (outside)
    before = _order(world, other, 10)
    too_early = _order(world, other, 4)
    db.session.execute(update(Order).where(Order.id == before.id).values(created_at=start - timedelta(days=5)))
    db.session.execute(update(Order).where(Order.id == too_early.id).values(created_at=start - timedelta(days=15)))
    db.session.commit()
    _order(world, drink, 10)                    # 1,000 - 100 = 900 yuan, 10 units
    cancelled = _order(world, drink, 30)        # cancelled: gives its discount back, not counted
    redemption.release_order(cancelled.id)
    db.session.execute(update(Order).where(Order.id == cancelled.id).values(status="cancelled"))
    _order(world, drink, 2, "retailer_b")       # 200 - 20 = 180 yuan, 2 units, another buyer
    db.session.commit()

    effect = reports.effect(promo)
    assert (effect.orders, effect.buyers, effect.units, effect.discount_fen, effect.gift_fen) == (2, 2, 12, 12_000, 0)
    assert (effect.sales_during_fen, effect.sales_before_fen) == (108_000, 50_000)
    assert effect.extra_fen == 58_000 and effect.return_on_spend == pytest.approx(58_000 / 12_000)

    with b.count_queries() as queries:
        reports.effect(promo)
    assert len(queries) == 3 + 1  # + looking for a forecast run covering the window (none here)

    body = login_as("admin").get(f"/admin/promotions/{promo.id}/effect").get_data(as_text=True)
    assert "简单前后对比" in body and "¥580.00" in body and "1 : 4.83" in body
    assert login_as("dealer").get(f"/dealer/promotions/{promo.id}/effect").status_code == 404
    assert login_as("admin_b").get(f"/admin/promotions/{promo.id}/effect").status_code == 403
