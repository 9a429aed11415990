"""Retailer checkout and order pages: submit once, confirm changed prices, order list and
detail, order again; with and without htmx."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CartLine, Order
from tests import builders_ordering as b
from tests import factories

KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
FINGERPRINT_RE = re.compile(r'name="fingerprint" value="([^"]+)"')
ACCEPT_RE = re.compile(r'name="accept_changes" value="([^"]*)"')


def text(response):
    return response.get_data(as_text=True)


def checkout_form(page: str, note: str = "") -> dict:
    return {"idempotency_key": KEY_RE.search(page).group(1), "fingerprint": FINGERPRINT_RE.search(page).group(1),
            "accept_changes": ACCEPT_RE.search(page).group(1), "note": note}


def orders():
    return db.session.execute(select(Order.id, Order.number, Order.total_fen, Order.note).order_by(Order.id)).all()


def cart_size():
    return db.session.scalar(select(func.count()).select_from(CartLine))


# -- checkout ------------------------------------------------------------------------------------

def test_checkout_without_js_creates_the_order_and_shows_it(retailer, shop, world):
    user, org = shop
    b.cart_line(user, org, factories.product(name_zh="椰汁", base_price_fen=3600), 2)
    db.session.commit()
    form = checkout_form(text(retailer.get("/retailer/cart")), note="下午送货")
    response = retailer.post("/retailer/cart/checkout", form)
    [(order_id, number, total, note)] = orders()
    assert response.status_code == 303 and response.headers["Location"] == f"/retailer/orders/{order_id}"
    assert (total, note) == (7200, "下午送货") and cart_size() == 0
    page = text(retailer.get(response.headers["Location"]))
    assert f"订单 {number} 已提交" in page and "椰汁" in page and "¥72.00" in page
    assert world.orgs["dealer"].name in page and "已提交" in page and "下午送货" in page


def test_checkout_with_htmx_redirects_the_browser_to_the_order(retailer, shop):
    user, org = shop
    b.cart_line(user, org, factories.product(), 1)
    db.session.commit()
    response = retailer.post("/retailer/cart/checkout", checkout_form(text(retailer.get("/retailer/cart"))), htmx=True)
    [(order_id, *_rest)] = orders()
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/retailer/orders/{order_id}"


@pytest.mark.parametrize("htmx", [False, True])
def test_a_double_tap_or_browser_retry_makes_one_order(retailer, shop, htmx):
    user, org = shop
    b.cart_line(user, org, factories.product(), 3)
    db.session.commit()
    form = checkout_form(text(retailer.get("/retailer/cart")))
    first = retailer.post("/retailer/cart/checkout", form, htmx=htmx)
    second = retailer.post("/retailer/cart/checkout", form, htmx=htmx)
    [(order_id, number, *_rest)] = orders()
    location = "HX-Redirect" if htmx else "Location"
    assert first.headers[location] == second.headers[location] == f"/retailer/orders/{order_id}"
    assert f"订单 {number} 已提交过，没有重复下单" in text(retailer.get(f"/retailer/orders/{order_id}"))


def test_the_same_key_with_a_different_cart_is_refused_with_a_new_key(retailer, shop):
    user, org = shop
    first, second = b.products(2)
    b.cart_line(user, org, first, 1)
    db.session.commit()
    form = checkout_form(text(retailer.get("/retailer/cart")))
    retailer.post("/retailer/cart/checkout", form)
    b.cart_line(user, org, second, 1)
    db.session.commit()
    response = retailer.post("/retailer/cart/checkout", dict(form, fingerprint=checkout_form(
        text(retailer.get("/retailer/cart")))["fingerprint"]))
    page = text(response)
    assert response.status_code == 409 and "购物车内容不同" in page
    assert KEY_RE.search(page).group(1) != form["idempotency_key"]
    assert len(orders()) == 1 and cart_size() == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_changed_price_at_submit_shows_the_lines_then_confirming_orders_at_the_new_price(retailer, shop, htmx):
    user, org = shop
    moved, steady = factories.product(name_zh="冰露", base_price_fen=1500), factories.product(name_zh="怡宝")
    b.cart_line(user, org, moved, 2)
    b.cart_line(user, org, steady, 1)
    db.session.commit()
    form = checkout_form(text(retailer.get("/retailer/cart")))
    moved.base_price_fen = 1700
    db.session.commit()

    response = retailer.post("/retailer/cart/checkout", form, htmx=htmx)
    page = text(response)
    assert response.status_code == 409 and orders() == []
    assert "1 种商品的价格或供应有变化" in page
    assert "价格有变：原 ¥15.00，现 ¥17.00" in page and page.count("价格有变") == 1
    assert "确认新价格并提交订单" in page and ("<html" in page) is not htmx
    confirm = checkout_form(page)
    assert confirm["idempotency_key"] == form["idempotency_key"] and confirm["accept_changes"] == "1"

    done = retailer.post("/retailer/cart/checkout", confirm, htmx=htmx)
    assert done.status_code == (204 if htmx else 303)
    [(_id, _number, total, _note)] = orders()
    assert total == 2 * 1700 + 4800


def test_a_withdrawn_product_is_named_and_dropped_after_confirmation(retailer, shop):
    user, org = shop
    kept, withdrawn = factories.product(name_zh="苏打水"), factories.product(name_zh="限定款")
    b.cart_line(user, org, kept, 1)
    b.cart_line(user, org, withdrawn, 1)
    withdrawn.status = "discontinued"
    db.session.commit()
    page = text(retailer.get("/retailer/cart"))
    assert "已下架或暂不可订购" in page and "确认新价格并提交订单" in page
    response = retailer.post("/retailer/cart/checkout", checkout_form(page))
    assert response.status_code == 303
    assert "已移除不可订购的商品：限定款" in text(retailer.get(response.headers["Location"]))
    assert cart_size() == 0


def test_checkout_of_an_empty_cart_or_without_a_key_is_refused(retailer, shop):
    user, org = shop
    page = text(retailer.get("/retailer/cart"))
    response = retailer.post("/retailer/cart/checkout", {"idempotency_key": "k" * 24, "fingerprint": ""})
    assert response.status_code == 409 and "购物车是空的" in text(response)
    b.cart_line(user, org, factories.product(), 1)
    db.session.commit()
    for htmx in (False, True):
        response = retailer.post("/retailer/cart/checkout", {"fingerprint": "x"}, htmx=htmx)
        assert response.status_code == (422 if htmx else 400) and "提交无效" in text(response)
    response = retailer.post("/retailer/cart/checkout", {"idempotency_key": "bad key!", "fingerprint": "x"})
    assert response.status_code == 409 and "提交无效" in text(response)
    assert orders() == [] and cart_size() == 1 and page


def test_a_too_long_note_is_shown_next_to_the_field_and_keeps_the_key(retailer, shop):
    user, org = shop
    b.cart_line(user, org, factories.product(), 1)
    db.session.commit()
    form = checkout_form(text(retailer.get("/retailer/cart")), note="很" * 201)
    response = retailer.post("/retailer/cart/checkout", form)
    page = text(response)
    assert response.status_code == 400 and orders() == []
    assert re.search(r'<p class="error" id="note-msg">', page)
    assert KEY_RE.search(page).group(1) == form["idempotency_key"]


# -- order list and detail -------------------------------------------------------------------------

def test_order_list_newest_first_with_status_filter_and_pages(retailer, shop, world):
    user, org = shop
    product = factories.product()
    older = b.order(org, world.orgs["dealer"], [(product, 1)], days_ago=2)
    shipped = b.order(org, world.orgs["dealer"], [(product, 2)], status="shipped")
    theirs = b.order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(product, 1)])
    db.session.commit()
    page = text(retailer.get("/retailer/orders"))
    assert page.index(shipped.number) < page.index(older.number) and theirs.number not in page
    assert "已发货" in page and 'hx-target="#orders-list"' in page
    filtered = retailer.hx_get("/retailer/orders?status=shipped")
    assert filtered.status_code == 200 and "<html" not in text(filtered)
    assert shipped.number in text(filtered) and older.number not in text(filtered)
    assert older.number in text(retailer.get("/retailer/orders?status=nonsense&page=abc"))


def test_order_list_paginates(retailer, shop, world):
    user, org = shop
    product = factories.product()
    numbers = [b.order(org, world.orgs["dealer"], [(product, 1)], days_ago=n).number for n in range(22)]
    db.session.commit()
    first, second = text(retailer.get("/retailer/orders")), text(retailer.get("/retailer/orders?page=2"))
    assert numbers[0] in first and numbers[21] not in first and "第 1 / 2 页" in first
    assert numbers[21] in second and numbers[0] not in second


def test_order_detail_with_lines_totals_and_history(retailer, shop, world):
    user, org = shop
    product = factories.product(name_zh="红茶", base_price_fen=4200)
    order = b.order(org, world.orgs["dealer"], [(product, 3)], placed_by=user)
    db.session.commit()
    for response in (retailer.get(f"/retailer/orders/{order.id}"), retailer.hx_get(f"/retailer/orders/{order.id}")):
        page = text(response)
        assert response.status_code == 200
        assert order.number in page and "红茶" in page and "¥126.00" in page and "基础价" in page
        assert "状态记录" in page and "再来一单" in page and world.orgs["dealer"].name in page
    etag = retailer.get(f"/retailer/orders/{order.id}").headers["ETag"]
    assert retailer.get(f"/retailer/orders/{order.id}", headers={"If-None-Match": etag}).status_code == 304


def test_another_retailers_order_is_not_found(retailer, world):
    theirs = b.order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(factories.product(), 1)])
    db.session.commit()
    retailer.get("/retailer/orders")
    assert retailer.get(f"/retailer/orders/{theirs.id}").status_code == 404
    assert retailer.hx_get(f"/retailer/orders/{theirs.id}").status_code == 404
    assert retailer.post(f"/retailer/orders/{theirs.id}/reorder", {}).status_code == 404
    assert retailer.get("/retailer/orders/999999").status_code == 404
    assert cart_size() == 0


@pytest.mark.parametrize("htmx", [False, True])
def test_order_again_fills_the_cart_and_says_what_was_skipped(retailer, shop, world, htmx):
    user, org = shop
    kept, withdrawn = factories.product(name_zh="绿茶"), factories.product(name_zh="停产饮料")
    order = b.order(org, world.orgs["dealer"], [(kept, 4), (withdrawn, 1)])
    withdrawn.status = "discontinued"
    db.session.commit()
    retailer.get(f"/retailer/orders/{order.id}")
    response = retailer.post(f"/retailer/orders/{order.id}/reorder", {}, htmx=htmx)
    if htmx:
        assert response.status_code == 204 and response.headers["HX-Redirect"] == "/retailer/cart"
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/retailer/cart"
    page = text(retailer.get("/retailer/cart"))
    assert "已将 1 种商品加入购物车" in page and "以下商品已不可订购，未加入：停产饮料" in page
    assert "绿茶" in page
    assert db.session.execute(select(CartLine.product_id, CartLine.qty)).all() == [(kept.id, 4)]


def test_order_again_needs_the_csrf_token(retailer, shop, world):
    user, org = shop
    order = b.order(org, world.orgs["dealer"], [(factories.product(), 1)])
    db.session.commit()
    assert retailer.post(f"/retailer/orders/{order.id}/reorder", {}, csrf=False).status_code == 400
    assert cart_size() == 0


def test_checkout_request_runs_a_fixed_number_of_queries(retailer, shop):
    user, org = shop
    measured = []
    for size in (2, 20):
        products = b.products(size, base_price_fen=2000)
        b.price_list({p: 1900 for p in products}, channel="kiosk")
        for p in products:
            b.cart_line(user, org, p, 1, quoted=1900)
        db.session.commit()
        form = checkout_form(text(retailer.get("/retailer/cart")))
        with b.count_queries() as counter:
            response = retailer.post("/retailer/cart/checkout", form)
        assert response.status_code == 303
        measured.append(len(counter))
    assert measured[0] == measured[1], measured
    assert [total for _id, _n, total, _note in orders()] == [3800, 38_000]


@pytest.mark.parametrize("how", ["orm", "sql"])
def test_a_price_list_change_between_quote_and_submit_is_seen_by_checkout(retailer, shop, how):
    """The price book is per process: a list price changed after the cart page was shown
    (through the ORM, or by plain SQL as an import or a psql session would) changes its token,
    so checkout re-prices from the database and asks the buyer to confirm."""
    from sqlalchemy import update

    from app.models import PriceListItem

    user, org = shop
    product = factories.product(name_zh="冰露", base_price_fen=2000)
    price_list = b.price_list({product: 1500}, channel="kiosk")
    b.cart_line(user, org, product, 2, quoted=1500)
    db.session.commit()
    form = checkout_form(text(retailer.get("/retailer/cart")))  # the book now holds 15.00
    if how == "orm":
        price_list.items[0].price_fen = 1700
        db.session.commit()
    else:
        with db.engine.begin() as connection:
            connection.execute(update(PriceListItem).where(PriceListItem.product_id == product.id)
                               .values(price_fen=1700))

    response = retailer.post("/retailer/cart/checkout", form)
    page = text(response)
    assert response.status_code == 409 and orders() == []
    assert "价格有变：原 ¥15.00，现 ¥17.00" in page
    done = retailer.post("/retailer/cart/checkout", checkout_form(page))
    assert done.status_code == 303
    assert [total for _id, _n, total, _note in orders()] == [3400]
