"""What the rebate balance and points paid shows under an order's lines on every role's order
page (amount, points used, what came back), read in the order page's own query; the dealer's
rebate page tells drafts awaiting approval from settled rebates; its balance history names and
links the orders."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order
from app.models.rebates import RebateSettlement
from app.services.core.clock import today_local
from app.services.ordering import cart, lifecycle, replenishment
from app.services.rebates import balance, lane, settlement
from tests import builders_loyalty as pts
from tests import builders_ordering as b
from tests import builders_rebates as br
from tests import factories


def text(response):
    return response.get_data(as_text=True)


def _rebate_order(world, with_rebate: bool) -> Order:
    """A replenishment order of ¥70; with the rebate lane ticked it takes 30 % = ¥21."""
    user, dealer = world.users["dealer"], world.orgs["dealer"]
    tea, milk = factories.product(base_price_fen=4_800), factories.product(base_price_fen=3_600)
    b.price_list({tea: 4_000, milk: 3_000}, audience="dealer", tier="A", name="A 级经销价")
    for product in (tea, milk):
        cart.add_to_cart(user, dealer, product.id, 1)
    lane.choose(user, dealer, with_rebate)
    quote = cart.quote_cart(user, dealer)
    order = replenishment.place_replenishment(user, dealer, f"lanes-{with_rebate:d}-{tea.id}", quote.fingerprint).order
    db.session.commit()
    return order


@pytest.fixture
def rebate_world(app, world):
    with app.test_request_context():
        br.agreement(world.users["admin"], world.orgs["dealer"], payout="balance", balance_share_pct=30)
        balance.move(world.orgs["dealer"].id, 5_000, "settlement", ref="seed")
        db.session.commit()
    return world


def test_a_replenishment_order_shows_the_rebate_it_used_for_dealer_and_brand(app, rebate_world, login_as):
    with app.test_request_context():
        order = _rebate_order(rebate_world, True)
    assert order.total_fen == 4_900
    for client, url in ((login_as("dealer"), f"/dealer/replenishment/orders/{order.id}"),
                        (login_as("admin"), f"/admin/orders/{order.id}")):
        page = text(client.get(url))
        assert re.search(r"返利抵扣</td><td class=\"num\">−¥21.00", page), url
        assert "¥49.00" in page and "已退回" not in page
    with app.test_request_context():
        lifecycle.act_as_seller(order.seller_id, order.id, "cancelled", rebate_world.users["admin"].id, "缺货")
        db.session.commit()
    page = text(login_as("dealer").get(f"/dealer/replenishment/orders/{order.id}"))
    assert "−¥21.00" in page and "（已退回 ¥21.00）" in page


def test_an_order_without_the_lanes_shows_no_such_line(app, rebate_world, login_as):
    with app.test_request_context():
        order = _rebate_order(rebate_world, False)
    page = text(login_as("dealer").get(f"/dealer/replenishment/orders/{order.id}"))
    assert "返利抵扣" not in page and "积分抵扣" not in page and "¥70.00" in page


def test_the_order_page_reads_the_lanes_in_as_many_queries(app, rebate_world, login_as):
    with app.test_request_context():
        plain, used = _rebate_order(rebate_world, False), _rebate_order(rebate_world, True)
    dealer = login_as("dealer")
    measured = []
    for order in (plain, used):
        dealer.get(f"/dealer/replenishment/orders/{order.id}")  # warm caches
        with b.count_queries() as counter:
            response = dealer.get(f"/dealer/replenishment/orders/{order.id}")
        assert response.status_code == 200
        measured.append(len(counter))
    assert "返利抵扣" in text(response)
    assert measured[0] == measured[1], measured


def test_a_retailer_order_shows_the_points_it_used_on_every_role_page(app, world, shop, login_as):
    user, org = shop
    with app.test_request_context():
        for price in (2400, 5650, 1800):  # ¥98.50: 20 % = ¥19.70 = 1,970 points at 100 a yuan
            b.cart_line(user, org, factories.product(base_price_fen=price), 1, quoted=price)
        pts.earn(org, 10_000)
        db.session.commit()
    retailer = login_as("retailer")
    page = text(retailer.get("/retailer/cart?use_points=1"))
    form = {"idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1),
            "fingerprint": re.search(r'name="fingerprint" value="([^"]+)"', page).group(1),
            "use_points": "1", "accept_changes": "", "note": ""}
    assert retailer.post("/retailer/cart/checkout", form).status_code == 303
    order = db.session.scalar(select(Order).where(Order.buyer_id == org.id))
    assert order.total_fen == 9_850 - 1_970
    line = re.compile(r'积分抵扣（1,970 积分）(<span[^<]*</span>| )*</td><td class="num">−¥19.70')
    assert line.search(text(retailer.get(f"/retailer/orders/{order.id}")))
    assert line.search(text(login_as("dealer").get(f"/dealer/orders/{order.id}")))
    with app.test_request_context():
        lifecycle.act_as_seller(order.seller_id, order.id, "cancelled", world.users["dealer"].id, "缺货")
        db.session.commit()
    page = text(retailer.get(f"/retailer/orders/{order.id}"))
    assert line.search(page) and "（已退回 1,970 积分）" in page


def test_a_draft_settlement_awaits_approval_and_is_not_counted_as_settled(app, world, login_as):
    with app.test_request_context():
        drink = factories.product(base_price_fen=8_120)
        br.agreement(world.users["admin"], world.orgs["dealer"], code="RB-HZ", rate_bp=200)
        br.invoiced(world.orgs["dealer"], world.brand, [(drink, 10)])  # ¥812 at 2 % = ¥16.24
        settlement.run_settlement(today_local())
        db.session.commit()
    dealer = login_as("dealer")
    page = text(dealer.get("/dealer/rebates/"))
    assert "已结算 ¥0.00，待审批 ¥16.24，待结算 ¥0.00。" in page
    draft = db.session.scalar(select(RebateSettlement))
    with app.test_request_context():
        settlement.approve(world.users["admin"], draft.id)
        db.session.commit()
    page = text(dealer.get("/dealer/rebates/"))
    assert "已结算 ¥16.24，待结算 ¥0.00。" in page and "待审批" not in page


def test_the_balance_history_names_and_links_the_orders(app, rebate_world, login_as):
    with app.test_request_context():
        order = _rebate_order(rebate_world, True)
    page = text(login_as("dealer").get("/dealer/rebates/balance"))
    assert f'<a href="/dealer/replenishment/orders/{order.id}">{order.number}</a>' in page
    assert f"#{order.id}" not in page
