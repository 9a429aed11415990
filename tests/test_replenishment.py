"""Replenishment: a dealer orders from the brand with the retailer's cart and checkout services at
its own (dealer tier) prices; its list and detail of replenishment orders, withdrawing one,
ordering again, reorder suggestions; other dealers' carts and orders are not found."""
import re
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CartLine, Order, ReorderRule
from app.services.ordering import cart
from app.services.ordering import replenishment
from app.services.core.errors import DomainError
from tests import builders_lifecycle as b
from tests import builders_ordering as bo
from tests import factories

KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
FINGERPRINT_RE = re.compile(r'name="fingerprint" value="([^"]+)"')


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def goods(world):
    """A product at the dealer tier A price ¥40.00 (base ¥48.00) and one only retailers see."""
    tea = factories.product(name_zh="乌龙茶", base_price_fen=4_800)
    bo.price_list({tea: 4_000}, audience="dealer", tier="A", name="A 级经销价")
    retail_only = factories.product(name_zh="零售专供")
    bo.only_for(retail_only, audience="retailer")
    db.session.commit()
    return tea, retail_only


@pytest.fixture
def dealer(login_as):
    return login_as("dealer")


def cart_lines(user):
    return db.session.execute(select(CartLine.product_id, CartLine.qty).where(CartLine.owner_id == user.id)).all()


def checkout_form(page: str, note: str = "") -> dict:
    return {"idempotency_key": KEY_RE.search(page).group(1), "fingerprint": FINGERPRINT_RE.search(page).group(1),
            "accept_changes": "", "note": note}


@pytest.mark.parametrize("htmx", [False, True])
def test_catalog_shows_the_dealers_own_prices_and_products(dealer, goods, htmx):
    tea, retail_only = goods
    response = dealer.hx_get("/dealer/replenishment/") if htmx else dealer.get("/dealer/replenishment/")
    page = text(response)
    assert response.status_code == 200 and ("<html" in page) is not htmx
    assert "乌龙茶" in page and "¥40.00" in page and "A 级经销价" in page
    assert "零售专供" not in page


def test_add_to_cart_without_js_returns_to_the_catalog(dealer, goods, world):
    tea, _ = goods
    response = dealer.post("/dealer/replenishment/cart/add",
                           {"product_id": tea.id, "qty": "12", "next": "/dealer/replenishment/?q=茶"})
    assert response.status_code == 303
    assert unquote(response.headers["Location"]) == f"/dealer/replenishment/?q=茶#p{tea.id}"
    assert cart_lines(world.users["dealer"]) == [(tea.id, 12)]


def test_add_to_cart_with_htmx_returns_the_row_and_the_cart_count(dealer, goods):
    tea, _ = goods
    response = dealer.post("/dealer/replenishment/cart/add", {"product_id": tea.id, "qty": "3"}, htmx=True)
    page = text(response)
    assert response.status_code == 200 and f'<tr id="p{tea.id}">' in page and "已加入 3，购物车中共 3。" in page
    assert 'id="repl-cart-link"' in page and 'hx-swap-oob="true"' in page and "补货购物车（1）" in page


@pytest.mark.parametrize("htmx", [False, True])
def test_a_bad_quantity_is_shown_on_the_row_and_nothing_is_saved(dealer, goods, world, htmx):
    tea, _ = goods
    response = dealer.post("/dealer/replenishment/cart/add", {"product_id": tea.id, "qty": "0"}, htmx=htmx)
    assert response.status_code == (422 if htmx else 400)
    assert re.search(rf'<p class="error" id="e{tea.id}">数量必须大于 0。</p>', text(response))
    assert cart_lines(world.users["dealer"]) == []


def test_a_product_the_dealer_may_not_order_is_refused(dealer, goods, world):
    _, retail_only = goods
    response = dealer.post("/dealer/replenishment/cart/add", {"product_id": retail_only.id, "qty": "1"})
    assert response.status_code == 400 and "该商品不存在或暂不可订购" in text(response)
    assert cart_lines(world.users["dealer"]) == []


def test_cart_update_remove_and_errors(dealer, goods, world):
    tea, _ = goods
    user, org = world.users["dealer"], world.orgs["dealer"]
    line = cart.add_to_cart(user, org, tea.id, 5)
    db.session.commit()
    page = text(dealer.get("/dealer/replenishment/cart"))
    assert "乌龙茶" in page and "¥200.00" in page and "提交补货单" in page
    bad = dealer.post(f"/dealer/replenishment/cart/lines/{line.id}", {"qty": "abc"}, htmx=True)
    assert bad.status_code == 422 and "请输入整数数量" in text(bad)
    assert dealer.post(f"/dealer/replenishment/cart/lines/{line.id}", {"qty": "8"}).status_code == 303
    assert cart_lines(user) == [(tea.id, 8)]
    assert dealer.post(f"/dealer/replenishment/cart/lines/{line.id}/remove").status_code == 303
    assert cart_lines(user) == []


