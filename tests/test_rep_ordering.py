"""Ordering on a retailer's behalf: the retailer's own prices, the shared cart and checkout
(buyer = the retailer, seller = its dealer, channel "rep", placed by the rep), exactly once,
one tap on a usual product, with and without htmx, and never for another rep's retailer."""
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import CartLine, Notification, Order
from app.services import notifications
from app.services.field_sales import portal as rep_portal
from tests import builders_ordering as b
from tests import builders_rep as br
from tests import factories
from tests.builders_lifecycle import shown

KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
FINGERPRINT_RE = re.compile(r'name="fingerprint" value="([^"]+)"')
ACCEPT_RE = re.compile(r'name="accept_changes" value="([^"]*)"')


def text(response):
    return response.get_data(as_text=True)


def checkout_form(page: str, note: str = "") -> dict:
    return {"idempotency_key": KEY_RE.search(page).group(1), "fingerprint": FINGERPRINT_RE.search(page).group(1),
            "accept_changes": ACCEPT_RE.search(page).group(1), "note": note}


def cart_lines():
    return _db.session.execute(select(CartLine.owner_id, CartLine.buyer_id, CartLine.product_id, CartLine.qty)
                               .order_by(CartLine.id)).all()


def order_count():
    return _db.session.scalar(select(func.count()).select_from(Order))


@pytest.fixture
def shop(world):
    return world.orgs["retailer"]


@pytest.fixture
def juice(world, shop):
    """A product whose base price is ¥48.00 but the shop's contract price is ¥39.99."""
    product = factories.product(name_zh="橙汁", base_price_fen=4800)
    b.contract(shop, product, 3999, reference="HT-橙汁")
    _db.session.commit()
    return product


@pytest.fixture
def rep(login_as):
    return login_as("rep")


def order_url(shop):
    return f"/rep/retailers/{shop.id}/order"


def test_the_order_page_shows_the_retailers_own_prices(rep, shop, juice):
    page = text(rep.get(order_url(shop)))
    row = page.split(f'id="p{juice.id}"')[1].split("</li>")[0]
    assert "橙汁" in row and "¥39.99" in row and "¥48.00" not in row
    assert f'action="/rep/retailers/{shop.id}/cart/add"' in row
    assert "购物车是空的" in page and f"为 {shop.name} 下单" in page


def test_catalog_search_with_htmx_returns_the_list_only(rep, shop, juice):
    factories.product(name_zh="可乐")
    _db.session.commit()
    response = rep.hx_get(order_url(shop) + "?q=橙")
    body = text(response)
    assert response.status_code == 200 and "<html" not in body and "橙汁" in body and "可乐" not in body
    assert "rep-cart" not in body


def test_order_on_behalf_without_js(rep, shop, juice, world):
    response = rep.post(f"/rep/retailers/{shop.id}/cart/add",
                        {"product_id": juice.id, "qty": 3, "next": order_url(shop) + "?q=橙"})
    assert response.status_code == 303 and unquote(response.headers["Location"]) == f"{order_url(shop)}?q=橙#p{juice.id}"
    rep_user = world.users["rep"]
    assert cart_lines() == [(rep_user.id, shop.id, juice.id, 3)]
    page = text(rep.get(order_url(shop)))
    cart = page.split('id="rep-cart"')[1]
    assert "橙汁" in cart and "¥119.97" in cart and "合同价 HT-橙汁" in cart

    response = rep.post(f"/rep/retailers/{shop.id}/checkout", checkout_form(page, note="店主电话确认"))
    [order] = _db.session.scalars(select(Order)).all()
    assert response.status_code == 303 and response.headers["Location"] == f"/rep/orders/{order.id}"
    assert (order.buyer_id, order.seller_id, order.channel, order.placed_by_id) == (
        shop.id, world.orgs["dealer"].id, "rep", rep_user.id)
    assert (order.total_fen, order.note) == (11997, "店主电话确认")
    assert [(line.product_id, line.qty, line.unit_price_fen) for line in order.lines] == [(juice.id, 3, 3999)]
    assert cart_lines() == []
    detail = text(rep.get(response.headers["Location"]))
    assert f"订单 {order.number} 已提交，并已自动审核通过。" in detail and "业务员代下" in detail and "¥119.97" in detail

    # the retailer sees the order in its own list and is told in its notification centre
    notice = _db.session.scalar(select(Notification).where(Notification.kind == "order.placed_by_rep"))
    assert notice.user_id == world.users["retailer"].id and shown(notice).link == f"/retailer/orders/{order.id}"
    assert order.number in shown(notice).title
    shopkeeper = rep.__class__(rep.app)
    shopkeeper.login(world.users["retailer"].username)
    assert order.number in text(shopkeeper.get("/retailer/orders"))
    unread = notifications.unread_count(world.users["retailer"])  # the lifecycle may add its own notices
    home = text(shopkeeper.get("/retailer/"))
    assert unread >= 1 and re.search(rf'id="notification-badge"><span class="badge"[^>]*>{unread}</span>', home)
    assert shown(notice).title in text(shopkeeper.get("/retailer/notifications/"))


