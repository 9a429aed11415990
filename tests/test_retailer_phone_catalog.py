"""The retailer's phone catalog through the test client: the stepper (set a product's quantity
in the cart) with htmx and as a plain form, its bad input, the cart bar, the dealer's stock
shown as a level only, the "常购" list from the shop's own orders, the thumbnail placeholder and
the favicon. The browser side (row height at 360 px, clicks with and without JavaScript) is in
tests/browser/test_retailer_phone.py."""
import re
from urllib.parse import unquote

import pytest
from sqlalchemy import delete, select, update

from app.extensions import db
from app.models import CartLine, Product
from tests import builders_ordering as b
from tests import builders_stock as stock
from tests import factories


def cart_rows(user):
    return db.session.execute(select(CartLine.product_id, CartLine.qty).where(CartLine.owner_id == user.id)
                              .order_by(CartLine.id)).all()


def text(response):
    return response.get_data(as_text=True)


def row_of(page, product):
    match = re.search(rf'<li class="prod" id="p{product.id}">.*?</li>', page, flags=re.S)
    assert match, f"no row for product {product.id}"
    return match.group(0)


def set_qty(client, product, htmx=False, **values):
    data = {"product_id": product.id, "next": "/retailer/catalog?q=东方", **values}
    return client.post("/retailer/cart/set", data, htmx=htmx)


@pytest.fixture
def tea(world):
    product = factories.product(name_zh="东方树叶", base_price_fen=6000, min_order_qty=2, order_multiple=2)
    db.session.commit()
    return product


# -- the stepper -------------------------------------------------------------------------------

def test_a_product_not_in_the_cart_offers_plus_the_minimum(retailer, tea):
    row = row_of(text(retailer.get("/retailer/catalog")), tea)
    assert re.findall(r'<button type="submit" name="to" value="(\d+)"', row) == ["2"]
    assert 'name="qty"' not in row  # no quantity box until the product is in the cart


def test_plus_minus_and_typed_quantity_with_htmx(retailer, shop, tea):
    user, _org = shop
    retailer.get("/retailer/catalog")
    response = set_qty(retailer, tea, htmx=True, to="2")
    body = text(response)
    assert response.status_code == 200 and body.lstrip().startswith(f'<li class="prod" id="p{tea.id}">')
    assert 'name="qty" value="2"' in body
    assert re.findall(r'name="to" value="(\d+)"', body) == ["0", "4"]  # − removes (below the minimum), + adds 2
    assert re.search(r'<span id="cart-badge" class="badge" hx-swap-oob="true"[^>]*>1</span>', body)
    assert re.search(r'<div id="cart-bar" class="cart-bar" hx-swap-oob="true"', body) and "¥120.00" in body
    assert len(response.get_data()) < 3 * 1024
    assert cart_rows(user) == [(tea.id, 2)]

    set_qty(retailer, tea, htmx=True, to="4")
    assert cart_rows(user) == [(tea.id, 4)]
    body = text(set_qty(retailer, tea, htmx=True, qty="10"))  # typed, sent with Enter
    assert cart_rows(user) == [(tea.id, 10)] and "¥600.00" in body
    body = text(set_qty(retailer, tea, htmx=True, qty="10", to="8"))  # a button wins over the box
    assert cart_rows(user) == [(tea.id, 8)]
    body = text(set_qty(retailer, tea, htmx=True, to="0"))
    assert cart_rows(user) == [] and 'name="qty"' not in row_of(body, tea)
    assert 'class="cart-bar empty"' in body


def test_stepper_without_js_lands_on_a_small_page_with_the_row_and_the_way_back(retailer, shop, tea):
    user, _org = shop
    response = set_qty(retailer, tea, to="2")
    assert response.status_code == 303
    added = unquote(response.headers["Location"])
    assert added == f"/retailer/cart/added?product={tea.id}&set=1&next=/retailer/catalog?q=东方"
    page = text(retailer.get(response.headers["Location"]))
    assert "购物车中 2" in page  # the news, once
    assert 'name="qty" value="2"' in row_of(page, tea) and "购物车 1 种" in page and "¥120.00" in page
    assert page.count('class="prod"') == 1 and len(page.encode()) < 8 * 1024  # not the whole catalog again
    assert 'value="/retailer/catalog?q=东方"' in row_of(page, tea)  # the next tap comes back here too
    assert f'href="/retailer/catalog?q=东方#p{tea.id}"' in unquote(page).replace("&amp;", "&")
    response = set_qty(retailer, tea, to="0")
    assert response.status_code == 303 and cart_rows(user) == []
    assert "已从购物车移除" in text(retailer.get(response.headers["Location"]))


