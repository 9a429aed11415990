"""Dealer order pages: the orders routed to the dealer, never another dealer's."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order
from tests import builders_ordering as b
from tests import factories


@pytest.fixture
def dealer(login_as):
    return login_as("dealer")


@pytest.fixture
def orders(world):
    product = factories.product(name_zh="纯净水", base_price_fen=1800)
    other_shop = factories.org("retailer", "湖滨超市", region_id=world.regions["hz"].id, dealer_id=world.orgs["dealer"].id,
                               phone="0571-1234567", address="湖滨路 1 号")
    made = {
        "mine": b.order(world.orgs["retailer"], world.orgs["dealer"], [(product, 2)], days_ago=1),
        "shipped": b.order(other_shop, world.orgs["dealer"], [(product, 5)], status="shipped"),
        "theirs": b.order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(product, 1)]),
    }
    db.session.commit()
    return made


def text(response):
    return response.get_data(as_text=True)


def test_list_shows_only_orders_routed_to_the_dealer(dealer, orders, world):
    for response in (dealer.get("/dealer/orders?status="), dealer.hx_get("/dealer/orders?status=")):
        page = text(response)
        assert response.status_code == 200
        assert orders["mine"].number in page and orders["shipped"].number in page
        assert orders["theirs"].number not in page
        assert page.index(orders["shipped"].number) < page.index(orders["mine"].number)
        assert "西湖小卖部" in page and "湖滨超市" in page and "共 2 个订单" in page
    assert "<html" in text(dealer.get("/dealer/orders")) and "<html" not in text(dealer.hx_get("/dealer/orders"))


def test_list_filters_by_status_and_searches_customers(dealer, orders):
    page = text(dealer.hx_get("/dealer/orders?status=shipped"))
    assert orders["shipped"].number in page and orders["mine"].number not in page
    page = text(dealer.get("/dealer/orders?q=湖滨"))
    assert orders["shipped"].number in page and orders["mine"].number not in page
    page = text(dealer.get(f"/dealer/orders?q={orders['theirs'].number}"))
    assert f'>{orders["theirs"].number}</a>' not in page and "没有订单" in page
    assert orders["mine"].number in text(dealer.get("/dealer/orders?status=bogus&page=-4"))


def test_detail_shows_customer_lines_totals_and_history(dealer, orders):
    order = orders["shipped"]
    for response in (dealer.get(f"/dealer/orders/{order.id}"), dealer.hx_get(f"/dealer/orders/{order.id}")):
        page = text(response)
        assert response.status_code == 200
        assert order.number in page and "湖滨超市" in page and "0571-1234567" in page and "湖滨路 1 号" in page
        assert "纯净水" in page and "¥90.00" in page and "状态记录" in page and "已发货" in page


def test_pages_revalidate_with_etags(dealer, orders):
    first = dealer.get("/dealer/orders")
    assert dealer.get("/dealer/orders", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_another_dealers_order_is_not_found(dealer, orders):
    theirs = orders["theirs"]
    assert dealer.get(f"/dealer/orders/{theirs.id}").status_code == 404
    assert dealer.hx_get(f"/dealer/orders/{theirs.id}").status_code == 404
    assert dealer.get("/dealer/orders/0").status_code == 404
    assert dealer.get("/dealer/orders/abc").status_code == 404


@pytest.mark.parametrize("url", ["/dealer/orders", "/dealer/orders/1"])
def test_dealer_pages_need_a_dealer(client, login_as, url, orders):
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    assert login_as("retailer").get(url).status_code == 403


def test_the_dealer_sees_an_order_placed_on_the_retailer_pages(login_as, world):
    """End to end: a retailer orders, the order lands at its territory dealer only."""
    shop = login_as("retailer")
    product = factories.product(name_zh="乌龙茶")
    db.session.commit()
    shop.get("/retailer/catalog")
    assert shop.post("/retailer/cart/add", {"product_id": product.id, "qty": 2}).status_code == 303
    page = text(shop.get("/retailer/cart"))
    form = {name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1)
            for name in ("idempotency_key", "fingerprint", "accept_changes")}
    assert shop.post("/retailer/cart/checkout", form).status_code == 303
    number = db.session.scalar(select(Order.number))
    assert number in text(login_as("dealer").get("/dealer/orders?status="))
    assert number not in text(login_as("dealer_b").get("/dealer/orders?status="))
