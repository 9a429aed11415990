"""Retailer catalog, add to cart, cart page and home: with and without htmx, bad input, ETags,
query counts."""
import html
import re

import pytest
from sqlalchemy import delete, select, update

from app.extensions import db
from app.models import CartLine, Product
from tests import builders_ordering as b
from tests import factories


def cart_rows(user):
    return db.session.execute(select(CartLine.product_id, CartLine.qty).where(CartLine.owner_id == user.id)
                              .order_by(CartLine.id)).all()


def text(response):
    return response.get_data(as_text=True)


# -- catalog ---------------------------------------------------------------------------------

def test_catalog_shows_visible_products_with_the_retailers_own_prices(retailer, shop, world):
    user, org = shop
    cat = factories.category(name_zh="矿泉水")
    water = factories.product(cat, name_zh="农夫山泉 550ml", pinyin="nfsq", base_price_fen=2400, min_order_qty=2,
                              order_multiple=2, image_version=3)
    tea = factories.product(cat, name_zh="东方树叶", base_price_fen=6000)
    hidden = factories.product(cat, name_zh="经销商专供")
    b.only_for(hidden, audience="dealer")
    factories.product(cat, name_zh="草稿商品", status="draft")
    b.contract(org, tea, 5500, reference="HT-9")
    db.session.commit()

    response = retailer.get("/retailer/catalog")
    page = text(response)
    assert response.status_code == 200
    assert "农夫山泉 550ml" in page and "东方树叶" in page
    assert "经销商专供" not in page and "草稿商品" not in page
    assert "¥24.00" in page and "¥55.00" in page and "¥60.00" not in page
    assert "起订 2" in page and "2 的倍数" in page
    assert f'src="/media/products/{water.id}/3/thumb.webp" width="56" height="56" loading="lazy"' in page
    assert 'hx-trigger="submit, input changed delay:400ms' in page and 'hx-push-url="true"' in page
    assert f'name="to" value="2"' in page  # the first + puts the minimum (2) in the cart
    assert '<html' in page and 'id="cart-badge"' in page


