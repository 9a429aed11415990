"""Checkout: re-pricing at submit, routing, what an order records, exactly-once submit (also
from concurrent threads), order again, and scoping."""
import re
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, CartLine, Order, OrderEvent, OrderLine
from app.services.ordering import cart
from app.services.ordering import orders as ordering
from app.services.core.errors import DomainError, NotFound
from tests import builders_ordering as b
from tests import factories

KEY = "key-0123456789abcdef"


@pytest.fixture(autouse=True)
def request_context(app):
    """Price reasons are translated: the services run as in a request."""
    with app.test_request_context():
        yield


def fill(user, retailer, *pairs):
    for product, qty in pairs:
        cart.add_to_cart(user, retailer, product.id, qty)
    return cart.quote_cart(user, retailer)


def order_count():
    return db.session.scalar(select(func.count()).select_from(Order))


def test_submit_records_the_order_routes_it_and_empties_the_cart(shop, world):
    user, retailer = shop
    drink, snack = factories.product(base_price_fen=4800), factories.product(base_price_fen=10_900, tax_rate=9)
    b.contract(retailer, drink, 4500, reference="HT-7")
    quote = fill(user, retailer, (drink, 2), (snack, 1))

    submission = ordering.submit_order(user, retailer, KEY, quote.fingerprint)
    db.session.commit()

    order = submission.order
    assert submission.created
    assert (order.buyer_id, order.seller_id, order.placed_by_id) == (retailer.id, world.orgs["dealer"].id, user.id)
    assert (order.status, order.channel, order.line_count) == ("submitted", "web", 2)
    assert order.total_fen == 2 * 4500 + 10_900
    assert order.tax_fen == cart.tax_included(9000, 13) + 900
    assert re.fullmatch(r"SO\d{6}\d{7}", order.number) and order.number.endswith(f"{order.id:07d}")
    lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
    assert [(line.product_id, line.qty, line.unit_price_fen, line.line_total_fen) for line in lines] == [
        (drink.id, 2, 4500, 9000), (snack.id, 1, 10_900, 10_900)]
    assert "HT-7" in str(lines[0].price_basis) and str(lines[1].price_basis) == "基础价"
    assert [(line.tax_rate, line.tax_fen) for line in lines] == [(13, 1035), (9, 900)]
    events = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)).all()
    assert [(e.from_status, e.to_status, e.actor_id) for e in events] == [(None, "submitted", user.id)]
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "order")).all()
    assert [(a.action, a.entity_id, a.after["total_fen"]) for a in audit] == [("order.submit", order.id, 19_900)]
    assert cart.cart_count(user, retailer) == 0


def test_order_to_an_uncovered_retailer_goes_to_the_brand(world):
    user, retailer = world.users["retailer"], world.orgs["retailer"]
    world.orgs["dealer"].active = False
    quote = fill(user, retailer, (factories.product(), 1))
    assert ordering.submit_order(user, retailer, KEY, quote.fingerprint).order.seller_id == world.brand.id


def test_a_price_change_since_adding_stops_the_submit_and_names_the_line(shop):
    user, retailer = shop
    moved, steady = b.products(2, base_price_fen=3000)
    quote = fill(user, retailer, (moved, 1), (steady, 1))
    moved.base_price_fen = 3300
    db.session.commit()

    with pytest.raises(ordering.PricesChanged) as changed:
        ordering.submit_order(user, retailer, KEY, quote.fingerprint)
    assert [line.product.id for line in changed.value.lines] == [moved.id]
    assert changed.value.lines[0].quoted_price_fen == 3000 and changed.value.lines[0].unit_price_fen == 3300
    assert "1 种商品" in changed.value.message
    db.session.rollback()
    assert order_count() == 0 and cart.cart_count(user, retailer) == 2


def test_confirming_the_new_prices_submits_at_the_prices_shown(shop):
    user, retailer = shop
    moved = factories.product(base_price_fen=3000)
    fill(user, retailer, (moved, 2))
    moved.base_price_fen = 3300
    db.session.commit()
    shown = cart.quote_cart(user, retailer)  # the page that says what changed

    order = ordering.submit_order(user, retailer, KEY, shown.fingerprint, accept_changes=True).order
    assert order.total_fen == 6600


def test_a_price_changing_again_after_confirmation_is_refused_again(shop):
    user, retailer = shop
    moved = factories.product(base_price_fen=3000)
    fill(user, retailer, (moved, 1))
    moved.base_price_fen = 3300
    db.session.commit()
    shown = cart.quote_cart(user, retailer)
    moved.base_price_fen = 3500
    db.session.commit()
    with pytest.raises(ordering.PricesChanged):
        ordering.submit_order(user, retailer, KEY, shown.fingerprint, accept_changes=True)
    db.session.rollback()
    assert order_count() == 0


def test_a_cart_changed_in_another_tab_is_refused_even_without_price_changes(shop):
    user, retailer = shop
    product = factories.product()
    shown = fill(user, retailer, (product, 1))
    cart.add_to_cart(user, retailer, product.id, 1)
    with pytest.raises(ordering.PricesChanged, match="购物车内容已变化"):
        ordering.submit_order(user, retailer, KEY, shown.fingerprint)


