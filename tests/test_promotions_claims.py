"""Claimable coupons: the retailer's coupons page lists those targeting it, a claim makes one
single-use code issued to the shop (then entered on the cart like any code), the per-customer
claim limit holds, and a coupon not for this shop (or not claimable) is a 404."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CouponCode
from tests import builders_promotions as bp


@pytest.fixture
def claimable(world, app):
    with app.test_request_context():
        promo = bp.promotion(world.users["admin"], world.brand, "spend_off", {"ladder": [[0, 500]], "claimable": True,
                                                                             "claim_limit": 1},
                             lane="coupon", name="新店立减5元")
        hidden = bp.promotion(world.users["admin"], world.brand, "spend_off", {"ladder": [[0, 800]], "claimable": True},
                              lane="coupon", name="超市专享", audience={"channels": ["supermarket"]})
        plain = bp.promotion(world.users["admin"], world.brand, "spend_off", {"ladder": [[0, 900]]}, lane="coupon",
                             name="不可领")
    return promo, hidden, plain


def _token(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def test_a_retailer_claims_a_coupon_once_and_sees_its_code(world, login_as, claimable):
    promo, hidden, plain = claimable
    assert promo.rule == {"ladder": [[0, 500]], "basis": "discounted", "claimable": True, "claim_limit": 1}
    client = login_as("retailer")
    page = client.get("/retailer/coupons").get_data(as_text=True)
    assert "新店立减5元" in page and "超市专享" not in page and "不可领" not in page
    claimed = client.post(f"/retailer/coupons/{promo.id}/claim", {"csrf_token": _token(page)})
    assert claimed.status_code in (302, 303)
    code = db.session.scalar(select(CouponCode).where(CouponCode.promotion_id == promo.id))
    assert (code.customer_id, code.max_uses) == (world.orgs["retailer"].id, 1)
    page = client.get("/retailer/coupons").get_data(as_text=True)
    assert code.code in page and "已领取" in page
    again = client.post(f"/retailer/coupons/{promo.id}/claim", {"csrf_token": _token(page)})
    assert again.status_code in (302, 303)
    assert "已领过" in client.get("/retailer/coupons").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CouponCode).where(CouponCode.promotion_id == promo.id)) == 1
    for other in (hidden, plain):
        assert client.post(f"/retailer/coupons/{other.id}/claim", {"csrf_token": _token(page)}).status_code == 404


def test_the_claimed_code_goes_on_the_cart(world, login_as, claimable, app):
    from app.services.ordering import cart
    from app.services.promotions import claims
    from tests import factories

    promo, _hidden, _plain = claimable
    user, shop = world.users["retailer"], world.orgs["retailer"]
    with app.test_request_context():
        drink = factories.product(base_price_fen=10_000)
        facts = cart.promotion_buyer(shop, cart._profile(shop))
        code = claims.claim(shop, facts, promo.id)
        db.session.commit()
        cart.add_to_cart(user, shop, drink.id, 1)
        cart.enter_coupon(user, shop, code.code)
        assert cart.quote_cart(user, shop).discount_fen == 500


def test_the_admin_form_marks_a_coupon_claimable(world, login_as):
    from app.models import Promotion
    from tests.test_promotions_admin import form

    world.users["admin"].permissions = "marketing"
    db.session.commit()
    client = login_as("admin")
    made = client.post("/admin/promotions/new", form(lane="coupon", ladder="0:5", claimable="y", claim_limit="2"))
    assert made.status_code in (302, 303)
    assert db.session.scalar(select(Promotion)).rule["claim_limit"] == 2