def test_another_dealers_cart_line_is_not_found(dealer, goods, world):
    tea, _ = goods
    theirs = cart.add_to_cart(world.users["dealer_b"], world.orgs["dealer_b"], tea.id, 2)
    db.session.commit()
    assert dealer.post(f"/dealer/replenishment/cart/lines/{theirs.id}", {"qty": "9"}).status_code == 404
    assert dealer.post(f"/dealer/replenishment/cart/lines/{theirs.id}/remove").status_code == 404
    assert cart_lines(world.users["dealer_b"]) == [(tea.id, 2)]


def test_checkout_orders_from_the_brand_and_is_approved_at_once(dealer, goods, world):
    tea, _ = goods
    cart.add_to_cart(world.users["dealer"], world.orgs["dealer"], tea.id, 10)
    db.session.commit()
    form = checkout_form(text(dealer.get("/dealer/replenishment/cart")), note="周五前到货")
    response = dealer.post("/dealer/replenishment/cart/checkout", form)
    [order] = db.session.scalars(select(Order)).all()
    assert response.status_code == 303 and response.headers["Location"] == f"/dealer/replenishment/orders/{order.id}"
    assert (order.buyer_id, order.seller_id, order.total_fen, order.status) == \
        (world.orgs["dealer"].id, world.brand.id, 40_000, "approved")
    page = text(dealer.get(response.headers["Location"]))
    assert f"订单 {order.number} 已提交，并已自动审核通过。" in page and "周五前到货" in page and "自动审核" in page
    again = dealer.post("/dealer/replenishment/cart/checkout", form)  # a double submit
    assert again.status_code == 303 and db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_checkout_over_the_credit_limit_waits_for_the_brand(dealer, goods, world):
    tea, _ = goods
    world.orgs["dealer"].credit_limit_fen = 10_000
    cart.add_to_cart(world.users["dealer"], world.orgs["dealer"], tea.id, 10)
    db.session.commit()
    response = dealer.post("/dealer/replenishment/cart/checkout",
                           checkout_form(text(dealer.get("/dealer/replenishment/cart"))), htmx=True)
    [order] = db.session.scalars(select(Order)).all()
    assert response.status_code == 204 and order.status == "on_hold"
    assert f"订单 {order.number} 已提交，等待 {world.brand.name} 审核：超出信用额度。" in text(
        dealer.get(response.headers["HX-Redirect"]))
    assert b.notices_for(world.users["admin"], "order_review")


def test_checkout_with_a_broken_form_is_refused(dealer, goods, world):
    tea, _ = goods
    cart.add_to_cart(world.users["dealer"], world.orgs["dealer"], tea.id, 1)
    db.session.commit()
    response = dealer.post("/dealer/replenishment/cart/checkout", {"idempotency_key": "", "fingerprint": ""})
    assert response.status_code == 400 and "提交无效" in text(response)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_the_list_holds_only_the_dealers_own_replenishment_orders(dealer, goods, world):
    tea, _ = goods
    mine = b.order(world.orgs["dealer"], world.brand, [(tea, 5)], status="approved")
    theirs = b.order(world.orgs["dealer_b"], world.brand, [(tea, 6)])
    incoming = b.order(world.orgs["retailer"], world.orgs["dealer"], [(tea, 1)])
    db.session.commit()
    page = text(dealer.get("/dealer/replenishment/orders"))
    assert mine.number in page and theirs.number not in page and incoming.number not in page
    assert mine.number not in text(dealer.hx_get("/dealer/replenishment/orders?status=submitted"))
    assert dealer.get(f"/dealer/replenishment/orders/{theirs.id}").status_code == 404
    assert dealer.get(f"/dealer/replenishment/orders/{incoming.id}").status_code == 404
    assert dealer.post(f"/dealer/replenishment/orders/{theirs.id}/cancel", {"note": "x", "confirmed": "1"}).status_code == 404
    assert dealer.post(f"/dealer/replenishment/orders/{theirs.id}/reorder").status_code == 404


@pytest.mark.parametrize("htmx", [False, True])
def test_withdrawing_needs_a_reason(dealer, goods, world, htmx):
    tea, _ = goods
    order = b.order(world.orgs["dealer"], world.brand, [(tea, 5)], status="on_hold")
    db.session.commit()
    response = dealer.post(f"/dealer/replenishment/orders/{order.id}/cancel", {"note": ""}, htmx=htmx)
    assert response.status_code == (422 if htmx else 400)
    assert re.search(r'<p class="error" id="note-msg">请填写原因。</p>', text(response))
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "on_hold"
    response = dealer.post(f"/dealer/replenishment/orders/{order.id}/cancel", {"note": "下错了", "confirmed": "1"}, htmx=htmx)
    assert response.status_code == (204 if htmx else 303)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "cancelled"