def test_unavailable_lines_need_confirmation_and_are_then_dropped(shop):
    user, retailer = shop
    kept, withdrawn = b.products(2, base_price_fen=2000)
    fill(user, retailer, (kept, 1), (withdrawn, 1))
    withdrawn.status = "discontinued"
    db.session.commit()
    shown = cart.quote_cart(user, retailer)
    with pytest.raises(ordering.PricesChanged) as changed:
        ordering.submit_order(user, retailer, KEY, shown.fingerprint)
    assert [line.product.id for line in changed.value.lines] == [withdrawn.id]
    db.session.rollback()

    submission = ordering.submit_order(user, retailer, KEY, shown.fingerprint, accept_changes=True)
    assert submission.dropped == [withdrawn]
    assert submission.order.line_count == 1 and submission.order.total_fen == 2000
    assert cart.cart_count(user, retailer) == 0


def test_nothing_orderable_or_a_bad_quantity_is_refused(shop):
    user, retailer = shop
    product = factories.product()
    with pytest.raises(DomainError, match="购物车是空的"):
        ordering.submit_order(user, retailer, KEY)
    fill(user, retailer, (product, 1))
    product.min_order_qty = 3
    db.session.commit()
    with pytest.raises(DomainError, match="修改标出的商品数量"):
        ordering.submit_order(user, retailer, KEY)
    product.min_order_qty, product.status = 1, "draft"
    db.session.commit()
    with pytest.raises(DomainError, match="没有可订购的商品"):
        ordering.submit_order(user, retailer, KEY, accept_changes=True)
    db.session.rollback()
    assert order_count() == 0


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "bad key with spaces", None])
def test_a_missing_or_malformed_idempotency_key_is_refused(shop, key):
    user, retailer = shop
    fill(user, retailer, (factories.product(), 1))
    with pytest.raises(DomainError) as refused:
        ordering.submit_order(user, retailer, key)
    assert refused.value.field == "idempotency_key"


def test_same_key_same_cart_returns_the_first_order_even_after_the_cart_emptied(shop):
    user, retailer = shop
    quote = fill(user, retailer, (factories.product(), 2))
    first = ordering.submit_order(user, retailer, KEY, quote.fingerprint)
    db.session.commit()
    again = ordering.submit_order(user, retailer, KEY, quote.fingerprint)
    assert again.order.id == first.order.id and again.created is False
    without_fingerprint = ordering.submit_order(user, retailer, KEY)  # an API retry: the cart is empty now
    assert without_fingerprint.order.id == first.order.id
    assert order_count() == 1


def test_same_key_with_a_different_cart_is_refused_clearly(shop):
    user, retailer = shop
    first_product, second_product = b.products(2)
    quote = fill(user, retailer, (first_product, 1))
    number = ordering.submit_order(user, retailer, KEY, quote.fingerprint).order.number
    db.session.commit()
    other = fill(user, retailer, (second_product, 1))
    with pytest.raises(ordering.KeyReused) as refused:
        ordering.submit_order(user, retailer, KEY, other.fingerprint)
    assert number in refused.value.message and "购物车内容不同" in refused.value.message
    assert order_count() == 1 and cart.cart_count(user, retailer) == 1


def test_keys_belong_to_the_buyer(shop, world):
    user, retailer = shop
    other_user, other_shop = world.users["retailer_b"], world.orgs["retailer_b"]
    product = factories.product()
    mine = ordering.submit_order(user, retailer, KEY, fill(user, retailer, (product, 1)).fingerprint).order
    their_cart = fill(other_user, other_shop, (product, 1))
    theirs = ordering.submit_order(other_user, other_shop, KEY, their_cart.fingerprint).order
    assert mine.id != theirs.id and theirs.seller_id == world.orgs["dealer_b"].id


def _submit_from_threads(app, user_id, buyer_id, keys, fingerprint):
    """Run submit_order once per key, each in its own thread, app context and session, all
    released at once. Returns (order ids, refusal messages, unexpected errors)."""
    from app.models import Organisation, User

    barrier = threading.Barrier(len(keys))
    orders, refusals, errors = [], [], []

    def worker(key):
        with app.test_request_context():
            try:
                user, buyer = db.session.get(User, user_id), db.session.get(Organisation, buyer_id)
                barrier.wait(timeout=10)
                submission = ordering.submit_order(user, buyer, key, fingerprint)
                db.session.commit()
                orders.append(submission.order.id)
            except DomainError as refused:
                db.session.rollback()
                refusals.append(refused.message)
            except Exception as error:  # noqa: BLE001 - reported by the test
                db.session.rollback()
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return orders, refusals, errors


def test_concurrent_submits_with_one_key_make_one_order(app, shop):
    user, retailer = shop
    quote = fill(user, retailer, *((p, 2) for p in b.products(5)))
    db.session.commit()
    orders, refusals, errors = _submit_from_threads(app, user.id, retailer.id, [KEY] * 8, quote.fingerprint)
    assert errors == [] and refusals == []
    assert len(orders) == 8 and len(set(orders)) == 1
    db.session.expire_all()
    assert order_count() == 1
    assert db.session.scalar(select(func.count()).select_from(OrderLine)) == 5
    assert db.session.scalar(select(func.count()).select_from(CartLine)) == 0