def test_a_tap_without_js_writes_no_session_cookie_and_the_page_it_lands_on_says_what_changed(retailer, shop, tea):
    """The news travels in the address (added=<n>, set=1), not as a flash in the session: neither
    the tap nor the page rewrites the session cookie (issue 15: a cookie signed and sent on each tap)."""
    retailer.get("/retailer/catalog")  # the session holds its CSRF token from here on
    response = retailer.post("/retailer/cart/add", {"product_id": tea.id, "qty": 4, "next": "/retailer/catalog"})
    assert response.status_code == 303 and "added=4" in response.headers["Location"]
    assert "Set-Cookie" not in response.headers
    page = retailer.get(response.headers["Location"])
    assert "已加入 4，购物车中共 4。" in text(page) and "Set-Cookie" not in page.headers
    response = retailer.post("/retailer/cart/add", {"product_id": tea.id, "qty": 2, "next": "/retailer/catalog"})
    assert "已加入 2，购物车中共 6。" in text(retailer.get(response.headers["Location"]))
    response = set_qty(retailer, tea, to="0")
    assert "Set-Cookie" not in response.headers
    page = retailer.get(response.headers["Location"])  # removed: the row offers it again
    assert "已从购物车移除。" in text(page) and "购物车中共" not in text(page)
    forged = f"/retailer/cart/added?product={tea.id}&added=99999&next=/retailer/catalog"
    assert "已加入" not in text(retailer.get(forged))  # the address can claim nothing the cart does not hold


def test_the_added_page_shows_no_product_the_buyer_may_not_see(retailer, world):
    hidden = factories.product(name_zh="别家专供", status="draft")
    db.session.commit()
    for product in (f"{hidden.id}", "0", "-1", "abc", "99999999999999999999"):
        response = retailer.get(f"/retailer/cart/added?product={product}&next=https://evil.example/")
        assert response.status_code == 303 and response.headers["Location"] == "/retailer/catalog"


@pytest.mark.parametrize("qty, message", [
    ("3", "数量须为 2 的倍数"), ("-2", "数量必须大于 0"), ("abc", "请输入整数数量"), ("", "请输入数量"),
    ("10000", "数量不能超过 9999"),
])
def test_bad_quantities_are_refused_next_to_the_box_and_nothing_is_saved(retailer, shop, tea, qty, message):
    user, org = shop
    b.cart_line(user, org, tea, 4)
    db.session.commit()
    response = set_qty(retailer, tea, htmx=True, qty=qty)
    row = text(response)
    assert response.status_code == 422 and message in row
    assert f'aria-describedby="e{tea.id}"' in row and 'aria-invalid="true"' in row
    assert cart_rows(user) == [(tea.id, 4)]
    page = set_qty(retailer, tea, qty=qty)  # without JS: the catalog page again with the message at the row
    assert page.status_code == 400 and message in row_of(text(page), tea)
    assert cart_rows(user) == [(tea.id, 4)]


def test_a_product_the_shop_may_not_see_cannot_be_set(retailer, shop, tea):
    user, _org = shop
    hidden = factories.product(name_zh="经销商专供")
    b.only_for(hidden, audience="dealer")
    db.session.commit()
    response = set_qty(retailer, hidden, htmx=True, to="1")
    assert response.status_code == 422 and "该商品不存在或暂不可订购" in text(response)
    assert "经销商专供" not in text(response)
    assert cart_rows(user) == []


def test_removing_leaves_other_buyers_carts_alone(retailer, shop, world, tea):
    """Setting 0 deletes only the caller's own line for its own shop."""
    other_user, other_org = world.users["retailer_b"], world.orgs["retailer_b"]
    b.cart_line(other_user, other_org, tea, 2)
    db.session.commit()
    set_qty(retailer, tea, htmx=True, to="0")
    assert cart_rows(other_user) == [(tea.id, 2)]


# -- cart bar, stock level, usual products, thumbnails -----------------------------------------

def test_cart_bar_shows_lines_and_total_and_links_to_the_cart(retailer, shop, tea):
    user, org = shop
    cola = factories.product(name_zh="可乐", base_price_fen=4800)
    b.cart_line(user, org, tea, 4)  # ¥60 × 4
    b.cart_line(user, org, cola, 1)  # ¥48
    db.session.commit()
    page = text(retailer.get("/retailer/catalog"))
    bar = re.search(r'<div id="cart-bar".*?</div>', page, flags=re.S).group(0)
    assert "购物车 2 种" in bar and "¥288.00" in bar and 'href="/retailer/cart"' in bar and "去结算" in bar