@pytest.mark.parametrize("htmx", [False, True])
def test_a_double_tap_makes_one_order(rep, shop, juice, htmx):
    rep.post(f"/rep/retailers/{shop.id}/cart/add", {"product_id": juice.id, "qty": 1})
    form = checkout_form(text(rep.get(order_url(shop))))
    first = rep.post(f"/rep/retailers/{shop.id}/checkout", form, htmx=htmx)
    second = rep.post(f"/rep/retailers/{shop.id}/checkout", form, htmx=htmx)
    [order_id] = _db.session.scalars(select(Order.id)).all()
    header = "HX-Redirect" if htmx else "Location"
    assert first.headers[header] == second.headers[header] == f"/rep/orders/{order_id}"
    assert _db.session.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.kind == "order.placed_by_rep")) == 1
    assert "没有重复下单" in text(rep.get(f"/rep/orders/{order_id}"))


def test_add_with_htmx_swaps_the_row_and_the_cart_out_of_band(rep, shop, juice):
    response = rep.post(f"/rep/retailers/{shop.id}/cart/add", {"product_id": juice.id, "qty": 2}, htmx=True)
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<li class="prod" id="p{juice.id}"') and "已加入 2，购物车中共 2。" in body
    assert 'id="rep-cart" class="cart-panel" hx-swap-oob="true"' in body and "¥79.98" in body


@pytest.mark.parametrize("qty, message", [("0", "数量必须大于 0。"), ("abc", "请输入整数数量。")])
def test_bad_quantity_shows_the_message_in_the_row_and_saves_nothing(rep, shop, juice, qty, message):
    plain = rep.post(f"/rep/retailers/{shop.id}/cart/add", {"product_id": juice.id, "qty": qty})
    row = text(plain).split(f'id="p{juice.id}"')[1].split("</li>")[0]
    assert plain.status_code == 400 and message in row and 'aria-invalid="true"' in row
    hx = rep.post(f"/rep/retailers/{shop.id}/cart/add", {"product_id": juice.id, "qty": qty}, htmx=True)
    assert hx.status_code == 422 and message in text(hx) and "<html" not in text(hx)
    assert cart_lines() == []


def test_a_product_the_retailer_may_not_order_is_refused(rep, shop, world):
    hidden = factories.product(name_zh="成都限定")
    b.only_for(hidden, region_id=world.regions["cd"].id)
    _db.session.commit()
    response = rep.post(f"/rep/retailers/{shop.id}/cart/add", {"product_id": hidden.id, "qty": 1}, htmx=True)
    assert response.status_code == 422 and "该商品不存在或暂不可订购" in text(response) and "成都限定" not in text(response)
    assert cart_lines() == []


def test_one_tap_on_a_usual_product_adds_its_usual_quantity(rep, shop, juice, world):
    now = rep_portal.now_utc()
    for days, qty in ((3, 6), (10, 6), (20, 8)):
        br.order_at(shop, world.orgs["dealer"], [(juice, qty)], now - timedelta(days=days))
    _db.session.commit()
    page = text(rep.get(order_url(shop)))
    assert f'hx-post="/rep/retailers/{shop.id}/usual/{juice.id}/add"' in page and "+7箱" in page
    response = rep.post(f"/rep/retailers/{shop.id}/usual/{juice.id}/add", {}, htmx=True)
    body = text(response)
    assert response.status_code == 200 and body.lstrip().startswith('<div id="rep-cart"') and "已加入购物车：橙汁 7箱" in body
    plain = rep.post(f"/rep/retailers/{shop.id}/usual/{juice.id}/add", {})
    assert plain.status_code == 303 and plain.headers["Location"] == order_url(shop) + "#rep-cart"
    assert cart_lines() == [(world.users["rep"].id, shop.id, juice.id, 14)]
    # the card's one-tap buttons are plain forms that land on the order page
    card = text(rep.get(f"/rep/retailers/{shop.id}"))
    assert f'action="/rep/retailers/{shop.id}/usual/{juice.id}/add"' in card
    assert f'hx-post="/rep/retailers/{shop.id}/usual/{juice.id}/add"' not in card


def test_a_product_that_is_not_usual_cannot_be_tapped(rep, shop, juice):
    assert rep.post(f"/rep/retailers/{shop.id}/usual/{juice.id}/add", {}).status_code == 404
    assert cart_lines() == []


