"""The cart service: quantity rules, prices and reasons, change flags, totals in fen, and a
fixed number of queries."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.services.pricing.prices import price_book
from app.models import CartLine
from app.services.ordering import cart
from app.services.core.errors import DomainError
from tests import builders_ordering as b
from tests import factories


@pytest.fixture(autouse=True)
def request_context(app):
    """Price reasons are translated: the services run as in a request."""
    with app.test_request_context():
        yield


def cart_rows(owner):
    return db.session.execute(select(CartLine.product_id, CartLine.qty).where(CartLine.owner_id == owner.id)).all()


def test_add_prices_the_line_and_adds_to_an_existing_line(shop):
    user, retailer = shop
    product = factories.product(base_price_fen=4800)
    line = cart.add_to_cart(user, retailer, product.id, 2)
    assert (line.qty, line.quoted_price_fen) == (2, 4800)
    again = cart.add_to_cart(user, retailer, product.id, 3)
    assert again.id == line.id and again.qty == 5
    assert cart_rows(user) == [(product.id, 5)]


def test_quote_uses_the_retailers_own_price_with_its_reason(shop, world):
    user, retailer = shop
    contracted, listed, plain = b.products(3, base_price_fen=5000)
    b.contract(retailer, contracted, 4100, reference="HT-88")
    b.price_list({listed: 4500}, channel="kiosk", name="小卖部价")
    for product in (contracted, listed, plain):
        cart.add_to_cart(user, retailer, product.id, 2)
    quote = cart.quote_cart(user, retailer)
    by_product = {line.product.id: line for line in quote.lines}
    assert by_product[contracted.id].unit_price_fen == 4100
    assert "HT-88" in str(by_product[contracted.id].reason)
    assert by_product[listed.id].unit_price_fen == 4500
    assert "小卖部价" in str(by_product[listed.id].reason)
    assert by_product[plain.id].unit_price_fen == 5000
    assert quote.total_fen == 2 * (4100 + 4500 + 5000)
    assert quote.count == 3 and quote.total_qty == 6
    assert not quote.changed_lines


def test_tax_is_the_tax_contained_in_tax_inclusive_totals(shop):
    user, retailer = shop
    food = factories.product(base_price_fen=10_900, tax_rate=9)
    drink = factories.product(base_price_fen=11_300, tax_rate=13)
    cart.add_to_cart(user, retailer, food.id, 1)
    cart.add_to_cart(user, retailer, drink.id, 1)
    quote = cart.quote_cart(user, retailer)
    assert [line.tax_fen for line in quote.lines] == [900, 1300]
    assert quote.tax_fen == 2200 and quote.total_fen == 22_200
    assert cart.tax_included(1, 13) == 0 and cart.tax_included(113, 13) == 13 and cart.tax_included(57, 13) == 7


def test_quantity_break_reprices_the_line_when_the_quantity_changes(shop):
    user, retailer = shop
    product = factories.product(base_price_fen=5000)
    b.price_list({product: 4000}, min_qty=10)
    line = cart.add_to_cart(user, retailer, product.id, 2)
    assert line.quoted_price_fen == 5000
    cart.update_line(user, retailer, line.id, 10)
    assert line.quoted_price_fen == 4000
    assert cart.quote_cart(user, retailer).lines[0].price_changed is False


@pytest.mark.parametrize("qty, message", [
    (0, "大于 0"), (-3, "大于 0"), (4, "起订量为 6"), (8, "倍数"), (10_000, "不能超过"), (10**30, "不能超过"),
    ("3", "整数"), (2.5, "整数"), (None, "整数"), (True, "整数"),
])
def test_bad_quantities_are_refused_next_to_the_qty_field(shop, qty, message):
    user, retailer = shop
    product = factories.product(min_order_qty=6, order_multiple=6)
    with pytest.raises(DomainError) as refused:
        cart.add_to_cart(user, retailer, product.id, qty)
    assert refused.value.field == "qty"
    assert message in refused.value.message
    assert cart_rows(user) == []


def test_adding_past_the_maximum_in_total_is_refused(shop):
    user, retailer = shop
    product = factories.product()
    cart.add_to_cart(user, retailer, product.id, 9_000)
    with pytest.raises(DomainError, match="不能超过") as refused:
        cart.add_to_cart(user, retailer, product.id, 1_000)
    assert refused.value.field == "qty"
    assert cart_rows(user) == [(product.id, 9_000)]


@pytest.mark.parametrize("kind", ["unknown", "draft", "discontinued", "dealers_only", "other_region", "bad_id"])
def test_products_the_buyer_may_not_order_are_refused_alike(shop, world, kind):
    user, retailer = shop
    product = factories.product()
    product_id = product.id
    if kind == "unknown":
        product_id = product.id + 1000
    elif kind in ("draft", "discontinued"):
        product.status = kind
    elif kind == "dealers_only":
        b.only_for(product, audience="dealer")
    elif kind == "other_region":
        b.only_for(product, region_id=world.regions["sc"].id)
    else:
        product_id = "12"
    with pytest.raises(DomainError, match="不存在或暂不可订购") as refused:
        cart.add_to_cart(user, retailer, product_id, 1)
    assert refused.value.field == "product_id"
    assert cart_rows(user) == []


def test_visibility_rule_matching_the_retailer_lets_it_order(shop, world):
    user, retailer = shop
    product = factories.product()
    b.only_for(product, region_id=world.regions["zj"].id, channel="kiosk")
    assert cart.add_to_cart(user, retailer, product.id, 1).qty == 1


def test_another_owners_line_is_not_found_and_unchanged(shop, world):
    user, retailer = shop
    other_user, other_shop = world.users["retailer_b"], world.orgs["retailer_b"]
    product = factories.product()
    theirs = b.cart_line(other_user, other_shop, product, 3)
    for attempt in (lambda: cart.update_line(user, retailer, theirs.id, 5),
                    lambda: cart.remove_line(user, retailer, theirs.id),
                    lambda: cart.update_line(user, other_shop, theirs.id, 5)):
        with pytest.raises(cart.LineNotFound):
            attempt()
    assert cart_rows(other_user) == [(product.id, 3)]


def test_update_checks_the_same_rules_and_remove_deletes(shop):
    user, retailer = shop
    product = factories.product(min_order_qty=2, order_multiple=2)
    line = cart.add_to_cart(user, retailer, product.id, 2)
    with pytest.raises(DomainError, match="倍数"):
        cart.update_line(user, retailer, line.id, 3)
    assert cart_rows(user) == [(product.id, 2)]
    cart.update_line(user, retailer, line.id, 8)
    assert cart_rows(user) == [(product.id, 8)]
    cart.remove_line(user, retailer, line.id)
    assert cart_rows(user) == []


def test_changed_price_and_lost_availability_are_flagged(shop):
    user, retailer = shop
    cheaper, steady, withdrawn = b.products(3, base_price_fen=3000)
    for product in (cheaper, steady, withdrawn):
        cart.add_to_cart(user, retailer, product.id, 1)
    cheaper.base_price_fen = 2800
    withdrawn.status = "discontinued"
    db.session.flush()
    quote = cart.quote_cart(user, retailer)
    flags = {line.product.id: (line.price_changed, line.available) for line in quote.lines}
    assert flags == {cheaper.id: (True, True), steady.id: (False, True), withdrawn.id: (False, False)}
    assert [line.product.id for line in quote.changed_lines] == [cheaper.id, withdrawn.id]
    assert quote.total_fen == 2800 + 3000  # the withdrawn line counts for nothing
    assert quote.lines[2].line_total_fen == 0


def test_fingerprint_follows_products_quantities_and_prices(shop):
    user, retailer = shop
    first, second = b.products(2, base_price_fen=1000)
    cart.add_to_cart(user, retailer, first.id, 1)
    cart.add_to_cart(user, retailer, second.id, 1)
    before = cart.quote_cart(user, retailer).fingerprint
    assert cart.quote_cart(user, retailer).fingerprint == before
    first.base_price_fen = 1001
    db.session.flush()
    repriced = cart.quote_cart(user, retailer).fingerprint
    assert repriced != before
    cart.add_to_cart(user, retailer, second.id, 1)
    assert cart.quote_cart(user, retailer).fingerprint != repriced


def test_a_tightened_minimum_marks_the_line_without_hiding_it(shop):
    user, retailer = shop
    product = factories.product()
    cart.add_to_cart(user, retailer, product.id, 1)
    product.min_order_qty = 5
    db.session.flush()
    quote = cart.quote_cart(user, retailer)
    assert "起订量为 5" in quote.lines[0].qty_problem
    assert quote.invalid_lines == quote.lines


def test_cart_belongs_to_owner_and_buyer(shop, world):
    """A rep's cart for a retailer is separate from the retailer's own cart, priced for the retailer."""
    user, retailer = shop
    rep = world.users["rep"]
    product = factories.product(base_price_fen=5000)
    b.contract(retailer, product, 4200)
    cart.add_to_cart(user, retailer, product.id, 1)
    cart.add_to_cart(rep, retailer, product.id, 4)
    assert [(line.qty, line.unit_price_fen) for line in cart.quote_cart(rep, retailer).lines] == [(4, 4200)]
    assert [line.qty for line in cart.quote_cart(user, retailer).lines] == [1]
    assert cart.cart_count(rep, retailer) == 1 and cart.cart_quantities(user, retailer) == {product.id: 1}


def test_refill_skips_products_no_longer_orderable_and_fixes_quantities(shop):
    user, retailer = shop
    kept, hidden, raised = b.products(3, base_price_fen=2000)
    hidden.status = "discontinued"
    raised.min_order_qty, raised.order_multiple = 6, 6
    cart.add_to_cart(user, retailer, kept.id, 2)
    refill = cart.refill_cart(user, retailer, [(kept, 3), (hidden, 1), (raised, 4)])
    assert refill.added == [kept, raised] and refill.skipped == [hidden]
    assert sorted(cart_rows(user)) == sorted([(kept.id, 5), (raised.id, 6)])


@pytest.mark.parametrize("lines", [2, 20])
def test_quote_runs_a_small_number_of_queries(shop, lines):
    user, retailer = shop
    for product in b.products(lines, base_price_fen=3000):
        b.cart_line(user, retailer, product, 2)
        b.contract(retailer, product, 2900)
    b.price_list({p: 2950 for p in b.products(3)}, channel="kiosk")
    db.session.commit()
    cart.quote_cart(user, retailer)  # builds the process's price book after the price writes
    db.session.commit()
    db.session.expire_all()
    assert user.id and retailer.id  # reloaded, as the login loader does before a view runs
    with b.count_queries() as counter:
        quote = cart.quote_cart(user, retailer)
    assert quote.count == lines
    assert all(line.unit_price_fen == 2900 for line in quote.lines)
    # the buyer's region, the lines with products, visibility and the price book's token (3 before
    # the token rode on the lines' query, issue 15)
    assert len(counter) == 2, counter.statements


def test_quote_query_count_does_not_grow_with_lines(shop):
    user, retailer = shop
    price_book()  # the process's price book, built once
    measured = []
    for lines in (2, 20):
        cart.clear_cart(user, retailer)
        for product in b.products(lines, base_price_fen=3000):
            b.cart_line(user, retailer, product, 2)
        db.session.commit()
        db.session.expire_all()
        with b.count_queries() as counter:
            assert cart.quote_cart(user, retailer).count == lines
        measured.append(len(counter))
    assert measured[0] == measured[1]
