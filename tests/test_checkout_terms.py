"""What checkout asks besides the cart: the delivery date (the retailer's route days), the
delivery address (the shop's unless changed for this order) and the payment method; stored on
the order and shown on the buyer's order page, the dealer's desk and the printed sheets."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order
from app.services.core.errors import DomainError
from app.services.ordering import delivery_terms as terms
from tests import builders_ordering as b

KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
FINGERPRINT_RE = re.compile(r'name="fingerprint" value="([^"]+)"')
MONDAY = date(2026, 12, 7)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_delivery_dates_are_the_route_days_from_tomorrow():
    sunday = MONDAY - timedelta(days=1)
    assert terms.delivery_dates(frozenset({0, 3}), today=sunday) == [
        MONDAY, MONDAY + timedelta(days=3), MONDAY + timedelta(days=7), MONDAY + timedelta(days=10)]
    assert terms.delivery_dates(frozenset({0}), today=MONDAY)[0] == MONDAY + timedelta(days=7)  # not today
    assert len(terms.delivery_dates(frozenset(), today=MONDAY)) == terms.DELIVERY_HORIZON  # on no route: any day


def test_checkout_terms_take_defaults_and_refuse_by_field(world):
    shop = world.orgs["retailer"]  # on a Monday route, not on credit (no CreditProfile)
    shop.address = "西湖区文三路 1 号"
    chosen = terms.checkout_terms(shop, None, today=MONDAY)
    assert chosen == terms.DeliveryTerms(MONDAY + timedelta(days=7), "西湖区文三路 1 号", "cod")
    chosen = terms.checkout_terms(shop, terms.TermsInput(MONDAY + timedelta(days=14), " 仓库门口 ", "cod"), today=MONDAY)
    assert chosen == terms.DeliveryTerms(MONDAY + timedelta(days=14), "仓库门口", "cod")
    for given, field in ((terms.TermsInput(MONDAY + timedelta(days=8)), "delivery_date"),  # a Tuesday
                         (terms.TermsInput(MONDAY), "delivery_date"),                       # today
                         (terms.TermsInput(delivery_address="x" * 201), "delivery_address"),
                         (terms.TermsInput(payment_method="bitcoin"), "payment_method"),
                         (terms.TermsInput(payment_method="credit"), "payment_method")):  # not on credit
        with pytest.raises(DomainError) as refused:
            terms.checkout_terms(shop, given, today=MONDAY)
        assert refused.value.field == field


@pytest.fixture
def cart_page(login_as, world):
    world.orgs["retailer"].address = "西湖区文三路 1 号"
    product = b.products(1, base_price_fen=2000)[0]
    b.cart_line(world.users["retailer"], world.orgs["retailer"], product, 2, quoted=2000)
    db.session.commit()
    client = login_as("retailer")
    return client, text(client.get("/retailer/cart"))


def _form(page: str, **fields) -> dict:
    return dict({"idempotency_key": KEY_RE.search(page).group(1), "fingerprint": FINGERPRINT_RE.search(page).group(1),
                 "accept_changes": "", "note": "下午送"}, **fields)


def _mondays() -> list[date]:
    return terms.delivery_dates(frozenset({0}))


def test_the_cart_offers_the_route_days_the_shop_address_and_the_payment_methods(cart_page):
    _client, page = cart_page
    first, second = _mondays()[:2]
    assert f'<option selected value="{first.isoformat()}">' in page and f'value="{second.isoformat()}"' in page
    assert 'name="delivery_address"' in page and 'value="西湖区文三路 1 号"' in page
    assert "货到付款" in page and "预存款余额" in page
    assert re.search(r'<input checked id="payment_method-\d" name="payment_method" type="radio" value="cod">', page)


def test_checkout_stores_the_terms_and_the_desk_and_sheets_show_them(cart_page, login_as):
    client, page = cart_page
    second = _mondays()[1]
    response = client.post("/retailer/cart/checkout", _form(page, delivery_date=second.isoformat(),
                                                            delivery_address="文三路仓库后门", payment_method="cod"))
    assert response.status_code == 303
    order = db.session.scalar(select(Order).order_by(Order.id.desc()).limit(1))
    assert (order.delivery_date, order.delivery_address, order.payment_method, order.note) == (
        second, "文三路仓库后门", "cod", "下午送")
    shown = second.isoformat()
    assert shown in text(client.get(f"/retailer/orders/{order.id}")) and "货到付款" in text(client.get(f"/retailer/orders/{order.id}"))
    dealer = login_as("dealer")
    desk = text(dealer.get(f"/dealer/orders/{order.id}"))
    assert shown in desk and "文三路仓库后门" in desk and "货到付款" in desk
    sheet = text(dealer.get(f"/dealer/orders/print/sheets?order_ids={order.id}"))
    assert shown in sheet and "文三路仓库后门" in sheet and "货到付款" in sheet


@pytest.mark.parametrize("htmx", [False, True])
def test_a_day_off_the_route_is_refused_next_to_the_field_and_no_order_is_made(cart_page, htmx):
    client, page = cart_page
    tuesday = _mondays()[0] + timedelta(days=1)
    before = db.session.scalar(select(Order.id).order_by(Order.id.desc()).limit(1))
    response = client.post("/retailer/cart/checkout", _form(page, delivery_date=tuesday.isoformat()), htmx=htmx)
    assert response.status_code == 409
    assert 'id="field-delivery_date"' in text(response) and "请选择可送货的日期" in text(response)
    assert db.session.scalar(select(Order.id).order_by(Order.id.desc()).limit(1)) == before


def test_a_checkout_without_the_fields_takes_the_defaults(cart_page):
    client, page = cart_page
    assert client.post("/retailer/cart/checkout", _form(page)).status_code == 303
    order = db.session.scalar(select(Order).order_by(Order.id.desc()).limit(1))
    assert (order.delivery_date, order.delivery_address, order.payment_method) == (
        _mondays()[0], "西湖区文三路 1 号", "cod")