def test_update_and_remove_cart_lines(rep, shop, juice, world):
    line = b.cart_line(world.users["rep"], shop, juice, 2, quoted=3999)
    _db.session.commit()
    response = rep.post(f"/rep/retailers/{shop.id}/cart/lines/{line.id}", {"qty": 5}, htmx=True)
    assert response.status_code == 200 and "数量已更新" in text(response) and "¥199.95" in text(response)
    bad = rep.post(f"/rep/retailers/{shop.id}/cart/lines/{line.id}", {"qty": "-2"})
    cart = text(bad).split('id="rep-cart"')[1]
    assert bad.status_code == 400 and "数量必须大于 0。" in cart and 'value="-2"' in cart
    assert cart_lines()[0][3] == 5
    removed = rep.post(f"/rep/retailers/{shop.id}/cart/lines/{line.id}/remove", {})
    assert removed.status_code == 303 and cart_lines() == []


def test_the_reps_cart_is_not_the_retailers_own_cart(rep, shop, juice, world):
    own = b.cart_line(world.users["retailer"], shop, juice, 9, quoted=3999)
    _db.session.commit()
    assert f'id="l{own.id}"' not in text(rep.get(order_url(shop)))
    assert rep.post(f"/rep/retailers/{shop.id}/cart/lines/{own.id}", {"qty": 1}).status_code == 404
    assert rep.post(f"/rep/retailers/{shop.id}/cart/lines/{own.id}/remove", {}).status_code == 404
    assert cart_lines() == [(world.users["retailer"].id, shop.id, juice.id, 9)]


@pytest.mark.parametrize("path, data", [("cart/add", {"product_id": 1, "qty": 1}), ("checkout", {}),
                                        ("usual/1/add", {})])
def test_another_reps_retailer_is_not_found(rep, world, path, data):
    other = world.orgs["retailer_b"]
    for htmx in (False, True):
        assert rep.post(f"/rep/retailers/{other.id}/{path}", data, htmx=htmx).status_code == 404
    assert cart_lines() == [] and order_count() == 0


def test_a_changed_price_is_confirmed_before_ordering(rep, shop, juice, world):
    b.cart_line(world.users["rep"], shop, juice, 2, quoted=3500)  # the rep saw ¥35.00
    _db.session.commit()
    stale = {"idempotency_key": "stale-key-0001", "fingerprint": "0" * 32, "accept_changes": "", "note": ""}
    response = rep.post(f"/rep/retailers/{shop.id}/checkout", stale, htmx=True)
    body = text(response)
    assert response.status_code == 409 and "价格或供应有变化" in body and "原 ¥35.00，现 ¥39.99" in body
    assert order_count() == 0
    confirm = checkout_form(body)
    assert confirm["accept_changes"] == "1"
    done = rep.post(f"/rep/retailers/{shop.id}/checkout", confirm, htmx=True)
    assert done.status_code == 204 and order_count() == 1


def test_the_reps_orders_and_an_orders_detail(rep, shop, world, juice):
    dealer = world.orgs["dealer"]
    mine = b.order(shop, dealer, [(juice, 2)], placed_by=world.users["rep"])
    by_the_shop = b.order(shop, dealer, [(juice, 1)], placed_by=world.users["retailer"])
    foreign = b.order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(juice, 1)], placed_by=world.users["rep_b"])
    mine.channel = foreign.channel = "rep"
    _db.session.commit()
    listing = text(rep.get("/rep/orders"))
    assert mine.number in listing and by_the_shop.number not in listing and foreign.number not in listing
    fragment = rep.hx_get("/rep/orders?status=submitted")
    assert "<html" not in text(fragment) and mine.number in text(fragment)
    assert rep.get(f"/rep/orders/{mine.id}").status_code == 200
    assert rep.get(f"/rep/orders/{by_the_shop.id}").status_code == 200  # an order of a retailer on the route
    response = rep.get(f"/rep/orders/{foreign.id}")
    assert response.status_code == 404 and foreign.number not in text(response)


def test_one_add_shows_one_message_in_the_row_with_and_without_js(rep, shop, juice):
    """Issue 10: the row said both "购物车中 2" and "已加入购物车：2。" (and, swapped inside itself,
    nested a second row). Now one note in the row, which replaces the row (outerHTML)."""
    fragment = text(rep.post(f"/rep/retailers/{shop.id}/cart/add", {"product_id": juice.id, "qty": 2}, htmx=True))
    row = fragment.split("</li>")[0]
    assert row.count('role="status"') == 1 and "已加入 2，购物车中共 2。" in row and "购物车中 2<" not in row
    assert f'hx-target="#p{juice.id}" hx-swap="outerHTML"' in row
    response = rep.post(f"/rep/retailers/{shop.id}/cart/add", {"product_id": juice.id, "qty": 3, "next": order_url(shop)})
    page = text(rep.get(response.headers["Location"]))
    assert page.count("已加入 3，购物车中共 5。") == 1 and 'class="flash' not in page
    row = page.split(f'<li class="prod" id="p{juice.id}">')[1].split("</li>")[0]
    assert "已加入 3，购物车中共 5。" in row and "购物车中 5<" not in row
    again = text(rep.get(order_url(shop)))
    assert "已加入" not in again and "购物车中 5" in again  # news once; the row keeps its count