def test_concurrent_submits_of_one_cart_with_different_keys_make_one_order(app, shop):
    user, retailer = shop
    quote = fill(user, retailer, *((p, 1) for p in b.products(3)))
    db.session.commit()
    keys = [f"tab-{n}-0123456789" for n in range(6)]
    orders, refusals, errors = _submit_from_threads(app, user.id, retailer.id, keys, quote.fingerprint)
    assert errors == []
    assert len(orders) == 1 and len(refusals) == 5
    db.session.expire_all()
    assert order_count() == 1
    assert db.session.scalar(select(func.count()).select_from(OrderLine)) == 3


def test_checkout_runs_a_fixed_number_of_queries(shop):
    user, retailer = shop
    measured = []
    for size in (2, 20):
        products = b.products(size, base_price_fen=2500)
        b.price_list({p: 2400 for p in products}, channel="kiosk")
        fingerprint = fill(user, retailer, *((p, 1) for p in products)).fingerprint
        db.session.commit()
        db.session.expire_all()
        assert user.id and retailer.id  # reloaded, as the login loader does before a view runs
        with b.count_queries() as counter:
            submission = ordering.submit_order(user, retailer, f"size-{size}-key-000", fingerprint)
            db.session.commit()
        assert submission.order.line_count == size
        measured.append(len(counter))
    assert measured[0] == measured[1], measured


def test_order_again_fills_the_cart_and_names_what_it_skipped(shop, world):
    user, retailer = shop
    kept, withdrawn = b.products(2)
    past = b.order(retailer, world.orgs["dealer"], [(kept, 3), (withdrawn, 2)], placed_by=user)
    withdrawn.status = "discontinued"
    refill = ordering.order_again(user, retailer, past.id)
    assert refill.added == [kept] and refill.skipped == [withdrawn]
    assert cart.cart_quantities(user, retailer) == {kept.id: 3}


def test_order_again_of_another_retailers_order_is_not_found(shop, world):
    user, retailer = shop
    theirs = b.order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(factories.product(), 1)])
    with pytest.raises(NotFound):
        ordering.order_again(user, retailer, theirs.id)
    assert cart.cart_count(user, retailer) == 0


def test_scopes_show_buyers_their_orders_and_sellers_theirs(world):
    product = factories.product()
    mine = b.order(world.orgs["retailer"], world.orgs["dealer"], [(product, 1)])
    theirs = b.order(world.orgs["retailer_b"], world.orgs["dealer_b"], [(product, 1)])
    visible = {key: [o.id for o in ordering.list_orders(ordering.orders_visible_to(world.users[key])).items]
               for key in ("retailer", "retailer_b", "dealer", "dealer_b")}
    assert visible == {"retailer": [mine.id], "retailer_b": [theirs.id], "dealer": [mine.id], "dealer_b": [theirs.id]}
    with pytest.raises(NotFound):
        ordering.order_detail(ordering.orders_visible_to(world.users["dealer"]), theirs.id)
    with pytest.raises(NotFound):
        ordering.orders_visible_to(world.users["admin"])


def test_list_filters_by_status_and_search_newest_first(world):
    product = factories.product()
    dealer = world.orgs["dealer"]
    old = b.order(world.orgs["retailer"], dealer, [(product, 1)], days_ago=3)
    new = b.order(world.orgs["retailer"], dealer, [(product, 1)], status="shipped")
    other_shop = factories.org("retailer", "湖滨超市", region_id=world.regions["hz"].id, dealer_id=dealer.id)
    elsewhere = b.order(other_shop, dealer, [(product, 1)], days_ago=1)
    scope = ordering.orders_sold_by(dealer.id)
    assert [o.id for o in ordering.list_orders(scope).items] == [new.id, elsewhere.id, old.id]
    assert [o.id for o in ordering.list_orders(scope, status="shipped").items] == [new.id]
    assert [o.id for o in ordering.list_orders(scope, search="湖滨").items] == [elsewhere.id]
    assert [o.id for o in ordering.list_orders(scope, search=old.number).items] == [old.id]
    assert ordering.list_orders(scope, search="100%_").items == []


def test_the_unique_key_itself_refuses_a_second_order_row(shop, world):
    """The database backs the rule up: inserting a second order row with a buyer's key does
    nothing and reports it (what a concurrent submit that lost the race sees)."""
    user, retailer = shop
    first = b.order(retailer, world.orgs["dealer"], [(factories.product(), 1)])
    values = dict(buyer_id=retailer.id, seller_id=first.seller_id, status="submitted", line_count=1,
                  total_fen=1, tax_fen=0, idempotency_key=first.idempotency_key, cart_fingerprint="x", note="",
                  created_at=first.created_at, updated_at=first.created_at, channel="web")
    assert ordering._insert_once(values) is None
    assert ordering._insert_once(dict(values, idempotency_key="another-key-123")) is not None
    assert order_count() == 2
