"""The cart's points lane: the maths (share cap, balance cap, rate, largest-remainder spread),
the tick without JS and with htmx, consumption inside checkout, refusal when the balance fell,
give-back on cancel; the points catalog: claiming, its cap, and the gift riding the next order."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import LoyaltySettings, Order, OrderLine, OrderStatus, PointsGift, PointsGiftClaim
from app.services.loyalty import gifts, ledger
from app.services.ordering import cart, lifecycle
from tests import builders_loyalty as pts
from tests import builders_ordering as b
from tests import factories

KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
FINGERPRINT_RE = re.compile(r'name="fingerprint" value="([^"]+)"')
USE_RE = re.compile(r'type="hidden" name="use_points" value="([^"]*)"')


def _cart(shop, prices=(2400, 5650, 1800)):
    user, org = shop
    for price in prices:
        b.cart_line(user, org, factories.product(base_price_fen=price), 1, quoted=price)


def _settings(**kw):
    values = dict(id=1, earn_points_per_yuan=1, redeem_points_per_yuan=100, max_redeem_pct=20, lot_life_days=365,
                  notice_days=30, silver_from_fen=100_000, gold_from_fen=500_000, diamond_from_fen=1_000_000,
                  grace_days=30)
    values.update(kw)
    db.session.add(LoyaltySettings(**values))
    db.session.flush()


def test_lane_takes_at_most_the_share_and_spreads_it_by_largest_remainder(shop):
    user, org = shop
    _cart(shop)  # 98.50
    pts.earn(org, 10_000)  # worth ¥100
    quote = cart.quote_cart(user, org, use_points=True)
    assert quote.points.amount_fen == 1_970 and quote.points.points == 1_970  # 20 % of 98.50
    assert [line.discount_fen for line in quote.lines] == [480, 1_130, 360]
    assert quote.total_fen == 9_850 - 1_970
    assert cart.quote_cart(user, org).total_fen == 9_850  # not ticked: nothing off


def test_lane_is_capped_by_the_balance_and_converts_at_the_configured_rate(shop):
    user, org = shop
    _settings(redeem_points_per_yuan=150, max_redeem_pct=50)
    _cart(shop, prices=(1000, 1000, 1001))
    pts.earn(org, 1_000)  # 1000 × 100 / 150 = 666 fen
    quote = cart.quote_cart(user, org, use_points=True)
    assert quote.points.amount_fen == 666 and quote.points.points == 999  # ceil(666 × 1.5)
    assert sum(line.discount_fen for line in quote.lines) == 666
    assert [line.discount_fen for line in quote.lines] == [222, 222, 222]


def test_no_points_no_lane_and_dealers_have_none(shop, world):
    user, org = shop
    _cart(shop)
    assert cart.quote_cart(user, org, use_points=True).points.amount_fen == 0
    dealer_user, dealer = world.users["dealer"], world.orgs["dealer"]
    b.cart_line(dealer_user, dealer, factories.product(), 1)
    assert cart.quote_cart(dealer_user, dealer, use_points=True).points is None


def _checkout_form(page: str) -> dict:
    return {"idempotency_key": KEY_RE.search(page).group(1), "fingerprint": FINGERPRINT_RE.search(page).group(1),
            "use_points": USE_RE.search(page).group(1), "accept_changes": "", "note": ""}


def test_ticking_points_without_js_then_checkout_spends_them_and_cancel_gives_them_back(retailer, shop):
    user, org = shop
    _cart(shop)
    lot = pts.earn(org, 5_000)
    db.session.commit()
    page = retailer.get("/retailer/cart?use_points=1").get_data(as_text=True)
    assert "本单使用 1,970 积分，抵扣 ¥19.70" in page and "¥78.80" in page
    response = retailer.post("/retailer/cart/checkout", _checkout_form(page))
    assert response.status_code == 303
    order = db.session.scalar(select(Order).where(Order.buyer_id == org.id))
    assert order.total_fen == 7_880
    assert pts.balance(org) == 3_030 and [e.points for e in pts.entries(org, "redeem")] == [-1_970]
    lifecycle.transition(order.id, OrderStatus.CANCELLED.value, user.id, "不要了")
    assert pts.balance(org) == 5_000 and pts.lots_remaining(org) == {lot.expires_on: 5_000}
    lifecycle_again = pts.entries(org, "release")
    assert [e.points for e in lifecycle_again] == [1_970]


def test_htmx_tick_answers_the_cart_fragment(retailer, shop):
    _cart(shop)
    pts.earn(shop[1], 5_000)
    db.session.commit()
    response = retailer.hx_get("/retailer/cart?use_points=1")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers.get("Vary", "")
    assert "<html" not in body and "本单使用 1,970 积分" in body
    assert 'name="use_points" value="1"' in body


def test_checkout_is_refused_when_the_points_were_spent_meanwhile(retailer, shop):
    user, org = shop
    _cart(shop)
    pts.earn(org, 2_000)
    db.session.commit()
    page = retailer.get("/retailer/cart?use_points=1").get_data(as_text=True)
    ledger.spend(org.id, 1_500, "gift", "test:gift:elsewhere")  # another device spent them
    db.session.commit()
    response = retailer.post("/retailer/cart/checkout", _checkout_form(page))
    assert response.status_code == 409
    assert db.session.scalar(select(Order.id).where(Order.buyer_id == org.id)) is None
    assert pts.balance(org) == 500 and pts.consistent(org)


def _gift(stock_cap=2, price=1_000):
    product = factories.product(name_zh="积分礼品水杯")
    row = PointsGift(product_id=product.id, points_price=price, stock_cap=stock_cap, claimed=0, active=True)
    db.session.add(row)
    db.session.flush()
    return row


def test_claiming_a_gift_spends_points_and_the_gift_rides_the_next_order(retailer, shop):
    user, org = shop
    gift = _gift()
    pts.earn(org, 2_500)
    _cart(shop, prices=(2400,))
    db.session.commit()
    assert "积分礼品水杯" in retailer.get("/retailer/points/gifts").get_data(as_text=True)
    response = retailer.post(f"/retailer/points/gifts/{gift.id}/claim", {"qty": 2})
    assert response.status_code == 303 and pts.balance(org) == 500
    page = retailer.get("/retailer/cart").get_data(as_text=True)
    assert "积分兑换礼品，随本单配送：积分礼品水杯 × 2" in page
    assert retailer.post("/retailer/cart/checkout", _checkout_form(page)).status_code == 303
    order = db.session.scalar(select(Order).where(Order.buyer_id == org.id))
    gift_line = db.session.scalar(select(OrderLine).where(OrderLine.order_id == order.id, OrderLine.is_gift.is_(True)))
    assert (gift_line.qty, gift_line.unit_price_fen, order.line_count, order.total_fen) == (2, 0, 2, 2_400)
    lifecycle.transition(order.id, OrderStatus.CANCELLED.value, user.id, "不要了")
    claim = db.session.scalar(select(PointsGiftClaim).execution_options(populate_existing=True))
    assert (claim.status, claim.order_id) == ("pending", None)  # waits for the next order again


def test_a_gift_cannot_be_claimed_past_its_cap_or_the_balance(retailer, shop):
    _user, org = shop
    gift = _gift(stock_cap=1, price=1_000)
    pts.earn(org, 5_000)
    db.session.commit()
    response = retailer.post(f"/retailer/points/gifts/{gift.id}/claim", {"qty": 2})
    assert response.status_code == 400 and "该礼品已兑完" in response.get_data(as_text=True)
    assert pts.balance(org) == 5_000
    gifts.claim_gift(org.id, gift.id, 1)
    db.session.commit()
    cheap = _gift(stock_cap=100, price=10_000)
    db.session.commit()
    response = retailer.post(f"/retailer/points/gifts/{cheap.id}/claim", {"qty": 1})
    assert response.status_code == 400 and "积分余额不足" in response.get_data(as_text=True)
    assert pts.balance(org) == 4_000
    assert retailer.post("/retailer/points/gifts/999999/claim", {"qty": 1}).status_code == 404