def test_stock_is_shown_as_a_level_never_a_quantity(retailer, world, tea):
    dealer = world.orgs["dealer"]
    warehouse = stock.warehouse(dealer, world.regions["hz"], is_default=True)
    plenty = factories.product(name_zh="矿泉水", min_order_qty=1)
    few = factories.product(name_zh="椰汁", min_order_qty=2)
    stock.stock(warehouse, plenty, 537)
    stock.stock(warehouse, few, 7)  # fewer than 5 minimum orders
    stock.stock(warehouse, tea, 1)  # less than one minimum order
    db.session.commit()
    page = text(retailer.get("/retailer/catalog"))
    assert '<span class="stock in">有货</span>' in row_of(page, plenty) and "537" not in page
    assert '<span class="stock low">紧张</span>' in row_of(page, few)
    assert '<span class="stock out">缺货</span>' in row_of(page, tea)


def test_the_rep_sees_the_same_stock_level_when_ordering_for_the_shop(login_as, world):
    warehouse = stock.warehouse(world.orgs["dealer"], world.regions["hz"], is_default=True)
    few = factories.product(name_zh="椰汁", min_order_qty=2)
    stock.stock(warehouse, few, 7)
    db.session.commit()
    page = text(login_as("rep").get(f"/rep/retailers/{world.orgs['retailer'].id}/order"))
    assert '<span class="stock low">紧张</span>' in row_of(page, few) and ">7<" not in page


def test_usual_list_holds_the_shops_own_products_most_often_first(retailer, shop, world):
    user, org = shop
    dealer = world.orgs["dealer"]
    often = factories.product(name_zh="红牛", min_order_qty=1)
    once = factories.product(name_zh="王老吉", min_order_qty=2, order_multiple=2)
    never = factories.product(name_zh="雪碧")
    others = factories.product(name_zh="别家的货")
    for qty in (3, 3, 4):
        b.order(org, dealer, [(often, qty)])
    b.order(org, dealer, [(once, 5)])
    b.order(org, dealer, [(once, 6)], status="cancelled")  # void orders do not count
    b.order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(others, 9)])
    db.session.commit()
    page = text(retailer.get("/retailer/catalog?usual=1"))
    names = re.findall(r'<b class="prod-name">([^<]+)</b>', page)
    assert names == ["红牛", "王老吉"]
    assert "常购 3箱" in row_of(page, often) and "常购 6箱" in row_of(page, once)  # 5 → the next multiple of 2
    assert re.findall(r'name="to" value="(\d+)"', row_of(page, once)) == ["6"]  # one tap: the usual quantity
    assert 'aria-current="page">常购</a>' in page and 'name="usual" value="1"' in page
    empty = text(retailer.get("/retailer/catalog?usual=1&q=雪碧"))
    assert "还没有常购商品" in empty


def test_thumbnail_is_the_image_or_a_placeholder_with_no_request(retailer):
    pictured = factories.product(name_zh="农夫山泉", image_version=3)
    plain = factories.product(name_zh="椰树椰汁")
    db.session.commit()
    page = text(retailer.get("/retailer/catalog"))
    assert f'src="/media/products/{pictured.id}/3/thumb.webp"' in row_of(page, pictured)
    assert re.search(r'<span class="thumb ph h\d" aria-hidden="true">椰</span>', row_of(page, plain))


def test_favicon_linked_and_served(client):
    page = text(client.get("/login"))
    icon = re.search(r'<link rel="icon" href="([^"]+\.svg)" type="image/svg\+xml">', page).group(1)
    svg = client.get(icon)
    assert svg.status_code == 200 and b"<svg" in svg.get_data() and "immutable" in svg.headers["Cache-Control"]
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico.get_data()[:4] == b"\x00\x00\x01\x00"


def test_stock_levels_and_the_usual_list_cost_no_query_per_product(retailer, shop, world):
    """5 or 50 products, each with dealer stock and ordered before: the catalog page stays at 9
    queries (as before stock levels), the "常购" page at a fixed number too."""
    user, org = shop
    warehouse = stock.warehouse(world.orgs["dealer"], world.regions["hz"], is_default=True)
    measured = {"catalog": [], "usual": []}
    for size in (5, 50):
        db.session.execute(delete(CartLine))
        db.session.execute(update(Product).values(status="discontinued"))
        products = b.products(size)
        for n, product in enumerate(products):
            stock.stock(warehouse, product, n + 1)
        b.order(org, world.orgs["dealer"], [(p, 2) for p in products])
        b.cart_line(user, org, products[0], 1)
        db.session.commit()
        for name, url in (("catalog", "/retailer/catalog"), ("usual", "/retailer/catalog?usual=1")):
            retailer.get(url)  # warm caches
            with b.count_queries() as counter:
                response = retailer.get(url)
            assert text(response).count('<li class="prod"') == size
            measured[name].append(len(counter))
    assert measured["catalog"][0] == measured["catalog"][1] <= 9, measured
    assert measured["usual"][0] == measured["usual"][1] <= 9, measured
