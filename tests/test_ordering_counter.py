"""The ordering counter is one counter: the retailer ordering for itself, the rep ordering on a
shop's behalf and the dealer replenishing from the brand are told the same things after checkout
(approved automatically, or held for review with the reason; the lines dropped because they could
no longer be ordered), with and without htmx."""
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order
from tests import builders_lifecycle as bl
from tests import builders_ordering as b
from tests import factories

FORM_RE = {name: re.compile(rf'name="{name}" value="([^"]*)"') for name in ("idempotency_key", "fingerprint",
                                                                             "accept_changes")}


@dataclass
class Role:
    login: str  # world.users key of the caller
    buyer: str  # world.orgs key of the buyer
    seller: str  # world.orgs key of the seller
    cart: str  # the page that holds the cart and its checkout form ({buyer} = the buyer's id)
    checkout: str

    def url(self, template: str, buyer) -> str:
        return template.format(buyer=buyer.id)


ROLES = {
    "retailer": Role("retailer", "retailer", "dealer", "/retailer/cart", "/retailer/cart/checkout"),
    "rep": Role("rep", "retailer", "dealer", "/rep/retailers/{buyer}/order", "/rep/retailers/{buyer}/checkout"),
    "dealer": Role("dealer", "dealer", "brand", "/dealer/replenishment/cart", "/dealer/replenishment/cart/checkout"),
}


def text(response) -> str:
    return response.get_data(as_text=True)


def checkout_form(page: str) -> dict:
    return {name: pattern.search(page).group(1) for name, pattern in FORM_RE.items()}


@pytest.fixture(params=sorted(ROLES))
def counter(request, world, login_as):
    role = ROLES[request.param]
    return role, login_as(role.login), world.users[role.login], world.orgs[role.buyer], world.orgs[role.seller]


def check_out(counter, htmx=False):
    """Check out the cart as its page shows it; the page the browser lands on, and the order."""
    role, client, _user, buyer, _seller = counter
    form = checkout_form(text(client.get(role.url(role.cart, buyer))))
    response = client.post(role.url(role.checkout, buyer), form, htmx=htmx)
    assert response.status_code == (204 if htmx else 303), text(response)[-600:]
    [order] = db.session.scalars(select(Order)).all()
    return text(client.get(response.headers["HX-Redirect" if htmx else "Location"])), order


@pytest.mark.parametrize("htmx", [False, True])
def test_every_role_is_told_the_order_was_approved_automatically(counter, htmx):
    _role, _client, user, buyer, _seller = counter
    b.cart_line(user, buyer, factories.product(name_zh="菊花茶"), 2)
    db.session.commit()
    page, order = check_out(counter, htmx)
    assert order.status == "approved"
    assert f"订单 {order.number} 已提交，并已自动审核通过。" in page


def test_every_role_is_told_the_order_waits_for_review_and_why(counter, world):
    _role, _client, user, buyer, seller = counter
    tea = factories.product(name_zh="普洱")
    bl.stocked_warehouse(seller, world.regions["hz"], {tea: 1})  # the seller holds 1, the order wants 5
    b.cart_line(user, buyer, tea, 5)
    db.session.commit()
    page, order = check_out(counter)
    assert order.status == "on_hold"
    assert f"订单 {order.number} 已提交，等待 {seller.name} 审核：库存不足。" in page
    assert "已自动审核通过" not in page


def test_every_role_is_told_which_lines_were_dropped(counter):
    role, client, user, buyer, _seller = counter
    kept, withdrawn = factories.product(name_zh="苏打水"), factories.product(name_zh="限定款")
    b.cart_line(user, buyer, kept, 1)
    b.cart_line(user, buyer, withdrawn, 1)
    withdrawn.status = "discontinued"
    db.session.commit()
    assert "已下架或暂不可订购" in text(client.get(role.url(role.cart, buyer)))
    page, order = check_out(counter)
    assert [line.product_id for line in order.lines] == [kept.id]
    assert "已移除不可订购的商品：限定款" in page and f"订单 {order.number} 已提交" in page


def test_every_role_is_told_a_repeated_submit_made_no_second_order(counter):
    role, client, user, buyer, _seller = counter
    b.cart_line(user, buyer, factories.product(), 1)
    db.session.commit()
    form = checkout_form(text(client.get(role.url(role.cart, buyer))))
    first = client.post(role.url(role.checkout, buyer), form)
    again = client.post(role.url(role.checkout, buyer), form)
    assert first.headers["Location"] == again.headers["Location"]
    [order] = db.session.scalars(select(Order)).all()
    assert f"订单 {order.number} 已提交过，没有重复下单。" in text(client.get(again.headers["Location"]))


def test_every_role_sees_a_changed_price_before_ordering(counter):
    role, client, user, buyer, _seller = counter
    moved = factories.product(name_zh="冰露", base_price_fen=1500)
    b.cart_line(user, buyer, moved, 2, quoted=1500)
    db.session.commit()
    form = checkout_form(text(client.get(role.url(role.cart, buyer))))
    moved.base_price_fen = 1700
    db.session.commit()
    response = client.post(role.url(role.checkout, buyer), form, htmx=True)
    page = text(response)
    assert response.status_code == 409 and "1 种商品的价格或供应有变化" in page
    assert "价格有变：原 ¥15.00，现 ¥17.00" in page and checkout_form(page)["accept_changes"] == "1"
    assert db.session.scalars(select(Order)).all() == []
