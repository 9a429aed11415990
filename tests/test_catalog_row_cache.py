"""The retailer catalog's rows come from a per-process cache (app/web/shared/ordering/rows.py):
whatever changes a row (a price, a product's name, its visibility, the stock level, the cart)
shows on the very next render, and what belongs to one user or one page (the CSRF token, the
way back, the cart quantities) never reaches another."""
import re

from sqlalchemy import delete, update

from app.extensions import db
from app.models import Product, ProductVisibility, StockBalance
from tests import builders_ordering as b
from tests.builders_stock import stock, warehouse


def text(response):
    assert response.status_code == 200
    return response.get_data(as_text=True)


def row_of(page, product):
    match = re.search(rf'<li class="prod" id="p{product.id}">.*?</li>', page, flags=re.S)
    return match.group(0) if match else None


def test_a_price_list_change_shows_on_the_next_render(retailer):
    product, = b.products(1, base_price_fen=5000)
    plist = b.price_list({product: 4500})
    db.session.commit()
    assert "¥45.00" in row_of(text(retailer.get("/retailer/catalog")), product)
    db.session.execute(update(b.PriceListItem).where(b.PriceListItem.price_list_id == plist.id).values(price_fen=4200))
    db.session.commit()
    row = row_of(text(retailer.get("/retailer/catalog")), product)
    assert "¥42.00" in row and "¥45.00" not in row


def test_a_contract_and_a_base_price_change_show_on_the_next_render(retailer, shop):
    _user, org = shop
    product, = b.products(1, base_price_fen=5000)
    db.session.commit()
    assert "¥50.00" in row_of(text(retailer.get("/retailer/catalog")), product)
    db.session.execute(update(Product).where(Product.id == product.id).values(base_price_fen=5100))
    db.session.commit()
    assert "¥51.00" in row_of(text(retailer.get("/retailer/catalog")), product)
    b.contract(org, product, 3900)
    db.session.commit()
    assert "¥39.00" in row_of(text(retailer.get("/retailer/catalog")), product)


def test_a_renamed_product_shows_its_new_name_at_once(retailer):
    product, = b.products(1, name_zh="旧名字")
    db.session.commit()
    assert "旧名字" in row_of(text(retailer.get("/retailer/catalog")), product)
    db.session.execute(update(Product).where(Product.id == product.id).values(name_zh="新名字"))
    db.session.commit()
    row = row_of(text(retailer.get("/retailer/catalog")), product)
    assert "新名字" in row and "旧名字" not in row


def test_a_visibility_rule_hides_the_product_at_once_and_lifting_it_shows_it_again(retailer):
    shown, hidden = b.products(2)
    db.session.commit()
    page = text(retailer.get("/retailer/catalog"))
    assert row_of(page, shown) and row_of(page, hidden)
    b.only_for(hidden, audience="dealer")
    db.session.commit()
    page = text(retailer.get("/retailer/catalog"))
    assert row_of(page, shown) and row_of(page, hidden) is None
    db.session.execute(delete(ProductVisibility).where(ProductVisibility.product_id == hidden.id))
    db.session.commit()
    assert row_of(text(retailer.get("/retailer/catalog")), hidden)


def test_the_stock_level_follows_the_dealer_stock_at_once(retailer, world):
    product, = b.products(1)
    wh = warehouse(world.orgs["dealer"], world.regions["hz"], is_default=True)
    stock(wh, product, 100)
    db.session.commit()
    assert '<span class="stock in">' in row_of(text(retailer.get("/retailer/catalog")), product)
    db.session.execute(update(StockBalance).where(StockBalance.product_id == product.id).values(reserved=100))
    db.session.commit()
    assert '<span class="stock out">' in row_of(text(retailer.get("/retailer/catalog")), product)


def test_rows_carry_each_users_own_token_way_back_and_cart(app, login_as, world):
    """Two shops alike see the same rows from the cache, each with the token its own page was
    signed with, its own cart quantity and the page it is on as the way back; the cached row's
    form still works."""
    product, = b.products(1, base_price_fen=5000)
    b.cart_line(world.users["retailer"], world.orgs["retailer"], product, 3)
    db.session.commit()
    first, second = login_as("retailer"), login_as("retailer_b")
    for client in (first, second, first, second):
        page = text(client.get("/retailer/catalog?q=测试"))
        row = row_of(page, product)
        page_token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        assert re.findall(r'name="csrf_token" value="([^"]+)"', row) == [page_token]
        assert 'name="next" value="/retailer/catalog?q=测试"' in row
        assert ('name="qty" value="3"' in row) == (client is first)
    response = second.post("/retailer/cart/set", {"product_id": product.id, "to": "1",
                                                  "next": "/retailer/catalog?q=测试",
                                                  "csrf_token": page_token})
    assert response.status_code == 303
    assert 'name="qty" value="1"' in row_of(text(second.get("/retailer/catalog?q=测试")), product)
    assert 'name="qty" value="3"' in row_of(text(first.get("/retailer/catalog?q=测试")), product)


def test_visibility_rules_on_the_catalog_page_match_each_shop(login_as, world):
    """The unsearched page's statement is built once with the customer as parameters: a rule
    on the province (an ancestor of the shop's city), on the channel, on a tier the shops do not
    have (NULL), or for dealers, each shows the product to exactly the shops it names."""
    province, channel, tier, dealers = b.products(4)
    b.only_for(province, region_id=world.regions["zj"].id)
    b.only_for(channel, channel="convenience")
    b.only_for(tier, tier="A")
    b.only_for(dealers, audience="dealer")
    db.session.commit()
    east, west = login_as("retailer"), login_as("retailer_b")  # 杭州 kiosk; 成都 convenience store
    for client, seen in ((east, {province}), (west, {channel})):
        for url in ("/retailer/catalog", f"/retailer/catalog?category={province.category_id}"):
            page = text(client.get(url))
            assert {p for p in (province, channel, tier, dealers) if row_of(page, p)} == seen, url