def test_catalog_fragment_for_htmx_and_full_page_otherwise(retailer):
    factories.product(name_zh="红牛")
    db.session.commit()
    fragment = retailer.hx_get("/retailer/catalog?q=红牛")
    assert fragment.status_code == 200
    assert "红牛" in text(fragment) and "<html" not in text(fragment) and 'role="search"' not in text(fragment)
    assert "HX-Request" in fragment.headers["Vary"]
    boosted = retailer.get("/retailer/catalog?q=红牛", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in text(boosted)


@pytest.mark.parametrize("query, expected", [
    ("可乐", "可口可乐"), ("kkkl", "可口可乐"), ("KX-0042", "可口可乐"), ("690123", "可口可乐"), ("Cola", "可口可乐"),
])
def test_search_by_name_pinyin_code_barcode(retailer, query, expected):
    factories.product(name_zh="可口可乐", name_en="Coca Cola", pinyin="kkkl", code="KX-0042", gtin="6901234567892")
    factories.product(name_zh="雪碧", pinyin="xb")
    db.session.commit()
    page = text(retailer.get("/retailer/catalog", query_string={"q": query}))
    assert expected in page and "雪碧" not in page


def test_search_with_like_wildcards_matches_literally(retailer):
    factories.product(name_zh="雪碧")
    db.session.commit()
    page = text(retailer.get("/retailer/catalog?q=%25"))
    assert "雪碧" not in page and "没有找到商品" in page


def test_category_filter_and_bad_parameters_fall_back(retailer):
    drinks, snacks = factories.category(name_zh="饮料"), factories.category(name_zh="零食")
    factories.product(drinks, name_zh="橙汁")
    factories.product(snacks, name_zh="薯片")
    db.session.commit()
    page = text(retailer.get(f"/retailer/catalog?category={snacks.id}"))
    assert "薯片" in page and "橙汁" not in page
    page = text(retailer.get("/retailer/catalog?category=abc&page=x"))
    assert "薯片" in page and "橙汁" in page


def test_catalog_paginates_and_keeps_the_search_in_page_links(retailer, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    for n in range(7):
        factories.product(name_zh=f"茶饮{n}", code=f"TEA{n}")
    db.session.commit()
    first = text(retailer.get("/retailer/catalog?q=茶饮"))
    assert "共 7 种商品" in first and "第 1 / 3 页" in first
    assert 'href="/retailer/catalog?q=%E8%8C%B6%E9%A5%AE&amp;page=2"' in first
    assert 'hx-target="#catalog-list"' in first
    last = text(retailer.hx_get("/retailer/catalog?q=茶饮&page=3"))
    assert "茶饮6" in last and "茶饮0" not in last and "第 3 / 3 页" in last
    assert "第 3 / 3 页" in text(retailer.get("/retailer/catalog?q=茶饮&page=99"))


def test_catalog_revalidates_with_an_etag(retailer, shop):
    user, org = shop
    product = factories.product()
    db.session.commit()
    first = retailer.get("/retailer/catalog")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    assert "private" in first.headers["Cache-Control"] and "no-cache" in first.headers["Cache-Control"]
    again = retailer.get("/retailer/catalog", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert retailer.get("/retailer/catalog?q=x", headers={"If-None-Match": etag}).status_code == 200
    b.cart_line(user, org, product, 1)
    db.session.commit()
    changed = retailer.get("/retailer/catalog", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_catalog_runs_a_fixed_number_of_queries(retailer, shop):
    """5 or 50 products on the page, with price lists, contracts and a cart: the same queries
    (user, region, count, page, contracts, price lists, cart, categories, and what the layout needs)."""
    user, org = shop
    measured = []
    for size in (5, 50):
        db.session.execute(delete(CartLine))
        db.session.execute(update(Product).values(status="discontinued"))
        products = b.products(size)
        b.price_list({p: 100 + n for n, p in enumerate(products)}, channel="kiosk")
        for p in products[: size // 2]:
            b.contract(org, p, 90)
        b.cart_line(user, org, products[0], 1)
        db.session.commit()
        retailer.get("/retailer/catalog")  # warm caches (templates, compiled statements)
        with b.count_queries() as counter:
            response = retailer.get("/retailer/catalog")
        assert response.status_code == 200 and text(response).count('class="prod"') == size
        measured.append(len(counter))
    assert measured[0] == measured[1] and measured[0] <= 10, measured


# -- add to cart -----------------------------------------------------------------------------

def test_add_with_htmx_swaps_the_row_and_updates_the_badge(retailer, shop):
    user, _org = shop
    product = factories.product(name_zh="王老吉", min_order_qty=2, order_multiple=2)
    db.session.commit()
    retailer.get("/retailer/catalog")
    response = retailer.post("/retailer/cart/add", {"product_id": product.id, "qty": 4,
                                                    "next": "/retailer/catalog?q=王"}, htmx=True)
    body = text(response)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<li class="prod" id="p{product.id}">')
    assert "已加入 4，购物车中共 4。" in body and 'name="qty" value="4"' in body
    assert re.search(r'<span id="cart-badge" class="badge" hx-swap-oob="true"[^>]*>1</span>', body)
    assert 'value="/retailer/catalog?q=王"' in body
    assert len(response.get_data()) < 3 * 1024
    assert cart_rows(user) == [(product.id, 4)]


def test_add_without_js_lands_on_the_added_page_that_leads_back_to_the_same_catalog_page_and_row(retailer, shop):
    user, _org = shop
    product = factories.product(name_zh="加多宝")
    db.session.commit()
    retailer.get("/retailer/catalog")
    back = "/retailer/catalog?q=%E5%8A%A0&page=2"
    response = retailer.post("/retailer/cart/add", {"product_id": product.id, "qty": 3, "next": back})
    assert response.status_code == 303
    assert back_link(retailer, response) == f"{back}#p{product.id}"
    page = text(retailer.get(back))
    assert "已加入 3" not in page  # shown once, on the added page
    assert re.search(r'id="cart-badge" class="badge"[^>]*>1</span>', page)
    assert cart_rows(user) == [(product.id, 3)]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/retailer/catalog", "/retailer/orders",
                                    "/retailer/catalog#x", ""])
def test_add_only_ever_returns_to_the_catalog(retailer, target):
    product = factories.product()
    db.session.commit()
    retailer.get("/retailer/catalog")
    response = retailer.post("/retailer/cart/add", {"product_id": product.id, "qty": 1, "next": target})
    assert back_link(retailer, response) == f"/retailer/catalog#p{product.id}"


def back_link(client, response) -> str:
    """The way back to the catalog from the page a no-JS add lands on (the row and the cart bar)."""
    assert response.headers["Location"].startswith("/retailer/cart/added?")
    page = text(client.get(response.headers["Location"]))
    assert "已加入 " in page and "购物车中共" in page
    return html.unescape(re.search(r'<p><a href="([^"]+)">', page).group(1))


BAD_QUANTITIES = [("0", "大于 0"), ("-2", "大于 0"), ("abc", "整数"), ("", "请输入数量"), ("2.5", "整数"),
                  ("10000", "不能超过"), ("99999999999999999999999", "不能超过"), ("5", "倍数"), ("2", "起订量为 4")]


@pytest.mark.parametrize("qty, message", BAD_QUANTITIES)
def test_bad_quantity_with_htmx_shows_the_message_in_the_row(retailer, shop, qty, message):
    user, _org = shop
    product = factories.product(min_order_qty=4, order_multiple=2)
    db.session.commit()
    retailer.get("/retailer/catalog")
    response = retailer.post("/retailer/cart/add", {"product_id": product.id, "qty": qty,
                                                    "next": "/retailer/catalog"}, htmx=True)
    body = text(response)
    assert response.status_code == 422
    assert body.lstrip().startswith(f'<li class="prod" id="p{product.id}">')
    assert re.search(rf'<p class="error" id="e{product.id}">[^<]*{message}', body)
    assert 'aria-invalid="true"' in body and "hx-swap-oob" not in body
    assert cart_rows(user) == []


@pytest.mark.parametrize("qty, message", BAD_QUANTITIES)
def test_bad_quantity_without_js_renders_the_catalog_page_with_the_message(retailer, shop, qty, message):
    user, _org = shop
    product = factories.product(name_zh="营养快线", min_order_qty=4, order_multiple=2)
    factories.product(name_zh="冰红茶")
    db.session.commit()
    retailer.get("/retailer/catalog")
    response = retailer.post("/retailer/cart/add", {"product_id": product.id, "qty": qty,
                                                    "next": "/retailer/catalog?q=营养"})
    body = text(response)
    assert response.status_code == 400
    assert "<html" in body and "营养快线" in body and "冰红茶" not in body  # the page it came from
    assert re.search(rf'<p class="error" id="e{product.id}">[^<]*{message}', body)
    assert f'value="{qty[:12]}"' in body
    assert cart_rows(user) == []


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize("kind", ["unknown", "hidden", "discontinued", "not_a_number", "missing", "huge"])
def test_products_the_retailer_may_not_order_are_refused(retailer, shop, kind, htmx):
    user, _org = shop
    product = factories.product(name_zh="秘密商品")
    product_id = {"unknown": product.id + 999, "not_a_number": "abc", "missing": "",
                  "huge": "9" * 30}.get(kind, product.id)
    if kind == "hidden":
        b.only_for(product, channel="supermarket")
    if kind == "discontinued":
        product.status = "discontinued"
    db.session.commit()
    retailer.get("/retailer/catalog")
    response = retailer.post("/retailer/cart/add", {"product_id": product_id, "qty": 1,
                                                    "next": "/retailer/catalog"}, htmx=htmx)
    body = text(response)
    assert response.status_code == (422 if htmx else 400)
    assert "不存在或暂不可订购" in body or "请选择商品" in body
    if htmx or kind in ("hidden", "discontinued"):
        assert "秘密商品" not in body
    assert cart_rows(user) == []


def test_add_without_csrf_token_is_refused(retailer, shop):
    user, _org = shop
    product = factories.product()
    db.session.commit()
    response = retailer.post("/retailer/cart/add", {"product_id": product.id, "qty": 1}, csrf=False)
    assert response.status_code == 400 and cart_rows(user) == []


# -- cart page ---------------------------------------------------------------------------------

def test_the_cart_counts_its_units_in_each_language(retailer, shop):
    user, org = shop
    b.cart_line(user, org, factories.product(name_zh="矿泉水", base_price_fen=2400), 1)
    db.session.commit()
    assert "共 1 件" in text(retailer.get("/retailer/cart"))
    retailer.post("/locale", {"locale": "en", "next": "/retailer/cart"})
    english = text(retailer.get("/retailer/cart"))
    assert "1 unit" in english and "1 units" not in english
    b.cart_line(user, org, factories.product(name_zh="果汁", base_price_fen=10_900), 2)
    db.session.commit()
    assert "3 units" in text(retailer.get("/retailer/cart"))


def test_cart_page_lists_lines_totals_and_a_checkout_form(retailer, shop):
    user, org = shop
    water, juice = factories.product(name_zh="矿泉水", base_price_fen=2400), factories.product(name_zh="果汁", tax_rate=9,
                                                                                                 base_price_fen=10_900)
    b.cart_line(user, org, water, 2)
    b.cart_line(user, org, juice, 1)
    db.session.commit()
    response = retailer.get("/retailer/cart")
    page = text(response)
    assert response.status_code == 200 and "<html" in page
    assert "矿泉水" in page and "果汁" in page
    assert "¥48.00" in page and "¥109.00" in page and "¥157.00" in page
    assert "含税 ¥14.52" in page  # 4800*13/113 = 552.2 → 552; 10900*9/109 = 900
    assert re.search(r'name="idempotency_key" value="[A-Za-z0-9_-]{20,}"', page)
    assert 'name="fingerprint" value="' in page and "提交订单" in page
    assert "ETag" not in response.headers
    assert re.search(r'id="cart-badge" class="badge"[^>]*>2</span>', page)
    fragment = text(retailer.hx_get("/retailer/cart"))
    assert fragment.lstrip().startswith('<div id="cart">') and "<html" not in fragment and "矿泉水" in fragment


def test_each_cart_render_carries_a_fresh_idempotency_key(retailer, shop):
    user, org = shop
    b.cart_line(user, org, factories.product(), 1)
    db.session.commit()
    key = re.compile(r'name="idempotency_key" value="([^"]+)"')
    first, second = (key.search(text(retailer.get("/retailer/cart"))).group(1) for _ in range(2))
    assert first != second


def test_empty_cart_says_so(retailer):
    page = text(retailer.get("/retailer/cart"))
    assert "购物车是空的" in page and "提交订单" not in page


def test_update_quantity_with_htmx_and_without(retailer, shop):
    user, org = shop
    product = factories.product(base_price_fen=1000)
    line = b.cart_line(user, org, product, 1)
    db.session.commit()
    retailer.get("/retailer/cart")
    response = retailer.post(f"/retailer/cart/lines/{line.id}", {"qty": 5}, htmx=True)
    assert response.status_code == 200 and "¥50.00" in text(response) and "数量已更新" in text(response)
    assert 'hx-swap-oob="true"' in text(response)
    assert cart_rows(user) == [(product.id, 5)]
    response = retailer.post(f"/retailer/cart/lines/{line.id}", {"qty": 7})
    assert response.status_code == 303 and response.headers["Location"] == "/retailer/cart"
    assert "数量已更新" in text(retailer.get("/retailer/cart"))
    assert cart_rows(user) == [(product.id, 7)]


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize("qty, message", BAD_QUANTITIES)
def test_bad_quantity_update_shows_the_message_and_keeps_the_line(retailer, shop, qty, message, htmx):
    user, org = shop
    product = factories.product(min_order_qty=4, order_multiple=2)
    line = b.cart_line(user, org, product, 4)
    db.session.commit()
    retailer.get("/retailer/cart")
    response = retailer.post(f"/retailer/cart/lines/{line.id}", {"qty": qty}, htmx=htmx)
    body = text(response)
    assert response.status_code == (422 if htmx else 400)
    assert re.search(rf'<p class="error" id="e{line.id}">[^<]*{message}', body)
    assert ("<html" in body) is not htmx
    assert cart_rows(user) == [(product.id, 4)]


@pytest.mark.parametrize("htmx", [True, False])
def test_another_retailers_cart_line_is_not_found(retailer, world, htmx):
    other_user, other_org = world.users["retailer_b"], world.orgs["retailer_b"]
    product = factories.product()
    theirs = b.cart_line(other_user, other_org, product, 3)
    db.session.commit()
    retailer.get("/retailer/cart")
    assert retailer.post(f"/retailer/cart/lines/{theirs.id}", {"qty": 5}, htmx=htmx).status_code == 404
    assert retailer.post(f"/retailer/cart/lines/{theirs.id}", {"qty": "abc"}, htmx=htmx).status_code == 404
    assert retailer.post(f"/retailer/cart/lines/{theirs.id}/remove", {}, htmx=htmx).status_code == 404
    assert retailer.post("/retailer/cart/lines/999999/remove", {}, htmx=htmx).status_code == 404
    assert cart_rows(other_user) == [(product.id, 3)]


def test_remove_with_htmx_and_without(retailer, shop):
    user, org = shop
    first, second = b.products(2)
    line1, line2 = b.cart_line(user, org, first, 1), b.cart_line(user, org, second, 1)
    db.session.commit()
    retailer.get("/retailer/cart")
    response = retailer.post(f"/retailer/cart/lines/{line1.id}/remove", {}, htmx=True)
    assert response.status_code == 200 and "已从购物车移除" in text(response)
    assert re.search(r'id="cart-badge" class="badge" hx-swap-oob="true"[^>]*>1</span>', text(response))
    response = retailer.post(f"/retailer/cart/lines/{line2.id}/remove", {})
    assert response.status_code == 303 and response.headers["Location"] == "/retailer/cart"
    assert cart_rows(user) == []
    page = text(retailer.get("/retailer/cart"))
    assert "已从购物车移除" in page and re.search(r'id="cart-badge" class="badge" hidden', page)


def test_changed_price_is_marked_on_the_cart_page(retailer, shop):
    user, org = shop
    product = factories.product(name_zh="脉动", base_price_fen=3000)
    b.cart_line(user, org, product, 1, quoted=2800)
    db.session.commit()
    page = text(retailer.get("/retailer/cart"))
    assert "价格有变：原 ¥28.00，现 ¥30.00" in page
    assert 'name="accept_changes" value="1"' in page and "确认新价格并提交订单" in page


# -- home and access ---------------------------------------------------------------------------

def test_home_has_quick_links_and_recent_orders(retailer, shop, world):
    user, org = shop
    product = factories.product()
    order = b.order(org, world.orgs["dealer"], [(product, 2)])
    b.order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(product, 1)])
    b.cart_line(user, org, product, 1)
    db.session.commit()
    for response in (retailer.get("/retailer/"), retailer.hx_get("/retailer/")):
        page = text(response)
        assert response.status_code == 200 and "欢迎" in page
        assert 'href="/retailer/catalog"' in page and 'href="/retailer/orders"' in page
        assert order.number in page and page.count('href="/retailer/orders/') == 1
        assert "购物车（1）" in page


@pytest.mark.parametrize("url", ["/retailer/catalog", "/retailer/cart", "/retailer/orders", "/retailer/"])
def test_retailer_pages_need_a_retailer(client, login_as, url):
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    assert login_as("dealer").get(url).status_code == 403