def test_an_accepted_order_cannot_be_withdrawn(dealer, goods, world):
    tea, _ = goods
    order = b.order(world.orgs["dealer"], world.brand, [(tea, 5)], status="approved")
    db.session.commit()
    assert "取消补货单" not in text(dealer.get(f"/dealer/replenishment/orders/{order.id}"))
    response = dealer.post(f"/dealer/replenishment/orders/{order.id}/cancel", {"note": "不要了", "confirmed": "1"})
    assert response.status_code == 409 and "不能再取消" in text(response)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "approved"


def test_order_again_fills_the_cart(dealer, goods, world):
    tea, _ = goods
    order = b.order(world.orgs["dealer"], world.brand, [(tea, 7)], status="completed")
    db.session.commit()
    response = dealer.post(f"/dealer/replenishment/orders/{order.id}/reorder")
    assert response.status_code == 303 and response.headers["Location"] == "/dealer/replenishment/cart"
    assert cart_lines(world.users["dealer"]) == [(tea.id, 7)]


# --- reorder suggestions -------------------------------------------------------------------------

@pytest.fixture
def low_stock(world, goods):
    tea, _ = goods
    warehouse = b.stocked_warehouse(world.orgs["dealer"], world.regions["hz"], {tea: 4})
    db.session.add(ReorderRule(warehouse_id=warehouse.id, product_id=tea.id, safety_stock=3, reorder_point=10))
    b.order(world.orgs["dealer"], world.brand, [(tea, 2)], status="shipped")  # on its way
    db.session.commit()
    return tea


def test_suggestions_order_up_to_twice_the_reorder_point(world, low_stock):
    [suggestion] = replenishment.reorder_suggestions(world.users["dealer"], world.orgs["dealer"])
    assert (suggestion.product.id, suggestion.available, suggestion.on_order, suggestion.qty) == (low_stock.id, 4, 2, 14)
    assert replenishment.reorder_suggestions(world.users["dealer_b"], world.orgs["dealer_b"]) == []


def test_adding_the_suggestions_fills_the_cart_once(dealer, world, low_stock):
    assert "补到再订货点的两倍" in text(dealer.get("/dealer/replenishment/cart"))
    response = dealer.post("/dealer/replenishment/cart/suggestions", htmx=True)
    assert response.status_code == 200 and "已按补货建议加入 1 种商品" in text(response)
    assert cart_lines(world.users["dealer"]) == [(low_stock.id, 14)]
    again = dealer.post("/dealer/replenishment/cart/suggestions")
    assert again.status_code == 303
    # The cart covers the one product under its reorder point: said so, not "set reorder points first".
    page = text(dealer.get(again.headers["Location"]))
    assert page.count("补货建议的 1 种商品都已在购物车中。") == 2 and "需在库存页面设置再订货点" not in page
    assert cart_lines(world.users["dealer"]) == [(low_stock.id, 14)]
    dealer.post(f"/dealer/replenishment/cart/lines/{_line_id(world)}/remove")
    assert "补到再订货点的两倍" in text(dealer.get("/dealer/replenishment/cart"))  # suggested again


def _line_id(world):
    return db.session.scalar(select(CartLine.id).where(CartLine.owner_id == world.users["dealer"].id))


def test_no_reorder_points_says_how_to_get_suggestions(dealer, world, goods):
    assert "目前没有需要补货的商品（需在库存页面设置再订货点）。" in text(dealer.get("/dealer/replenishment/cart"))


def test_only_dealers_replenish(world):
    with pytest.raises(DomainError):
        replenishment.reorder_suggestions(world.users["retailer"], world.orgs["retailer"])


def test_other_roles_cannot_open_replenishment(login_as, goods):
    for role in ("retailer", "rep", "admin"):
        assert login_as(role).get("/dealer/replenishment/").status_code == 403


def test_one_add_shows_one_message_in_the_row_with_and_without_js(dealer, goods):
    """Issue 10: one add showed two messages. The note (what was added, what the cart holds) is
    shown once, in the row: swapped in by htmx, or on the catalog page a plain POST returns to."""
    tea, _ = goods
    fragment = text(dealer.post("/dealer/replenishment/cart/add", {"product_id": tea.id, "qty": "3"}, htmx=True))
    assert fragment.count('role="status"') == 1 and fragment.count("已加入") == 1
    response = dealer.post("/dealer/replenishment/cart/add",
                           {"product_id": tea.id, "qty": "2", "next": "/dealer/replenishment/"})
    page = text(dealer.get(response.headers["Location"]))
    assert page.count("已加入 2，购物车中共 5。") == 1 and 'class="flash' not in page
    row = page.split(f'<tr id="p{tea.id}">')[1].split("</tr>")[0]
    assert "已加入 2，购物车中共 5。" in row
    assert "已加入" not in text(dealer.get("/dealer/replenishment/"))  # told once, not on the next visit
