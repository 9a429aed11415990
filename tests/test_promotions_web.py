"""The retailer's cart with promotions: reasons on the lines, gifts, hints, the coupon field
(plain form and htmx; a refused code is shown next to the field and changes nothing), and the
order page showing what the order froze."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CartCoupon, Order
from tests import builders_ordering as b
from tests import builders_promotions as bp
from tests import factories
from tests.test_retailer_checkout import checkout_form, text


@pytest.fixture
def promoted_cart(app, world, shop):
    user, org = shop
    with app.test_request_context():
        drink = factories.product(name_zh="椰汁", base_price_fen=10_000)
        bp.promotion(world.users["admin"], world.brand, "buy_x_get_y", {"buy": 10, "get": 1}, product_ids=[drink.id])
        bp.promotion(world.users["admin"], world.brand, "spend_off", {"ladder": [[100_000, 5_000], [300_000, 30_000]]})
        bp.coupon(world.users["admin"], world.brand, off_fen=1_000, code="HELLO2026")
        b.cart_line(user, org, drink, 12)
        db.session.commit()
    return drink


def test_the_cart_explains_promotions_and_hints(retailer, promoted_cart):
    page = text(retailer.get("/retailer/cart"))
    assert "满1000减50" in page and "品牌承担" not in page  # who funds it is the brand's and the dealer's business
    assert "每满10箱赠1箱" in page and "赠品" in page
    assert "还差 ¥1,800.00 可减 ¥300" in page and "再买8箱享每满10箱赠1箱" in page
    assert "¥1,150.00" in page or "1,150.00" in page


def test_a_coupon_applies_without_js_and_a_bad_one_is_refused_next_to_the_field(retailer, promoted_cart):
    retailer.get("/retailer/cart")
    refused = retailer.post("/retailer/cart/coupon", {"coupon_code": "NOPE"})
    assert refused.status_code == 400
    page = text(refused)
    assert re.search(r'id="coupon_code-msg">[^<]*优惠券码无效', page) and 'aria-invalid="true"' in page
    assert db.session.scalar(select(func.count()).select_from(CartCoupon)) == 0

    applied = retailer.post("/retailer/cart/coupon", {"coupon_code": "ｈｅｌｌｏ 2026"})  # full-width, spaced
    assert applied.status_code in (302, 303)
    page = text(retailer.get("/retailer/cart"))
    assert "立减10" in page and "−¥10.00" in page and "品牌承担" not in page
    assert 'value="HELLO2026"' in page

    htmx = retailer.post("/retailer/cart/coupon", {"coupon_code": ""}, htmx=True)
    assert htmx.status_code == 422 and "请输入优惠券码" in text(htmx)


def test_the_order_page_shows_the_frozen_promotions(retailer, login_as, promoted_cart):
    page = text(retailer.get("/retailer/cart"))
    done = retailer.post("/retailer/cart/checkout", checkout_form(page))
    assert done.status_code in (302, 303)
    order = db.session.scalar(select(Order))
    assert order.total_fen == 120_000 - 5_000
    detail = text(retailer.get(f"/retailer/orders/{order.id}"))
    assert "满1000减50 <span class=\"muted small\">（已计入商品金额）" in detail and "赠品" in detail and "品牌承担" not in detail
    seller = text(login_as("dealer").get(f"/dealer/orders/{order.id}"))
    assert "满1000减50 · 品牌承担 <span class=\"muted small\">（已计入商品金额）" in seller  # the seller sees who funds it


def test_catalog_rows_carry_a_promotion_tag_at_the_same_query_count(retailer, app, world):
    with app.test_request_context():
        products = [factories.product(name_zh=f"饮品{i}") for i in range(5)]
        db.session.commit()
    retailer.get("/retailer/catalog")
    with b.count_queries() as before:
        retailer.get("/retailer/catalog")
    with app.test_request_context():
        bp.promotion(world.users["admin"], world.brand, "buy_x_get_y", {"buy": 10, "get": 1},
                     product_ids=[products[0].id])
        bp.promotion(world.users["admin"], world.brand, "percent_off", {"percent_x100": 500},
                     product_ids=[products[1].id], audience={"channels": ["supermarket"]})  # not this shop
    retailer.get("/retailer/catalog")  # the process loads the changed promotions once
    with b.count_queries() as after:
        page = text(retailer.get("/retailer/catalog"))
    assert len(after) == len(before)
    assert page.count('class="tag promo small"') == 1 and "每满10箱赠1箱" in page


def test_the_rep_enters_a_coupon_for_a_shop_on_the_order_page(app, world, login_as, promoted_cart):
    rep = login_as("rep")
    shop_id = world.orgs["retailer"].id
    with app.test_request_context():
        b.cart_line(world.users["rep"], world.orgs["retailer"], promoted_cart, 10)
        db.session.commit()
    refused = rep.post(f"/rep/retailers/{shop_id}/cart/coupon", {"coupon_code": "WRONG"})
    assert refused.status_code == 400 and "优惠券码无效" in text(refused)
    applied = rep.post(f"/rep/retailers/{shop_id}/cart/coupon", {"coupon_code": "hello2026"}, htmx=True)
    assert applied.status_code == 200
    page = text(applied)
    assert "立减10" in page and "每满10箱赠1箱" in page and "品牌承担" not in page
    # the coupon is on the rep's cart for this shop, not on the shop's own cart
    assert db.session.scalar(select(CartCoupon.owner_id)) == world.users["rep"].id


def test_the_cart_bar_and_the_cart_page_agree_on_what_the_total_is(retailer, promoted_cart):
    """The catalog's cart bar shows the lines at the buyer's prices before promotions, and says so
    (no quote on every catalog page); the cart page shows that same figure as 原价, then the
    promotions taken off and what is paid."""
    catalog = text(retailer.get("/retailer/catalog"))
    bar = re.search(r'<div id="cart-bar".*?</div>', catalog, re.S).group(0)
    shown = re.search(r'原价合计</span> <b class="num">([^<]+)</b>', bar)
    assert shown and "优惠在购物车中扣减" in bar
    assert shown.group(1) == "¥1,200.00"  # 12 × ¥100.00, before the 满1000减50
    cart = text(retailer.get("/retailer/cart"))
    assert f"原价 {shown.group(1)}，优惠 ¥50.00" in cart
    assert re.search(r'合计 <b class="num">¥1,150.00</b>', cart)
